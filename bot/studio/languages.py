"""The languages the studio edits an entry in: the agency's ``languages_offered``, English first,
each named in its own words (``data/language/<code>.yml``: "English", "Español")."""

from __future__ import annotations

from pathlib import Path

from bot.content.agency import SOURCE_LANGUAGE, load_agency
from bot.content.model import ContentError, Entry, english_digest
from bot.content.translations import MISSING, STALE, UNSTAMPED
from bot.language.words import LANGUAGE_DIR, load_language_words

UP_TO_DATE = "up to date"
STATES = (UP_TO_DATE, STALE, UNSTAMPED, MISSING)


def offered(agency_file: Path) -> tuple[str, ...]:
    """The agency's languages, English (the source) first; English alone when the file cannot be read."""
    try:
        languages = load_agency(agency_file).languages
    except ContentError:
        languages = (SOURCE_LANGUAGE,)
    return (SOURCE_LANGUAGE, *(code for code in languages if code != SOURCE_LANGUAGE))


def language_name(code: str, root: Path = Path(".")) -> str:
    """The language's own name, from the project's words files (`root`'s, else the working
    directory's, where the assistant reads them); its code when neither names it."""
    for directory in dict.fromkeys((root / LANGUAGE_DIR, LANGUAGE_DIR)):
        try:
            return load_language_words(code, directory).name
        except ContentError:
            continue
    return code


def language_names(codes: tuple[str, ...] | list[str], root: Path = Path(".")) -> dict[str, str]:
    return {code: language_name(code, root) for code in codes}


def translation_state(entry: Entry, language: str) -> str:
    """Whether the entry's text in `language` says what its English says now: UP_TO_DATE, STALE
    (the English changed since it was made), UNSTAMPED (never checked) or MISSING."""
    found = entry.translation(language)
    if found is None:
        return MISSING
    if not found.translated_from:
        return UNSTAMPED
    return UP_TO_DATE if found.translated_from == english_digest(entry) else STALE
