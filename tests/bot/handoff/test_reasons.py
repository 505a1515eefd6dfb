"""Pure decisions: why hand off, the agent's summary, ratings typed in words, staffed hours."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from bot.handoff.hours import load_hours
from bot.handoff.reasons import handoff_reason, parse_rating, summary


def user(intent: str, text: str = "x", ts: float = 1.0) -> dict:
    return {"event": "user", "text": text, "timestamp": ts, "parse_data": {"intent": {"name": intent}}}


def failed(name: str = "utter_lookup_unavailable") -> dict:
    return {"event": "bot", "text": "down", "metadata": {"utter_action": name}}


@pytest.mark.parametrize(
    ("intent", "clarification", "events", "expected"),
    [
        ("request_human", None, [], "requested"),
        ("express_frustration", None, [], "frustration"),
        ("sensitive_abuse_help", None, [], "sensitive"),
        ("nlu_fallback", "one", [], None),
        ("nlu_fallback", "give_up", [], "misunderstood"),
        (
            "check_request_status",
            None,
            [failed(), user("x"), failed("utter_alerts_unavailable")],
            "lookup_failed",
        ),
        ("check_request_status", None, [user("x"), failed()], None),
        ("check_request_status", None, [failed(), {"event": "session_started"}, user("x"), failed()], None),
        ("greet", None, [], None),
    ],
)
def test_reason(intent: str, clarification: str | None, events: list, expected: str | None) -> None:
    assert handoff_reason(intent, clarification, events) == expected


def test_summary_has_last_messages_intents_and_facts() -> None:
    events = [
        user("greet", "hi"),
        user("check_request_status", "status of 1234"),
        user("request_human", "agent"),
    ]
    got = summary("requested", "telegram", events, {"request_id": "1234", "address": None, "language": "en"})
    assert got == {
        "reason": "requested",
        "channel": "telegram",
        "last_messages": ["hi", "status of 1234", "agent"],
        "intents": ["greet", "check_request_status", "request_human"],
        "facts": {"request_id": "1234", "language": "en"},
    }


@pytest.mark.parametrize(
    ("text", "entities", "expected"),
    [
        ("4", [], 4),
        ("four", [], 4),
        ("4 stars", [], 4),
        ("Five!", [], 5),
        ("4/5", [], 4),
        ("/rate", [{"entity": "rating", "value": "3"}], 3),
        ("7", [], None),
        ("3 or 4", [], None),
        ("great", [], None),
    ],
)
def test_parse_rating(text: str, entities: list, expected: int | None) -> None:
    assert parse_rating(text, entities) == expected


def test_hours_weekly_holidays_and_next_open(tmp_path: Path) -> None:
    path = tmp_path / "hours.yml"
    path.write_text(
        "timezone: America/New_York\nweekly:\n  monday: ['09:00-17:00']\n  tuesday: ['09:00-17:00']\n"
        "holidays: ['2026-12-01']\n"
    )
    hours = load_hours(path)
    monday_noon = datetime(2026, 11, 30, 17, 0, tzinfo=timezone.utc)  # 12:00 in New York
    assert hours.is_open(monday_noon)
    assert not hours.is_open(datetime(2026, 11, 30, 23, 0, tzinfo=timezone.utc))  # 18:00
    assert not hours.is_open(datetime(2026, 12, 1, 17, 0, tzinfo=timezone.utc))  # holiday tuesday
    nxt = hours.next_open(datetime(2026, 11, 30, 23, 0, tzinfo=timezone.utc))
    assert nxt is not None and (nxt.month, nxt.day, nxt.hour) == (12, 7, 9)  # the next Monday
    assert load_hours(path, always=True).is_open(datetime(2026, 12, 1, 3, tzinfo=timezone.utc))
