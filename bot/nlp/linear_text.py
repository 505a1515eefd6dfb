"""Logistic regression over a sentence embedding plus character and word n-grams.

The intent classifier and the FAQ answer selector both use it. The MiniLM embedding
(bot/nlp/minilm.py) knows that "the overhead light quit" is about a streetlight; the n-grams keep
the exact words, typos and reference numbers. A linear model over both trains in seconds, runs in
about a millisecond, and gives probabilities that the fallback thresholds can rely on.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, ClassVar, TypeVar

import joblib
import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from scipy.sparse import csr_matrix, hstack, spmatrix
from scipy.special import softmax
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from bot.nlp import minilm

log = logging.getLogger(__name__)

# The SentenceEmbeddingFeaturizer's alias: its vectors are found by this name, whatever other
# dense featurizers (say spaCy's word vectors) the pipeline has.
EMBEDDING_ALIAS = "minilm"


def sentence_embeddings(messages: list[Message]) -> np.ndarray:
    """The SentenceEmbeddingFeaturizer's vectors when it ran earlier in the pipeline, else encoded here."""
    found = [m.get_dense_features(TEXT, featurizers=[EMBEDDING_ALIAS])[1] for m in messages]
    if all(f is not None for f in found):
        return np.vstack([f.features[0] for f in found])
    return minilm.load().encode([m.get(TEXT) for m in messages])


def extra_embeddings(messages: list[Message], alias: str) -> np.ndarray:
    """Another featurizer's sentence vectors (say the multilingual one's), zeros where it left none."""
    found = [m.get_dense_features(TEXT, featurizers=[alias])[1] for m in messages]
    widths = {f.features.shape[-1] for f in found if f is not None}
    if not widths:
        raise ValueError(f"no sentence features from a featurizer called {alias!r}: is it in the pipeline?")
    zeros = np.zeros(widths.pop(), dtype=np.float32)
    return np.vstack([zeros if f is None else f.features[0] for f in found])


@dataclass
class LinearTextModel:
    """The fitted vectorisers and classifier, pickled together."""

    chars: TfidfVectorizer
    words: TfidfVectorizer
    classifier: LogisticRegression
    embedding_weight: float
    extra: dict[str, float] = field(default_factory=dict)  # other featurizers' aliases and weights

    @classmethod
    def fit(cls, messages: list[Message], labels: list[str], config: dict[str, Any]) -> LinearTextModel:
        """Fit on the messages; `config` is the component's (`C`, `max_iter`, `embedding_weight`,
        `extra_embeddings`: other featurizers' aliases with their weights, and `label_weights` and
        `intent_weight`: a label's weight relative to the balanced one, `balanced_weights`)."""
        texts = [m.get(TEXT) for m in messages]
        boost, intent_weight = config.get("label_weights") or {}, float(config.get("intent_weight", 1.0))
        weighted = bool(boost) or intent_weight != 1.0
        model = cls(
            chars=TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True).fit(texts),
            words=TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True).fit(texts),
            classifier=LogisticRegression(
                C=config["C"],
                max_iter=config["max_iter"],
                class_weight=None if weighted else "balanced",
            ),
            embedding_weight=config["embedding_weight"],
            extra={str(k): float(v) for k, v in (config.get("extra_embeddings") or {}).items()},
        )
        weights = balanced_weights(labels, boost, intent_weight) if weighted else None
        model.classifier.fit(model.features(messages), labels, sample_weight=weights)
        return model

    def _blocks(self, messages: list[Message]) -> list[np.ndarray | spmatrix]:
        """The feature columns in blocks: embedding (dense), character and word n-grams (sparse), then
        each extra embedding (dense; a model pickled before they existed has none)."""
        texts = [m.get(TEXT) for m in messages]
        embedded = sentence_embeddings(messages) * self.embedding_weight
        extra = [extra_embeddings(messages, alias) * w for alias, w in getattr(self, "extra", {}).items()]
        return [embedded, self.chars.transform(texts), self.words.transform(texts), *extra]

    def features(self, messages: list[Message]) -> spmatrix:
        return hstack([csr_matrix(block) for block in self._blocks(messages)]).tocsr()

    @cached_property
    def _coefficients(self) -> np.ndarray:
        """The weights as (features, labels), C-ordered: a sparse row times it reads only its nonzero rows.

        scikit-learn multiplies by `coef_.T`, and scipy then copies all of it for every message.
        """
        return np.ascontiguousarray(self.classifier.coef_.T)

    def probabilities(self, messages: list[Message]) -> np.ndarray:
        """What `predict_proba` gives (multinomial: softmax of the linear scores), in a fraction of the time.

        Each feature block meets its own rows of the weights, so no combined matrix is built.
        """
        if len(self.classifier.classes_) < 3:  # two labels: scikit-learn's one-vs-rest logistic
            return self.classifier.predict_proba(self.features(messages))
        scores, start = self.classifier.intercept_, 0
        for block in self._blocks(messages):
            scores = scores + block @ self._coefficients[start : start + block.shape[1]]
            start += block.shape[1]
        return softmax(scores, axis=1)

    def rankings(self, messages: list[Message], length: int) -> list[list[tuple[str, float]]]:
        """Per message, the ``length`` likeliest labels with their probabilities, best first."""
        probabilities = self.probabilities(messages)
        labels = self.classifier.classes_
        return [[(str(labels[i]), float(row[i])) for i in np.argsort(-row)[:length]] for row in probabilities]


def balanced_weights(labels: list[str], boost: Mapping[str, float], intent_weight: float = 1.0) -> np.ndarray:
    """Per example, scikit-learn's "balanced" weight (every label the same total) times its label's
    `boost`, or for a label that is not an answer (no "/") and has none, `intent_weight`: in a model
    that learns each answer as a class, an intent is one label of 300, and its weight keeps its
    questions ("is the food bank open on 12/25", out of scope ones) from going to the nearest answer."""
    counts = Counter(labels)
    total, count = len(labels), len(counts)

    def boosted(label: str) -> float:
        return float(boost.get(label, 1.0 if "/" in label else intent_weight))

    return np.array([total / (count * counts[label]) * boosted(label) for label in labels])


def ranked(
    model: LinearTextModel | None, messages: list[Message], length: int
) -> list[tuple[Message, list[tuple[str, float]]]]:
    """Each message that has text, with the model's ranking for it (nothing without a trained model)."""
    targets = [m for m in messages if (m.get(TEXT) or "").strip()]
    if model is None or not targets:
        return []
    return list(zip(targets, model.rankings(targets, length), strict=True))


def save_fitted(storage: ModelStorage, resource: Resource, file_name: str, fitted: Any) -> None:
    """Keep a component's fitted state in the model package."""
    with storage.write_to(resource) as directory:
        joblib.dump(fitted, directory / file_name)


def load_fitted(storage: ModelStorage, resource: Resource, file_name: str, component: str) -> Any:
    """What `save_fitted` kept; None (logged) when the package has none: the component predicts nothing."""
    try:
        with storage.read_from(resource) as directory:
            return joblib.load(directory / file_name)
    except (ValueError, FileNotFoundError):
        log.warning("%s: no trained model in this package; predicting nothing", component)
        return None


Fitted = TypeVar("Fitted", bound="FittedComponent")


class FittedComponent(GraphComponent):
    """A Rasa component whose trained state is one dict, kept in the model package as `fitted_file`.

    `create` starts it untrained, `load` reads the state back (empty when the package has none, so
    the component predicts nothing), `keep` saves a freshly trained state; a subclass takes the
    state apart in `_use`.
    """

    fitted_file: ClassVar[str]

    def __init__(
        self, config: dict[str, Any], storage: ModelStorage, resource: Resource, state: dict[str, Any]
    ) -> None:
        self.config, self._storage, self._resource = config, storage, resource
        self._use(state)

    def _use(self, state: dict[str, Any]) -> None:
        raise NotImplementedError

    def keep(self, state: dict[str, Any]) -> Resource:
        """Save a trained state in the package and use it from now on."""
        save_fitted(self._storage, self._resource, self.fitted_file, state)
        self._use(state)
        return self._resource

    @classmethod
    def create(
        cls: type[Fitted],
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> Fitted:
        return cls(config, model_storage, resource, {})

    @classmethod
    def load(
        cls: type[Fitted],
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> Fitted:
        state = load_fitted(model_storage, resource, cls.fitted_file, cls.__name__)
        return cls(config, model_storage, resource, state or {})
