"""What the assistant says about subscriptions outside Rasa's responses (data/subscriptions/messages.yml).

The carrier keyword replies (STOP, START, HELP) are sent by the channels before Rasa, and the
confirmation a citizen agrees to is recorded word for word as their consent: both must be the exact
text the citizen read, so they are rendered here, by our code, not by Rasa's NLG. Staff edit the
file; `content check` runs `texts_problems` on it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.content.agency import load_agency
from bot.content.model import ContentError
from bot.datafile import load_yaml_file
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

    def render(self, key: str, catalog: Catalog, **values: str) -> str:
        """The text `key` with the agency's facts, the catalog's program and frequency, and `values`."""
        filled = {"program": catalog.program, "frequency": catalog.frequency, **values}
        text = load_agency().expand(self.texts[key])
        return PLACEHOLDER.sub(lambda m: filled.get(m.group(1), m.group(0)), text).strip()

    def means_whole_city(self, text: str) -> bool:
        folded = " ".join(text.casefold().replace("-", " ").split()).strip(" .!?")
        return folded in {" ".join(w.casefold().replace("-", " ").split()) for w in self.whole_city_words}

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


def parse_texts(raw: Any, path: Path = MESSAGES_FILE) -> SubscriptionTexts:
    if not isinstance(raw, dict):
        raise TextsError(f'{path}: expected `key: "text"` lines')
    texts: dict[str, str] = {}
    agency = load_agency()
    for key, allowed in TEXTS.items():
        value = raw.get(key)
        if not isinstance(value, str) or (not value.strip() and key != "opt_out"):
            raise TextsError(f"{path}: '{key}' is missing or not a text in double quotes")
        if unknown := sorted({p for p in PLACEHOLDER.findall(value) if p not in allowed}):
            names = ", ".join(f"{{{p}}}" for p in unknown)
            raise TextsError(f"{path}: '{key}' uses {names}; it may use {', '.join(allowed) or 'none'}")
        if keys := agency.unknown_keys(value):
            raise TextsError(
                f"{path}: '{key}' names {{agency.{keys[0]}}}, which data/agency.yml does not have"
            )
        texts[key] = value
    words = raw.get("whole_city_words")
    if not isinstance(words, list) or not words or not all(isinstance(w, str) and w.strip() for w in words):
        raise TextsError(f"{path}: 'whole_city_words' must be a list of texts")
    if unknown_keys := sorted(set(raw) - set(TEXTS) - set(WORD_LISTS)):
        raise TextsError(f"{path}: unknown key(s) {', '.join(map(str, unknown_keys))}")
    return SubscriptionTexts(texts, tuple(w.strip() for w in words))


def load_texts(path: Path = MESSAGES_FILE) -> SubscriptionTexts:
    """The texts, re-read when the file changes (staff edits apply without a restart)."""
    return load_yaml_file(path, parse_texts, TextsError)


def texts_problems(path: Path = MESSAGES_FILE) -> list[str]:
    """For `content check`: what is wrong with the file, or nothing."""
    if not path.exists():
        return []
    try:
        load_texts(path)
    except (TextsError, ContentError) as exc:
        return [str(exc)]
    return []
