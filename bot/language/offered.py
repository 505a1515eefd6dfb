"""The languages a console page offers: the agency's ``languages_offered``, English first, each named
in its own words (``data/language/<code>.yml``: "English", "Español"). Shared by the studio and the
review inbox (console features never import each other)."""

from __future__ import annotations

from pathlib import Path

from bot.content.agency import SOURCE_LANGUAGE, load_agency
from bot.content.model import ContentError
from bot.language.words import LANGUAGE_DIR, load_language_words


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
