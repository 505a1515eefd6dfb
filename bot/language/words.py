"""How each language is named and asked for: the ``language:`` section of data/language/<code>.yml.

Staff write these words; the detector (bot/language/detect.py) reads them to recognise "english
please", "en español" or "¿habla español?" as a request to switch, whatever language it is asked in.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.content.model import ContentError

LANGUAGE_DIR = Path("data/language")
SECTION = "language"
_WORD = re.compile(r"[^\W\d_]+")


def fold(text: str) -> str:
    """`text` in lower case without accents: citizens often type "espanol" for "español"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def words_of(text: str) -> list[str]:
    """The words of `text` (letters only: numbers, request ids and punctuation are not words), folded."""
    return _WORD.findall(fold(text))


def accented_words(text: str) -> list[str]:
    """The words of `text` in lower case with their accents (lingua reads "qué" better than "que")."""
    return _WORD.findall(text.casefold())


@dataclass(frozen=True)
class LanguageWords:
    """One language's own name (for the web chat's switch and the console), the words that name it
    in any language, the other words a request to switch may use ("please", "por favor"), and the
    short messages that say the language on their own ("hola", "buenos días")."""

    code: str
    name: str
    names: frozenset[str]
    switch_words: frozenset[str]
    short: frozenset[str] = frozenset()  # whole short messages only this language writes ("hola", "gracias")


def language_file(code: str, language_dir: Path = LANGUAGE_DIR) -> Path:
    return language_dir / f"{code}.yml"


def load_language_words(code: str, language_dir: Path = LANGUAGE_DIR) -> LanguageWords:
    """The ``language:`` section of ``<code>.yml``, or a ContentError that says what to add."""
    path = language_file(code, language_dir)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        message = f"the language {code!r} is offered but has no words file ({exc.strerror})"
        raise ContentError(path, message) from exc
    except yaml.YAMLError as exc:
        raise ContentError(path, f"not valid YAML: {exc}") from exc
    section = raw.get(SECTION) if isinstance(raw, dict) else None
    example = "language: {name: Español, names: [spanish, español], switch_words: [por, favor]}"
    if not isinstance(section, dict) or not isinstance(section.get("name"), str):
        message = f"needs a `{SECTION}:` section with name, names and switch_words, e.g. {example}"
        raise ContentError(path, message)
    names = _word_list(section.get("names"), path, "names")
    if not names:
        raise ContentError(path, f"{SECTION}: names needs at least one word that names the language")
    switch_words = _word_list(section.get("switch_words"), path, "switch_words")
    short = _phrase_list(section.get("short_messages"), path, "short_messages")
    return LanguageWords(code, section["name"].strip(), names, switch_words, short)


def _word_list(raw: object, path: Path, key: str) -> frozenset[str]:
    if raw is None:
        return frozenset()
    if not isinstance(raw, list) or not all(isinstance(w, str) for w in raw):
        raise ContentError(path, f"{SECTION}: {key} must be a list of words")
    return frozenset(word for item in raw for word in words_of(item))


def _phrase_list(raw: object, path: Path, key: str) -> frozenset[str]:
    """Whole messages, compared as their folded words ("¡Buenos días!" is "buenos dias")."""
    if raw is None:
        return frozenset()
    if not isinstance(raw, list) or not all(isinstance(w, str) for w in raw):
        raise ContentError(path, f"{SECTION}: {key} must be a list of short messages")
    return frozenset(" ".join(words_of(item)) for item in raw if words_of(item))
