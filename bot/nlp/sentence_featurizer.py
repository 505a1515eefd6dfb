"""A Rasa featurizer that adds MiniLM sentence embeddings (bot/nlp/minilm.py) to each message.

Counts of words and character n-grams only match what was written in training; the embedding
also places "the overhead light on my street quit" near "streetlight out", so the intent
classifier and the FAQ answer selector (bot/nlp/linear_text.py finds these vectors by the alias
`minilm`) generalise to phrasings nobody wrote down. Sentence features of the user's text only.

With `tune_layers` above 0 it trains: the encoder's top layers are fine-tuned on the training
questions' answers and intents (bot/nlp/minilm_tuning.py) and kept in the model package (13 MB
for two layers). Rumor claims are still compared in the pretrained encoder's space
(bot/nlp/domain_gate.py), whose finer sense of topic the tuning trades for the answers'.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.nlu.constants import INTENT, INTENT_RESPONSE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.content.agency import SOURCE_LANGUAGE
from bot.nlp import minilm
from bot.nlp.linear_text import EMBEDDING_ALIAS, load_fitted, save_fitted
from bot.nlp.message_language import message_language
from bot.nlp.minilm_tuning import Tuning, fine_tune

TUNED_FILE = "minilm_tuned.joblib"


def add_sentence_vectors(
    featurizer: DenseFeaturizer,
    messages: list[Message],
    encode: Callable[[list[str]], np.ndarray],
    width: int,
    wanted: Callable[[str], bool] | None = None,
) -> list[Message]:
    """Each message with text gets its text's vector as sentence features, each distinct text encoded
    once (training data repeats some); a text `wanted` turns down gets zeros (`width` of them)."""
    targets = [m for m in messages if isinstance(m.get(TEXT), str) and m.get(TEXT).strip()]
    unique = sorted({m.get(TEXT) for m in targets if wanted is None or wanted(m.get(TEXT))})
    vectors = dict(zip(unique, encode(unique), strict=True))
    zeros = np.zeros(width, dtype=np.float32)
    for message in targets:
        vector = vectors.get(message.get(TEXT), zeros)
        featurizer.add_features_to_message(None, vector[None, :], TEXT, message)
    return messages


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=True)
class SentenceEmbeddingFeaturizer(DenseFeaturizer, GraphComponent):
    """Dense sentence features from a small pretrained sentence encoder, optionally tuned."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        tuning = Tuning()
        return {
            **DenseFeaturizer.get_default_config(),
            "alias": EMBEDDING_ALIAS,
            "batch_size": 64,
            "tune_layers": 0,
            # the languages whose questions train it: the encoder's vocabulary is English, and
            # tuned on Spanish too it sends unseen Spanish questions astray (docs/measurements.md)
            "tune_languages": [SOURCE_LANGUAGE],
            "tune_epochs": tuning.epochs,
            "tune_learning_rate": tuning.learning_rate,
            "tune_scale": tuning.scale,
        }

    def __init__(
        self,
        name: str,
        config: dict[str, Any],
        storage: ModelStorage,
        resource: Resource,
        encoder: minilm.MiniLM,
    ) -> None:
        super().__init__(name, config)
        self._storage, self._resource, self.encoder = storage, resource, encoder

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SentenceEmbeddingFeaturizer:
        # the weights load with the model, not on the first citizen's message
        return cls(execution_context.node_name, config, model_storage, resource, minilm.load())

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> SentenceEmbeddingFeaturizer:
        tuned = load_fitted(model_storage, resource, TUNED_FILE, cls.__name__) or {}
        encoder = minilm.load().with_layers(tuned) if tuned else minilm.load()
        return cls(execution_context.node_name, config, model_storage, resource, encoder)

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        if int(config.get("batch_size", 1)) < 1:
            raise ValueError("SentenceEmbeddingFeaturizer: batch_size must be at least 1")
        if not 0 <= int(config.get("tune_layers", 0)) <= minilm.LAYERS:
            raise ValueError(f"SentenceEmbeddingFeaturizer: tune_layers must be 0 to {minilm.LAYERS}")

    def train(self, training_data: TrainingData) -> Resource:
        """Fine-tune the top layers on the questions' answers and intents (nothing with tune_layers 0)."""
        layers = int(self._config["tune_layers"])
        languages = set(self._config["tune_languages"])
        examples = [
            m
            for m in training_data.intent_examples
            if (m.get(TEXT) or "").strip() and message_language(m) in languages
        ]
        tuned: dict[str, Any] = {}
        if layers and len({self._label(m) for m in examples}) > 1:
            tuning = Tuning(
                layers=layers,
                epochs=float(self._config["tune_epochs"]),
                learning_rate=float(self._config["tune_learning_rate"]),
                scale=float(self._config["tune_scale"]),
            )
            texts, labels = [m.get(TEXT) for m in examples], [self._label(m) for m in examples]
            tuned = fine_tune(minilm.load(), texts, labels, tuning)
            self.encoder = minilm.load().with_layers(tuned)
        save_fitted(self._storage, self._resource, TUNED_FILE, tuned)
        return self._resource

    @staticmethod
    def _label(message: Message) -> str:
        return str(message.get(INTENT_RESPONSE_KEY) or message.get(INTENT))

    def process(self, messages: list[Message]) -> list[Message]:
        encode = partial(self.encoder.encode, batch_size=int(self._config["batch_size"]))
        return add_sentence_vectors(self, messages, encode, minilm.WIDTH)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self.process(training_data.training_examples)
        return training_data
