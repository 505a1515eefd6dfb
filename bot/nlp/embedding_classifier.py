"""Intent classifier: logistic regression over a sentence embedding plus character and word n-grams.

With a few dozen examples per intent, DIET's transformer learnt the training phrasings and
missed plain paraphrases (held-out intent F1 0.916). The MiniLM embedding (bot/nlp/minilm.py)
knows that "the overhead light quit" is about a streetlight; the n-grams keep the exact words,
typos and reference numbers. A linear model over both trains in seconds and, being
probabilistic, gives the FallbackClassifier and the SafetyGuard confidences they can threshold.
5-fold cross-validation on the training examples picked the features and `C`; how it compares
with DIET is in the README (Measurements).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import joblib
import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from scipy.sparse import csr_matrix, hstack, spmatrix
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from bot.nlp import minilm

log = logging.getLogger(__name__)
FILE = "embedding_classifier.joblib"


@dataclass
class _Model:
    """The fitted parts, pickled together."""

    chars: TfidfVectorizer
    words: TfidfVectorizer
    classifier: LogisticRegression
    embedding_weight: float

    def features(self, messages: list[Message]) -> spmatrix:
        texts = [m.get(TEXT) for m in messages]
        embedded = _embeddings(messages) * self.embedding_weight
        parts = [csr_matrix(embedded), self.chars.transform(texts), self.words.transform(texts)]
        return hstack(parts).tocsr()


def _embeddings(messages: list[Message]) -> np.ndarray:
    """The SentenceEmbeddingFeaturizer's vectors when it ran earlier in the pipeline, else encoded here."""
    found = [m.get_dense_features(TEXT)[1] for m in messages]
    if all(f is not None and f.features.shape[-1] == minilm.WIDTH for f in found):
        return np.vstack([f.features[0] for f in found])  # type: ignore[union-attr]
    return minilm.load().encode([m.get(TEXT) for m in messages])


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class EmbeddingIntentClassifier(GraphComponent, IntentClassifier):
    """Predicts the intent and a ranking of the others, with calibrated probabilities."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"C": 64.0, "embedding_weight": 2.0, "ranking_length": 10, "max_iter": 3000}

    def __init__(
        self, config: dict[str, Any], storage: ModelStorage, resource: Resource, model: _Model | None = None
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
        try:
            with model_storage.read_from(resource) as directory:
                model = joblib.load(directory / FILE)
        except (ValueError, FileNotFoundError):
            log.warning("EmbeddingIntentClassifier: no trained model in this package; predicting nothing")
            model = None
        return cls(config, model_storage, resource, model)

    def train(self, training_data: TrainingData) -> Resource:
        examples = [e for e in training_data.intent_examples if e.get(TEXT) and e.get(INTENT)]
        texts = [e.get(TEXT) for e in examples]
        if len({e.get(INTENT) for e in examples}) < 2:
            log.warning("EmbeddingIntentClassifier: fewer than two intents to learn; not trained")
            return self._resource
        chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True).fit(texts)
        words = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True).fit(texts)
        classifier = LogisticRegression(
            C=self.config["C"], max_iter=self.config["max_iter"], class_weight="balanced"
        )
        model = _Model(chars, words, classifier, self.config["embedding_weight"])
        classifier.fit(model.features(examples), [e.get(INTENT) for e in examples])
        self._model = model
        with self._storage.write_to(self._resource) as directory:
            joblib.dump(model, directory / FILE)
        return self._resource

    def process(self, messages: list[Message]) -> list[Message]:
        targets = [m for m in messages if (m.get(TEXT) or "").strip()]
        if self._model is None or not targets:
            return messages
        probabilities = self._model.classifier.predict_proba(self._model.features(targets))
        labels = self._model.classifier.classes_
        for message, row in zip(targets, probabilities, strict=True):
            order = np.argsort(-row)[: self.config["ranking_length"]]
            ranking = [{"name": str(labels[i]), "confidence": float(row[i])} for i in order]
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        return messages
