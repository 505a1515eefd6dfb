"""Sensitive-message detection that does not depend on the classifier alone.

A citizen saying they want to die, have nowhere to sleep, are being hurt or are
in danger must get the lifeline however they phrase it. Staff-editable trigger
patterns (``data/safety/triggers.yml``) are tried on the text and on its
lemmas; the classifier's own prediction is a second net, not the only one.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import yaml

TRIGGERS_FILE = Path("data/safety/triggers.yml")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'"})


@dataclass(frozen=True)
class Trigger:
    intent: str
    patterns: tuple[re.Pattern[str], ...]


def load_triggers(path: Path = TRIGGERS_FILE) -> list[Trigger]:
    """Triggers in file order: the first intent whose pattern matches wins."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    triggers = []
    for intent, spec in data.get("intents", {}).items():
        compiled = tuple(re.compile(rx, re.IGNORECASE) for rx in spec.get("patterns", []))
        triggers.append(Trigger(intent=intent, patterns=compiled))
    return triggers


def fold_for_safety(text: str) -> str:
    """Lowercase, plain apostrophes, letters repeated 3+ times squeezed ("pleeease")."""
    text = unicodedata.normalize("NFKC", text).translate(_APOSTROPHES).lower()
    text = re.sub(r"(\w)\1{2,}", r"\1\1", text)
    return " ".join(text.split())


def variants(text: str) -> set[str]:
    """The text folded by `fold_for_safety`, and with long letter runs made single ("dieee" -> "die")."""
    base = unicodedata.normalize("NFKC", text).translate(_APOSTROPHES).lower()
    return {fold_for_safety(text), " ".join(re.sub(r"(\w)\1{2,}", r"\1", base).split())}


def match(triggers: Iterable[Trigger], *texts: str) -> str | None:
    """The sensitive intent any of ``texts`` triggers, or None."""
    candidates = [v for t in texts if t for v in variants(t)]
    for trigger in triggers:
        for pattern in trigger.patterns:
            if any(pattern.search(text) for text in candidates):
                return trigger.intent
    return None
