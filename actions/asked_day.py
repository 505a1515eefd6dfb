"""The day a lookup question is about, and how a reply names it: shared by hours, collection and alerts.

Reading the words is `bot.days` (pure); this module adds the conversation: "today" in the
agency's time zone, the `day` slot that a short follow-up ("and the library?") keeps, and the
display text "tomorrow (Sun 6 Dec)" from the domain's `utter_part_day_*` lines.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet

from actions.common import EventList, fragment, latest_intent, latest_text
from bot.days import DayReader, DayRef, load_day_words, local_today
from bot.formatting import day_text

DAY_SLOT = "day"
FOLLOW_UP_INTENT = "follow_up"  # set by the NLU for "and the library?" (actions/follow_up.py)
READER = DayReader(load_day_words())


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
    found = READER.read(said, today, holidays)
    if found is not None:
        return found
    remembered = tracker.get_slot(DAY_SLOT)
    if remembered and (latest_intent(tracker) == FOLLOW_UP_INTENT or READER.is_follow_up(said)):
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


def when_text(domain: Mapping[str, Any], ref: DayRef, today: date) -> str:
    """ "tomorrow (Sun 6 Dec)", "on Christmas Eve (Thu 24 Dec)", "on Mon 7 Dec", "tonight"."""
    assert ref.day is not None
    shown = day_text(ref.day)
    if ref.kind == "tonight":
        return fragment(domain, "utter_part_day_tonight", date=shown)
    if ref.holiday:
        return fragment(domain, "utter_part_day_holiday", holiday=ref.holiday, date=shown)
    offset = (ref.day - today).days
    names = {-1: "utter_part_day_yesterday", 0: "utter_part_day_today", 1: "utter_part_day_tomorrow"}
    return fragment(domain, names.get(offset, "utter_part_day_on"), date=shown)


def day_name(domain: Mapping[str, Any], ref: DayRef) -> str:
    """ "Thanksgiving Day (Thu 26 Nov)" or "Thu 26 Nov": a day named without a preposition."""
    assert ref.day is not None
    if ref.holiday:
        return fragment(domain, "utter_part_day_name_holiday", holiday=ref.holiday, date=day_text(ref.day))
    return day_text(ref.day)


def weekday_name(day: date) -> str:
    """ "Sunday" (the agency's locale of the reply templates, which say "closed on {weekday}s")."""
    return f"{day:%A}"
