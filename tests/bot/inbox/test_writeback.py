"""Write-back: an editor's decision changes the content files, and `content check` still passes."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
import yaml
from stack_support import ROOT

from bot.content.model import load_content
from bot.inbox.config import InboxConfig
from bot.inbox.writeback import ContentEditor, Draft, WriteBackError


def editor(project: Path) -> ContentEditor:
    return ContentEditor(InboxConfig(content_dir=project / "data/content"))


def questions_of(project: Path, entry_id: str) -> list[str]:
    entries = [e for t in load_content(project / "data/content") for e in t.entries if e.id == entry_id]
    return list(entries[0].questions)


def content_check(project: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    for name in ("config.yml", "domain.yml"):
        (project / name).write_text((ROOT / name).read_text(encoding="utf-8"), encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "bot", "content", "check", *extra],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )


def test_adding_an_example_writes_the_topic_file_and_the_generated_data(project: Path) -> None:
    editor(project).add_example("bulky_item_pickup", "  can you haul away my old  trampoline ")
    assert questions_of(project, "bulky_item_pickup")[-1] == "can you haul away my old trampoline"
    text = (project / "data/content/trash_recycling.yml").read_text(encoding="utf-8")
    assert text.startswith("# ") or text.startswith("topic:")
    generated = (project / "data/nlu/content.generated.yml").read_text(encoding="utf-8")
    assert "    - can you haul away my old trampoline\n" in generated


def test_a_question_another_faq_already_has_is_refused_and_nothing_changes(project: Path) -> None:
    before = (project / "data/content/trash_recycling.yml").read_text(encoding="utf-8")
    with pytest.raises(WriteBackError, match="already an example question of 'bulky_item_pickup'"):
        editor(project).add_example("bulky_item_pickup", "Bulky pickup?")
    with pytest.raises(WriteBackError, match="placeholder"):
        editor(project).add_example("bulky_item_pickup", "pothole at [address]")
    with pytest.raises(WriteBackError, match="no FAQ with id"):
        editor(project).add_example("no_such_faq", "a new question")
    assert (project / "data/content/trash_recycling.yml").read_text(encoding="utf-8") == before


def test_marking_out_of_scope_writes_rasa_nlu_the_decline_is_trained_on(project: Path) -> None:
    path = editor(project).mark_out_of_scope("what's the best pizza place downtown")
    editor(project).mark_out_of_scope("recommend me a [good](quality) dentist")
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert data["nlu"] == [
        {
            "intent": "out_of_scope",
            "examples": "- what's the best pizza place downtown\n- recommend me a good(quality) dentist\n",
        }
    ]
    with pytest.raises(WriteBackError, match="already marked"):
        editor(project).mark_out_of_scope("What's the best pizza place downtown?")


def test_a_draft_is_not_trained_until_published_complete(project: Path) -> None:
    content = editor(project)
    content.save_draft(
        Draft(id="dump_sunday_hours", topic="trash_recycling", questions=("is the dump open sunday",))
    )
    assert [d.id for d in content.drafts()] == ["dump_sunday_hours"]
    generated = (project / "data/nlu/content.generated.yml").read_text(encoding="utf-8")
    assert "dump open sunday" not in generated
    with pytest.raises(WriteBackError, match="fill in answer, source, department"):
        content.publish_draft("dump_sunday_hours")
    content.save_draft(
        Draft(
            id="dump_sunday_hours",
            topic="trash_recycling",
            questions=("is the dump open sunday",),
            answer="The Eastside Recycling Depot is closed on Sundays.",
            source="https://www.harborcity.example/sanitation/depot",
            department="Sanitation",
        )
    )
    entry = content.publish_draft("dump_sunday_hours", today=date(2026, 11, 26))
    assert entry.last_reviewed == "2026-11-26"
    assert questions_of(project, "dump_sunday_hours") == ["is the dump open sunday"]
    assert content.drafts() == []
    generated = (project / "data/nlu/content.generated.yml").read_text(encoding="utf-8")
    assert "- intent: faq/dump_sunday_hours\n  examples: |\n    - is the dump open sunday\n" in generated


def test_content_check_passes_after_every_kind_of_decision(project: Path) -> None:
    content = editor(project)
    content.add_example("bulky_item_pickup", "can you haul away my old trampoline")
    content.mark_out_of_scope("what's the best pizza place downtown")
    content.save_draft(Draft(id="half_done", topic="parking", questions=("parking on the moon",)))
    result = content_check(project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 error(s)" in result.stdout


def test_a_rumor_draft_is_checked_by_the_rumor_rules_then_published_as_a_rumor(project: Path) -> None:
    content = editor(project)
    rumor = Draft(
        id="pool_closing_rumor",
        topic="parks_library",
        questions=("is it true the city pool is closing for good",),
        kind="rumor",
        claim="The city pool is closing for good.",
        verdict="maybe",
    )
    with pytest.raises(
        WriteBackError, match=r"^pool_closing_rumor: a rumor needs verdict true / false / misleading$"
    ):
        content.save_draft(rumor)
    with pytest.raises(WriteBackError, match="a rumor needs the claim it answers"):
        content.save_draft(dataclasses.replace(rumor, claim="", verdict="false"))
    with pytest.raises(WriteBackError, match="related 'nope' is not the id of any entry"):
        content.save_draft(dataclasses.replace(rumor, verdict="false", related="nope"))
    assert content.drafts() == []
    content.save_draft(dataclasses.replace(rumor, verdict="false", related="pools"))
    with pytest.raises(WriteBackError, match="fill in answer, source, department"):
        content.publish_draft("pool_closing_rumor")
    saved = content.drafts()[0]
    content.save_draft(
        dataclasses.replace(
            saved,
            answer="The pool closes for repairs from November to March and reopens in spring.",
            source="https://www.harborcity.example/parks/pools",
            department="Parks and Recreation",
        )
    )
    content.publish_draft("pool_closing_rumor", today=date(2026, 12, 6))
    raw = yaml.safe_load((project / "data/content/parks_library.yml").read_text(encoding="utf-8"))
    entry = next(e for e in raw["entries"] if e["id"] == "pool_closing_rumor")
    assert (entry["kind"], entry["claim"], entry["verdict"], entry["related"]) == (
        "rumor",
        "The city pool is closing for good.",
        "false",
        "pools",
    )  # publishing ran `content check`'s error rules (a write adding an error is undone)
