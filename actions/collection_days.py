"""Collection on one day: "is trash picked up on Monday?", "my next pickup after Thanksgiving".

The agency's `next_pickups` are the truth: they already carry its holiday shifts, so a date in
them is a pickup and a date before the last of them that is missing is not. Beyond the listed
dates only the weekday and frequency are known, and the reply says so. Which streams the
question is about comes from the words in data/language/en.yml (`collection_streams`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from rasa_sdk import Tracker

from actions.asked_day import READER
from actions.common import fragment, latest_text
from actions.parsing import contains_phrase
from bot.clients.collection import Pickup
from bot.days import LANGUAGE_FILE, WEEKDAYS
from bot.formatting import day_text, stream_name

BIWEEKLY_DAYS = 14


def load_stream_words(path: Path = LANGUAGE_FILE) -> dict[str, tuple[str, ...]]:
    """Stream id -> the words citizens use for it; ValueError naming the file when the shape is wrong."""
    section = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("collection_streams")
    if not isinstance(section, Mapping) or not all(
        isinstance(words, list) and words and all(isinstance(w, str) for w in words)
        for words in section.values()
    ):
        raise ValueError(f"{path}: collection_streams must map each stream to a list of words")
    return {str(stream): tuple(words) for stream, words in section.items()}


STREAM_WORDS = load_stream_words()


def streams_asked(text: str, pickups: Sequence[Pickup]) -> list[Pickup]:
    """The pickups the question names ("is trash picked up ..."), or all of them when it names none."""
    named = [
        p
        for p in pickups
        if any(contains_phrase(text, w) for w in (*STREAM_WORDS.get(p.stream, ()), stream_name(p.stream)))
    ]
    return named or list(pickups)


def question_text(tracker: Tracker, intent: str = "ask_collection_day") -> str:
    """The collection question being answered: the latest message, or, when the form asked for the
    address first, the message that asked ("trash on Monday?" then "12 Elm St")."""
    for event in reversed(tracker.events):
        if event.get("event") == "action" and event.get("name") == "action_check_collection_day":
            break
        if (
            event.get("event") == "user"
            and ((event.get("parse_data") or {}).get("intent") or {}).get("name") == intent
        ):
            return f"{event.get('text') or ''} {latest_text(tracker)}"
    return latest_text(tracker)


def _weekday(pickup: Pickup) -> int | None:
    return WEEKDAYS.index(pickup.day) if pickup.day in WEEKDAYS else None


def pickup_line(domain: Mapping[str, Any], pickup: Pickup, day: date, today: date) -> str:
    """One stream on one date: yes, no (and the next listed pickup), or what the weekday rule says."""
    values: dict[str, Any] = {"stream": stream_name(pickup.stream), "frequency": pickup.frequency}
    weekday, listed = _weekday(pickup), pickup.next_pickups
    if weekday is not None:
        values["weekday"] = WEEKDAYS[weekday].capitalize()
    if day in listed:
        return fragment(domain, "utter_part_pickup_that_day", **values)
    if (listed and listed[0] <= day <= listed[-1]) or (listed and today <= day < listed[0]):
        later = next(d for d in listed if d > day)
        return fragment(domain, "utter_part_pickup_not_that_day", next=day_text(later), **values)
    if weekday is None:
        last = day_text(listed[-1]) if listed else ""
        return fragment(domain, "utter_part_pickup_not_that_day", next=last, **values) if last else ""
    if day < today:
        return fragment(domain, "utter_part_pickup_weekday", **values)
    off_week = pickup.frequency == "biweekly" and listed and (day - listed[0]).days % BIWEEKLY_DAYS != 0
    if day.weekday() != weekday or off_week:
        return fragment(domain, "utter_part_pickup_other_weekday", **values)
    return fragment(
        domain, "utter_part_pickup_usual_day", last=day_text(listed[-1]) if listed else "", **values
    )


def after_line(domain: Mapping[str, Any], pickup: Pickup, day: date) -> str:
    """One stream's first listed pickup after `day`, else its weekday rule."""
    later = next((d for d in pickup.next_pickups if d > day), None)
    if later is not None:
        return fragment(
            domain, "utter_part_pickup_after", stream=stream_name(pickup.stream), next=day_text(later)
        )
    weekday = _weekday(pickup)
    return fragment(
        domain,
        "utter_part_pickup_weekday",
        stream=stream_name(pickup.stream),
        weekday=WEEKDAYS[weekday].capitalize() if weekday is not None else pickup.day,
        frequency=pickup.frequency,
    )


def holiday_line(domain: Mapping[str, Any], holiday: str, day: date, pickups: Sequence[Pickup]) -> str:
    """A holiday beyond the listed dates may move pickups: say so (empty when the dates cover it)."""
    names = [holiday] if holiday else READER.holiday_rules_on(day)
    beyond = any(not p.next_pickups or day > p.next_pickups[-1] for p in pickups)
    return fragment(domain, "utter_part_pickup_holiday", holiday=names[0]) if names and beyond else ""
