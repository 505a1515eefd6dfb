"""Fallback handling: ask "did you mean X or Y?" once, then decline helpfully.

The action only decides; the wording is the ``utter_clarify`` response in the
domain, whose variation is chosen by the ``clarification`` slot set here.
"""

from __future__ import annotations

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


def clarification_mode(misunderstandings: int, options: list[str]) -> str:
    if misunderstandings >= 2:
        return "give_up"
    return {0: "none", 1: "one"}.get(len(options), "two")


class ActionPrepareClarification(Action):
    """Runs on ``nlu_fallback``; a second misunderstanding in a row offers a person."""

    def name(self) -> str:
        return "action_prepare_clarification"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        latest = tracker.latest_message
        options = [] if leans_out_of_scope(latest) else suggestions(latest, content_titles())
        mode = clarification_mode(consecutive_misunderstandings(tracker.events), options)
        options += [""] * (2 - len(options))
        return [
            SlotSet("clarification", mode),
            SlotSet("option_1", options[0]),
            SlotSet("option_2", options[1]),
        ]
