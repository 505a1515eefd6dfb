"""Where a 311 request stands: `request_status_form` gets the number, `action_check_request_status` answers.

The number comes from the `request_id` entity (the spaCy entity ruler emits "request 512077",
"#512077", "SR-512077"), else from the text, else the form asks for it.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction

from actions import resources as shared
from actions.common import (
    NOT_AN_ANSWER,
    REQUEST_STATUS,
    EventList,
    LookupAction,
    latest_intent,
    latest_text,
    lookup,
    say_if_stale,
)
from actions.parsing import entity_values, is_cancel, request_number
from bot.clients.errors import NotFound
from bot.clients.open311 import ServiceRequest
from bot.formatting import ago_text, day_text, status_word

SLOT = "request_id"
# Intents that mean "here is (or isn't) the number": anything else without a number is another task.
ANSWERS = frozenset({"inform", "check_request_status", "affirm", "deny", "nlu_fallback"})


def number_in(message: dict[str, Any]) -> str | None:
    for value in entity_values(message, "request_id"):
        number = request_number(value)
        if number:
            return number
    return request_number(str(message.get("text") or ""))


class ValidateRequestStatusForm(FormValidationAction):
    def name(self) -> str:
        return "validate_request_status_form"

    async def extract_request_id(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        text = latest_text(tracker)
        if latest_intent(tracker) in NOT_AN_ANSWER or is_cancel(text):
            return {}
        number = number_in(tracker.latest_message)
        if number:
            return {SLOT: number}
        if tracker.get_slot("requested_slot") == SLOT and latest_intent(tracker) in ANSWERS and text.strip():
            return {SLOT: text}  # validate_request_id says it is not a number
        return {}

    def validate_request_id(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        number = request_number(str(value)) if value else None
        if value and not number:
            dispatcher.utter_message(response="utter_request_id_invalid")
        return {SLOT: number}


class ActionCheckRequestStatus(LookupAction):
    unavailable_response = "utter_request_status_unavailable"

    def name(self) -> str:
        return "action_check_request_status"

    def after_failure(self, tracker: Tracker) -> EventList:
        return [SlotSet(SLOT, None)]

    async def answer(
        self,
        resources: shared.Resources,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> EventList:
        number = request_number(str(tracker.get_slot(SLOT) or "")) or number_in(tracker.latest_message)
        if not number:
            dispatcher.utter_message(response="utter_ask_request_status_form_request_id")
            return []
        try:
            fetched = await lookup(
                resources,
                REQUEST_STATUS,
                lambda: resources.open311.request(number),
                number,
                kind=ServiceRequest,
            )
        except NotFound:
            dispatcher.utter_message(response="utter_request_status_unknown", request_id=number)
            return [SlotSet(SLOT, None)]
        say_if_stale(dispatcher, fetched, resources)
        request, now = fetched.value, resources.now()
        updated = request.updated_datetime or request.requested_datetime
        values = {
            "request_id": request.service_request_id,
            "service_name": request.service_name or request.service_code,
            "status": status_word(request.status),
            "status_notes": request.status_notes,
            "updated_ago": ago_text(updated, now) if updated else "",
        }
        expected = request.expected_datetime
        if expected and request.status != "closed":
            local = expected.astimezone(resources.config.zone)
            dispatcher.utter_message(
                response="utter_request_status_expected", expected=day_text(local.date()), **values
            )
        else:
            dispatcher.utter_message(response="utter_request_status", **values)
        return [SlotSet(SLOT, None)]
