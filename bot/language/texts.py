"""Wording files in several languages: one convention for every file of texts the services say.

A texts file (data/handoff/messages.yml, data/channels/messages.yml, ...) holds its English texts as
it always has, and a ``translations:`` block with the same keys in each other language:

    agent_joined: "{agent} from the {agency.name} has joined the chat."
    counts:
      wait: {one: "about {n} minute", other: "about {n} minutes"}
    translations:
      es:
        agent_joined: "{agent}, de {agency.name}, se unió a la conversación."
        counts:
          wait: {one: "unos {n} minuto", other: "unos {n} minutos"}

`localized` gives the texts as one language reads them: its own where written, English elsewhere
(a key not yet translated is said in English rather than not at all; `content check` lists it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.content.agency import SOURCE_LANGUAGE

TRANSLATIONS = "translations"


def localized(texts: Mapping[str, Any], language: str) -> dict[str, Any]:
    """`texts` in `language`, without the translations block."""
    english = {key: value for key, value in texts.items() if key != TRANSLATIONS}
    if language == SOURCE_LANGUAGE:
        return english
    block = texts.get(TRANSLATIONS)
    own = block.get(language) if isinstance(block, Mapping) else None
    return _over(english, own) if isinstance(own, Mapping) else english


def _over(english: Mapping[str, Any], own: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(english)
    for key, value in own.items():
        if isinstance(value, Mapping) and isinstance(english.get(key), Mapping):
            merged[key] = _over(english[key], value)
        elif key in english:
            merged[key] = value
    return merged


def translated_languages(texts: Mapping[str, Any]) -> list[str]:
    """The languages a texts file has a translations block for."""
    block = texts.get(TRANSLATIONS)
    return [str(code) for code in block] if isinstance(block, Mapping) else []


def untranslated(texts: Mapping[str, Any], language: str) -> list[str]:
    """Dotted keys of the English texts that `language` does not have yet ("counts.wait.one")."""
    block = texts.get(TRANSLATIONS)
    own = block.get(language) if isinstance(block, Mapping) else None
    english = {key: value for key, value in texts.items() if key != TRANSLATIONS}
    return _missing(english, own if isinstance(own, Mapping) else {}, "")


def _missing(english: Mapping[str, Any], own: Mapping[str, Any], prefix: str) -> list[str]:
    found = []
    for key, value in english.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            inner = own.get(key)
            found += _missing(value, inner if isinstance(inner, Mapping) else {}, f"{name}.")
        elif key not in own:
            found.append(name)
    return found
