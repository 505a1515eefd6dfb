"""Where a 311 request stands: `request_status_form` gets the number, `action_check_request_status` answers.

The number comes from the `request_id` entity (the spaCy entity ruler emits "request 512077",
"#512077", "SR-512077"), else from the text, else the form asks for it. A question, "ok" or
"menu" while it asks is left to the rules (`actions.forms.not_answers`).

The answer speaks plainly: the request type's name (from the request, else from the agency's
services.json, never its code), a last-update line only when there is a date, and an expected
date that has passed said to be overdue.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction

from actions import resources as shared
from actions.common import (
    REQUEST_STATUS,
    SERVICES,
    EventList,
    LookupAction,
    fragment,
    latest_intent,
    latest_text,
    lookup,
    reply_language,
    say_if_stale,
)
from actions.forms.not_answers import for_the_rules, is_exit
from actions.parsing import entity_values, request_number
from bot.clients.errors import AgencyUnavailable, NotFound
from bot.clients.open311 import Service, ServiceRequest
from bot.content.agency import SOURCE_LANGUAGE
from bot.formatting import ago_text, day_text, status_word
from bot.language.conversation import conversation_language

SLOT = "request_id"
# Intents that mean "here is (or isn't) the number": anything else without a number is another task.
ANSWERS = frozenset({"inform", "check_request_status", "deny", "nlu_fallback"})


def number_in(message: dict[str, Any], language: str = SOURCE_LANGUAGE) -> str | None:
    """The request number in the `request_id` entity, else in the text ("solicitud 512077" in Spanish)."""
    for value in entity_values(message, "request_id"):
        number = request_number(value, language)
        if number:
            return number
    return request_number(str(message.get("text") or ""), language)


class ValidateRequestStatusForm(FormValidationAction):
    def name(self) -> str:
        return "validate_request_status_form"

    async def extract_request_id(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        text, message = latest_text(tracker), tracker.latest_message
        language = conversation_language(tracker.slots)
        if is_exit(message, language):
            return {}
        number = number_in(message, language)
        if number:
            return {SLOT: number}
        asked = tracker.get_slot("requested_slot") == SLOT
        if (
            asked
            and latest_intent(tracker) in ANSWERS
            and text.strip()
            and not for_the_rules(message, language)
        ):
            return {SLOT: text}  # validate_request_id says it is not a number
        return {}

    def validate_request_id(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        number = request_number(str(value), conversation_language(tracker.slots)) if value else None
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
        language = conversation_language(tracker.slots)
        number = request_number(str(tracker.get_slot(SLOT) or ""), language) or number_in(
            tracker.latest_message, language
        )
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
        language = reply_language(tracker)
        say_if_stale(dispatcher, fetched, resources, language)
        request = fetched.value
        name = request.service_name or await service_name(resources, request.service_code)
        timing = timing_lines(request, resources, domain, language)
        values = {
            "request_id": request.service_request_id,
            "service_name": name,
            "status": status_word(request.status, language),
            "status_notes": request.status_notes,
            "timing": "".join(f"\n{line}" for line in timing),
        }
        response = "utter_request_status" if name else "utter_request_status_unnamed"
        dispatcher.utter_message(response=response, **values)
        return [SlotSet(SLOT, None)]


async def service_name(resources: shared.Resources, code: str) -> str:
    """The request type's name from the agency's services.json; "" when unknown (never the bare code)."""
    if not code:
        return ""
    try:
        fetched = await lookup(resources, SERVICES, resources.open311.services, kind=list[Service])
    except AgencyUnavailable:
        return ""
    return next((s.service_name for s in fetched.value if s.service_code == code), "")


def timing_lines(
    request: ServiceRequest,
    resources: shared.Resources,
    domain: dict[str, Any],
    language: str = SOURCE_LANGUAGE,
) -> list[str]:
    """When it is expected (or that it is overdue) and when it last changed: only what the 311 system
    says, in `language`."""
    now, lines = resources.now(), []
    expected = request.expected_datetime
    if expected and request.status != "closed":
        part = "utter_part_request_overdue" if expected < now else "utter_part_request_expected"
        day = day_text(expected.astimezone(resources.config.zone).date(), language)
        lines.append(fragment(domain, part, language=language, expected=day))
    updated = request.updated_datetime or request.requested_datetime
    if updated:
        ago = ago_text(updated, now, language)
        lines.append(fragment(domain, "utter_part_request_updated", language=language, updated_ago=ago))
    return lines
