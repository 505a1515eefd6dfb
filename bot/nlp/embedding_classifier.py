"""Intent classifier: logistic regression over a sentence embedding plus character and word n-grams.

With a few dozen examples per intent, DIET's transformer learnt the training phrasings and
missed plain paraphrases (held-out intent F1 0.916). The model (bot/nlp/linear_text.py) is
probabilistic, so the FallbackClassifier and the SafetyGuard get confidences they can threshold.
5-fold cross-validation on the training examples picked the features and `C`; how it compares
with DIET is in docs/measurements.md.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlp.linear_text import LinearTextModel, load_fitted, ranked, save_fitted

log = logging.getLogger(__name__)
FILE = "embedding_classifier.joblib"
_Model = LinearTextModel  # the name models trained before 2026-11-27 pickled: they still load


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class EmbeddingIntentClassifier(GraphComponent, IntentClassifier):
    """Predicts the intent and a ranking of the others, with calibrated probabilities."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"C": 64.0, "embedding_weight": 2.0, "ranking_length": 10, "max_iter": 3000}

    def __init__(
        self,
        config: dict[str, Any],
        storage: ModelStorage,
        resource: Resource,
        model: LinearTextModel | None = None,
    ) -> None:
        self.config, self._storage, self._resource, self._model = config, storage, resource, model

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> EmbeddingIntentClassifier:
        return cls(config, model_storage, resource)

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> EmbeddingIntentClassifier:
        model = load_fitted(model_storage, resource, FILE, cls.__name__)
        return cls(config, model_storage, resource, model)

    def train(self, training_data: TrainingData) -> Resource:
        examples = [e for e in training_data.intent_examples if e.get(TEXT) and e.get(INTENT)]
        labels = [e.get(INTENT) for e in examples]
        if len(set(labels)) < 2:
            log.warning("EmbeddingIntentClassifier: fewer than two intents to learn; not trained")
            return self._resource
        self._model = LinearTextModel.fit(examples, labels, self.config)
        save_fitted(self._storage, self._resource, FILE, self._model)
        return self._resource

    def process(self, messages: list[Message]) -> list[Message]:
        for message, labels in ranked(self._model, messages, self.config["ranking_length"]):
            ranking = [{"name": name, "confidence": confidence} for name, confidence in labels]
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        return messages
