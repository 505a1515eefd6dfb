"""What the assistant says about subscriptions outside Rasa's responses (data/subscriptions/messages.yml).

The carrier keyword replies (STOP, START, HELP) are sent by the channels before Rasa, and the
confirmation a citizen agrees to is recorded word for word as their consent: both must be the exact
text the citizen read, so they are rendered here, by our code, not by Rasa's NLG. Staff edit the
file; `content check` runs `texts_problems` on it.

Other languages: the file's `translations:` block has the same keys per language
(`bot.language.texts`), each checked as the English ones are; `load_texts(language="es")` gives the
texts a Spanish reader gets, English where a key is not translated. The words for "the whole city"
are recognised in the reader's language and in English, accents optional.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from bot.content.agency import SOURCE_LANGUAGE, load_agency
from bot.content.model import ContentError
from bot.datafile import load_yaml_file
from bot.language.texts import TRANSLATIONS, localized, translated_languages
from bot.subscriptions.catalog import ALL, Catalog
from bot.subscriptions.store import Subscriber

MESSAGES_FILE = Path("data/subscriptions/messages.yml")
# Every text the file must have, and the {placeholders} each may use (besides {agency.*}).
COMMON = ("program", "frequency")
TEXTS: dict[str, tuple[str, ...]] = {
    "stopped": COMMON,
    "started": (*COMMON, "subscriptions"),
    "start_nothing": COMMON,
    "help": COMMON,
    "confirm": (*COMMON, "topics", "area", "opt_out"),
    "confirm_yes": (),
    "confirm_no": (),
    "subscribed": (*COMMON, "topics", "area", "opt_out"),
    "opt_out": (),
    "whole_city": (),
    "and": (),
    "all_topics": (),
    "via_here": (),
    "via_sms": (),
    "via_telegram": (),
    "code": (*COMMON, "code", "minutes"),
}
WORD_LISTS = ("whole_city_words",)
PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


class TextsError(ValueError):
    """The messages file cannot be used; the message names the file and what to fix."""


@dataclass(frozen=True)
class SubscriptionTexts:
    texts: Mapping[str, str]
    whole_city_words: tuple[str, ...]
    language: str = SOURCE_LANGUAGE
    translations: Mapping[str, SubscriptionTexts] = field(default_factory=dict)

    def in_language(self, code: str) -> SubscriptionTexts:
        """The texts a reader of `code` gets (these, in English, when the file has none in it)."""
        return self.translations.get(code, self)

    def render(self, key: str, catalog: Catalog, **values: str) -> str:
        """The text `key` with the agency's facts, the catalog's program and frequency, and `values`
        (pass the catalog in the same language: `load_catalog(language=...)`)."""
        filled = {"program": catalog.program, "frequency": catalog.frequency, **values}
        text = load_agency().in_language(self.language).expand(self.texts[key])
        return PLACEHOLDER.sub(lambda m: filled.get(m.group(1), m.group(0)), text).strip()

    def means_whole_city(self, text: str) -> bool:
        return _fold(text).strip(" .!?¡¿") in {_fold(w) for w in self.whole_city_words}

    def topics(self, catalog: Catalog, topic_ids: Sequence[str]) -> str:
        return (
            self.texts["and"]
            .join((found.name if (found := catalog.topic(t)) else t) for t in topic_ids)
            .strip()
        )

    def areas(self, catalog: Catalog, area_ids: Sequence[str]) -> str:
        names = [catalog.area_name(a, self.texts["whole_city"]) for a in area_ids or (ALL,)]
        return self.texts["and"].join(names).strip()

    def subscriptions(self, catalog: Catalog, subscriber: Subscriber) -> str:
        """ "Water (Downtown), Emergencies (the whole city)": what a subscriber gets, in plain words."""
        return ", ".join(
            f"{self.topics(catalog, [topic])} ({self.areas(catalog, subscriber.areas_for(topic))})"
            for topic in subscriber.topics()
        )

    def lines(self, catalog: Catalog, subscriber: Subscriber) -> str:
        """One "- Water: Downtown and Eastside" line per topic."""
        return "\n".join(
            f"- {self.topics(catalog, [topic])}: {self.areas(catalog, subscriber.areas_for(topic))}"
            for topic in subscriber.topics()
        )


def _fold(text: str) -> str:
    """Lower case, no accents, hyphens as spaces: "Toda-la ciudad" is "toda la ciudad"."""
    bare = "".join(c for c in unicodedata.normalize("NFKD", text.casefold()) if not unicodedata.combining(c))
    return " ".join(bare.replace("-", " ").split())


def _parsed(raw: Mapping[str, Any], path: Path, language: str) -> SubscriptionTexts:
    """One language's texts, each checked: present, and only the placeholders it may use."""
    texts: dict[str, str] = {}
    agency = load_agency().in_language(language)
    where = "" if language == SOURCE_LANGUAGE else f"{TRANSLATIONS}.{language}."
    for key, allowed in TEXTS.items():
        value = raw.get(key)
        if not isinstance(value, str) or (not value.strip() and key != "opt_out"):
            raise TextsError(f"{path}: '{where}{key}' is missing or not a text in double quotes")
        if unknown := sorted({p for p in PLACEHOLDER.findall(value) if p not in allowed}):
            names = ", ".join(f"{{{p}}}" for p in unknown)
            raise TextsError(
                f"{path}: '{where}{key}' uses {names}; it may use {', '.join(allowed) or 'none'}"
            )
        if keys := agency.unknown_keys(value):
            raise TextsError(
                f"{path}: '{where}{key}' names {{agency.{keys[0]}}}, which data/agency.yml does not have"
            )
        texts[key] = value
    words = raw.get("whole_city_words")
    if not isinstance(words, list) or not words or not all(isinstance(w, str) and w.strip() for w in words):
        raise TextsError(f"{path}: '{where}whole_city_words' must be a list of texts")
    return SubscriptionTexts(texts, tuple(w.strip() for w in words), language)


def parse_texts(raw: Any, path: Path = MESSAGES_FILE) -> SubscriptionTexts:
    if not isinstance(raw, dict):
        raise TextsError(f'{path}: expected `key: "text"` lines')
    known = set(TEXTS) | set(WORD_LISTS)
    if unknown_keys := sorted(set(raw) - known - {TRANSLATIONS}):
        raise TextsError(f"{path}: unknown key(s) {', '.join(map(str, unknown_keys))}")
    english = _parsed(localized(raw, SOURCE_LANGUAGE), path, SOURCE_LANGUAGE)
    translations = {}
    for code in translated_languages(raw):
        block = raw[TRANSLATIONS][code]
        if not isinstance(block, Mapping):
            raise TextsError(f'{path}: {TRANSLATIONS}.{code} must be `key: "text"` lines')
        if unknown_keys := sorted(set(block) - known):
            names = ", ".join(map(str, unknown_keys))
            raise TextsError(f"{path}: unknown key(s) {names} in {TRANSLATIONS}.{code}")
        own = _parsed(localized(raw, code), path, code)
        words = tuple(dict.fromkeys([*own.whole_city_words, *english.whole_city_words]))
        translations[code] = replace(own, whole_city_words=words)
    return replace(english, translations={c: t for c, t in translations.items() if c != SOURCE_LANGUAGE})


def load_texts(path: Path = MESSAGES_FILE, language: str = SOURCE_LANGUAGE) -> SubscriptionTexts:
    """The texts in `language`, re-read when the file changes (staff edits apply without a restart)."""
    return load_yaml_file(path, parse_texts, TextsError).in_language(language)


def texts_problems(path: Path = MESSAGES_FILE) -> list[str]:
    """For `content check`: what is wrong with the file, or nothing."""
    if not path.exists():
        return []
    try:
        load_texts(path)
    except (TextsError, ContentError) as exc:
        return [str(exc)]
    return []
