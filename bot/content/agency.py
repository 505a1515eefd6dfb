"""The agency's facts (``data/agency.yml``) and the one function that fills them into texts.

Replies write ``{agency.<key>}`` where a fact belongs ("call {agency.phone_311}").
``Agency.expand`` is the only place such a placeholder becomes text: Rasa's responses
(``bot.nlg``), the handoff console's canned replies and messages, the actions'
reply fragments and ``content check`` all call it. Other ``{...}`` placeholders
(``{position}``, ``{answer}``) are left alone for whoever fills them later.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from urllib.parse import urlsplit

import yaml

from bot.content.model import ContentError

AGENCY_FILE = Path("data/agency.yml")
KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
# Anything that looks like an agency placeholder, so a malformed key is reported, not skipped.
PLACEHOLDER = re.compile(r"\{agency\.([^{}\s]*)\}")
REQUIRED = ("name", "website")
# The one key that is not a fact: the event names of the agency's alert feed, which content
# entries name in ``overridden_by`` (an answer a live alert of that event contradicts).
ALERT_EVENTS = "alert_events"
# The other list: the languages the assistant speaks (ISO 639-1 codes, English first: the source of
# every translation). A language here is active: detected, answered in, and checked for missing text.
LANGUAGES = "languages_offered"
SOURCE_LANGUAGE = "en"
LANGUAGE_CODE = re.compile(r"^[a-z]{2}$")
LISTS = (ALERT_EVENTS, LANGUAGES)
# Facts written differently in another language ("Monday to Saturday 7 am to 7 pm"): ``translations:
# {es: {hours_311: "..."}}``; a fact not translated (a phone number, a web address) reads the same.
TRANSLATIONS = "translations"


class UnknownFactError(ValueError):
    """A text names ``{agency.<key>}`` placeholders the agency file does not have."""

    def __init__(self, keys: list[str], path: Path, where: str = "") -> None:
        self.keys = keys
        self.path = path
        names = ", ".join(f"{{agency.{key}}}" for key in keys)
        within = f" in {where}" if where else ""
        super().__init__(f"unknown placeholder {names}{within}: {path} has no such fact")


@dataclass(frozen=True)
class Agency:
    """The facts of ``data/agency.yml``: short key -> the text citizens read.

    ``alert_events``: the event names its alert feed uses ("Boil Water Notice", ...);
    ``languages``: the languages the assistant speaks, English first.
    """

    facts: Mapping[str, str]
    path: Path = AGENCY_FILE
    alert_events: tuple[str, ...] = ()
    languages: tuple[str, ...] = (SOURCE_LANGUAGE,)
    translated: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # language -> key -> fact
    domain: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "facts", MappingProxyType(dict(self.facts)))
        host = (urlsplit(self.facts.get("website", "")).hostname or "").lower()
        object.__setattr__(self, "domain", host.removeprefix("www."))

    def in_language(self, language: str) -> Agency:
        """The agency as a reader of `language` meets it: its facts in that language where written."""
        own = self.translated.get(language)
        if not own:
            return self
        return Agency({**self.facts, **own}, self.path, self.alert_events, self.languages, self.translated)

    def unknown_keys(self, text: str) -> list[str]:
        """The placeholder keys in ``text`` that are not facts, in order, each once."""
        keys = [key for key in PLACEHOLDER.findall(text) if key not in self.facts]
        return list(dict.fromkeys(keys))

    def expand(self, text: str, *, strict: bool = True) -> str:
        """``text`` with every ``{agency.<key>}`` replaced by the fact.

        An unknown key raises ``UnknownFactError`` (``strict``) or is left as written.
        """
        if strict and (unknown := self.unknown_keys(text)):
            raise UnknownFactError(unknown, self.path)
        return PLACEHOLDER.sub(lambda m: self.facts.get(m.group(1), m.group(0)), text)


def parse_agency(raw: object, path: Path = AGENCY_FILE) -> Agency:
    """The facts of an agency file's YAML, or a ``ContentError`` saying what to fix."""
    if not isinstance(raw, dict):
        raise ContentError(path, 'the agency file must be a list of `key: "value"` lines')
    facts: dict[str, str] = {}
    events = _alert_events(raw.get(ALERT_EVENTS, []), path)
    languages = _languages(raw.get(LANGUAGES, [SOURCE_LANGUAGE]), path)
    for key, value in raw.items():
        if key in LISTS or key == TRANSLATIONS:
            continue
        if not isinstance(key, str) or not KEY_PATTERN.match(key):
            raise ContentError(path, f"key {key!r} must be lowercase letters, digits and _")
        if not isinstance(value, str):
            raise ContentError(path, f'{key}: write the value in double quotes, e.g. {key}: "..."')
        if not value.strip():
            raise ContentError(path, f"{key}: the value is empty")
        if "{" in value or "}" in value:
            raise ContentError(path, f"{key}: a value cannot contain {{ or }}")
        facts[key] = value.strip()
    if missing := [key for key in REQUIRED if key not in facts]:
        raise ContentError(path, f"missing {', '.join(missing)}")
    translated = _translated_facts(raw.get(TRANSLATIONS) or {}, facts, path)
    agency = Agency(facts, path, events, languages, translated)
    if "." not in agency.domain or not facts["website"].startswith("https://"):
        raise ContentError(path, f"website {facts['website']!r} must be a link like https://www.city.example")
    return agency


def _alert_events(raw: object, path: Path) -> tuple[str, ...]:
    example = f'{ALERT_EVENTS}: ["Boil Water Notice", "Flood Watch"]'
    if not isinstance(raw, list) or not all(isinstance(e, str) and e.strip() for e in raw):
        raise ContentError(path, f"{ALERT_EVENTS} must be a list of event names, e.g. {example}")
    events = tuple(e.strip() for e in raw)
    if repeated := sorted({e for e in events if [x.casefold() for x in events].count(e.casefold()) > 1}):
        raise ContentError(path, f"{ALERT_EVENTS}: {', '.join(repeated)} listed twice")
    return events


def _translated_facts(raw: object, facts: Mapping[str, str], path: Path) -> dict[str, dict[str, str]]:
    example = f'{TRANSLATIONS}: {{es: {{hours_311: "de lunes a sábado, de 7 a. m. a 7 p. m."}}}}'
    if not isinstance(raw, dict) or not all(isinstance(v, dict) for v in raw.values()):
        raise ContentError(path, f"{TRANSLATIONS} must map a language code to facts, e.g. {example}")
    found: dict[str, dict[str, str]] = {}
    for code, own in raw.items():
        if not isinstance(code, str) or not LANGUAGE_CODE.match(code):
            raise ContentError(path, f"{TRANSLATIONS}: {code!r} is not a two-letter language code")
        for key, value in own.items():
            if key not in facts:
                raise ContentError(path, f"{TRANSLATIONS}: {code}: {key} is not one of the facts above")
            if not isinstance(value, str) or not value.strip() or "{" in value or "}" in value:
                raise ContentError(path, f"{TRANSLATIONS}: {code}: {key}: write the value in double quotes")
        found[code] = {key: value.strip() for key, value in own.items()}
    return found


def _languages(raw: object, path: Path) -> tuple[str, ...]:
    example = f"{LANGUAGES}: [en, es]"
    if not isinstance(raw, list) or not all(isinstance(c, str) and LANGUAGE_CODE.match(c) for c in raw):
        raise ContentError(path, f"{LANGUAGES} must be a list of two-letter language codes, e.g. {example}")
    if not raw or raw[0] != SOURCE_LANGUAGE or len(set(raw)) != len(raw):
        message = f"{LANGUAGES}: English ({SOURCE_LANGUAGE}) comes first and each code once, e.g. {example}"
        raise ContentError(path, message)
    return tuple(raw)


_cache: dict[tuple[Path, str], tuple[tuple[int, int], Agency]] = {}


def load_agency(path: Path = AGENCY_FILE) -> Agency:
    """The agency file at ``path``, read again only when it changed (staff edits apply at once)."""
    try:
        stat = path.stat()
    except OSError as exc:
        raise ContentError(path, f"cannot read the agency file ({exc.strerror})") from exc
    stamp, where = (stat.st_mtime_ns, stat.st_size), (path.resolve(), str(path))  # the path as given is kept
    cached = _cache.get(where)
    if cached and cached[0] == stamp:
        return cached[1]
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ContentError(path, f"not valid YAML: {exc}", mark.line + 1 if mark else None) from exc
    agency = parse_agency(raw, path)
    _cache[where] = (stamp, agency)
    return agency
