"""The words citizens use, one staff-editable file per language (data/language/<code>.yml), and how a
phrase matches.

`load_language` reads and checks a file; `words_in(code)` keeps each language's words once read
(English for a language whose file has none yet); `actions.parsing` builds its regular expressions
from the lists with `phrase_pattern` and `one_of`. The words are kept without accents and matched
against text without accents (`unaccented`), so "dirección" and "direccion" are the same word.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.content.agency import SOURCE_LANGUAGE
from bot.days import LANGUAGE_FILE, MissingWords, read_words_file, unaccented, words_file, words_or_english

FIELD_SLOTS = ("location", "description", "contact", "service_code")  # the report form's slots
SECTIONS = ("stopwords", "cancel", "skip", "request_number", "corrections", "forms")  # what this module reads
# Lists a file may leave out, and the English words they had before they were in the file (en.yml does
# not list them yet): a language file that names them replaces them.
DEFAULT_ARTICLES = ("the", "my", "that")  # "change the address to ..."
DEFAULT_TO = ("to", "into", "as")  # "... the address to 12 Elm St" (":", "=", "->" always count)
DEFAULT_CONNECTORS = ("and", "at")  # "Oak Ave and 3rd St" ("&" and "/" always count)


@dataclass(frozen=True)
class Phrases:
    """A whole message that is one of `phrases`, after `before` words and followed by `after` words."""

    before: tuple[str, ...]
    phrases: tuple[str, ...]
    after: tuple[str, ...]


@dataclass(frozen=True)
class Corrections:
    """The words of "change the address to ...", "the address is ..."; `fields` maps slot -> words."""

    openers: tuple[str, ...]
    asking: tuple[str, ...]
    verbs: tuple[str, ...]
    is_words: tuple[str, ...]
    fields: Mapping[str, tuple[str, ...]]
    articles: tuple[str, ...] = DEFAULT_ARTICLES
    to_words: tuple[str, ...] = DEFAULT_TO
    place_is: tuple[str, ...] = ()  # "mejor en 5 Oak Ave": a new place right after these words


@dataclass(frozen=True)
class FormWords:
    """What a form never takes as an answer (restart, menu, small talk, questions), and what an answer is."""

    restart: Phrases
    menu: Phrases
    small_talk: Phrases
    question_openers: tuple[str, ...]
    question_words: tuple[str, ...]
    report_words: frozenset[str]
    report_verbs: tuple[str, ...]
    place_words: frozenset[str]
    street_words: tuple[str, ...]
    corner_words: tuple[str, ...]
    corner_connectors: tuple[str, ...] = DEFAULT_CONNECTORS
    street_words_first: tuple[str, ...] = ()  # "calle Elm 12": the street word before the name


@dataclass(frozen=True)
class Language:
    stopwords: frozenset[str]
    cancel: Phrases
    skip: Phrases
    number_markers: tuple[str, ...]
    glued_markers: tuple[str, ...]
    corrections: Corrections
    forms: FormWords


def phrase_pattern(phrase: str) -> str:
    """Regex for one phrase: spaces match any run of whitespace, an apostrophe is optional."""
    return r"\s+".join(re.escape(word).replace("'", "'?") for word in phrase.split())


def one_of(phrases: Iterable[str]) -> str:
    """A non-capturing alternation of `phrase_pattern`s, in the given order."""
    return "(?:" + "|".join(phrase_pattern(p) for p in phrases) + ")"


class _Section:
    """Typed access to one mapping of the file; a wrong shape is a ValueError naming file and key."""

    def __init__(self, path: Path, value: Any, where: str) -> None:
        if not isinstance(value, Mapping):
            raise ValueError(f"{path}: {where or 'the file'} must be a mapping")
        self.path, self.value, self.where = path, value, where

    def _name(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def section(self, key: str) -> _Section:
        return _Section(self.path, self.value.get(key), self._name(key))

    def words(self, key: str) -> tuple[str, ...]:
        """A non-empty list of text, lower-cased without accents, with single spaces."""
        items = self.value.get(key)
        if not isinstance(items, list) or not items:
            raise ValueError(f"{self.path}: {self._name(key)} must be a non-empty list")
        for item in items:
            if not isinstance(item, str) or not item.strip():
                hint = " (quote no, on, off and yes)" if isinstance(item, bool) else ""
                raise ValueError(f"{self.path}: {self._name(key)} has {item!r}, which is not text{hint}")
        return tuple(unaccented(" ".join(item.lower().split())) for item in items)

    def optional_words(self, key: str, default: tuple[str, ...] = ()) -> tuple[str, ...]:
        """`words(key)`, or `default` when the file leaves the list out."""
        return self.words(key) if key in self.value else default

    def phrases(self, key: str) -> Phrases:
        part = self.section(key)
        return Phrases(part.words("before"), part.words("phrases"), part.words("after"))


def load_language(source: str | Path = LANGUAGE_FILE) -> Language:
    """The word lists of a language ("es") or a file; ValueError when a list is missing, empty or holds
    something else, MissingWords (a ValueError too) when there is no file or it has none of them yet."""
    path = words_file(source)
    raw = read_words_file(path)
    if not any(key in raw for key in SECTIONS):
        raise MissingWords(f"{path}: none of the sections {', '.join(SECTIONS)}")
    data = _Section(path, raw, "")
    numbers, corrections = data.section("request_number"), data.section("corrections")
    fields = corrections.section("fields")
    if sorted(map(str, fields.value)) != sorted(FIELD_SLOTS):
        raise ValueError(f"{path}: corrections.fields must name exactly {', '.join(FIELD_SLOTS)}")
    return Language(
        stopwords=frozenset(data.words("stopwords")),
        cancel=data.phrases("cancel"),
        skip=data.phrases("skip"),
        number_markers=numbers.words("markers"),
        glued_markers=numbers.words("glued"),
        corrections=Corrections(
            openers=corrections.words("openers"),
            asking=corrections.words("asking"),
            verbs=corrections.words("verbs"),
            is_words=corrections.words("is"),
            fields={slot: fields.words(slot) for slot in fields.value},
            articles=corrections.optional_words("articles", DEFAULT_ARTICLES),
            to_words=corrections.optional_words("to", DEFAULT_TO),
            place_is=corrections.optional_words("place_is"),
        ),
        forms=_form_words(data.section("forms")),
    )


@functools.cache
def words_in(language: str = SOURCE_LANGUAGE) -> Language:
    """One language's words, read once; the English ones for a language without them (logged once)."""
    return words_or_english(language, load_language, "form")


def _form_words(forms: _Section) -> FormWords:
    return FormWords(
        restart=forms.phrases("restart"),
        menu=forms.phrases("menu"),
        small_talk=forms.phrases("small_talk"),
        question_openers=forms.words("question_openers"),
        question_words=forms.words("question_words"),
        report_words=frozenset(forms.words("report_words")),
        report_verbs=forms.words("report_verbs"),
        place_words=frozenset(forms.words("place_words")),
        street_words=forms.words("street_words"),
        corner_words=forms.words("corner_words"),
        corner_connectors=forms.optional_words("corner_connectors", DEFAULT_CONNECTORS),
        street_words_first=forms.optional_words("street_words_first"),
    )
