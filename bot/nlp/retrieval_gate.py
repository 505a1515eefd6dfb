"""Rasa NLU component: an unsure FAQ pick becomes a fallback, not a wrong answer.

``FallbackClassifier`` only looks at the intent classifier. For the retrieval
intent ``faq`` (FAQs and rumors) the answer is chosen by the answer selector, whose own
confidence must also clear a threshold before the bot answers with a fact. A language whose answer
picks are less sure of themselves (the sentence encoder is English) has its own threshold,
``language_thresholds`` (chosen, like ``threshold``, on the validation sets; docs/measurements.md).

A language's picks may also be answered under its threshold when they stand clear of the runner-up
(``language_leads``: at least ``ratio`` times its confidence, and at least ``floor``): in Spanish the
probability is spread over many near answers, so a clear lead says more than the raw figure.
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

from bot.nlp.evaluate import selector_prediction, sure_enough
from bot.nlp.message_language import message_language


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class RetrievalGate(GraphComponent, IntentClassifier):
    """Predicts ``nlu_fallback`` when the chosen FAQ answer is below the threshold."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            "threshold": 0.5,
            "language_thresholds": {},
            "language_leads": {},
            "retrieval_intents": ["faq"],
        }

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
            language = message_language(message)
            threshold = self.threshold(language)
            lead = (self.config.get("language_leads") or {}).get(language)
            if not sure_enough(selector_prediction(message, str(intent)), threshold, lead):
                fallback = {"name": DEFAULT_NLU_FALLBACK_INTENT_NAME, "confidence": threshold}
                message.set(INTENT, fallback, add_to_output=True)
                ranking = message.get(INTENT_RANKING_KEY) or []
                message.set(INTENT_RANKING_KEY, [fallback, *ranking], add_to_output=True)
        return messages

    def threshold(self, language: str) -> float:
        """The threshold for a message in `language` (``threshold`` unless the language has its own)."""
        own = (self.config.get("language_thresholds") or {}).get(language)
        return float(own if own is not None else self.config["threshold"])
