"""A tap on the rating buttons under an answer: `action_feedback` (docs/feedback.md).

The tap arrives as `/feedback{"answer":"<answer id>","value":"up|down"}` (bot/feedback/answers.py).
"Up" is thanked. "Down" asks "Sorry. What were you looking for?" with a person offered, and names
the answer rated down in the reply's `feedback_for` (answer id and entry), which Rasa keeps in the
bot event's metadata: the review inbox files the citizen's next message as "not helpful" with the
answer they got, while the assistant still answers that message as usual. Nothing waits for a
reply, so a citizen who just asks on is not pestered. The analytics count the tap itself from the
user event (the latest tap on an answer wins); this action records nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import EventList, conversation_ref
from actions.parsing import entity_values
from bot.feedback.answers import DOWN, FEEDBACK_FOR_KEY, RATING_KEY, UP

log = logging.getLogger(__name__)
THANKS = "utter_feedback_thanks"
ASK_DETAIL = "utter_feedback_ask_detail"


def rated_entry(events: Iterable[Mapping[str, Any]], answer_id: str) -> str:
    """The entry (or lookup) of the answer `answer_id` from the bot events' `rating`, "" if not found."""
    for event in reversed(list(events)):
        rated = (event.get("metadata") or {}).get(RATING_KEY) if event.get("event") == "bot" else None
        if isinstance(rated, Mapping) and rated.get("answer") == answer_id:
            return str(rated.get("entry") or "")
    return ""


class ActionFeedback(Action):
    def name(self) -> str:
        return "action_feedback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> EventList:
        message = tracker.latest_message or {}
        values, answers = entity_values(message, "value"), entity_values(message, "answer")
        value, answer_id = (values[0] if values else ""), (answers[0] if answers else "")
        if value == UP:
            dispatcher.utter_message(response=THANKS)
        elif value == DOWN:
            rated = {"answer": answer_id, "entry": rated_entry(tracker.events, answer_id)}
            dispatcher.utter_message(response=ASK_DETAIL, **{FEEDBACK_FOR_KEY: rated})
        else:  # only offered payloads get here (bot/channels/offered.py): a button of an older wording
            log.info("feedback without a value (conversation %s)", conversation_ref(tracker))
        return []
