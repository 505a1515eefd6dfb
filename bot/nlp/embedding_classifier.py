"""Intent classifier: logistic regression over a sentence embedding plus character and word n-grams.

With a few dozen examples per intent, DIET's transformer learnt the training phrasings and
missed plain paraphrases (held-out intent F1 0.916). The model (bot/nlp/linear_text.py) is
probabilistic, so the FallbackClassifier and the SafetyGuard get confidences they can threshold.
5-fold cross-validation on the training examples picked the features and `C`; how it compares
with DIET is in docs/measurements.md.

With `answer_labels` (not used by config.yml: docs/measurements.md, "Tried and not shipped"), it
learns each FAQ, rumor and referral answer as a class of its own (`faq/<id>`) beside the other
intents, and reports `faq` with the sum of its answers' probabilities, so the answers compete with
the intents they resemble ("how do I subscribe to alerts": the alert FAQ against `subscribe_alerts`)
instead of one broad `faq` class against them. On validation_v1 the right answer or intent came
first for 95.7% of messages, against 91.8%; but lookups lost to answers ("report a pothole" got the
pothole FAQ). `label_weights` and `intent_weight` keep intents, single labels among some 300, from
losing to the nearest answer. The answers' probabilities are left on the message
(`ANSWER_PROBABILITIES`) for the answer selector (`from_intent_classifier`) to rank.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, INTENT_RESPONSE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlp.linear_text import LinearTextModel, load_fitted, ranked, save_fitted

log = logging.getLogger(__name__)
FILE = "embedding_classifier.joblib"
# A message's (not output) joint probabilities of every answer class, as (keys, probabilities):
# what EmbeddingResponseSelector ranks when it reads the intent classifier's answers.
ANSWER_PROBABILITIES = "answer_probabilities"
_Model = LinearTextModel  # the name models trained before 2026-11-27 pickled: they still load


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class EmbeddingIntentClassifier(GraphComponent, IntentClassifier):
    """Predicts the intent and a ranking of the others, with calibrated probabilities."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            "C": 64.0,
            "embedding_weight": 2.0,
            "extra_embeddings": {},  # other featurizers' aliases and weights (linear_text.py)
            "ranking_length": 10,
            "max_iter": 3000,
            "answer_labels": False,
            "label_weights": {},  # a label's weight over the balanced one (linear_text.balanced_weights)
            "intent_weight": 1.0,  # the same for every label that is not an answer and has none
        }

    def __init__(
        self,
        config: dict[str, Any],
        storage: ModelStorage,
        resource: Resource,
        model: LinearTextModel | None = None,
    ) -> None:
        self.config, self._storage, self._resource, self._model = config, storage, resource, model
        self._layout: AnswerLayout | None = None

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
        if self.config["answer_labels"]:
            labels = [e.get(INTENT_RESPONSE_KEY) or e.get(INTENT) for e in examples]
        else:
            labels = [e.get(INTENT) for e in examples]
        if len(set(labels)) < 2:
            log.warning("EmbeddingIntentClassifier: fewer than two intents to learn; not trained")
            return self._resource
        self._model = LinearTextModel.fit(examples, labels, self.config)
        save_fitted(self._storage, self._resource, FILE, self._model)
        return self._resource

    def process(self, messages: list[Message]) -> list[Message]:
        layout = self._answer_layout()
        if layout is None:  # intents only (config.yml): the ranking is the model's own
            for message, labels in ranked(self._model, messages, self.config["ranking_length"]):
                self._set_ranking(message, [{"name": n, "confidence": c} for n, c in labels])
            return messages
        return self._process_answers(messages, layout)

    def _answer_layout(self) -> AnswerLayout | None:
        """Where the answer classes are and how they sum to intents; None for a model without any.
        Derived once per model, not per message."""
        if self._model is None:
            return None
        if self._layout is None or self._layout.model is not self._model:
            labels = self._model.classifier.classes_
            answers = np.array([i for i, label in enumerate(labels) if "/" in str(label)], dtype=int)
            intents, grouping = intent_grouping(labels)
            self._layout = AnswerLayout(self._model, labels[answers], answers, intents, grouping)
        return self._layout if len(self._layout.columns) else None

    def _process_answers(self, messages: list[Message], layout: AnswerLayout) -> list[Message]:
        targets = [m for m in messages if (m.get(TEXT) or "").strip()]
        if not targets:
            return messages
        length = self.config["ranking_length"]
        for message, row in zip(targets, layout.model.probabilities(targets), strict=True):
            summed = row @ layout.grouping
            order = np.argsort(-summed)[:length]
            self._set_ranking(
                message, [{"name": str(layout.intents[i]), "confidence": float(summed[i])} for i in order]
            )
            message.set(ANSWER_PROBABILITIES, (layout.keys, row[layout.columns]))
        return messages

    @staticmethod
    def _set_ranking(message: Message, ranking: list[dict[str, Any]]) -> None:
        message.set(INTENT, ranking[0], add_to_output=True)
        message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)


@dataclass(frozen=True)
class AnswerLayout:
    """A model's answer classes (`keys`, at `columns` of its labels) and the `grouping` that sums its
    labels' probabilities into `intents`."""

    model: LinearTextModel
    keys: np.ndarray
    columns: np.ndarray
    intents: np.ndarray
    grouping: np.ndarray


def intent_grouping(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The intents of the classifier's labels (`faq/<id>` is `faq`), and the 0/1 matrix (labels x
    intents) that sums each intent's labels' probabilities."""
    names = [str(label).split("/", 1)[0] for label in labels]
    intents = np.array(sorted(set(names)), dtype=object)
    column = {name: i for i, name in enumerate(intents)}
    grouping = np.zeros((len(labels), len(intents)))
    grouping[np.arange(len(labels)), [column[name] for name in names]] = 1.0
    return intents, grouping
