"""The studio service (`bot.studio.service.Studio`) on a copy of the project's content and a real Redis:
what the JSON API does not show on its own — history and drafts on disk, a hand-edit kept as a
baseline version, the preview the edit page shows, and a publish refused when the content check
finds an error the save did not have."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml
from redis.asyncio import Redis
from studio_support import rated_answers

from bot.analytics.aggregator import Aggregator
from bot.content.generate import entry_variations
from bot.content.model import all_entries, load_content, load_render_settings, load_topic
from bot.content.writer import write_topic
from bot.events import STREAM
from bot.sms import sms_length
from bot.studio.drafts import Draft, Drafts
from bot.studio.history import History, Version, changes
from bot.studio.live import LiveContent, variations_digest
from bot.studio.service import Studio, StudioProblems
from bot.studio.stale import RATINGS_DAYS, stale_report

ROOT = Path(__file__).resolve().parents[3]


def test_history_keeps_each_version_on_its_line_and_diffs_field_by_field(tmp_path: Path) -> None:
    history = History(tmp_path / "_history")
    assert history.versions("sandbags") == [] and history.latest("sandbags") == 0
    old = {"id": "sandbags", "answer": "old", "questions": ["a"], "last_reviewed": "2026-01-01"}
    new = {"id": "sandbags", "answer": "new", "questions": ["a", "b"], "last_reviewed": "2026-12-01"}
    assert changes(old, new) == {"answer": ["old", "new"], "questions": [["a"], ["a", "b"]]}
    assert changes(old, {**old, "retired": True}) == {"retired": [None, True]}
    first = Version(1, "2026-12-01T00:00:00+00:00", "content files", "baseline", old)
    second = Version(
        2, "2026-12-02T00:00:00+00:00", "erin", "publish", new, ("ava",), "why", None, changes(old, new)
    )
    history.append("sandbags", [first])
    history.append("sandbags", [second])
    lines = (tmp_path / "_history" / "sandbags.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["version"] for line in lines] == [1, 2]
    assert history.versions("sandbags") == [first, second] and history.latest("sandbags") == 2
    with pytest.raises(ValueError):
        history.path("../agency")


def test_drafts_are_one_file_per_entry_and_only_entry_ids_name_them(tmp_path: Path) -> None:
    drafts = Drafts(tmp_path / "_studio_drafts")
    draft = Draft("noise", "safety", {"answer": "Quiet"}, "erin", "2026-12-06T10:00:00+00:00", note="why")
    drafts.put(draft)
    assert drafts.get("noise") == draft and drafts.all() == [draft]
    assert drafts.get("noise") == Draft.from_dict(
        json.loads((tmp_path / "_studio_drafts" / "noise.json").read_text())
    )
    drafts.delete("noise")
    assert drafts.get("noise") is None and drafts.all() == []
    for bad in ("../noise", "Noise", "noise.json", ""):
        with pytest.raises(ValueError):
            drafts.path(bad)


async def test_a_hand_edit_between_publishes_is_kept_as_a_baseline_and_its_wording_is_known(
    studio: Studio, redis: Redis
) -> None:
    await studio.save("noise", {"answer": "Quiet hours are 10 pm to 7 am every night."}, "erin")
    await studio.publish("noise", "erin")
    path = studio.content_dir / "safety.yml"
    topic = load_topic(path)
    by_hand = "Quiet hours are 10 pm to 7 am; call {agency.police_non_emergency} about noise."
    entries = tuple(replace(e, answer=by_hand) if e.id == "noise" else e for e in topic.entries)
    write_topic(replace(topic, entries=entries))
    hand_edited = next(e for e in load_topic(path).entries if e.id == "noise")

    await studio.save("noise", {"answer": "Quiet hours are 10 pm to 7 am."}, "ed")
    done = await studio.publish("noise", "ed", "shorter")
    versions = await studio.history("noise")
    assert [(v["version"], v["action"], v["by"]) for v in versions] == [
        (1, "baseline", "content files"),
        (2, "publish", "erin"),
        (3, "baseline", "content files"),
        (4, "publish", "ed"),
    ]
    assert versions[2]["entry"]["answer"] == by_hand and versions[3]["changes"]["answer"][0] == by_hand
    live = (await LiveContent(redis).all())["utter_faq/noise"]
    settings = load_render_settings(studio.content_dir)
    assert variations_digest(entry_variations(hand_edited, settings)) in live.known
    assert done["version"] == live.version == 4


async def test_the_preview_shows_the_reply_as_citizens_read_it_on_web_chat_and_sms(studio: Studio) -> None:
    agency = yaml.safe_load((studio.agency_file).read_text(encoding="utf-8"))
    answer = "Call {agency.police_non_emergency} about noise after 10 pm. " + "Be kind to neighbours. " * 8
    preview = await studio.preview(
        {"answer": answer, "short_answer": "Call {agency.police_non_emergency}."}, "noise"
    )
    assert agency["police_non_emergency"] in preview["webchat"] and "{agency" not in preview["webchat"]
    assert preview["webchat"].startswith("Call ") and "More: https://" in preview["webchat"]
    assert (
        preview["sms"].startswith(f"Call {agency['police_non_emergency']}.") and preview["sms_segments"] == 1
    )
    assert all(not p["error"] for p in preview["problems"])
    bad = await studio.preview({"answer": "Call {agency.nobody} now."}, "noise")
    assert [p["field"] for p in bad["problems"] if p["error"]] == ["answer"]
    unreadable = await studio.preview({"valid_from": "next week"}, "noise")
    assert (unreadable["webchat"], unreadable["problems"][0]["field"]) == ("", "valid_from")
    assert await studio.topics() == [(t.id, t.title) for t in load_content(studio.content_dir)]


async def test_the_preview_shows_the_button_after_an_answer_on_web_chat_and_as_an_sms_option(
    studio: Studio,
) -> None:
    """`answer_buttons` in the settings: the web chat preview lists the button, the SMS carries it as
    the SMS channel sends it (a numbered line and the prompt), counted in its segments."""
    english = await studio.preview({}, "pothole")
    assert (
        english["buttons"] == ["Report it here"] and "Report it" not in english["webchat"].split("More:")[1]
    )
    assert english["sms"].endswith("potholes\n1. Report it here\nReply with the number of your choice.")
    spanish = await studio.preview({}, "pothole", "es")
    assert spanish["buttons"] == ["Reportarlo aquí"]
    assert spanish["sms"].endswith("\n1. Reportarlo aquí\nResponda con el número de su opción.")
    assert spanish["sms_segments"] == sms_length(spanish["sms"]).segments
    plain = await studio.preview({}, "noise")
    assert plain["buttons"] == [] and "\n1. " not in plain["sms"]


async def test_a_publish_is_refused_when_the_check_finds_an_error_the_save_did_not(studio: Studio) -> None:
    drafted = "Call {agency.phone_311_outside} about noise from outside the city."
    await studio.save("noise", {"answer": drafted}, "erin")
    path = studio.content_dir / "safety.yml"
    before = path.read_bytes()
    facts = studio.agency_file.read_text(encoding="utf-8").splitlines()
    kept = [line for line in facts if not line.startswith("phone_311_outside:")]
    studio.agency_file.write_text("\n".join(kept) + "\n", encoding="utf-8")  # the fact went away meanwhile
    with pytest.raises(StudioProblems) as refused:
        await studio.publish("noise", "erin")
    assert [p.field for p in refused.value.problems] == ["answer"]
    assert "phone_311_outside" in refused.value.problems[0].message
    assert path.read_bytes() == before and (await studio.view("noise"))["state"] == "draft"
    assert not (studio.content_dir / "_history" / "noise.jsonl").exists()


async def test_the_stale_report_counts_the_evening_ratings_already_on_the_next_utc_day(
    studio: Studio, redis: Redis
) -> None:
    """West of UTC, an evening's ratings fall on tomorrow's UTC day; the report still lists them."""
    evening = datetime(2026, 12, 7, 0, 30, tzinfo=timezone.utc)  # 2026-12-06, 19:30 in Harbor City
    for event in rated_answers("pothole", 20, 3, 12, evening.timestamp()):
        await redis.xadd(STREAM, {"event": json.dumps(event)})
    await Aggregator(redis).catch_up()
    entries = all_entries(load_content(studio.content_dir))
    local, utc = date(2026, 12, 6), date(2026, 12, 7)
    report = await stale_report(redis, entries, local, 12, utc_today=utc)
    assert [(u.entry.id, u.helpful, u.not_helpful) for u in report.unhelpful] == [("pothole", 3, 12)]
    assert (report.ratings_from, report.ratings_to) == (utc - timedelta(days=RATINGS_DAYS - 1), utc)
    assert report.reviewed_before == date(2025, 12, 6)  # the review period runs on the agency's day
