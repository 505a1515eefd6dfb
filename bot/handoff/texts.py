"""Citizen-facing wording of the console: data/handoff/messages.yml and canned_replies.yml.

Read per use, so staff edits apply at once; ``{agency.<key>}`` placeholders get the
agency's facts from data/agency.yml (``bot.content.agency``), as written in the language.

Each file holds its English texts and a ``translations:`` block per language
(``bot.language.texts``). A conversation is told its texts in its language when the agency offers
it (``languages_offered``) and in English otherwise: the language comes from the conversation's
slots, which a citizen can set to anything, so it is never trusted as a locale or a file name.
"""

from __future__ import annotations

import functools
import logging
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from babel.core import UnknownLocaleError
from babel.dates import format_datetime, format_skeleton, format_time, get_datetime_format

from bot.content.agency import SOURCE_LANGUAGE, Agency, load_agency
from bot.content.model import ContentError
from bot.language.texts import TRANSLATIONS, localized
from bot.language.words import language_file, load_language_words

log = logging.getLogger(__name__)
# Without a pattern of its own, a language writes the next staffed time in its CLDR form of these.
NEXT_OPEN_DAY_SKELETON = "MMMMEEEEd"
# CLDR puts no-break spaces inside values ("7:00 a.\u202fm."): plain spaces read the same in the web chat
# and keep an SMS in the encoding its other characters need (as bot/formatting.py writes its values).
PLAIN_SPACES = str.maketrans({"\u00a0": " ", "\u202f": " "})


def spoken(language: str) -> str:
    """`language` when the agency offers it, else English (the texts' source)."""
    return language if language in load_agency().languages else SOURCE_LANGUAGE


def offered_languages() -> tuple[str, ...]:
    """The languages the agency offers (English first): those an agent may pick for a conversation."""
    return load_agency().languages


def language_name(language: str) -> str:
    """A language's own name ("Español") for the console; a code the agency does not offer is shown
    as it is (and never names a file to read)."""
    if language not in load_agency().languages:
        return language
    try:
        stamp = language_file(language).stat().st_mtime_ns
    except OSError:
        stamp = 0
    return _own_name(language, stamp)


@functools.lru_cache(maxsize=32)
def _own_name(language: str, stamp: int) -> str:
    """The ``language:`` name of data/language/<code>.yml, read again when the file changes (`stamp`)."""
    try:
        return load_language_words(language).name
    except ContentError as exc:
        log.warning("no name for the language %s: %s", language, exc)
        return language


def _agency(language: str) -> Agency:
    return load_agency().in_language(language)


def _raw(path: Path) -> dict[str, Any]:
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return raw if isinstance(raw, dict) else {}


def _messages(data_dir: Path, language: str = SOURCE_LANGUAGE) -> dict[str, Any]:
    return localized(_raw(data_dir / "messages.yml"), spoken(language))


def text(data_dir: Path, key: str, *, language: str = SOURCE_LANGUAGE, **values: Any) -> str:
    """The ``key`` text in `language` with the agency's facts, then ``values``, filled in.

    Raises ``KeyError`` for a missing text or value and ``UnknownFactError`` for an unknown fact.
    """
    template = _messages(data_dir, language).get(key)
    if not isinstance(template, str):
        raise KeyError(f"{data_dir / 'messages.yml'} has no text {key!r}")
    return _agency(spoken(language)).expand(template).format(**values)


def count_text(data_dir: Path, key: str, n: int, language: str = SOURCE_LANGUAGE) -> str:
    """``n`` in words from ``counts.<key>``: ``zero`` for 0 (when given), ``one`` for 1, else ``other``.

    Raises ``KeyError`` naming the file when the count or the form it needs is missing.
    """
    forms = (_messages(data_dir, language).get("counts") or {}).get(key)
    if not isinstance(forms, dict):
        raise KeyError(f"{data_dir / 'messages.yml'} has no counts.{key}")
    form = "zero" if n == 0 and "zero" in forms else "one" if n == 1 else "other"
    template = forms.get(form)
    if not isinstance(template, str):
        raise KeyError(f"{data_dir / 'messages.yml'}: counts.{key} has no {form!r} form")
    return template.format(n=n)


def wait_words(
    data_dir: Path, position: int, minutes: int, language: str = SOURCE_LANGUAGE
) -> dict[str, str]:
    """The ``{ahead}`` and ``{wait}`` of the handoff texts for a place in line and a wait in minutes."""
    return {
        "ahead": count_text(data_dir, "ahead", max(0, position - 1), language),
        "wait": count_text(data_dir, "wait", minutes, language),
    }


def next_open_text(data_dir: Path, when: datetime | None, language: str = SOURCE_LANGUAGE) -> str:
    """The ``{next_open}`` of "we're back ...": `when` (aware, in the hours' time zone) written
    with ``next_open_format`` in `language` (Babel's CLDR data names the days and months), or
    ``next_open_unknown`` when nothing is scheduled."""
    language = spoken(language)
    texts = _messages(data_dir, language)
    if when is None:
        return str(texts.get("next_open_unknown") or "")
    pattern = _own_next_open_format(data_dir, language)
    if "%" in pattern:  # the strftime codes of earlier versions: English names only
        return when.strftime(pattern)
    try:
        if not pattern:  # no pattern of its own: the language's usual way of writing a day and time
            return _usual_day_and_time(when, language).translate(PLAIN_SPACES)
        return str(format_datetime(when, pattern, tzinfo=when.tzinfo, locale=language)).translate(
            PLAIN_SPACES
        )
    except UnknownLocaleError:  # an offered language Babel has no data for: said in English
        log.warning("Babel has no locale %s; the next staffed time is written in English", language)
        return next_open_text(data_dir, when, SOURCE_LANGUAGE)


def _own_next_open_format(data_dir: Path, language: str) -> str:
    """The pattern written for `language` (English's for English); "" when a translation has none,
    since the English one would put English words ("at") between the other language's names."""
    raw = _raw(data_dir / "messages.yml")
    if language == SOURCE_LANGUAGE:
        return str(raw.get("next_open_format") or "")
    own = (raw.get(TRANSLATIONS) or {}).get(language)
    return str(own.get("next_open_format") or "") if isinstance(own, dict) else ""


def _usual_day_and_time(when: datetime, language: str) -> str:
    day = format_skeleton(NEXT_OPEN_DAY_SKELETON, when, tzinfo=when.tzinfo, locale=language)
    clock = format_time(when, "short", tzinfo=when.tzinfo, locale=language)
    return str(get_datetime_format("long", locale=language)).replace("{1}", day).replace("{0}", clock)


def canned_replies(data_dir: Path, language: str = SOURCE_LANGUAGE) -> list[dict[str, str]]:
    """The ``title`` and ``text`` of each reply in ``canned_replies.yml`` in `language` ([] without
    the file): each English reply in its translation of the same title, else in English, then the
    replies only that language has.

    Texts come with the agency's facts filled in; an unknown ``{agency.<key>}`` stays as
    written for the agent to see (``content check`` reports it).
    """
    path = data_dir / "canned_replies.yml"
    if not path.exists():
        return []
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    language = spoken(language)
    english = _reply_items(raw)
    own = _reply_items(localized(raw, language)) if language != SOURCE_LANGUAGE else english
    by_title = {item.get("title"): item for item in own if item.get("title")}
    chosen = [by_title.get(item.get("title"), item) for item in english]
    chosen += [item for item in own if item not in chosen]
    agency = _agency(language)
    replies = []
    for item in chosen:
        said = agency.expand(str(item["text"]), strict=False)
        replies.append({"title": str(item.get("title") or said)[:80], "text": said})
    return replies


def _reply_items(raw: Any) -> list[dict[str, Any]]:
    """The replies of a canned-replies file (without its translations): a list of title and text,
    or a mapping of title to text."""
    if isinstance(raw, dict):
        raw = {key: value for key, value in raw.items() if key != TRANSLATIONS}
        items = raw.get("canned_replies", raw.get("replies", raw))
    else:
        items = raw
    if isinstance(items, dict):
        items = [{"title": k, "text": v} for k, v in items.items()]
    return [item for item in items or [] if isinstance(item, dict) and item.get("text")]
