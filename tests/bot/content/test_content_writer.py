"""The canonical writer: same values after a rewrite, same bytes for a canonical file."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest
import yaml

from bot.content.model import Entry, Topic, load_topic, read_yaml_with_lines, topic_files
from bot.content.writer import (
    ENTRY_KEYS,
    body_comment_lines,
    leading_comments,
    topic_text,
    unknown_keys,
    write_topic,
)

ROOT = Path(__file__).resolve().parents[3]
SHIPPED = ROOT / "data" / "content"
FIXTURES = ROOT / "tests" / "fixtures" / "content"
CANONICAL = [
    FIXTURES / "good" / "city.yml",
    FIXTURES / "good" / "rumors.yml",
    FIXTURES / "awkward" / "awkward.yml",
]


def plain(topic: Topic) -> tuple[str, str, list[Entry]]:
    """A topic's values without where they were read from."""
    return topic.id, topic.title, [dataclasses.replace(e, path="", line=0) for e in topic.entries]


@pytest.mark.parametrize("path", topic_files(SHIPPED), ids=lambda p: p.name)
def test_rewriting_a_shipped_file_keeps_every_value_and_the_top_comments(path: Path, tmp_path: Path) -> None:
    before = load_topic(path)
    original = path.read_text(encoding="utf-8")
    copy = tmp_path / path.name
    copy.write_text(original, encoding="utf-8")
    write_topic(dataclasses.replace(before, path=copy))
    rewritten = copy.read_text(encoding="utf-8")
    assert plain(load_topic(copy)) == plain(before)
    assert leading_comments(rewritten) == leading_comments(original)
    assert not write_topic(load_topic(copy)), "a second rewrite must change nothing"
    assert path.read_text(encoding="utf-8") == original, "the shipped file itself is never written"


@pytest.mark.parametrize("path", CANONICAL, ids=lambda p: p.name)
def test_a_canonical_file_is_rewritten_byte_for_byte(path: Path, tmp_path: Path) -> None:
    copy = tmp_path / path.name
    shutil.copy(path, copy)
    stamp = copy.stat().st_mtime_ns
    assert not write_topic(load_topic(copy))
    assert copy.read_bytes() == path.read_bytes()
    assert copy.stat().st_mtime_ns == stamp, "an unchanged file is not even touched"


def test_entry_keys_come_in_the_fixed_order() -> None:
    raw = yaml.safe_load((FIXTURES / "awkward" / "awkward.yml").read_text(encoding="utf-8"))
    assert list(raw) == ["topic", "entries"]
    for item in raw["entries"]:
        keys = list(item)
        assert keys == [key for key in ENTRY_KEYS if key in item], item["id"]
    rumor = next(item for item in raw["entries"] if item["id"] == "formula_cells")
    assert list(rumor) == [key for key in ENTRY_KEYS if key != "agency"], "a full rumor: every key, in order"
    referral = next(item for item in raw["entries"] if item["id"] == "other_government")
    assert "agency" in referral, "agency is a referral's key"


def test_empty_optional_keys_are_left_out() -> None:
    entry = Entry(
        id="x",
        kind="faq",
        questions=("q",),
        answer="a",
        source="https://a.example/",
        department="D",
        last_reviewed="",
    )
    text = topic_text(Topic(id="t", title="T", path=Path("t.yml"), entries=(entry,)))
    assert (
        "claim" not in text
        and "verdict" not in text
        and "sensitive" not in text
        and "short_answer" not in text
    )
    assert "last_reviewed: ''" in text, "required keys stay, even when empty"


def test_only_the_top_comment_block_is_kept() -> None:
    text = "# owned by Parks\n\n# keep ids stable\ntopic:\n  id: t\nentries:\n# a note\n- id: x\n"
    assert leading_comments(text) == "# owned by Parks\n\n# keep ids stable\n"
    assert body_comment_lines(text) == [7]
    assert leading_comments("topic:\n  id: t\n") == ""


AWKWARD_TEXTS = [
    "She said \"no\", then 'yes'",
    "commas, colons: and #hashes # here",
    "line one\nline two\n\nline four",
    "trailing spaces \nnext line",
    "tab\tinside",
    "other breaks\u2028and\x85here",
    "emoji 🚰💧 and accents: café, naïve, Ærø, 東京",
    "- looks like a list",
    "=SUM(A1:A3)",
    "yes",
    "123",
    "null",
    "~",
    "'quoted at the start'",
    "a very long line " * 12 + "end",
    "zero\u200bwidth and no\u00a0break space",
]


@pytest.mark.parametrize("text", AWKWARD_TEXTS)
def test_awkward_text_survives_a_write_and_a_load(text: str, tmp_path: Path) -> None:
    entry = Entry(
        id="awkward",
        kind="rumor",
        questions=(text.replace("\n", " ").strip(), "plain question"),
        answer=text,
        short_answer=text,
        claim=text,
        verdict="misleading",
        source="https://www.harborcity.example/x",
        department=text.replace("\n", " ").strip(),
        last_reviewed="2026-09-01",
        topic="t",
    )
    topic = Topic(id="t", title="T", path=tmp_path / "t.yml", entries=(entry,))
    assert write_topic(topic)
    assert plain(load_topic(topic.path)) == plain(topic)
    assert not write_topic(load_topic(topic.path))


def test_a_new_file_keeps_the_file_mode_of_the_one_it_replaces(tmp_path: Path) -> None:
    path = tmp_path / "city.yml"
    shutil.copy(FIXTURES / "good" / "city.yml", path)
    path.chmod(0o640)
    topic = load_topic(path)
    assert write_topic(dataclasses.replace(topic, title="Renamed"))
    assert path.stat().st_mode & 0o777 == 0o640
    assert load_topic(path).title == "Renamed"


def test_retired_and_a_window_follow_last_reviewed_and_only_when_set(tmp_path: Path) -> None:
    window = Entry(
        id="beach_hours",
        kind="faq",
        questions=("when does the beach open",),
        answer="The beach is open 8 am to 8 pm.",
        source="https://www.harborcity.example/beach",
        department="Parks",
        last_reviewed="2026-05-20",
        retired=True,
        valid_from="2026-06-01",
        valid_until="2026-09-30",
        topic="t",
    )
    only_until = dataclasses.replace(window, id="storm_line", retired=False, valid_from="")
    plain_entry = dataclasses.replace(window, id="pools", retired=False, valid_from="", valid_until="")
    topic = Topic(id="t", title="T", path=tmp_path / "t.yml", entries=(window, only_until, plain_entry))
    assert write_topic(topic)
    text = topic.path.read_text(encoding="utf-8")
    assert "  retired: true\n  valid_from: '2026-06-01'\n  valid_until: '2026-09-30'\n" in text
    first, second, third = read_yaml_with_lines(topic.path)["entries"]
    assert [k for k in first if k != "__line__"][-4:] == [
        "last_reviewed",
        "retired",
        "valid_from",
        "valid_until",
    ]
    assert [k for k in second if k != "__line__"][-2:] == ["last_reviewed", "valid_until"]
    assert not {"retired", "valid_from", "valid_until"} & set(third), "left out when not set"
    assert unknown_keys(read_yaml_with_lines(topic.path)) == []
    assert plain(load_topic(topic.path)) == plain(topic)
    assert not write_topic(load_topic(topic.path)), "a canonical file is rewritten byte for byte"
