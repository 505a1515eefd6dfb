"""A Rasa featurizer that adds MiniLM sentence embeddings (bot/nlp/minilm.py) to each message.

Counts of words and character n-grams only match what was written in training; the embedding
also places "the overhead light on my street quit" near "streetlight out", so the intent
classifier and the FAQ answer selector (bot/nlp/linear_text.py finds these vectors by the alias
`minilm`) generalise to phrasings nobody wrote down. Sentence features of the user's text only.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlp import minilm
from bot.nlp.linear_text import EMBEDDING_ALIAS


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class SentenceEmbeddingFeaturizer(DenseFeaturizer, GraphComponent):
    """Dense sentence features from a small pretrained sentence encoder."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {**DenseFeaturizer.get_default_config(), "alias": EMBEDDING_ALIAS, "batch_size": 64}

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SentenceEmbeddingFeaturizer:
        minilm.load()  # the weights load with the model, not on the first citizen's message
        return cls(execution_context.node_name, config)

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        if int(config.get("batch_size", 1)) < 1:
            raise ValueError("SentenceEmbeddingFeaturizer: batch_size must be at least 1")

    def process(self, messages: list[Message]) -> list[Message]:
        targets = [m for m in messages if isinstance(m.get(TEXT), str) and m.get(TEXT).strip()]
        unique = sorted({m.get(TEXT) for m in targets})  # training data repeats some texts
        vectors = dict(zip(unique, minilm.load().encode(unique, self._config["batch_size"]), strict=True))
        for message in targets:
            self.add_features_to_message(None, vectors[message.get(TEXT)][None, :], TEXT, message)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self.process(training_data.training_examples)
        return training_data
