"""A Rasa featurizer that adds multilingual sentence embeddings (bot/nlp/multilingual.py) to the
messages written in the agency's other languages.

The intent classifier and the FAQ answer selector (bot/nlp/linear_text.py, `extra_embeddings`)
find these vectors by the alias `e5`. A message in English, or in no clear language, gets zeros:
English has MiniLM (fine-tuned on its questions), and leaving it out keeps the cost (about 22 ms of
a core per message) off the messages that gain nothing from it. Training examples and parsed
messages are sorted by the same language detector, so the classifiers learn what they will see;
measured on the validation sets in docs/measurements.md ("Answer quality", "A multilingual encoder
for Spanish messages").
"""

from __future__ import annotations

from functools import partial
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.content.agency import SOURCE_LANGUAGE
from bot.language.detect import Detector
from bot.nlp import multilingual
from bot.nlp.language_detector import DETECTOR_DEFAULTS, configured_detector
from bot.nlp.sentence_featurizer import add_sentence_vectors

ALIAS = "e5"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class MultilingualEmbeddingFeaturizer(DenseFeaturizer, GraphComponent):
    """Dense sentence features for the messages in `languages`; zeros for every other message."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            **DenseFeaturizer.get_default_config(),
            "alias": ALIAS,
            "batch_size": 64,
            # None: every language the agency offers (data/agency.yml) but English
            "languages": None,
            **DETECTOR_DEFAULTS,
        }

    def __init__(self, name: str, config: dict[str, Any], detector: Detector) -> None:
        super().__init__(name, config)
        self.detector = detector
        wanted = config.get("languages")
        offered = [code for code in detector.languages if code != SOURCE_LANGUAGE]
        self.languages = frozenset(offered if wanted is None else wanted)

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> MultilingualEmbeddingFeaturizer:
        return cls(execution_context.node_name, config, configured_detector(config))

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        languages = config.get("languages")
        if languages is not None and not (
            isinstance(languages, list) and all(isinstance(code, str) for code in languages)
        ):
            raise ValueError("MultilingualEmbeddingFeaturizer: languages must be a list of language codes")

    def encoded(self, text: str) -> bool:
        """Whether the message's language, clear or guessed, is one this featurizer encodes."""
        return self.detector.detect(text).best in self.languages

    def process(self, messages: list[Message]) -> list[Message]:
        encode = partial(multilingual.encode, batch_size=int(self._config["batch_size"]))
        return add_sentence_vectors(self, messages, encode, multilingual.DIMENSIONS, self.encoded)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self.process(training_data.training_examples)
        return training_data
