"""What the assistant says about subscriptions outside Rasa's responses (data/subscriptions/messages.yml).

The carrier keyword replies (STOP, START, HELP) are sent by the channels before Rasa, and the
confirmation a citizen agrees to is recorded word for word as their consent: both must be the exact
text the citizen read, so they are rendered here, by our code, not by Rasa's NLG. Staff edit the
file; `content check` runs `texts_problems` on it.

Other languages: the file's `translations:` block has the same keys per language
(`bot.language.texts`), each checked as the English ones are; `load_texts(language="es")` gives the
texts a Spanish reader gets, English where a key is not translated. The words for "the whole city"
are recognised in the reader's language and in English, accents optional.

The carrier keywords are words of the file too (`keywords:`, per language), so an agency adds a
language's STOP, START and HELP by writing them, and Python keeps no list: one table of every
language's words (`Keywords`), each word meaning one thing everywhere, which `bot.subscriptions.
keywords` matches whole messages against. The file is required: without its English keywords no
keyword would work.
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
# The keyword lists of a language (`keywords:`): what a whole message that is one of the words does.
KEYWORDS = "keywords"
STOP, START, HELP = "stop", "start", "help"
OUTSIDE_FORMS = "stop_outside_forms"  # stop words that leave a form instead while one runs
KEYWORD_LISTS = (STOP, OUTSIDE_FORMS, START, HELP)
KEYWORD_MAX_WORDS, KEYWORD_MAX_CHARS = 3, 30
OPENING = " \t\r\n¡¿"  # Spanish opening marks, ignored before a keyword
TRAILING = " \t\r\n.!?,;:¡¿"  # ignored after one ("Stop!" is STOP)


class TextsError(ValueError):
    """The messages file cannot be used; the message names the file and what to fix."""


@dataclass(frozen=True)
class Keyword:
    """What a keyword does. `action`: stop, start or help; `outside_forms`: a stop word that leaves a
    form instead while one runs (on SMS too); `language`: the one language it is a word of, whose
    replies it gets, or None for English's words and words several languages share (answered in the
    subscriber's language); `word`: as listed (folded), or, matched, as the citizen typed it, in
    capitals (what the consent log records)."""

    word: str
    action: str
    outside_forms: bool = False
    language: str | None = None


@dataclass(frozen=True)
class Keywords:
    """Every language's keywords by folded word: one table, since any language's word works for
    everyone (a Spanish "ALTO" stops an English subscriber's alerts too)."""

    by_word: Mapping[str, Keyword] = field(default_factory=dict)

    def of(self, text: str) -> Keyword | None:
        """The keyword the whole message is, or None: trimmed, case, accents, ¡¿ and trailing
        punctuation aside ("¡Parar!" is "parar", "please stop" is nothing)."""
        typed = text.strip().lstrip(OPENING).rstrip(TRAILING).strip()
        found = self.by_word.get(_fold(typed))
        return replace(found, word=" ".join(typed.split()).upper()) if found else None


@dataclass(frozen=True)
class SubscriptionTexts:
    texts: Mapping[str, str]
    whole_city_words: tuple[str, ...]
    language: str = SOURCE_LANGUAGE
    translations: Mapping[str, SubscriptionTexts] = field(default_factory=dict)
    keywords: Keywords = field(default_factory=Keywords)  # every language's, in each language's texts

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


def _keyword_lists(raw: Any, path: Path, where: str) -> dict[str, list[str]]:
    """One language's `keywords:` block: stop, start and help each a list of at least one word (and
    stop_outside_forms, maybe empty), every word a word or a short phrase of letters."""
    if not isinstance(raw, Mapping):
        raise TextsError(
            f"{path}: '{where}{KEYWORDS}' is missing: each language lists its words for stop, start and help"
        )
    if unknown := sorted(set(map(str, raw)) - set(KEYWORD_LISTS)):
        raise TextsError(
            f"{path}: unknown key(s) {', '.join(unknown)} in '{where}{KEYWORDS}' "
            f"(it has {', '.join(KEYWORD_LISTS)})"
        )
    lists = {}
    for kind in KEYWORD_LISTS:
        words = raw.get(kind, [] if kind == OUTSIDE_FORMS else None)
        if not isinstance(words, list) or not (words or kind == OUTSIDE_FORMS):
            raise TextsError(f"{path}: '{where}{KEYWORDS}.{kind}' must be a list of at least one word")
        for word in words:
            tokens = _fold(word).split() if isinstance(word, str) else []
            if not (
                0 < len(tokens) <= KEYWORD_MAX_WORDS
                and len(" ".join(tokens)) <= KEYWORD_MAX_CHARS
                and all(t.isalpha() for t in tokens)
            ):
                raise TextsError(
                    f"{path}: '{where}{KEYWORDS}.{kind}' has {word!r}: a keyword is the whole message, a "
                    f"word or a phrase of at most {KEYWORD_MAX_WORDS} words of letters "
                    f'({KEYWORD_MAX_CHARS} characters); put a word like "no" in quotes'
                )
        lists[kind] = words
    return lists


def _keywords(lists: Mapping[str, Mapping[str, list[str]]], path: Path) -> Keywords:
    """The table of every language's lists (by language code). A word in two lists, of one language or
    two, that do different things is refused: which one would a citizen get?"""
    kinds: dict[str, tuple[str, str]] = {}  # folded word: (its list, where it was first listed)
    languages: dict[str, set[str]] = {}
    for code, own in lists.items():
        where = f"{KEYWORDS}." if code == SOURCE_LANGUAGE else f"{TRANSLATIONS}.{code}.{KEYWORDS}."
        for kind, words in own.items():
            for word in words:
                folded = _fold(word)
                first = kinds.setdefault(folded, (kind, where + kind))
                if first[0] != kind:
                    raise TextsError(
                        f"{path}: {word!r} is in '{where}{kind}' and in '{first[1]}': a keyword "
                        "does one thing in every language; keep it in one list"
                    )
                languages.setdefault(folded, set()).add(code)
    table = {}
    for folded, (kind, _) in kinds.items():
        codes = languages[folded]
        own_language = next(iter(codes)) if len(codes) == 1 and SOURCE_LANGUAGE not in codes else None
        action = STOP if kind == OUTSIDE_FORMS else kind
        table[folded] = Keyword(folded.upper(), action, kind == OUTSIDE_FORMS, own_language)
    return Keywords(table)


def parse_texts(raw: Any, path: Path = MESSAGES_FILE) -> SubscriptionTexts:
    """The file's texts in every language, with the keyword table. An offered language
    (data/agency.yml) that has translations must list its keywords; any other language may."""
    if not isinstance(raw, dict):
        raise TextsError(f'{path}: expected `key: "text"` lines')
    known = set(TEXTS) | set(WORD_LISTS) | {KEYWORDS}
    if unknown_keys := sorted(set(raw) - known - {TRANSLATIONS}):
        raise TextsError(f"{path}: unknown key(s) {', '.join(map(str, unknown_keys))}")
    english = _parsed(localized(raw, SOURCE_LANGUAGE), path, SOURCE_LANGUAGE)
    lists = {SOURCE_LANGUAGE: _keyword_lists(raw.get(KEYWORDS), path, "")}
    offered = load_agency().languages
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
        if code != SOURCE_LANGUAGE and (KEYWORDS in block or code in offered):
            lists[code] = _keyword_lists(block.get(KEYWORDS), path, f"{TRANSLATIONS}.{code}.")
    keywords = _keywords(lists, path)
    others = {c: replace(t, keywords=keywords) for c, t in translations.items() if c != SOURCE_LANGUAGE}
    return replace(english, translations=others, keywords=keywords)


def load_texts(path: Path = MESSAGES_FILE, language: str = SOURCE_LANGUAGE) -> SubscriptionTexts:
    """The texts in `language`, re-read when the file changes (staff edits apply without a restart)."""
    return load_yaml_file(path, parse_texts, TextsError).in_language(language)


def texts_problems(path: Path = MESSAGES_FILE) -> list[str]:
    """For `content check`: what is wrong with the file, or nothing (a missing file is wrong: the
    carrier keywords are in it)."""
    try:
        load_texts(path)
    except (TextsError, ContentError) as exc:
        return [str(exc)]
    return []
