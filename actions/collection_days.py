"""Collection on one day: "is trash picked up on Monday?", "my next pickup after Thanksgiving".

The agency's `next_pickups` are the truth: they already carry its holiday shifts, so a date in
them is a pickup and a date before the last of them that is missing is not. Beyond the listed
dates only the weekday and frequency are known, and the reply says so. Which streams the
question is about comes from the words of the conversation's language (`collection_streams` in
data/language/<code>.yml).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from rasa_sdk import Tracker

from actions.common import fragment, latest_text
from actions.parsing import contains_phrase
from bot.clients.collection import Pickup
from bot.content.agency import SOURCE_LANGUAGE
from bot.days import (
    LANGUAGE_FILE,
    WEEKDAYS,
    MissingWords,
    day_reader,
    read_words_file,
    words_file,
    words_or_english,
)
from bot.formatting import day_text, frequency_word, holiday_name, stream_name, weekday_name

BIWEEKLY_DAYS = 14


def load_stream_words(source: str | Path = LANGUAGE_FILE) -> dict[str, tuple[str, ...]]:
    """Stream id -> the words citizens use for it, in a language ("es") or a file; ValueError naming
    the file when the shape is wrong, MissingWords when there is no file or no such section."""
    path = words_file(source)
    section = read_words_file(path).get("collection_streams")
    if section is None:
        raise MissingWords(f"{path}: the collection_streams section is missing")
    if not isinstance(section, Mapping) or not all(
        isinstance(words, list) and words and all(isinstance(w, str) for w in words)
        for words in section.values()
    ):
        raise ValueError(f"{path}: collection_streams must map each stream to a list of words")
    return {str(stream): tuple(words) for stream, words in section.items()}


@functools.cache
def stream_words(language: str = SOURCE_LANGUAGE) -> Mapping[str, tuple[str, ...]]:
    """One language's words for each stream, read once; English for a language without them."""
    return words_or_english(language, load_stream_words, "collection_streams")


STREAM_WORDS = stream_words(SOURCE_LANGUAGE)  # read at import: a broken English file stops the server


def streams_asked(text: str, pickups: Sequence[Pickup], language: str = SOURCE_LANGUAGE) -> list[Pickup]:
    """The pickups the question names ("is trash picked up ...", "¿pasa la basura ..."), or all of
    them when it names none."""
    words = stream_words(language)
    named = [
        p
        for p in pickups
        if any(
            contains_phrase(text, w)
            for w in (*words.get(p.stream, ()), stream_name(p.stream), stream_name(p.stream, language))
        )
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


def pickup_values(pickup: Pickup, language: str) -> dict[str, Any]:
    """The stream, its weekday and how often, as `language` writes them ("Trash", "Tuesday", "weekly")."""
    values: dict[str, Any] = {
        "stream": stream_name(pickup.stream, language),
        "frequency": frequency_word(pickup.frequency, language),
    }
    weekday = _weekday(pickup)
    if weekday is not None:
        values["weekday"] = weekday_name(weekday, language)
    return values


def pickup_line(
    domain: Mapping[str, Any], pickup: Pickup, day: date, today: date, language: str = SOURCE_LANGUAGE
) -> str:
    """One stream on one date: yes, no (and the next listed pickup), or what the weekday rule says."""
    values = pickup_values(pickup, language)
    weekday, listed = _weekday(pickup), pickup.next_pickups

    def line(response: str, **more: Any) -> str:
        return fragment(domain, response, language=language, **values, **more)

    if day in listed:
        return line("utter_part_pickup_that_day")
    if (listed and listed[0] <= day <= listed[-1]) or (listed and today <= day < listed[0]):
        later = next(d for d in listed if d > day)
        return line("utter_part_pickup_not_that_day", next=day_text(later, language))
    if weekday is None:
        last = day_text(listed[-1], language) if listed else ""
        return line("utter_part_pickup_not_that_day", next=last) if last else ""
    if day < today:
        return line("utter_part_pickup_weekday")
    off_week = pickup.frequency == "biweekly" and listed and (day - listed[0]).days % BIWEEKLY_DAYS != 0
    if day.weekday() != weekday or off_week:
        return line("utter_part_pickup_other_weekday")
    return line("utter_part_pickup_usual_day", last=day_text(listed[-1], language) if listed else "")


def after_line(domain: Mapping[str, Any], pickup: Pickup, day: date, language: str = SOURCE_LANGUAGE) -> str:
    """One stream's first listed pickup after `day`, else its weekday rule."""
    later = next((d for d in pickup.next_pickups if d > day), None)
    stream = stream_name(pickup.stream, language)
    if later is not None:
        return fragment(
            domain,
            "utter_part_pickup_after",
            language=language,
            stream=stream,
            next=day_text(later, language),
        )
    weekday = _weekday(pickup)
    return fragment(
        domain,
        "utter_part_pickup_weekday",
        language=language,
        stream=stream,
        weekday=weekday_name(weekday, language) if weekday is not None else pickup.day,
        frequency=frequency_word(pickup.frequency, language),
    )


def holiday_line(
    domain: Mapping[str, Any],
    holiday: str,
    day: date,
    pickups: Sequence[Pickup],
    language: str = SOURCE_LANGUAGE,
) -> str:
    """A holiday beyond the listed dates may move pickups: say so (empty when the dates cover it)."""
    names = [holiday] if holiday else day_reader(language).holiday_rules_on(day)
    beyond = any(not p.next_pickups or day > p.next_pickups[-1] for p in pickups)
    if not names or not beyond:
        return ""
    return fragment(
        domain, "utter_part_pickup_holiday", language=language, holiday=holiday_name(names[0], language)
    )
