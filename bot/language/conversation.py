"""Which language a conversation is in, and which of a response's variations are in it.

The conversation's language is the `language` slot (set by every clear message), else the guess of
its short messages so far (`language_guess`: a first "hola" is answered in Spanish), else English.
A response's variations in a language carry the condition ``{type: slot, name: language, value: es}``
(Rasa's conditional variations, so `rasa shell` and `rasa data validate` read them as they are);
the English ones carry none. Replies choose among the conversation's language first, then by
channel and any other condition as Rasa does, so an English SMS variation never wins over a Spanish
one, and a response with no variation in the language is said in English.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bot.content.agency import SOURCE_LANGUAGE

LANGUAGE_SLOT = "language"
GUESS_SLOT = "language_guess"
# A reply's key (and so its bot event's metadata's) for the language it was chosen in (bot/nlg.py).
REPLY_LANGUAGE_KEY = "language"


def reply_language(message: Mapping[str, Any]) -> str | None:
    """The language a reply was chosen in; None when it says none (not from the NLG)."""
    value = message.get(REPLY_LANGUAGE_KEY)
    return value if isinstance(value, str) and value else None


def conversation_language(slots: Mapping[str, Any]) -> str:
    """The language to answer in, from the conversation's slots."""
    return str(slots.get(LANGUAGE_SLOT) or slots.get(GUESS_SLOT) or SOURCE_LANGUAGE)


def language_condition(code: str) -> dict[str, str]:
    """The condition a variation in `code` carries."""
    return {"type": "slot", "name": LANGUAGE_SLOT, "value": code}


def variation_language(variation: Mapping[str, Any]) -> str | None:
    """The language a variation is written in (None: the source language, English)."""
    for condition in variation.get("condition") or []:
        if _is_language(condition):
            return str(condition.get("value"))
    return None


def other_conditions(variation: Mapping[str, Any]) -> list[Any]:
    """A variation's conditions other than its language."""
    return [c for c in variation.get("condition") or [] if not _is_language(c)]


def _is_language(condition: Any) -> bool:
    return isinstance(condition, Mapping) and condition.get("name") == LANGUAGE_SLOT


def in_language(variations: Sequence[dict[str, Any]], code: str) -> list[dict[str, Any]]:
    """The variations written in `code` (English ones when there are none in it), without their
    language condition: the language is chosen, so Rasa's filter weighs only channel and slots, as
    for English (and a guessed language, whose slot is not set, still matches)."""
    own = [v for v in variations if variation_language(v) == code]
    if not own or code == SOURCE_LANGUAGE:
        own += [v for v in variations if variation_language(v) is None]
    return [_without_language(v) for v in own]


def _without_language(variation: dict[str, Any]) -> dict[str, Any]:
    if variation_language(variation) is None:
        return variation
    rest = {key: value for key, value in variation.items() if key != "condition"}
    others = other_conditions(variation)
    return {**rest, "condition": others} if others else rest
