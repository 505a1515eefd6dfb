"""Filing a 311 report, part 1: `report_issue_form` collects what, where, a description and a contact.

Every slot is filled here by custom extraction, so each message is read once, in one place:

- `service_code` (and `service_name`): matched against the agency's own services.json (names,
  keywords, descriptions), never a list in this code. When unclear, `service_candidates` keeps
  the codes to offer as buttons (`action_ask_report_issue_form_service_code`).
- `location`: a typed address (sent as Open311 `address_string`), or a shared pin kept as
  "lat, long" (sent as `lat`/`long`); the pin convention is `bot.location`.
- `description`: the citizen's own words.
- `contact`: an email or a phone number, or "none" after "skip".

"change the address to 12 Elm St" corrects a field at any point. "cancel", "stop", "never mind"
(and crisis messages) are never taken as an answer: the form rejects them and the rules take over.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction

from actions import resources as shared
from actions.common import (
    NOT_AN_ANSWER,
    SERVICES,
    EventList,
    conversation_ref,
    latest_intent,
    lookup,
)
from actions.parsing import (
    contact_details,
    entity_values,
    is_cancel,
    is_skip,
    looks_like_location,
    match_services,
    parse_correction,
)
from bot.clients.errors import AgencyUnavailable
from bot.clients.open311 import Service
from bot.location import coordinates, location_pin, pin_text

log = logging.getLogger(__name__)

FORM = "report_issue_form"
REQUIRED = ("service_code", "location", "description", "contact")
REPORT_SLOTS = (*REQUIRED, "service_name", "service_candidates")
NO_CONTACT = "none"
MAX_DESCRIPTION = 4000  # what Open311 servers commonly accept
MAX_LOCATION = 300
MAX_BUTTONS = 10


def reset_report() -> EventList:
    """Forget the report (it holds personal data) once it is filed or cancelled."""
    return [SlotSet(slot, None) for slot in REPORT_SLOTS]


def end_form() -> EventList:
    return [*reset_report(), SlotSet("requested_slot", None), ActiveLoop(None)]


async def agency_services(resources: shared.Resources) -> list[Service]:
    """The agency's request types (an hour old at most; older when Open311 is down)."""
    fetched = await lookup(resources, SERVICES, resources.open311.services, kind=list[Service])
    return fetched.value


def _service_text(message: dict[str, Any]) -> str:
    text = str(message.get("text") or "")
    if text.startswith("/"):  # a button payload such as /report_problem{"service": "pothole"}
        return " ".join(entity_values(message, "service"))
    return text


def report_candidates(message: dict[str, Any], requested: str | None, *, fresh: bool) -> dict[str, Any]:
    """Slot candidates in one user message; `validate_*` turns them into values.

    `requested` is the slot the form asked for (None at activation); `fresh` is a new report
    ("I want to report a pothole"), which forgets anything left from an earlier one.
    """
    text = str(message.get("text") or "").strip()
    intent = str((message.get("intent") or {}).get("name") or "")
    skipping = requested == "contact" and intent == "cancel" and is_skip(text)  # "skip" is no "cancel"
    if is_cancel(text) or (intent in NOT_AN_ANSWER and not skipping):
        return {}
    addresses = entity_values(message, "address")
    found: dict[str, Any] = {}
    correction = parse_correction(text)
    if correction:
        found[correction[0]] = correction[1]
    elif fresh:
        found = {
            "service_code": _service_text(message) or None,
            "location": addresses[0] if addresses else None,
            "description": None,
            "contact": None,
        }
    elif requested == "location":
        found["location"] = addresses[0] if addresses else text
    elif requested == "service_code":
        found["service_code"] = _service_text(message)
    elif requested in REQUIRED:
        found[requested] = text
    pin = location_pin(message.get("metadata"), message.get("entities") or [])
    if pin:
        found["location"] = pin_text(*pin)
    return {slot: value for slot, value in found.items() if value is None or str(value).strip()}


class ValidateReportIssueForm(FormValidationAction):
    def name(self) -> str:
        return "validate_report_issue_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> EventList:
        try:
            return await super().run(dispatcher, tracker, domain)
        except AgencyUnavailable as exc:
            log.warning(
                "report form: %s unavailable (conversation %s): %s",
                exc.api,
                conversation_ref(tracker),
                exc.reason,
            )
            dispatcher.utter_message(response="utter_report_unavailable")
            return end_form()

    async def get_extraction_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> EventList:
        requested = tracker.get_slot("requested_slot")
        requested = requested if requested in REQUIRED else None
        fresh = requested is None and latest_intent(tracker) == "report_problem"
        found = report_candidates(tracker.latest_message, requested, fresh=fresh)
        return [SlotSet(slot, value) for slot, value in found.items()]

    async def validate_service_code(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        unset = {"service_code": None, "service_name": None, "service_candidates": None}
        if not value:
            return unset
        services = await agency_services(await shared.current())
        known = next((s for s in services if s.service_code == value), None)
        matched = [known] if known else match_services(str(value), services)
        if len(matched) == 1:
            return {"service_code": matched[0].service_code, "service_name": matched[0].service_name,
                    "service_candidates": None}  # fmt: skip
        if not matched and tracker.get_slot("requested_slot") == "service_code":
            dispatcher.utter_message(response="utter_report_service_unclear")
        return {**unset, "service_candidates": [s.service_code for s in matched] or None}

    def validate_location(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        if not value:
            return {"location": None}
        text = " ".join(str(value).split())
        pin = coordinates(text)
        if pin:
            return {"location": pin_text(*pin)}
        if looks_like_location(text) and len(text) <= MAX_LOCATION:
            return {"location": text}
        dispatcher.utter_message(response="utter_report_location_invalid")
        return {"location": None}

    def validate_description(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        if not value:
            return {"description": None}
        text = str(value).strip()
        if len(text) > MAX_DESCRIPTION:
            dispatcher.utter_message(response="utter_report_description_too_long", limit=MAX_DESCRIPTION)
            return {"description": None}
        if sum(c.isalnum() for c in text) < 3:
            dispatcher.utter_message(response="utter_report_description_invalid")
            return {"description": None}
        return {"description": text}

    def validate_contact(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        if not value:
            return {"contact": None}
        text = str(value).strip()
        if text == NO_CONTACT or is_skip(text) or latest_intent(tracker) == "deny":
            return {"contact": NO_CONTACT}
        found = contact_details(text)
        if found:
            return {"contact": found[1]}
        dispatcher.utter_message(response="utter_report_contact_invalid")
        return {"contact": None}


class ActionAskReportIssueFormServiceCode(Action):
    """Asks for the request type with the agency's services as buttons (only the likely ones if known)."""

    def name(self) -> str:
        return "action_ask_report_issue_form_service_code"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> EventList:
        try:
            services = await agency_services(await shared.current())
        except AgencyUnavailable as exc:
            log.warning(
                "report form: %s unavailable (conversation %s): %s",
                exc.api,
                conversation_ref(tracker),
                exc.reason,
            )
            dispatcher.utter_message(response="utter_report_unavailable")
            return end_form()
        candidates = tracker.get_slot("service_candidates") or []
        offered = [s for s in services if s.service_code in candidates] or services
        buttons = [{"title": s.service_name, "payload": s.service_name} for s in offered[:MAX_BUTTONS]]
        response = (
            "utter_ask_report_service_which" if candidates else "utter_ask_report_issue_form_service_code"
        )
        dispatcher.utter_message(response=response, buttons=buttons)
        return []
