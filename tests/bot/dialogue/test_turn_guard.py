"""The turn guard ends a turn before Rasa's circuit breaker can mute a conversation."""

from __future__ import annotations

from rasa.shared.core.constants import ACTION_LISTEN_NAME, ACTION_SESSION_START_NAME
from rasa.shared.core.events import ActionExecuted, BotUttered, Event, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.dialogue.turn_guard import DEFAULT_MAX_ACTIONS, actions_this_turn, should_listen

DECLINE = "utter_out_of_scope"


def tracker(*actions: str) -> DialogueStateTracker:
    events: list[Event] = [
        ActionExecuted(ACTION_SESSION_START_NAME),
        SessionStarted(),
        ActionExecuted(ACTION_LISTEN_NAME),
        UserUttered("hi", {"name": "greet", "confidence": 1.0}),
        ActionExecuted("utter_greet"),
        BotUttered("Hi"),
        ActionExecuted(ACTION_LISTEN_NAME),
        UserUttered("ok 300 river street", {"name": "inform", "confidence": 0.9}),
    ]
    for action in actions:
        events += [ActionExecuted(action), BotUttered(action)]
    return DialogueStateTracker.from_events("citizen", events)


def guard(*actions: str, form_active: bool = False) -> bool:
    return should_listen(actions_this_turn(tracker(*actions)), {DECLINE}, form_active, DEFAULT_MAX_ACTIONS)


def test_only_the_actions_of_this_turn_count():
    assert actions_this_turn(tracker()) == []
    assert actions_this_turn(tracker("action_use_detail", "utter_faq")) == ["action_use_detail", "utter_faq"]


def test_a_new_turn_is_left_to_the_other_policies():
    assert not guard()
    assert not guard("action_prepare_clarification")  # the clarification continues to utter_clarify


def test_a_decline_ends_the_turn_so_it_is_said_once():
    assert guard(DECLINE)


def test_a_decline_inside_a_form_lets_the_form_ask_again():
    assert not guard(DECLINE, form_active=True)


def test_an_action_repeated_in_a_row_ends_the_turn():
    assert guard("utter_faq", "utter_faq", form_active=True)
    assert not guard("utter_faq", "report_issue_form")


def test_a_long_turn_ends_before_rasas_limit():
    chain = [f"action_{n}" for n in range(DEFAULT_MAX_ACTIONS)]
    assert not guard(*chain[:-1])
    assert guard(*chain)
    assert DEFAULT_MAX_ACTIONS < 10  # Rasa's MAX_NUMBER_OF_PREDICTIONS default
