"""Is it open now, on a given day, and holiday closures: `action_check_facility_hours`.

The facility comes from the `facility` entity (spaCy entity ruler), else from names and
aliases in the agency's own feed found in the text, else from the `facility` slot (the one
talked about last, so "what about tomorrow?" needs no name). "pool" may mean several: each is
answered. A day in the question ("tomorrow", "on Sunday", "Christmas Eve", "Dec 24") is read
in the agency's time zone (actions/asked_day.py) and answered from the facility's own weekly
hours, special hours and closures.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import resources as shared
from actions.asked_day import asked_day, remember_day, when_text
from actions.common import (
    FACILITIES,
    EventList,
    LookupAction,
    joined,
    latest_text,
    lookup,
    reply_language,
    say_if_stale,
)
from actions.parsing import entity_values, find_by_name
from bot.clients.facilities import Facility
from bot.content.agency import SOURCE_LANGUAGE
from bot.days import DayRef, local_today
from bot.formatting import holiday_name, hours_text, moment_text, weekday_name
from bot.opening_hours import facility_now, facility_on, next_opening, usual_hours

MAX_SHOWN = 3
FACILITY_SLOT = "facility"
RESPONSES = {
    "open": "utter_facility_open_now",
    "open_all_day": "utter_facility_open_all_day",
    "opens_later": "utter_facility_opens_later",
    "closed_rest_of_day": "utter_facility_closed_rest_of_day",
    "closed_today": "utter_facility_closed_today",
    "closed_for": "utter_facility_closed_for",
    "no_hours": "utter_facility_no_hours",
}
DAY_RESPONSES = {
    "open_on": "utter_facility_open_on",
    "open_all_day_on": "utter_facility_open_all_day_on",
    "closed_for_on": "utter_facility_closed_for_on",
    "closed_weekday": "utter_facility_closed_weekday",
    "closed_on": "utter_facility_closed_on",
    "no_hours": "utter_facility_no_hours",
}


def details(facility: Facility) -> str:
    return joined(facility.address, facility.phone, facility.url)


def say_now(
    dispatcher: CollectingDispatcher, facility: Facility, now: datetime, language: str = SOURCE_LANGUAGE
) -> None:
    """Where the facility stands at this instant: "open now, until 4:30 pm"."""
    state = facility_now(facility, now, language)
    dispatcher.utter_message(
        response=RESPONSES[state.state],
        name=facility.name,
        closes=state.closes,
        opens=state.opens,
        hours_today=state.hours_today,
        reason=holiday_name(state.reason, language),
        next_open=state.next_open,
        details=details(facility),
    )
    if state.note and state.state != "closed_for":
        dispatcher.utter_message(response="utter_facility_note", name=facility.name, note=state.note)


def say_on(
    dispatcher: CollectingDispatcher,
    facility: Facility,
    day: date,
    when: str,
    language: str = SOURCE_LANGUAGE,
) -> None:
    """Its hours on one date: "closed on Sundays, so it's closed tomorrow (Sun 6 Dec). After that ..." """
    state = facility_on(facility, day, language)
    dispatcher.utter_message(
        response=DAY_RESPONSES[state.state],
        name=facility.name,
        when=when,
        weekday=weekday_name(day.weekday(), language),
        hours=state.hours,
        reason=holiday_name(state.reason, language),
        next_open=state.next_open,
        details=details(facility),
    )
    if state.note and state.state != "closed_for_on":
        dispatcher.utter_message(response="utter_facility_note", name=facility.name, note=state.note)


def say_usual(
    dispatcher: CollectingDispatcher,
    facility: Facility,
    day: date,
    now: datetime,
    language: str = SOURCE_LANGUAGE,
) -> None:
    """ "Is it open on Saturdays?": the weekday's usual hours, then a closure on the next one if any."""
    usual = usual_hours(facility, day)
    upcoming = next_opening(facility, now)
    dispatcher.utter_message(
        response="utter_facility_usually_open" if usual.intervals else "utter_facility_usually_closed",
        name=facility.name,
        weekday=weekday_name(day.weekday(), language),
        hours=hours_text(usual.intervals, language),
        next_open=moment_text(upcoming, ZoneInfo(facility.timezone), language) if upcoming else "",
        details=details(facility),
    )


def remembered_name(named: Sequence[str], found: Sequence[Facility]) -> str:
    """What the `facility` slot keeps: the name asked for ("pool" is both pools), else the one found."""
    return named[0] if named else found[0].name


class ActionCheckFacilityHours(LookupAction):
    unavailable_response = "utter_facility_unavailable"

    def name(self) -> str:
        return "action_check_facility_hours"

    async def answer(
        self,
        resources: shared.Resources,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> EventList:
        named = entity_values(tracker.latest_message, "facility")
        fetched = await lookup(resources, FACILITIES, resources.facilities.facilities, kind=list[Facility])
        found = find_by_name(named[0], fetched.value) if named else []
        found = found or find_by_name(latest_text(tracker), fetched.value)
        remembered = tracker.get_slot(FACILITY_SLOT)
        if not found and not named and remembered:
            found = find_by_name(str(remembered), fetched.value)
        else:
            remembered = remembered_name(named, found) if found else None
        if not found:
            if named:
                dispatcher.utter_message(response="utter_facility_unknown", facility=named[0])
            else:
                dispatcher.utter_message(response="utter_facility_which")
            return []
        language = reply_language(tracker)
        say_if_stale(dispatcher, fetched, resources, language)
        now, zone = resources.now(), resources.config.zone
        today = local_today(now, zone)
        holidays = {day: reason for facility in found for day, reason in facility.closures.items()}
        ref = asked_day(tracker, now, zone, holidays)
        remember = [SlotSet(FACILITY_SLOT, remembered)]
        if ref is not None and ref.day is None:
            dispatcher.utter_message(response="utter_day_invalid", said=ref.said)
            return remember
        for facility in found[:MAX_SHOWN]:
            self.say(dispatcher, domain, facility, ref, now, today, language)
        return [*remember, *remember_day(ref, today)]

    @staticmethod
    def say(
        dispatcher: CollectingDispatcher,
        domain: dict[str, Any],
        facility: Facility,
        ref: DayRef | None,
        now: datetime,
        today: date,
        language: str = SOURCE_LANGUAGE,
    ) -> None:
        if ref is None or ref.day is None or ref.is_today_or_now or (ref.day == today and not ref.every):
            say_now(dispatcher, facility, now, language)
        elif ref.every:
            say_usual(dispatcher, facility, ref.day, now, language)
        else:
            say_on(dispatcher, facility, ref.day, when_text(domain, ref, today, language), language)
