"""Values for response placeholders: times, dates, "2 days ago", display names, in the reply's language.

Only the values: the sentences around them are responses in the domain. English is written as the
assistant always wrote it ("Mon 30 Nov, 8:30 am", "5 minutes ago"); any other language through Babel's
CLDR data ("lun 30 nov, 8:30 a. m.", "hace 5 minutos", "sábado"), so a new language needs no code.
The agency's own vocabulary (request statuses, collection streams, frequencies, holiday names) is
data/language/values.yml, a texts file with a ``translations:`` block (`bot.language.texts`); a code
it does not list is written as the system sent it. Pure functions apart from reading that file once.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

import yaml
from babel import localedata
from babel.dates import format_date, format_time, format_timedelta, get_day_names

from bot.content.agency import SOURCE_LANGUAGE
from bot.language.texts import localized

VALUES_FILE = Path(__file__).resolve().parent.parent / "data" / "language" / "values.yml"
# English weekday names as `%A` writes them in the C locale the servers run in (and as they always read).
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
Unit = Literal["day", "hour", "minute"]
AGO_UNITS: tuple[tuple[Unit, int], ...] = (("day", 86400), ("hour", 3600), ("minute", 60))
NEVER = 1e12  # a Babel threshold no span reaches: the unit chosen here is the one written
# CLDR puts no-break spaces inside values ("8:30 a.\u202fm."): plain spaces read the same in the web
# chat, keep an SMS in the encoding its other characters need, and match what staff and tests type.
PLAIN_SPACES = str.maketrans({"\u00a0": " ", "\u202f": " "})


@functools.cache
def load_values(path: Path = VALUES_FILE) -> dict[str, Any]:
    """The words file as written (all languages); ValueError naming the file when it is not a mapping."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: expected `section: {{code: words}}` mappings")
    return raw


@functools.cache
def values_in(language: str) -> dict[str, Any]:
    """The words file as `language` reads it (English where a key is not translated yet)."""
    return localized(load_values(), language)


def _word(section: str, code: str, language: str) -> str | None:
    words = values_in(language).get(section)
    found = words.get(code) if isinstance(words, Mapping) else None
    return str(found) if found is not None else None


def _pattern(name: str, language: str) -> str:
    formats = values_in(language).get("formats")
    return str(formats[name]) if isinstance(formats, Mapping) and name in formats else ""


def _as_ever(language: str) -> bool:
    """Whether to write as the assistant always wrote (English, or a code CLDR has no calendar for:
    a reply with English dates beats a lookup that fails)."""
    return language == SOURCE_LANGUAGE or not localedata.exists(language)


def clock_time(moment: time, language: str = SOURCE_LANGUAGE) -> str:
    """ "8:30 am", "4 pm", "12 pm"; in Spanish "8:30 a. m.", "4 p. m."."""
    if _as_ever(language):
        hour = moment.hour % 12 or 12
        suffix = "am" if moment.hour < 12 else "pm"
        return f"{hour}:{moment.minute:02d} {suffix}" if moment.minute else f"{hour} {suffix}"
    pattern = _pattern("time" if moment.minute else "time_on_the_hour", language)
    return format_time(moment, pattern or "short", locale=language).translate(PLAIN_SPACES)


def day_text(day: date, language: str = SOURCE_LANGUAGE) -> str:
    """ "Mon 30 Nov"; in Spanish "lun 30 nov"."""
    if _as_ever(language):
        return f"{day:%a} {day.day} {day:%b}"
    return format_date(day, _pattern("day", language) or "medium", locale=language).translate(PLAIN_SPACES)


def moment_text(moment: datetime, zone: ZoneInfo, language: str = SOURCE_LANGUAGE) -> str:
    """ "Mon 30 Nov, 8:30 am" in the agency's zone; in Spanish "lun 30 nov, 8:30 a. m."."""
    local = moment.astimezone(zone)
    day, clock = day_text(local.date(), language), clock_time(local.time(), language)
    if _as_ever(language):
        return f"{day}, {clock}"
    return (_pattern("moment", language) or "{day}, {time}").replace("{day}", day).replace("{time}", clock)


def as_of_text(moment: datetime, zone: ZoneInfo, now: datetime, language: str = SOURCE_LANGUAGE) -> str:
    """ "10:42 am" the same day, else "Tue 24 Nov, 10:42 am"."""
    local = moment.astimezone(zone)
    if local.date() == now.astimezone(zone).date():
        return clock_time(local.time(), language)
    return moment_text(moment, zone, language)


def ago_text(moment: datetime, now: datetime, language: str = SOURCE_LANGUAGE) -> str:
    """ "just now", "5 minutes ago", "3 hours ago", "2 days ago"; in Spanish "hace 5 minutos".

    Whole units, rounded down, in every language: "59 minutes ago" never becomes "1 hour ago"
    (Babel would round), so the languages say the same thing.
    """
    seconds = (now - moment).total_seconds()
    for unit, size in AGO_UNITS:
        if seconds >= size:
            count = int(seconds // size)
            if _as_ever(language):
                return f"{count} {unit}{'' if count == 1 else 's'} ago"
            span = timedelta(seconds=-count * size)
            written = format_timedelta(
                span, granularity=unit, threshold=NEVER, add_direction=True, locale=language
            )
            return written.translate(PLAIN_SPACES)
    return str(values_in(language).get("just_now") or "just now")


def hours_text(intervals: Sequence[Any], language: str = SOURCE_LANGUAGE) -> str:
    """ "8:30 am-4:30 pm" (an en dash) for items with `opens`/`closes` times; several joined by ", "."""
    return ", ".join(f"{clock_time(i.opens, language)}–{clock_time(i.closes, language)}" for i in intervals)


def weekday_name(weekday: int, language: str = SOURCE_LANGUAGE) -> str:
    """Monday = 0 -> "Monday"; in Spanish "lunes" (lower case, as Spanish writes it mid-sentence)."""
    if _as_ever(language):
        return WEEKDAY_NAMES[weekday]
    return str(get_day_names("wide", locale=language)[weekday])


def stream_name(stream: str, language: str = SOURCE_LANGUAGE) -> str:
    """ "yard_waste" -> "Yard waste"; in Spanish "Desechos de jardín"."""
    return _word("streams", stream, language) or stream.replace("_", " ").strip().capitalize()


def frequency_word(frequency: str, language: str = SOURCE_LANGUAGE) -> str:
    """How often a stream is collected ("weekly"); in Spanish "cada semana"; unknown ones as sent."""
    return _word("frequencies", frequency, language) or frequency


def status_word(status: str, language: str = SOURCE_LANGUAGE) -> str:
    """An Open311 status as sent ("open", "closed", "in_progress" -> "in progress"); in Spanish "abierta"."""
    return _word("statuses", status, language) or status.replace("_", " ").strip()


def holiday_name(name: str, language: str = SOURCE_LANGUAGE) -> str:
    """A holiday as the feed or the day words name it ("Thanksgiving Day"); in Spanish "Día de Acción
    de Gracias"; a name the words file does not list (another city's closure reason) as it is."""
    return _word("holidays", name, language) or name
