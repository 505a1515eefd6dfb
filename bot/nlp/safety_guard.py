"""Rasa NLU component: sensitive messages always get their lifeline intent.

Runs last in the pipeline (after ``FallbackClassifier``) so neither a low
classifier confidence nor an ambiguity check can hide a crisis message.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.constants import TOKENS_NAMES
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlp.safety import TRIGGERS_FILE, Trigger, load_triggers, match

SENSITIVE_PREFIX = "sensitive_"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class SafetyGuard(GraphComponent, IntentClassifier):
    """Overrides the predicted intent when trigger patterns or the classifier flag a crisis."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"triggers_file": str(TRIGGERS_FILE), "classifier_threshold": 0.3}

    def __init__(self, config: dict[str, Any], triggers: list[Trigger]) -> None:
        self.config = config
        self.triggers = triggers

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SafetyGuard:
        return cls(config, load_triggers(Path(config["triggers_file"])))

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            intent = self._sensitive_intent(message)
            if intent:
                prediction = {"name": intent, "confidence": 1.0}
                ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get("name") != intent]
                message.set(INTENT, prediction, add_to_output=True)
                message.set(INTENT_RANKING_KEY, [prediction, *ranking], add_to_output=True)
        return messages

    def _sensitive_intent(self, message: Message) -> str | None:
        text = message.get(TEXT) or ""
        tokens = message.get(TOKENS_NAMES[TEXT]) or []
        lemmas = " ".join(token.lemma or token.text for token in tokens)
        found = match(self.triggers, text, lemmas)
        if found:
            return found
        for candidate in message.get(INTENT_RANKING_KEY) or []:
            name = str(candidate.get("name", ""))
            if (
                name.startswith(SENSITIVE_PREFIX)
                and candidate.get("confidence", 0) >= self.config["classifier_threshold"]
            ):
                return name
        return None
