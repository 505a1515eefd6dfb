"""FAQ answer selector: picks the FAQ or rumor answer for a retrieval intent such as `faq`.

It stands in for Rasa's ResponseSelector and writes the same `response_selector` output, so
`utter_faq`, the RetrievalGate, the clarification buttons and the review inbox read it unchanged,
less the copy of the answer's texts Rasa's adds (`responses`): nothing reads it (the reply comes
from the domain through the NLG), and with every language's text it was half of each stored
message's parse data, which every turn reads, writes and publishes again.
With `from_intent_classifier`, it trains nothing and ranks the answers the intent classifier scored
(EmbeddingIntentClassifier with `answer_labels`): each answer's probability given that the message
asks one of them, so its confidences mean what this component's own model's meant. Otherwise the
model is the intent classifier's (bot/nlp/linear_text.py), trained on the answer keys. It
picked the right answer for 99% of the held-out FAQ questions where the ResponseSelector (DIET,
50 epochs) picked 97%; it trains in seconds, and answering needs no TensorFlow call, which kept
the ResponseSelector at about a tenth of each message's time (docs/measurements.md).
"""

from __future__ import annotations

import logging
import warnings
from typing import Any

import numpy as np
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.nlu.constants import (
    RESPONSE_SELECTOR_DEFAULT_INTENT,
    RESPONSE_SELECTOR_PREDICTION_KEY,
    RESPONSE_SELECTOR_PROPERTY_NAME,
    RESPONSE_SELECTOR_RANKING_KEY,
    RESPONSE_SELECTOR_RETRIEVAL_INTENTS,
    RESPONSE_SELECTOR_UTTER_ACTION_KEY,
)
from rasa.shared.nlu.constants import INTENT, INTENT_RESPONSE_KEY, PREDICTED_CONFIDENCE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from rasa.shared.nlu.training_data.util import intent_response_key_to_template_key

from bot.nlp.embedding_classifier import ANSWER_PROBABILITIES
from bot.nlp.linear_text import FittedComponent, LinearTextModel, ranked

log = logging.getLogger(__name__)

# Rasa's training-time check only knows its own ResponseSelector class and would tell staff
# that the FAQ examples go unused; this component is what uses them.
warnings.filterwarnings(
    "ignore", message="You have defined training data with examples for training a response"
)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class EmbeddingResponseSelector(FittedComponent):
    """Ranks the answers of a retrieval intent, with probabilities, reported as Rasa's selector does."""

    fitted_file = "embedding_selector.joblib"

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        # retrieval_intent None: one model for every retrieval intent, reported under "default"
        return {
            "C": 16.0,
            "embedding_weight": 1.0,
            "extra_embeddings": {},  # other featurizers' aliases and weights (linear_text.py)
            "ranking_length": 10,
            "max_iter": 3000,
            "retrieval_intent": None,
            "from_intent_classifier": False,
        }

    def _use(self, state: dict[str, Any]) -> None:
        """The trained state: the model and all retrieval intents (a model trained before kept the
        answers' texts too, which are no longer used)."""
        self._model: LinearTextModel | None = state.get("model")
        self._retrieval_intents: list[str] = state.get("retrieval_intents", [])

    def train(self, training_data: TrainingData) -> Resource:
        wanted = self.config["retrieval_intent"]
        examples = [
            e
            for e in training_data.intent_examples
            if e.get(TEXT) and e.get(INTENT_RESPONSE_KEY) and wanted in (None, e.get(INTENT))
        ]
        labels = [e.get(INTENT_RESPONSE_KEY) for e in examples]
        state: dict[str, Any] = {"retrieval_intents": sorted(training_data.retrieval_intents)}
        if self.config["from_intent_classifier"]:
            return self.keep(state)
        if len(set(labels)) < 2:
            log.warning("EmbeddingResponseSelector: fewer than two answers to choose from; not trained")
        else:
            state["model"] = LinearTextModel.fit(examples, labels, self.config)
        return self.keep(state)

    def process(self, messages: list[Message]) -> list[Message]:
        if self.config["from_intent_classifier"]:
            for message in messages:
                labels = self._classifier_ranking(message)
                if labels:
                    self._set_prediction(message, labels)
            return messages
        for message, labels in ranked(self._model, messages, self.config["ranking_length"]):
            self._set_prediction(message, labels)
        return messages

    def _classifier_ranking(self, message: Message) -> list[tuple[str, float]]:
        """The intent classifier's answers for this component's retrieval intent, best first, each with
        its probability given that the message asks one of them; [] when it scored none."""
        scored = message.get(ANSWER_PROBABILITIES)
        if scored is None:
            return []
        keys, joint = scored
        wanted = self.config["retrieval_intent"]
        if wanted is not None:
            mine = np.array([str(k).startswith(f"{wanted}/") for k in keys], dtype=bool)
            keys, joint = keys[mine], joint[mine]
        total = float(joint.sum())
        if total <= 0.0:
            return []
        order = np.argsort(-joint)[: self.config["ranking_length"]]
        return [(str(keys[i]), float(joint[i] / total)) for i in order]

    def _set_prediction(self, message: Message, labels: list[tuple[str, float]]) -> None:
        key, confidence = labels[0]
        utter_action = intent_response_key_to_template_key(key)
        prediction = {
            RESPONSE_SELECTOR_PREDICTION_KEY: {
                PREDICTED_CONFIDENCE_KEY: confidence,
                INTENT_RESPONSE_KEY: key,
                RESPONSE_SELECTOR_UTTER_ACTION_KEY: utter_action,
            },
            RESPONSE_SELECTOR_RANKING_KEY: [
                {PREDICTED_CONFIDENCE_KEY: p, INTENT_RESPONSE_KEY: label} for label, p in labels
            ],
        }
        properties = message.get(RESPONSE_SELECTOR_PROPERTY_NAME) or {}
        properties[RESPONSE_SELECTOR_RETRIEVAL_INTENTS] = self._retrieval_intents
        properties[self.config["retrieval_intent"] or RESPONSE_SELECTOR_DEFAULT_INTENT] = prediction
        message.set(RESPONSE_SELECTOR_PROPERTY_NAME, properties, add_to_output=True)
