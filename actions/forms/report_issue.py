"""Filing a 311 report, part 1: `report_issue_form` collects what, where, a description and a contact.

Every slot is filled here by custom extraction, so each message is read once, in one place:

- `service_code` (and `service_name`): matched against the agency's own services.json (names,
  keywords, descriptions), never a list in this code. When unclear, `service_candidates` keeps
  the codes to offer as buttons (`action_ask_report_issue_form_service_code`).
  A problem that matches none of them is one the agency's 311 does not take online: the citizen
  is told so, with the 311 phone number, and it is never filed under another type.
- `location`: an address, a corner or a landmark the agency knows (sent as Open311
  `address_string`), or a shared pin kept as "lat, long" (sent as `lat`/`long`; `bot.location`).
- `description`: the citizen's own words, when they describe something.
- `contact`: an email or a phone number, or "none" after "skip".

The first message may give all four ("report a pothole at 88 Main St, it's deep, my email is
..."). "actually the address is 52 Quarry Lane" corrects a field at any point. Every message is read
with the words of the conversation's language ("cambie la dirección a 12 Elm St", "omitir"). Exits ("cancel",
"start over", "menu"), questions, "thanks" and other tasks are never taken as an answer
(`actions.forms.not_answers`): the form rejects them, the rules answer, the form asks again.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction

from actions import resources as shared
from actions.common import SERVICES, EventList, conversation_ref, latest_intent, lookup
from actions.forms.not_answers import OTHER_TASKS, for_the_rules, is_exit
from actions.parsing import (
    contact_details,
    describes,
    entity_values,
    is_place,
    is_skip,
    match_services,
    names_a_problem,
    parse_correction,
    problem_details,
    street_address,
    street_corner,
)
from bot.clients.errors import AgencyUnavailable
from bot.clients.open311 import Service
from bot.content.agency import SOURCE_LANGUAGE
from bot.language.conversation import conversation_language
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


def landmarks(message: dict[str, Any]) -> list[str]:
    """The places the agency knows (the `facility` entities) as the citizen typed them: "City Hall"."""
    text = str(message.get("text") or "")
    found = []
    for item in message.get("entities") or []:
        if item.get("entity") != "facility":
            continue
        start, end = item.get("start"), item.get("end")
        typed = text[start:end] if isinstance(start, int) and isinstance(end, int) and end > start else ""
        found.append(typed.strip() or str(item.get("value") or "").replace("_", " "))
    return [name for name in found if name]


def first_message(message: dict[str, Any], language: str = SOURCE_LANGUAGE) -> dict[str, Any]:
    """Everything a report's first message gives: the type, the place, the citizen's details, a contact.

    "please report a pothole at 88 Main Street, it's in the bike lane and really deep, my email is
    jo@example.org" fills all four, so the form goes straight to the confirmation.
    """
    text = str(message.get("text") or "")
    typed = not text.startswith("/")
    addresses = entity_values(message, "address")
    places = landmarks(message)
    location = (
        (addresses[0] if addresses else None)
        or (street_address(text, language) if typed else None)
        or (street_corner(text, language) if typed else None)
        or (places[0] if places else None)
    )
    contact = contact_details(text) if typed else None
    return {
        "service_code": _service_text(message) or None,
        "location": location,
        "description": problem_details(text, language) if typed else None,
        "contact": contact[1] if contact else None,
    }


def answer_to(requested: str, message: dict[str, Any], language: str = SOURCE_LANGUAGE) -> str | None:
    """The answer to the question asked, or None when the message leaves it to the rules.

    A message that carries an answer counts ("is 88 Main St enough?" gives a place); one that
    does not (a question, "thanks", "start over", another task) is never stored.
    """
    text = str(message.get("text") or "").strip()
    intent = str((message.get("intent") or {}).get("name") or "")
    if requested == "contact" and (is_skip(text, language) or (intent == "deny" and len(text.split()) <= 4)):
        return NO_CONTACT
    if requested == "location":
        addresses = entity_values(message, "address")
        if addresses and not for_the_rules(message, language):
            return addresses[0]
        if is_place(text, landmarks(message), language) and intent not in OTHER_TASKS:
            return text
    if requested == "contact" and contact_details(text):
        return text
    if for_the_rules(message, language) or (intent == "deny" and len(text.split()) <= 3):
        return None
    return _service_text(message) if requested == "service_code" else text


def report_candidates(
    message: dict[str, Any], requested: str | None, *, fresh: bool, language: str = SOURCE_LANGUAGE
) -> dict[str, Any]:
    """Slot candidates in one user message; `validate_*` turns them into values.

    `requested` is the slot the form asked for (None at activation); `fresh` is a new report
    ("I want to report a pothole"), which forgets anything left from an earlier one. A correction
    ("actually the address is 52 Quarry Lane") changes its field whatever was asked.
    """
    text = str(message.get("text") or "").strip()
    skipping = requested == "contact" and is_skip(text, language)  # "skip" is no "cancel"
    if is_exit(message, language) and not skipping:
        return {}
    found: dict[str, Any] = {}
    correction = parse_correction(text, language)
    if correction:
        found[correction[0]] = correction[1]
    elif fresh:
        found = first_message(message, language)
    elif requested in REQUIRED:
        answer = answer_to(requested, message, language)
        if answer is not None:
            found[requested] = answer
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
        language = conversation_language(tracker.slots)
        found = report_candidates(tracker.latest_message, requested, fresh=fresh, language=language)
        return [SlotSet(slot, value) for slot, value in found.items()]

    async def validate_service_code(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        unset = {"service_code": None, "service_name": None, "service_candidates": None}
        if not value:
            return unset
        services = await agency_services(await shared.current())
        language = conversation_language(tracker.slots)
        known = next((s for s in services if s.service_code == value), None)
        matched = [known] if known else match_services(str(value), services, language)
        if len(matched) == 1:
            return {"service_code": matched[0].service_code, "service_name": matched[0].service_name,
                    "service_candidates": None}  # fmt: skip
        if not matched and names_a_problem(str(value), language):  # "a dead raccoon": not a type taken online
            dispatcher.utter_message(response="utter_report_service_not_online")
        elif not matched and tracker.get_slot("requested_slot") == "service_code":
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
        known = [*landmarks(tracker.latest_message), *entity_values(tracker.latest_message, "address")]
        if is_place(text, known, conversation_language(tracker.slots)) and len(text) <= MAX_LOCATION:
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
        if not describes(text, conversation_language(tracker.slots)):
            dispatcher.utter_message(response="utter_report_description_invalid")
            return {"description": None}
        return {"description": text}

    def validate_contact(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        if not value:
            return {"contact": None}
        text = str(value).strip()
        if text == NO_CONTACT or is_skip(text, conversation_language(tracker.slots)):
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
