"""The languages the studio edits an entry in: the agency's ``languages_offered``, English first,
each named in its own words (``data/language/<code>.yml``: "English", "Español"), and each entry's
translation state in them: one rule for the entry page, the list and its filter, and the stale report."""

from __future__ import annotations

from collections.abc import Sequence

from bot.content.model import Entry, english_digest
from bot.content.translations import MISSING, STALE, UNSTAMPED
from bot.language.offered import language_name, language_names, offered

__all__ = [
    "FILTER_STATES",
    "STATES",
    "TO_DO",
    "UP_TO_DATE",
    "in_state",
    "language_name",
    "language_names",
    "offered",
    "translation_filter",
    "translation_state",
]

UP_TO_DATE = "up to date"
STATES = (UP_TO_DATE, STALE, UNSTAMPED, MISSING)
TO_DO = "to do"  # any state but UP_TO_DATE: what the stale report lists
FILTER_STATES = (TO_DO, MISSING, STALE, UNSTAMPED, UP_TO_DATE)  # the list's filter, a translator's order


def translation_state(entry: Entry, language: str) -> str:
    """Whether the entry's text in `language` says what its English says now: UP_TO_DATE, STALE
    (the English changed since it was made), UNSTAMPED (never checked) or MISSING."""
    found = entry.translation(language)
    if found is None:
        return MISSING
    if not found.translated_from:
        return UNSTAMPED
    return UP_TO_DATE if found.translated_from == english_digest(entry) else STALE


def translation_filter(value: str, languages: Sequence[str]) -> tuple[str, str] | None:
    """The list's ``translation`` filter, ``<code>:<state>`` with dashes for spaces (``es:to-do``,
    ``es:not-yet-stamped``), as (code, state); None when the code is not one of `languages` or the
    state not one of FILTER_STATES."""
    code, _, slug = value.partition(":")
    state = slug.replace("-", " ")
    return (code, state) if code in languages and state in FILTER_STATES else None


def in_state(state: str, wanted: str) -> bool:
    """Whether a translation `state` is what the filter `wanted` (TO_DO: anything not up to date)."""
    return state != UP_TO_DATE if wanted == TO_DO else state == wanted
