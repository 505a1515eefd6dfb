"""Why a chat goes to a person, what the agent reads first, and what the citizen's form answers mean.

Pure decisions the handoff actions take from a tracker's events: the reason to hand off (or none),
the summary and transcript the agent sees, a rating typed in words or digits, a skipped answer.

Kept free of rasa_sdk so they are unit-tested on plain event dicts (the shape Rasa sends). The words
a rating may be typed in are staff's, in data/handoff/ratings.yml (`RatingWords`); the words that
skip a question in another language are that language's `skip` list (data/language/<code>.yml).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.content.agency import SOURCE_LANGUAGE
from bot.days import MissingWords, read_words_file, unaccented, words_file
from bot.language.texts import localized, translated_languages
from bot.language.words import fold

Event = Mapping[str, Any]
HANDOFF_UNAVAILABLE = "utter_handoff_unavailable"
FACT_SLOTS = ("address", "request_id", "language")
LAST_MESSAGES = 5
HISTORY = 30
RATINGS_FILE = Path(__file__).resolve().parents[2] / "data" / "handoff" / "ratings.yml"
TOP_RATING = 5
# Skips a question in every language: the button's payload, and the handoff's own English words.
SKIP = frozenset({"skip", "/skip", "no", "no thanks", "nothing", "none", "n/a"})


def current_session(events: Sequence[Event]) -> list[Event]:
    """Events since the last `session_started` (all events if there is none)."""
    for index in range(len(events) - 1, -1, -1):
        if events[index].get("event") == "session_started":
            return list(events[index + 1 :])
    return list(events)


def _utter_action(event: Event) -> str:
    return str((event.get("metadata") or {}).get("utter_action") or "")


def is_lookup_failure(event: Event) -> bool:
    """A live lookup's "couldn't reach the city's system" reply (every such response ends in _unavailable)."""
    name = _utter_action(event)
    return event.get("event") == "bot" and name.endswith("_unavailable") and name != HANDOFF_UNAVAILABLE


def lookup_failures(events: Sequence[Event]) -> int:
    """Failed live lookups in this session."""
    return sum(1 for e in current_session(events) if is_lookup_failure(e))


def lookup_failed_just_now(events: Sequence[Event]) -> bool:
    """A lookup failed since the citizen's last message."""
    for event in reversed(events):
        if event.get("event") == "user":
            return False
        if is_lookup_failure(event):
            return True
    return False


def intent_of(event: Event) -> str:
    return str(((event.get("parse_data") or {}).get("intent") or {}).get("name") or "")


def handoff_reason(latest_intent: str, clarification: str | None, events: Sequence[Event]) -> str | None:
    """Why `action_start_handoff` runs, or None when it should do nothing (a first misunderstanding)."""
    if latest_intent == "request_human":
        return "requested"
    if latest_intent == "express_frustration":
        return "frustration"
    if latest_intent.startswith("sensitive_"):
        return "sensitive"
    if lookup_failed_just_now(events) and lookup_failures(events) >= 2:
        return "lookup_failed"
    if latest_intent == "nlu_fallback":
        return "misunderstood" if clarification == "give_up" else None
    return None


def transcript(events: Iterable[Event], limit: int = HISTORY) -> list[dict[str, Any]]:
    """The last `limit` citizen and bot messages, for the agent's transcript."""
    out = [
        {
            "sender": "citizen" if e["event"] == "user" else "bot",
            "text": str(e.get("text")),
            "ts": e.get("timestamp"),
        }
        for e in events
        if e.get("event") in ("user", "bot") and e.get("text")
    ]
    return out[-limit:]


def summary(reason: str, channel: str, events: Sequence[Event], slots: Mapping[str, Any]) -> dict[str, Any]:
    """What the agent reads first: reason, channel, the citizen's last messages, intents and known facts."""
    session = current_session(events)
    said = [str(e.get("text")) for e in session if e.get("event") == "user" and e.get("text")]
    intents: list[str] = []
    for event in session:
        name = intent_of(event) if event.get("event") == "user" else ""
        if name and name not in intents:
            intents.append(name)
    facts = {name: str(slots[name]) for name in FACT_SLOTS if slots.get(name) not in (None, "")}
    return {
        "reason": reason,
        "channel": channel,
        "last_messages": said[-LAST_MESSAGES:],
        "intents": intents,
        "facts": facts,
    }


def latest_timestamp(events: Iterable[Event]) -> float:
    return max((float(e.get("timestamp") or 0) for e in events), default=0.0)


_DIGIT = re.compile(r"\b([1-5])\b")


@dataclass(frozen=True)
class RatingWords:
    """The words a rating may be typed in, in every language of data/handoff/ratings.yml at once:
    ``numbers`` word -> rating, ``out_of`` what joins a rating to the scale ("4 out of 5", "4 de 5").

    Every language at once: a rating is a word or two, too short to tell its language, and citizens
    answer in either; no number word of one language is another word of the other in a short answer.
    """

    numbers: Mapping[str, int] = field(default_factory=dict)
    out_of: tuple[str, ...] = ()

    @functools.cached_property
    def scored(self) -> re.Pattern[str]:
        """What reads "<rating> <out of> <5>" (digits or words, any language); its group is the rating."""
        number = "|".join(["[1-5]", *(re.escape(w) for w in sorted(self.numbers, key=len, reverse=True))])
        top = "|".join([str(TOP_RATING), *(re.escape(w) for w, n in self.numbers.items() if n == TOP_RATING)])
        joins = sorted({"/", *self.out_of}, key=len, reverse=True)
        join = "|".join(r"\s+".join(re.escape(part) for part in j.split()) for j in joins)
        return re.compile(rf"\b({number})\s*(?:{join})\s*(?:{top})\b")


def read_rating_words(raw: Mapping[str, Any]) -> RatingWords:
    """The words of a ratings file's YAML, English and each translation (folded: accents optional)."""
    numbers: dict[str, int] = {}
    out_of: list[str] = []
    for language in [SOURCE_LANGUAGE, *translated_languages(raw)]:
        texts = localized(raw, language)
        for rating, words in (texts.get("numbers") or {}).items():
            if isinstance(words, list) and str(rating).isdigit() and 1 <= int(rating) <= TOP_RATING:
                numbers.update({fold(str(w)).strip(): int(rating) for w in words if str(w).strip()})
        out_of += [fold(str(j)).strip() for j in texts.get("out_of") or [] if str(j).strip()]
    return RatingWords(numbers, tuple(dict.fromkeys(out_of)))


@functools.cache
def load_rating_words(path: Path = RATINGS_FILE) -> RatingWords:
    """data/handoff/ratings.yml, read once (restart the action server to apply a change); digits
    alone without it."""
    if not path.exists():
        return RatingWords()
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return read_rating_words(raw if isinstance(raw, dict) else {})


def parse_rating(
    text: str, entities: Iterable[Mapping[str, Any]] = (), words: RatingWords | None = None
) -> int | None:
    """1-5 from the button's `rating` entity, or text like "4", "four", "cuatro", "4 stars", "4/5",
    "4 out of 5", "4 de 5" (in any language of `words`, by default data/handoff/ratings.yml)."""
    for entity in entities:
        if entity.get("entity") == "rating":
            return parse_rating(str(entity.get("value") or ""), words=words)
    words = load_rating_words() if words is None else words
    said = words.scored.sub(r"\1", fold(text.strip()))  # "1 out of 5" is a 1, not a 1 and a 5
    numbers = _DIGIT.findall(said.split("/")[0]) or _DIGIT.findall(said)
    if len(set(numbers)) == 1:
        return int(numbers[0])
    named = [words.numbers[w] for w in re.findall(r"[^\W\d_]+", said) if w in words.numbers]
    if len(set(named)) == 1 and not numbers:
        return named[0]
    return None


def is_skip(text: str, language: str = SOURCE_LANGUAGE) -> bool:
    """The citizen declines an optional question (a contact, a rating, a comment): "skip", "no thanks",
    "none", in every language; in another language also the whole message in its `skip` words
    ("omitir", "no, gracias", "nada")."""
    if text.strip().lower().strip(".! ") in SKIP:
        return True
    pattern = _skip_words(language) if language != SOURCE_LANGUAGE else None
    return pattern is not None and bool(pattern.match(_bare(text)))


def _bare(text: str) -> str:
    """Lower case letters without accents, ' and / only ("¡No, gracias!" -> "no gracias")."""
    return " ".join(re.sub(r"[^a-z'/ ]+", " ", unaccented(text.lower())).split())


def _alternatives(words: Any) -> str:
    """A list of phrases as one regular-expression alternative, the longest first ("" for none)."""
    phrases = sorted({_bare(str(w)) for w in words or []} - {""}, key=len, reverse=True)
    return "|".join(r"\s+".join(map(re.escape, p.split())) for p in phrases)


@functools.cache
def _skip_words(language: str) -> re.Pattern[str] | None:
    """The whole-message pattern of `language`'s `skip` words (at most one word before the phrase, any
    number of "please", "thanks" after it), read once; None when the language has none."""
    try:
        skip = read_words_file(words_file(language)).get("skip")
    except MissingWords:
        return None
    if not isinstance(skip, Mapping) or not (phrases := _alternatives(skip.get("phrases"))):
        return None
    before, after = _alternatives(skip.get("before")), _alternatives(skip.get("after"))
    lead = rf"(?:(?:{before})\s+)?" if before else ""
    tail = rf"(?:\s+(?:{after}))*" if after else ""
    return re.compile(rf"^{lead}(?:{phrases}){tail}$")
