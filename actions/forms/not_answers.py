"""What every form (a report, a request number, an address) leaves to the rules instead of storing it.

A form that takes whatever was typed as the answer filed reports with the location "wait, is city
hall open today?" and the description "start over". So a form first looks for its answer in the
message (an address, a number, an email); when there is none, a message that is an exit, a
question, small talk or another task is not extracted at all. Rasa's form then rejects the turn,
the rules answer the message or leave the form, and the form asks its question again
(data/rules/lookups.yml).

Every message is read with the words of the conversation's language (`language`, from
`conversation_language(tracker.slots)` in the validators): "cancelar", "menú" and "¿abren hoy?" in a
Spanish conversation are left to the rules exactly as "cancel", "menu" and "are you open today?" are.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import NOT_AN_ANSWER, EventList
from actions.parsing import is_cancel, is_menu, is_question, is_restart, is_small_talk
from bot.content.agency import SOURCE_LANGUAGE

# Intents that leave any form: start over (Rasa's own `restart`), the menu, goodbye.
EXIT_INTENTS = frozenset({"restart", "ask_capabilities", "goodbye"})
# Intents of something else the citizen wants meanwhile; the rules answer them and the form resumes.
OTHER_TASKS = frozenset(
    {
        "ask_alerts",
        "ask_facility_hours",
        "ask_service_status",
        "ask_collection_day",
        "check_request_status",
        "faq_live",
        "explore_topic",
        "greet",
        "thank",
        "express_frustration",
    }
)


def _text(message: Mapping[str, Any]) -> str:
    return str(message.get("text") or "").strip()


def _intent(message: Mapping[str, Any]) -> str:
    return str((message.get("intent") or {}).get("name") or "")


def is_exit(message: Mapping[str, Any], language: str = SOURCE_LANGUAGE) -> bool:
    """Stop, start over, menu, goodbye, a person, a crisis: the form must not go on with this message.

    The words are `language`'s (the conversation's): "cancelar", "empezar de nuevo", "menú" in Spanish.
    """
    text, intent = _text(message), _intent(message)
    if intent in NOT_AN_ANSWER or intent in EXIT_INTENTS:
        return True
    return is_cancel(text, language) or is_restart(text, language) or is_menu(text, language)


def for_the_rules(message: Mapping[str, Any], language: str = SOURCE_LANGUAGE) -> bool:
    """Not an answer, when it does not carry one: an exit, a question, small talk, another task
    (read with `language`'s words)."""
    text, intent = _text(message), _intent(message)
    return (
        is_exit(message, language)
        or is_small_talk(text, language)
        or is_question(text, language)
        or intent in OTHER_TASKS
    )


class ActionResumeForm(Action):
    """Says nothing, so that the form asks its question again after "ok", "thanks" or a non-answer.

    Rasa never runs the action it just rejected again in the same step: a rule that goes straight
    back to the form gets the fallback instead. This step in between lets the next rule step be
    the form, which then asks again without reading the message a second time.
    """

    def name(self) -> str:
        return "action_resume_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> EventList:
        return []
