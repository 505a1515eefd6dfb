"""Fallback handling: ask "did you mean X or Y?" once, then decline helpfully.

The action only decides; the wording is the ``utter_clarify`` response in the
domain, whose variation is chosen by the ``clarification`` slot set here. The options
are the entries' first questions in the conversation's language ("¿Quiso decir ...?"
offers the Spanish question), since a button sends its title back as the citizen's message.
"""

from __future__ import annotations

import functools
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.suggestions import (
    consecutive_misunderstandings,
    content_titles,
    leans_out_of_scope,
    suggestions,
)
from bot.content.agency import SOURCE_LANGUAGE
from bot.content.model import all_entries, in_language, load_content
from bot.language.conversation import conversation_language


def clarification_mode(misunderstandings: int, options: list[str]) -> str:
    if misunderstandings >= 2:
        return "give_up"
    return {0: "none", 1: "one"}.get(len(options), "two")


@functools.cache
def titles_in(language: str) -> dict[str, str]:
    """``faq/<id>`` -> the entry's first question in `language` (its English one where it has none)."""
    if language == SOURCE_LANGUAGE:
        return content_titles()
    titles = dict(content_titles())
    for entry in all_entries(load_content()):
        questions = in_language(entry, language).questions
        if entry.intent in titles and questions:
            titles[entry.intent] = questions[0]
    return titles


class ActionPrepareClarification(Action):
    """Runs on ``nlu_fallback``; a second misunderstanding in a row offers a person."""

    def name(self) -> str:
        return "action_prepare_clarification"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        latest = tracker.latest_message
        titles = titles_in(conversation_language(tracker.slots))
        options = [] if leans_out_of_scope(latest) else suggestions(latest, titles)
        mode = clarification_mode(consecutive_misunderstandings(tracker.events), options)
        options += [""] * (2 - len(options))
        return [
            SlotSet("clarification", mode),
            SlotSet("option_1", options[0]),
            SlotSet("option_2", options[1]),
        ]
