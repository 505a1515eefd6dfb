"""Which of the agency's languages a message is in.

The identification is lingua's (an offline library whose models ship in its wheel), restricted to
the languages the agency offers, so it only ever chooses among languages the assistant can answer
in. What lingua cannot know is the conversation: "ok", "gracias", a request number or an address
says little about a person's language, so a message only sets the conversation's language when it
is clear (enough words, a confident pick). A shorter one gives a guess, which answers a first
"hola" in Spanish but never moves a conversation already in a language. A message that only asks
for a language ("english please", "en español", "¿habla español?") is a switch to it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from lingua import IsoCode639_1, Language, LanguageDetector, LanguageDetectorBuilder

from bot.content.model import ContentError
from bot.language.words import LanguageWords, accented_words, words_of

# Chosen on the validation sets (bench/language_detection.py; docs/measurements.md).
MIN_WORDS = 3  # fewer words than this only ever give a guess
CLEAR_CONFIDENCE = 0.8  # a message of MIN_WORDS words or more sets the language from this confidence
# A shorter message gives a guess from this confidence: one or two words fool any identifier ("hello"
# reads as Spanish at 0.61, "bache" as English at 0.83), so below it only the language's own short
# messages (`short_messages` in data/language/<code>.yml: "hola", "buenos días") guess.
GUESS_CONFIDENCE = 0.9
MAX_SWITCH_WORDS = 8  # "could you please answer me in spanish from now on" is about the longest


@dataclass(frozen=True)
class Detection:
    """What one message says about its language: ``language`` is clear and becomes the
    conversation's; ``guess`` (a short message) counts only while the conversation has none;
    ``switch`` is a language the message asks for."""

    language: str | None = None
    guess: str | None = None
    switch: str | None = None
    confidence: float = 0.0

    @property
    def best(self) -> str | None:
        """The message's own language, clear or guessed (a switch names the language asked for)."""
        return self.switch or self.language or self.guess


def _lingua_language(code: str) -> Language:
    try:
        return Language.from_iso_code_639_1(IsoCode639_1.from_str(code))
    except ValueError as exc:
        message = f"languages_offered: {code!r} is not a language the detector knows"
        raise ContentError("data/agency.yml", message) from exc


class Detector:
    """The language of a message among ``languages`` (ISO 639-1 codes), with their switch words."""

    def __init__(self, languages: Iterable[str], words: Mapping[str, LanguageWords]) -> None:
        self.languages = tuple(languages)
        self.words = dict(words)
        self._switch_words = frozenset().union(*(w.switch_words for w in self.words.values()))
        self._by_language = {_lingua_language(code): code for code in self.languages}
        self._lingua: LanguageDetector | None = None
        if len(self.languages) > 1:
            builder = LanguageDetectorBuilder.from_languages(*self._by_language)
            self._lingua = builder.with_preloaded_language_models().build()

    def detect(self, text: str) -> Detection:
        words = words_of(text)
        switch = self.switch_to(words)
        if switch:
            return Detection(language=switch, switch=switch, confidence=1.0)
        if not words or self._lingua is None:
            return Detection()
        own = self.short_message(words)
        if own:
            return Detection(guess=own, confidence=1.0)
        values = self._lingua.compute_language_confidence_values(" ".join(accented_words(text)))
        top = values[0]
        code, confidence = self._by_language[top.language], float(top.value)
        if len(words) >= MIN_WORDS and confidence >= CLEAR_CONFIDENCE:
            return Detection(language=code, confidence=confidence)
        if confidence >= GUESS_CONFIDENCE and sum(len(w) for w in words) >= 3:
            return Detection(guess=code, confidence=confidence)
        return Detection(confidence=confidence)

    def short_message(self, words: list[str]) -> str | None:
        """The one language whose own short messages include this whole message."""
        phrase = " ".join(words)
        found = [code for code, lw in self.words.items() if phrase in lw.short]
        return found[0] if len(found) == 1 else None

    def switch_to(self, words: list[str]) -> str | None:
        """The language the message asks for, when it asks for nothing else."""
        if not words or len(words) > MAX_SWITCH_WORDS:
            return None
        named = {code for code, lw in self.words.items() if lw.names.intersection(words)}
        if len(named) != 1:
            return None
        (code,) = named
        others = [w for w in words if w not in self.words[code].names]
        return code if all(w in self._switch_words for w in others) else None
