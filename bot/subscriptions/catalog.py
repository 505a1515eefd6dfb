"""The alert topics and districts citizens subscribe to: agency content (data/subscriptions/catalog.yml).

Read by the chat's subscription flow (which topic, which area a citizen means), the console and the
broadcast API (an unknown topic or area is a 400), the alerts poller (an alert's area to a district)
and `content check` (`catalog_problems`). Nothing here knows Harbor City: a real agency lists its
own topics and districts in the file.

Other languages: the file's `translations:` block gives, per language, the program and frequency and,
by id, a topic's or a district's name, description and words (`load_catalog(language="es")`). Ids
never change; a name not translated stays as written (a district's name usually does), and the English
names and words keep working in every language (citizens mix them), accents optional.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from bot.content.agency import SOURCE_LANGUAGE
from bot.datafile import load_yaml_file
from bot.language.texts import TRANSLATIONS

CATALOG_FILE = Path("data/subscriptions/catalog.yml")
ALL = "all"  # the whole city: always an area, never listed in the file
EMERGENCIES = "emergencies"  # the topic the alerts feed goes to by itself
ID = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


class CatalogError(ValueError):
    """The catalog file cannot be used; the message names the file and what to fix."""


@dataclass(frozen=True)
class Choice:
    """A topic or an area: its id (API, storage), its name (what citizens read) and other names."""

    id: str
    name: str
    words: tuple[str, ...] = ()
    description: str = ""

    def names(self) -> tuple[str, ...]:
        return (self.name, self.id.replace("_", " "), *self.words)


@dataclass(frozen=True)
class Catalog:
    program: str
    frequency: str
    topics: tuple[Choice, ...]
    areas: tuple[Choice, ...]
    language: str = SOURCE_LANGUAGE
    translations: Mapping[str, Catalog] = field(default_factory=dict)

    def in_language(self, code: str) -> Catalog:
        """The catalog a reader of `code` gets (this one, in English, when the file has none in it)."""
        return self.translations.get(code, self)

    def topic(self, topic_id: str) -> Choice | None:
        return next((t for t in self.topics if t.id == topic_id), None)

    def area(self, area_id: str) -> Choice | None:
        return next((a for a in self.areas if a.id == area_id), None)

    @property
    def topic_ids(self) -> tuple[str, ...]:
        return tuple(t.id for t in self.topics)

    @property
    def area_ids(self) -> tuple[str, ...]:
        """Every district's id, then "all"."""
        return (*(a.id for a in self.areas), ALL)

    def area_name(self, area_id: str, whole_city: str = "the whole city") -> str:
        found = self.area(area_id)
        return found.name if found else whole_city

    def topics_in(self, text: str) -> list[str]:
        """The topics `text` names, in catalog order (whole words, any case)."""
        return [t.id for t in self.topics if _mentions(text, t.names())]

    def areas_in(self, text: str) -> list[str]:
        """The districts `text` names, in catalog order."""
        return [a.id for a in self.areas if _mentions(text, a.names())]

    def district_named(self, name: str) -> str | None:
        """The id of the district called exactly `name` (any case), as an address lookup returns it."""
        wanted = _fold(name)
        return next((a.id for a in self.areas if wanted in {_fold(n) for n in a.names()}), None)


def _fold(text: str) -> str:
    """Lower case, no accents ("inundación" is "inundacion"), punctuation as spaces."""
    bare = "".join(c for c in unicodedata.normalize("NFKD", text.casefold()) if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^\w\s]", " ", bare).split())


def _mentions(text: str, names: tuple[str, ...]) -> bool:
    folded = f" {_fold(text)} "
    return any(f" {_fold(name)} " in folded for name in names if _fold(name))


def _choices(raw: Any, what: str, path: Path) -> tuple[Choice, ...]:
    if not isinstance(raw, list) or not raw:
        raise CatalogError(f"{path}: '{what}' must be a list with at least one entry")
    found: list[Choice] = []
    for number, item in enumerate(raw, 1):
        if not isinstance(item, dict):
            raise CatalogError(f"{path}: {what} #{number} must be a mapping with id and name")
        ident, name = str(item.get("id", "")).strip(), str(item.get("name", "")).strip()
        if not ID.match(ident) or ident == ALL:
            raise CatalogError(
                f"{path}: {what} #{number} has id {ident!r}: use lowercase letters, digits and _ "
                f"(and not '{ALL}', which is the whole city)"
            )
        if not name:
            raise CatalogError(f"{path}: {what} '{ident}' needs a name")
        if any(c.id == ident for c in found):
            raise CatalogError(f"{path}: {what} id '{ident}' is listed twice")
        words = item.get("words") or []
        if not isinstance(words, list) or not all(isinstance(w, str) and w.strip() for w in words):
            raise CatalogError(f"{path}: {what} '{ident}': 'words' must be a list of texts")
        found.append(Choice(ident, name, tuple(w.strip() for w in words), str(item.get("description", ""))))
    return tuple(found)


def _translated_choices(
    english: tuple[Choice, ...], raw: Any, what: str, path: Path, where: str
) -> tuple[Choice, ...]:
    """`english` with the names, descriptions and words a translations block gives them by id."""
    raw = raw or {}
    if not isinstance(raw, dict):
        raise CatalogError(f"{path}: {where}.{what}s must map a {what}'s id to its name and words")
    if unknown := sorted(set(map(str, raw)) - {c.id for c in english}):
        raise CatalogError(f"{path}: {where}.{what}s names {', '.join(unknown)}, not in '{what}s'")
    found = []
    for choice in english:
        own = raw.get(choice.id) or {}
        if not isinstance(own, dict):
            raise CatalogError(f"{path}: {where}.{what}s.{choice.id} must have name, description or words")
        words = own.get("words") or []
        if not isinstance(words, list) or not all(isinstance(w, str) and w.strip() for w in words):
            raise CatalogError(f"{path}: {where}.{what}s.{choice.id}: 'words' must be a list of texts")
        found.append(
            Choice(
                choice.id,
                str(own.get("name") or choice.name).strip(),
                tuple(dict.fromkeys([*(w.strip() for w in words), choice.name, *choice.words])),
                str(own.get("description") or choice.description),
            )
        )
    return tuple(found)


def _in_language(english: Catalog, raw: Any, code: str, path: Path) -> Catalog:
    where = f"{TRANSLATIONS}.{code}"
    if not isinstance(raw, dict):
        raise CatalogError(f"{path}: {where} must be a mapping (program, frequency, topics, areas)")
    catalog = Catalog(
        str(raw.get("program") or english.program).strip(),
        str(raw.get("frequency") or english.frequency).strip(),
        _translated_choices(english.topics, raw.get("topics"), "topic", path, where),
        _translated_choices(english.areas, raw.get("areas"), "area", path, where),
        code,
    )
    _no_shared_words(catalog, path)
    return catalog


def parse_catalog(raw: Any, path: Path = CATALOG_FILE) -> Catalog:
    if not isinstance(raw, dict):
        raise CatalogError(f"{path}: expected a mapping with program, frequency, topics and areas")
    english = _parse_english(raw, path)
    block = raw.get(TRANSLATIONS) or {}
    if not isinstance(block, dict):
        raise CatalogError(f"{path}: '{TRANSLATIONS}' must map a language code to its names")
    translations = {
        str(code): _in_language(english, own, str(code), path)
        for code, own in block.items()
        if code != SOURCE_LANGUAGE
    }
    return replace(english, translations=translations)


def _parse_english(raw: dict[str, Any], path: Path) -> Catalog:
    program, frequency = str(raw.get("program", "")).strip(), str(raw.get("frequency", "")).strip()
    if not program or not frequency:
        raise CatalogError(f"{path}: 'program' and 'frequency' are required (carriers require both in HELP)")
    catalog = Catalog(
        program,
        frequency,
        _choices(raw.get("topics"), "topic", path),
        _choices(raw.get("areas"), "area", path),
    )
    if catalog.topic(EMERGENCIES) is None:
        raise CatalogError(f"{path}: the topic '{EMERGENCIES}' is required (the alerts feed goes to it)")
    _no_shared_words(catalog, path)
    return catalog


def _no_shared_words(catalog: Catalog, path: Path) -> None:
    """A word naming two topics (or two areas) would subscribe a citizen to the wrong one."""
    for what, choices in (("topic", catalog.topics), ("area", catalog.areas)):
        owner: dict[str, str] = {}
        for choice in choices:
            for name in choice.names():
                key = _fold(name)
                if key in owner and owner[key] != choice.id:
                    raise CatalogError(f"{path}: '{name}' names both {what} '{owner[key]}' and '{choice.id}'")
                owner[key] = choice.id


def load_catalog(path: Path = CATALOG_FILE, language: str = SOURCE_LANGUAGE) -> Catalog:
    """The catalog in `language`, re-read when the file changes (staff edits apply without a restart)."""
    return load_yaml_file(path, parse_catalog, CatalogError).in_language(language)


def catalog_problems(path: Path = CATALOG_FILE) -> list[str]:
    """For `content check`: what is wrong with the file, or nothing."""
    if not path.exists():
        return []
    try:
        load_catalog(path)
    except CatalogError as exc:
        return [str(exc)]
    return []
