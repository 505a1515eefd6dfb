"""Why a chat goes to a person, what the agent reads first, and what the citizen's form answers mean.

Pure decisions the handoff actions take from a tracker's events: the reason to hand off (or none),
the summary and transcript the agent sees, a rating typed in words or digits, a skipped answer.

Kept free of rasa_sdk so they are unit-tested on plain event dicts (the shape Rasa sends).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

Event = Mapping[str, Any]
HANDOFF_UNAVAILABLE = "utter_handoff_unavailable"
FACT_SLOTS = ("address", "request_id", "language")
LAST_MESSAGES = 5
HISTORY = 30
WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5}
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


def parse_rating(text: str, entities: Iterable[Mapping[str, Any]] = ()) -> int | None:
    """1-5 from the button's `rating` entity, or text like "4", "four", "4 stars", "4/5"."""
    for entity in entities:
        if entity.get("entity") == "rating":
            return parse_rating(str(entity.get("value") or ""))
    lowered = text.strip().lower()
    numbers = _DIGIT.findall(lowered.split("/")[0]) or _DIGIT.findall(lowered)
    if len(set(numbers)) == 1:
        return int(numbers[0])
    words = [WORDS[w] for w in re.findall(r"[a-z]+", lowered) if w in WORDS]
    if len(set(words)) == 1 and not numbers:
        return words[0]
    return None


def is_skip(text: str) -> bool:
    return text.strip().lower().strip(".! ") in SKIP
