"""Rasa policy: every turn ends with the bot listening, before Rasa's circuit breaker can trip.

Rasa stops a turn after `MAX_NUMBER_OF_PREDICTIONS` actions (10) and logs "Circuit breaker
tripped", but it counts actions back to the last `action_listen`, and a tripped turn never
logs one: every later message trips it again at once, so the conversation stays mute for good,
"hello" and "/restart" included. A message no rule covers (a bare address, "request 638344")
made the rule policy's fallback, the decline, run again and again until it tripped: the citizen
read the same decline ten times, then nothing ever again.

This policy predicts `action_listen` over every other prediction when

- the last action is one that ends a turn (`end_turn_after`, the decline), unless a form is
  active and should ask its question again;
- the same action ran twice in a row in this turn (a loop, whatever its cause);
- the turn already ran `max_actions` actions (below Rasa's limit).

Otherwise it abstains. The tracker store repairs conversations that tripped before this policy
existed (bot/tracker_store.py).
"""

from __future__ import annotations

from typing import Any

from rasa.core.policies.policy import Policy, PolicyPrediction
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.core.constants import ACTION_LISTEN_NAME, ACTION_SESSION_START_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker

# Rasa's own limit is 10 (MAX_NUMBER_OF_PREDICTIONS); stop well before it.
DEFAULT_MAX_ACTIONS = 8
TURN_STARTS = (ACTION_LISTEN_NAME, ACTION_SESSION_START_NAME)


def actions_this_turn(tracker: DialogueStateTracker) -> list[str]:
    """The actions run since the bot last listened, oldest first: what Rasa's limit counts."""
    names: list[str] = []
    for event in reversed(tracker.events):
        if isinstance(event, ActionExecuted) and event.action_name:
            if event.action_name in TURN_STARTS:
                break
            names.append(event.action_name)
    return names[::-1]


def should_listen(actions: list[str], end_turn_after: set[str], form_active: bool, max_actions: int) -> bool:
    """Whether the turn must end now, given the actions it ran so far."""
    if not actions:
        return False
    if actions[-1] in end_turn_after and not form_active:
        return True
    if len(actions) >= 2 and actions[-1] == actions[-2]:
        return True
    return len(actions) >= max_actions


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True)
class TurnGuardPolicy(Policy):
    """Ends a turn that declined, loops or runs long, so that no conversation is ever muted."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            # above the rule policy (6): when this policy speaks, it decides
            "priority": 10,
            "end_turn_after": ["utter_out_of_scope"],
            "max_actions": DEFAULT_MAX_ACTIONS,
        }

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        featurizer: Any = None,
    ) -> None:
        super().__init__(config, model_storage, resource, execution_context, featurizer)
        self._end_turn_after = set(config["end_turn_after"])
        self._max_actions = int(config["max_actions"])

    def train(
        self, training_trackers: list[TrackerWithCachedStates], domain: Domain, **kwargs: Any
    ) -> Resource:
        """Nothing to learn: the guard is the same for every assistant."""
        return self._resource

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        probabilities = self._default_predictions(domain)
        actions = actions_this_turn(tracker)
        form_active = bool(tracker.active_loop_name)
        if should_listen(actions, self._end_turn_after, form_active, self._max_actions):
            probabilities[domain.index_for_action(ACTION_LISTEN_NAME)] = 1.0
            # "no user" predictions overrule every prediction based on the user's message
            return self._prediction(probabilities, is_no_user_prediction=True)
        return self._prediction(probabilities)
