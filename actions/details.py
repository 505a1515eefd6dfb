"""A message that is only a detail (an address, a request number, a phone number), outside any form.

Inside a form such a message fills the field asked for. Outside one it used to be declined, and
the decline looped until Rasa's circuit breaker muted the conversation. Read in context instead:
a request number gets its status, an address gets the lookups that take one, and a phone number or
email is not needed here (and is not kept). The detail is read, and the buttons are titled, in the
conversation's language ("calle Elm 12", "Día de recolección").
"""

from __future__ import annotations

import json
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import EventList, fragment, latest_text, reply_language
from actions.parsing import contact_details, entity_values, street_address, street_corner
from actions.request_status import ActionCheckRequestStatus, number_in

# What an address can be used for: (button title response, intent the button starts).
ADDRESS_LOOKUPS = (
    ("utter_part_address_collection_day", "ask_collection_day"),
    ("utter_part_address_report", "report_problem"),
    ("utter_part_address_alerts", "ask_alerts"),
)


def payload(intent: str, **entities: str) -> str:
    """A button payload that starts `intent` with its entities, parsed by Rasa without the NLU."""
    return f"/{intent}{json.dumps(entities)}" if entities else f"/{intent}"


def address_in(tracker: Tracker) -> str | None:
    """The address the NLU found, else a house number and street or a corner in the text (in the
    conversation's words: "calle Elm 12", "Oak Ave y 3rd St")."""
    addresses = entity_values(tracker.latest_message, "address")
    if addresses:
        return addresses[0]
    text, language = latest_text(tracker), reply_language(tracker)
    return street_address(text, language) or street_corner(text, language)


class ActionUseDetail(Action):
    """Understands a bare detail from what the assistant can do with it."""

    def name(self) -> str:
        return "action_use_detail"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> EventList:
        message, language = tracker.latest_message, reply_language(tracker)
        if number_in(message, language) and not entity_values(message, "address"):
            return await ActionCheckRequestStatus().run(dispatcher, tracker, domain)
        if contact_details(latest_text(tracker)):
            dispatcher.utter_message(response="utter_contact_not_needed")
            return []
        address = address_in(tracker)
        if address:
            buttons = [
                {
                    "title": fragment(domain, title, language=language),
                    "payload": payload(intent, address=address),
                }
                for title, intent in ADDRESS_LOOKUPS
            ]
            dispatcher.utter_message(response="utter_offer_address_lookups", address=address, buttons=buttons)
            return [SlotSet("address", address)]
        dispatcher.utter_message(response="utter_detail_without_context")
        return []
