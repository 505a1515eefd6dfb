"""Short follow-ups read against the last answer: `action_follow_up`.

"and on saturdays?" after City Hall's hours, "what about Riverside?" after the alerts, "and
638999?" after a request's status, "how much does it cost?" after the towing answer. On its own
such a message names no subject, so the classifier cannot answer it (it used to be declined, or
"what about tomorrow?" taken for a crisis). The NLU recognises the shape (intent `follow_up`,
data/nlu/follow_up.yml); this action finds what the conversation was about:

- after a lookup, the lookup runs again: it reads what the new message names (a day, a place, a
  request number, a facility) and takes the rest from the slots the last lookup remembered;
- after an answer from the content, that answer is given again (it holds the details: the fee,
  the place, how to pay), with the live alert check every answer gets.

With nothing to refer to, the citizen is asked for the whole question, never declined.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.alerts import ActionCheckAlerts
from actions.answers import ActionGiveLiveAnswer, selected_answer
from actions.collection import ActionCheckCollectionDay
from actions.common import EventList
from actions.facilities import ActionCheckFacilityHours
from actions.request_status import ActionCheckRequestStatus
from actions.service_status import ActionCheckServiceStatus
from bot.nlp.evaluate import RETRIEVAL

LOOKUPS: dict[str, type[Action]] = {
    action().name(): action
    for action in (
        ActionCheckFacilityHours,
        ActionCheckAlerts,
        ActionCheckCollectionDay,
        ActionCheckRequestStatus,
        ActionCheckServiceStatus,
    )
}
# The actions that give an answer from the content (the user message before them chose it):
# the retrieval intent's own action (utter_faq) and the one that checks live alerts first.
CONTENT_ANSWERS = frozenset({f"utter_{RETRIEVAL[0]}", "action_give_live_answer"})
ANSWERING = CONTENT_ANSWERS | LOOKUPS.keys()


def last_subject(events: Sequence[Mapping[str, Any]]) -> tuple[str, dict[str, Any]] | None:
    """The latest answer of this session: (action name, the parse of the message it answered)."""
    found: str | None = None
    for event in reversed(events):
        kind = event.get("event")
        if kind == "session_started":
            return None
        if found is None and kind == "action" and event.get("name") in ANSWERING:
            found = str(event["name"])
        elif found is not None and kind == "user":
            return found, dict(event.get("parse_data") or {}, text=event.get("text"))
    return None


class ActionFollowUp(Action):
    """Answers a follow-up from what the conversation was last about."""

    def name(self) -> str:
        return "action_follow_up"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> EventList:
        subject = last_subject(tracker.events)
        if subject is None:
            dispatcher.utter_message(response="utter_follow_up_without_context")
            return []
        action, asked = subject
        if action in LOOKUPS:
            return await LOOKUPS[action]().run(dispatcher, tracker, domain)
        if not selected_answer(asked):
            dispatcher.utter_message(response="utter_follow_up_without_context")
            return []
        earlier = copy.copy(tracker)
        earlier.latest_message = asked  # the answer that message got, checked against live alerts again
        return await ActionGiveLiveAnswer().run(dispatcher, earlier, domain)
