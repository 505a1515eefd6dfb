"""Rasa NLU component: the language of each message, for the conversation's `language` slot.

A clear message gives the entity `language` (the slot follows it); a short one ("hola", "48 Quarry
Lane") gives `language_guess`, which replies use only while the conversation has no language yet,
so "gracias" never moves a conversation out of Spanish. A message that only asks for a language
("english please", "en español") becomes the intent `switch_language`. Every parse reports
`language` (the message's own, clear or guessed, else the agency's first) for the components after
it and for the inbox. The languages are the agency's `languages_offered` (data/agency.yml) and their
words data/language/<code>.yml, read when the model loads: a restart applies a change.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.content.agency import AGENCY_FILE, load_agency
from bot.language.detect import Detection, Detector
from bot.language.switch import SWITCH_INTENT
from bot.language.words import LANGUAGE_DIR, load_language_words
from bot.nlp.domain_gate import predict
from bot.nlp.message_language import LANGUAGE

GUESS = "language_guess"
EXTRACTOR = "LanguageDetector"


def load_detector(agency_file: Path = AGENCY_FILE, language_dir: Path = LANGUAGE_DIR) -> Detector:
    """The detector for the agency's languages, with each language's words."""
    languages = load_agency(agency_file).languages
    return Detector(languages, {code: load_language_words(code, language_dir) for code in languages})


# The options of a component that detects languages: where the agency's languages and words are.
DETECTOR_DEFAULTS = {"agency_file": str(AGENCY_FILE), "language_dir": str(LANGUAGE_DIR)}


def configured_detector(config: dict[str, Any]) -> Detector:
    """The detector a component's `DETECTOR_DEFAULTS` options name."""
    return load_detector(Path(config["agency_file"]), Path(config["language_dir"]))


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class LanguageDetector(GraphComponent, IntentClassifier):
    """Sets the message's language (entities `language` / `language_guess`) and spots a switch."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return dict(DETECTOR_DEFAULTS)

    def __init__(self, config: dict[str, Any], detector: Detector) -> None:
        self.config = config
        self.detector = detector

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> LanguageDetector:
        return cls(config, configured_detector(config))

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            detection = self.detector.detect(message.get(TEXT) or "")
            message.set(LANGUAGE, detection.best or self.detector.languages[0], add_to_output=True)
            entity = self._entity(message, detection)
            if entity:
                message.set(ENTITIES, [*(message.get(ENTITIES) or []), entity], add_to_output=True)
            if detection.switch:
                predict(message, SWITCH_INTENT)
        return messages

    @staticmethod
    def _entity(message: Message, detection: Detection) -> dict[str, Any] | None:
        name, value = (LANGUAGE, detection.language) if detection.language else (GUESS, detection.guess)
        if not value:
            return None
        text = message.get(TEXT) or ""
        return {
            "entity": name,
            "value": value,
            "start": 0,
            "end": len(text),
            "confidence_entity": round(detection.confidence, 3),
            "extractor": EXTRACTOR,
        }
