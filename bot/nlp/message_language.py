"""The language of a training example or a parsed message, and classes kept apart by language.

Components that measure a message against the training examples (bot/nlp/domain_gate.py) compare
a Spanish message with Spanish examples: the English-only sentence encoder places the two languages
apart, so one class mean over both would sit near neither.
"""

from __future__ import annotations

from rasa.shared.nlu.constants import METADATA, METADATA_EXAMPLE, METADATA_INTENT
from rasa.shared.nlu.training_data.message import Message

from bot.content.agency import SOURCE_LANGUAGE

LANGUAGE = "language"  # the parse's report (bot/nlp/language_detector.py), the entity and the slot


def message_language(message: Message) -> str:
    """The language of `message`: a training example's says so in its metadata (``metadata:
    {language: es}`` on its intent block or on the example), a parsed message's is the detector's."""
    metadata = message.get(METADATA) or {}
    for part in (METADATA_EXAMPLE, METADATA_INTENT):
        marked = metadata.get(part) if isinstance(metadata, dict) else None
        if isinstance(marked, dict) and marked.get(LANGUAGE):
            return str(marked[LANGUAGE])
    return str(message.get(LANGUAGE) or SOURCE_LANGUAGE)


def language_label(label: str, language: str) -> str:
    """A class of one language's examples: "faq/pothole" in English, "faq/pothole@es" in Spanish."""
    return label if language == SOURCE_LANGUAGE else f"{label}@{language}"


def unlabelled(label: str) -> str:
    """The intent or answer of a `language_label`."""
    return label.split("@", 1)[0]
