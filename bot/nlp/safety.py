"""Sensitive-message detection that does not depend on the classifier alone.

A citizen saying they want to die, have nowhere to sleep, are being hurt or are
in danger must get the lifeline however they phrase it. Staff-editable trigger
patterns (``data/safety/triggers.yml``) are tried on the text and on its
lemmas; the classifier's own prediction is a second net, not the only one.

A lifeline answers a need, not a topic: "how many people are homeless in the country" asks
about homelessness, "i'm homeless" says something about the writer. An intent's
``topic_words`` (bare topic words such as "homeless" or "abuse") fire only when the
message is not a general question about the topic (`TopicQuestion`); its ``patterns``
always fire.

Spanish speakers often type without accents ("no se donde dormir") and sometimes with stray
ones; the patterns are also tried on the message with its accents removed (`strip_accents`), so
a pattern written without accents catches both spellings.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import yaml

TRIGGERS_FILE = Path("data/safety/triggers.yml")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'"})


def _compile(patterns: Any) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(rx, re.IGNORECASE) for rx in patterns or [])


@dataclass(frozen=True)
class TopicQuestion:
    """A question about a topic in general, from someone who says nothing about their own situation.

    It asks (statistics, causes, history, law, definitions, school work) and has no personal
    marker (I, my, we, someone close, tonight, help, need). ``ignore`` is removed before
    the personal markers are tried ("can you tell me" is a way of asking, not a person).
    A message that ``offers`` help (volunteering, donating) is not asking for it either.
    ``no_emergency``: the ways of saying nobody is hurt or in danger ("who do i call, nobody's hurt"),
    which the classifier's lifeline respects (`says_no_emergency`; the keyword net still decides).
    """

    asks: tuple[re.Pattern[str], ...] = ()
    personal: tuple[re.Pattern[str], ...] = ()
    ignore: tuple[re.Pattern[str], ...] = ()
    offers: tuple[re.Pattern[str], ...] = ()
    no_emergency: tuple[re.Pattern[str], ...] = ()

    def matches(self, text: str) -> bool:
        if any(p.search(text) for p in self.offers):
            return True
        if not self.asks or not any(p.search(text) for p in self.asks):
            return False
        for pattern in self.ignore:
            text = pattern.sub(" ", text)
        return not any(p.search(text) for p in self.personal)


@dataclass(frozen=True)
class Trigger:
    intent: str
    patterns: tuple[re.Pattern[str], ...]
    topic_words: tuple[re.Pattern[str], ...] = ()
    topic_question: TopicQuestion = field(default_factory=TopicQuestion)


def load_topic_question(path: Path = TRIGGERS_FILE) -> TopicQuestion:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    spec = data.get("topic_question") or {}
    return TopicQuestion(
        asks=_compile(spec.get("asks")),
        personal=_compile(spec.get("personal")),
        ignore=_compile(spec.get("ignore")),
        offers=_compile(spec.get("offers")),
        no_emergency=_compile(spec.get("no_emergency")),
    )


def load_triggers(path: Path = TRIGGERS_FILE) -> list[Trigger]:
    """Triggers in file order: the first intent whose pattern matches wins."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    topic_question = load_topic_question(path)
    return [
        Trigger(
            intent=intent,
            patterns=_compile(spec.get("patterns")),
            topic_words=_compile(spec.get("topic_words")),
            topic_question=topic_question,
        )
        for intent, spec in data.get("intents", {}).items()
    ]


def fold_for_safety(text: str) -> str:
    """Lowercase, plain apostrophes, letters repeated 3+ times squeezed ("pleeease")."""
    text = unicodedata.normalize("NFKC", text).translate(_APOSTROPHES).lower()
    text = re.sub(r"(\w)\1{2,}", r"\1\1", text)
    return " ".join(text.split())


def strip_accents(text: str) -> str:
    """The text without diacritics ("vacío" -> "vacio", "niño" -> "nino").

    A message in crisis is typed fast, on a phone, often without accents: the Spanish patterns
    are written without them and tried on this form, so "no sé dónde dormir" and "no se donde
    dormir" are the same message to the net.
    """
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if not unicodedata.combining(c)))


def variants(text: str) -> set[str]:
    """The text folded by `fold_for_safety`, and with long letter runs made single ("dieee" -> "die").

    Each form also without its accents (`strip_accents`): a pattern that matched the text as
    typed still does, and one written without accents matches a message typed with them.
    """
    base = unicodedata.normalize("NFKC", text).translate(_APOSTROPHES).lower()
    forms = {fold_for_safety(text), " ".join(re.sub(r"(\w)\1{2,}", r"\1", base).split())}
    return forms | {strip_accents(form) for form in forms}


def is_topic_question(topic_question: TopicQuestion, text: str) -> bool:
    """Whether ``text`` asks about a topic in general (`TopicQuestion`), folded and without accents.

    Without accents because the Spanish ways of asking ("¿cuántas personas...?") are written
    without them, like the patterns; an English message has none to lose.
    """
    return topic_question.matches(strip_accents(fold_for_safety(text)))


def says_no_emergency(topic_question: TopicQuestion, text: str) -> bool:
    """Whether ``text`` says nobody is hurt or in danger (folded and without accents, as the patterns)."""
    return _no_emergency(topic_question, strip_accents(fold_for_safety(text)))


def _no_emergency(topic_question: TopicQuestion, folded: str) -> bool:
    return any(p.search(folded) for p in topic_question.no_emergency)


def classifier_stays_silent(topic_question: TopicQuestion, text: str) -> bool:
    """A general question about a topic, or a message saying nobody is hurt or in danger: the
    classifier's lifeline is not given (bot/nlp/safety_guard.py). The text is folded once for both."""
    folded = strip_accents(fold_for_safety(text))
    return topic_question.matches(folded) or _no_emergency(topic_question, folded)


class Scan(NamedTuple):
    """What the keyword net found: the lifeline intent a message triggers, else the crisis topic whose
    bare topic words it uses in a general question ("how many homeless people are there"); and the
    other needs the message names, after the most urgent ("he hit me and threw me out, i have nowhere
    to sleep tonight": a bed tonight first, then where to turn about the violence)."""

    intent: str | None
    topic: str | None = None
    also: tuple[str, ...] = ()


def scan(triggers: Iterable[Trigger], *texts: str) -> Scan:
    """The net's finding on ``texts``, in one pass over the triggers.

    The first text is the message itself: whether it is a general question about a topic is
    decided on it, since the lemmas ("be", "i") would hide its wording. The topic of such a question
    lets its decline still name where help is (bot/nlg.py adds the topic's resource line).
    """
    candidates = [v for t in texts if t for v in variants(t)]
    topic_question: bool | None = None
    topic: str | None = None
    found: list[str] = []
    for trigger in triggers:
        if any(pattern.search(text) for pattern in trigger.patterns for text in candidates):
            found.append(trigger.intent)
        elif any(pattern.search(text) for pattern in trigger.topic_words for text in candidates):
            if topic_question is None:
                topic_question = bool(texts) and is_topic_question(trigger.topic_question, texts[0])
            if not topic_question:
                found.append(trigger.intent)
            topic = topic or trigger.intent
    if found:
        return Scan(found[0], also=tuple(found[1:]))
    return Scan(None, topic)


def match(triggers: Iterable[Trigger], *texts: str) -> str | None:
    """The sensitive intent any of ``texts`` triggers, or None (`scan`'s intent)."""
    return scan(triggers, *texts).intent
