"""Is it open now, today's hours, and holiday closures: `action_check_facility_hours`.

The facility comes from the `facility` entity (spaCy entity ruler), else from names and
aliases in the agency's own feed found in the text. "pool" may mean several: each is answered.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import resources as shared
from actions.common import FACILITIES, EventList, LookupAction, joined, latest_text, lookup, say_if_stale
from actions.parsing import entity_values, find_by_name
from bot.clients.facilities import Facility
from bot.opening_hours import facility_now

MAX_SHOWN = 3
RESPONSES = {
    "open": "utter_facility_open_now",
    "open_all_day": "utter_facility_open_all_day",
    "opens_later": "utter_facility_opens_later",
    "closed_rest_of_day": "utter_facility_closed_rest_of_day",
    "closed_today": "utter_facility_closed_today",
    "closed_for": "utter_facility_closed_for",
    "no_hours": "utter_facility_no_hours",
}


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
        if not found:
            if named:
                dispatcher.utter_message(response="utter_facility_unknown", facility=named[0])
            else:
                dispatcher.utter_message(response="utter_facility_which")
            return []
        say_if_stale(dispatcher, fetched, resources)
        now = resources.now()
        for facility in found[:MAX_SHOWN]:
            state = facility_now(facility, now)
            dispatcher.utter_message(
                response=RESPONSES[state.state],
                name=facility.name,
                closes=state.closes,
                opens=state.opens,
                hours_today=state.hours_today,
                reason=state.reason,
                next_open=state.next_open,
                details=joined(facility.address, facility.phone, facility.url),
            )
            if state.note and state.state != "closed_for":
                dispatcher.utter_message(response="utter_facility_note", name=facility.name, note=state.note)
        return []
