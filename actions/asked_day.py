"""The day a lookup question is about, and how a reply names it: shared by hours, collection and alerts.

Reading the words is `bot.days` (pure); this module adds the conversation: its language (whose day
words are read: "mañana", "el próximo lunes"), "today" in the agency's time zone, the `day` slot that
a short follow-up ("and the library?", "¿y la biblioteca?") keeps, and the display text
"tomorrow (Sun 6 Dec)" from the domain's `utter_part_day_*` lines, in the reply's language
("mañana (dom 6 dic)", "el jue 24 dic (Nochebuena)").
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet

from actions.common import EventList, fragment, latest_intent, latest_text
from bot.content.agency import SOURCE_LANGUAGE
from bot.days import DayReader, DayRef, day_reader, local_today
from bot.formatting import day_text, holiday_name
from bot.language.conversation import conversation_language

DAY_SLOT = "day"
FOLLOW_UP_INTENT = "follow_up"  # set by the NLU for "and the library?" (actions/follow_up.py)
READER = day_reader(SOURCE_LANGUAGE)  # read at import: a broken English file stops the server at start


def reader_for(tracker: Tracker) -> DayReader:
    """The day words of the conversation's language (English when it has none)."""
    return day_reader(conversation_language(tracker.slots))


def asked_day(
    tracker: Tracker,
    now: datetime,
    zone: ZoneInfo,
    holidays: Mapping[date, str] | None = None,
    text: str = "",
) -> DayRef | None:
    """The day in `text` (default: the latest message), else the remembered one for a short follow-up.

    A remembered day that has passed is dropped: "and the library?" the next morning means now.
    """
    said = text or latest_text(tracker)
    today = local_today(now, zone)
    reader = reader_for(tracker)
    found = reader.read(said, today, holidays)
    if found is not None:
        return found
    remembered = tracker.get_slot(DAY_SLOT)
    if remembered and (latest_intent(tracker) == FOLLOW_UP_INTENT or reader.is_follow_up(said)):
        try:
            day = date.fromisoformat(str(remembered))
        except ValueError:
            return None
        if day >= today:
            return DayRef(day, str(remembered), "remembered")
    return None


def remember_day(ref: DayRef | None, today: date) -> EventList:
    """The `day` slot after an answer: the date asked about, or empty when the answer was about now."""
    dated = ref is not None and ref.day is not None and not ref.is_today_or_now and ref.day != today
    return [SlotSet(DAY_SLOT, ref.day.isoformat() if dated and ref and ref.day else None)]


def when_text(domain: Mapping[str, Any], ref: DayRef, today: date, language: str = SOURCE_LANGUAGE) -> str:
    """ "tomorrow (Sun 6 Dec)", "on Christmas Eve (Thu 24 Dec)", "on Mon 7 Dec", "tonight"; in Spanish
    "mañana (dom 6 dic)", "el jue 24 dic (Nochebuena)", "el lun 7 dic", "esta noche"."""
    assert ref.day is not None
    shown = day_text(ref.day, language)
    if ref.kind == "tonight":
        return fragment(domain, "utter_part_day_tonight", language=language, date=shown)
    if ref.holiday:
        holiday = holiday_name(ref.holiday, language)
        return fragment(domain, "utter_part_day_holiday", language=language, holiday=holiday, date=shown)
    offset = (ref.day - today).days
    names = {-1: "utter_part_day_yesterday", 0: "utter_part_day_today", 1: "utter_part_day_tomorrow"}
    return fragment(domain, names.get(offset, "utter_part_day_on"), language=language, date=shown)


def day_name(domain: Mapping[str, Any], ref: DayRef, language: str = SOURCE_LANGUAGE) -> str:
    """ "Thanksgiving Day (Thu 26 Nov)" or "Thu 26 Nov": a day named without a preposition; in Spanish
    "jue 26 nov (Día de Acción de Gracias)" or "jue 26 nov"."""
    assert ref.day is not None
    shown = day_text(ref.day, language)
    if ref.holiday:
        holiday = holiday_name(ref.holiday, language)
        return fragment(domain, "utter_part_day_name_holiday", language=language, holiday=holiday, date=shown)
    return shown
