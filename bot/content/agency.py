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

    ``alert_events``: the event names its alert feed uses ("Boil Water Notice", ...).
    """

    facts: Mapping[str, str]
    path: Path = AGENCY_FILE
    alert_events: tuple[str, ...] = ()
    domain: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "facts", MappingProxyType(dict(self.facts)))
        host = (urlsplit(self.facts.get("website", "")).hostname or "").lower()
        object.__setattr__(self, "domain", host.removeprefix("www."))

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
    for key, value in raw.items():
        if key == ALERT_EVENTS:
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
    agency = Agency(facts, path, events)
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


_cache: dict[Path, tuple[tuple[int, int], Agency]] = {}


def load_agency(path: Path = AGENCY_FILE) -> Agency:
    """The agency file at ``path``, read again only when it changed (staff edits apply at once)."""
    try:
        stat = path.stat()
    except OSError as exc:
        raise ContentError(path, f"cannot read the agency file ({exc.strerror})") from exc
    stamp, where = (stat.st_mtime_ns, stat.st_size), path.resolve()
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
