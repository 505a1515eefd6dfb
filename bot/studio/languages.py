"""The languages the studio edits an entry in: the agency's ``languages_offered``, English first,
each named in its own words (``data/language/<code>.yml``: "English", "Español")."""

from __future__ import annotations

from bot.content.model import Entry, english_digest
from bot.content.translations import MISSING, STALE, UNSTAMPED
from bot.language.offered import language_name, language_names, offered

__all__ = ["STATES", "UP_TO_DATE", "language_name", "language_names", "offered", "translation_state"]

UP_TO_DATE = "up to date"
STATES = (UP_TO_DATE, STALE, UNSTAMPED, MISSING)


def translation_state(entry: Entry, language: str) -> str:
    """Whether the entry's text in `language` says what its English says now: UP_TO_DATE, STALE
    (the English changed since it was made), UNSTAMPED (never checked) or MISSING."""
    found = entry.translation(language)
    if found is None:
        return MISSING
    if not found.translated_from:
        return UNSTAMPED
    return UP_TO_DATE if found.translated_from == english_digest(entry) else STALE
