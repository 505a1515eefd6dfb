"""Rasa NLU component: an unsure FAQ pick becomes a fallback, not a wrong answer.

``FallbackClassifier`` only looks at the intent classifier. For the retrieval
intent ``faq`` (FAQs and rumors) the answer is chosen by the answer selector, whose own
confidence must also clear a threshold before the bot answers with a fact.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.constants import DEFAULT_NLU_FALLBACK_INTENT_NAME
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY
from rasa.shared.nlu.training_data.message import Message

from bot.nlp.evaluate import selector_prediction


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class RetrievalGate(GraphComponent, IntentClassifier):
    """Predicts ``nlu_fallback`` when the chosen FAQ answer is below the threshold."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"threshold": 0.5, "retrieval_intents": ["faq"]}

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> RetrievalGate:
        return cls(config)

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            intent = (message.get(INTENT) or {}).get("name")
            if intent not in self.config["retrieval_intents"]:
                continue
            response = selector_prediction(message, str(intent)).get("response", {})
            if response.get("confidence", 0.0) < self.config["threshold"]:
                fallback = {"name": DEFAULT_NLU_FALLBACK_INTENT_NAME, "confidence": self.config["threshold"]}
                message.set(INTENT, fallback, add_to_output=True)
                ranking = message.get(INTENT_RANKING_KEY) or []
                message.set(INTENT_RANKING_KEY, [fallback, *ranking], add_to_output=True)
        return messages
