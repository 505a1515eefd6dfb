"""The values lookups write into replies (bot/formatting.py), in Spanish and, unchanged, in English.

Pure: Babel's CLDR data and data/language/values.yml, no servers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from bot.formatting import (
    VALUES_FILE,
    ago_text,
    as_of_text,
    clock_time,
    day_text,
    frequency_word,
    holiday_name,
    hours_text,
    moment_text,
    status_word,
    stream_name,
    weekday_name,
)
from bot.language.texts import untranslated

HARBOR = ZoneInfo("America/New_York")
NOW = datetime(2026, 11, 25, 15, 0, tzinfo=timezone.utc)  # Wed 25 Nov, 10 am in Harbor City
MONDAY_MORNING = datetime(2026, 11, 30, 13, 30, tzinfo=timezone.utc)  # Mon 30 Nov, 8:30 am there


@dataclass(frozen=True)
class Span:
    opens: time
    closes: time


OFFICE = [Span(time(8, 30), time(16, 30))]
SPLIT = [Span(time(9), time(12)), Span(time(13), time(17))]


# --- English: byte for byte what the assistant always wrote ----------------------------------------


def test_english_times_and_dates_are_unchanged():
    assert [clock_time(t) for t in (time(8, 30), time(16), time(12), time(0), time(0, 5))] == [
        "8:30 am",
        "4 pm",
        "12 pm",
        "12 am",
        "12:05 am",
    ]
    assert clock_time(time(13), "en") == "1 pm"
    assert day_text(date(2026, 11, 30)) == day_text(date(2026, 11, 30), "en") == "Mon 30 Nov"
    assert moment_text(MONDAY_MORNING, HARBOR) == "Mon 30 Nov, 8:30 am"
    assert as_of_text(NOW - timedelta(minutes=18), HARBOR, NOW) == "9:42 am"
    assert as_of_text(NOW - timedelta(days=1), HARBOR, NOW, "en") == "Tue 24 Nov, 10 am"
    assert hours_text(OFFICE) == "8:30 am–4:30 pm"
    assert hours_text(SPLIT, "en") == "9 am–12 pm, 1 pm–5 pm"


def test_english_ago_is_unchanged():
    ago = [ago_text(NOW - timedelta(seconds=s), NOW) for s in (30, 60, 300, 3599, 3600, 10800, 86400, 172800)]
    assert ago == [
        "just now",
        "1 minute ago",
        "5 minutes ago",
        "59 minutes ago",
        "1 hour ago",
        "3 hours ago",
        "1 day ago",
        "2 days ago",
    ]


def test_english_words_are_unchanged():
    assert [weekday_name(i) for i in (0, 5, 6)] == ["Monday", "Saturday", "Sunday"]
    assert weekday_name(date(2026, 12, 6).weekday()) == f"{date(2026, 12, 6):%A}"
    assert [stream_name(s) for s in ("trash", "recycling", "yard_waste", "bulky_items")] == [
        "Trash",
        "Recycling",
        "Yard waste",
        "Bulky items",  # a stream the words file does not list: as before
    ]
    assert [frequency_word(f) for f in ("weekly", "biweekly", "monthly", "")] == [
        "weekly",
        "biweekly",
        "monthly",
        "",
    ]
    assert [status_word(s) for s in ("open", "closed", "in_progress", "on_hold")] == [
        "open",
        "closed",
        "in progress",
        "on hold",
    ]
    assert holiday_name("Thanksgiving Day") == "Thanksgiving Day"
    assert holiday_name("Founders' Day") == "Founders' Day"


# --- Spanish ------------------------------------------------------------------------------------------


def test_spanish_times_read_a_m_and_p_m():
    assert clock_time(time(8, 30), "es") == "8:30 a. m."
    assert clock_time(time(13), "es") == "1 p. m."
    assert clock_time(time(12), "es") == "12 p. m."
    assert clock_time(time(0), "es") == "12 a. m."
    assert hours_text(OFFICE, "es") == "8:30 a. m.–4:30 p. m."
    assert hours_text(SPLIT, "es") == "9 a. m.–12 p. m., 1 p. m.–5 p. m."


def test_spanish_dates_and_moments():
    assert day_text(date(2026, 11, 30), "es") == "lun 30 nov"
    assert day_text(date(2026, 11, 28), "es") == "sáb 28 nov"
    assert moment_text(MONDAY_MORNING, HARBOR, "es") == "lun 30 nov, 8:30 a. m."
    assert as_of_text(NOW - timedelta(minutes=18), HARBOR, NOW, "es") == "9:42 a. m."
    assert as_of_text(NOW - timedelta(days=1), HARBOR, NOW, "es") == "mar 24 nov, 10 a. m."


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (30, "hace un momento"),
        (60, "hace 1 minuto"),
        (300, "hace 5 minutos"),
        (3599, "hace 59 minutos"),  # whole units, rounded down as in English, never "hace 1 hora"
        (3600, "hace 1 hora"),
        (10800, "hace 3 horas"),
        (86400, "hace 1 día"),
        (45 * 86400, "hace 45 días"),  # never "hace 2 meses": the same unit English uses
    ],
)
def test_spanish_ago(seconds, expected):
    assert ago_text(NOW - timedelta(seconds=seconds), NOW, "es") == expected


def test_spanish_words():
    assert [weekday_name(i, "es") for i in (0, 2, 5, 6)] == ["lunes", "miércoles", "sábado", "domingo"]
    assert [stream_name(s, "es") for s in ("trash", "recycling", "yard_waste")] == [
        "Basura",
        "Reciclaje",
        "Desechos de jardín",
    ]
    assert stream_name("bulky_items", "es") == "Bulky items"  # not in the words file: as the system sends it
    assert [frequency_word(f, "es") for f in ("weekly", "biweekly", "monthly")] == [
        "cada semana",
        "cada dos semanas",
        "una vez al mes",
    ]
    assert [status_word(s, "es") for s in ("open", "closed", "in_progress")] == [
        "abierta",
        "cerrada",
        "en curso",
    ]
    assert status_word("on_hold", "es") == "on hold"
    assert holiday_name("Thanksgiving Day", "es") == "Día de Acción de Gracias"
    assert holiday_name("Christmas Day (observed)", "es") == "feriado de Navidad"
    assert holiday_name("Founders' Day", "es") == "Founders' Day"


def test_a_language_without_words_gets_cldr_dates_and_english_words():
    """A third language works before anyone writes its words: Babel knows its calendar."""
    assert day_text(date(2026, 11, 30), "vi") != "Mon 30 Nov"
    assert "30" in day_text(date(2026, 11, 30), "vi")
    assert ago_text(NOW - timedelta(minutes=5), NOW, "vi") != "5 minutes ago"
    assert stream_name("yard_waste", "vi") == "Yard waste"
    assert status_word("in_progress", "vi") == "in progress"


def test_a_code_without_cldr_data_is_written_as_in_english_rather_than_failing():
    assert day_text(date(2026, 11, 30), "xx") == "Mon 30 Nov"
    assert moment_text(MONDAY_MORNING, HARBOR, "xx") == "Mon 30 Nov, 8:30 am"
    assert ago_text(NOW - timedelta(minutes=5), NOW, "xx") == "5 minutes ago"
    assert weekday_name(5, "xx") == "Saturday"


# --- the words file -------------------------------------------------------------------------------------


def test_the_words_file_is_fully_translated_into_spanish():
    texts = yaml.safe_load(Path(VALUES_FILE).read_text(encoding="utf-8"))
    assert untranslated(texts, "es") == []


def test_every_holiday_the_day_words_name_has_a_spanish_name():
    language = yaml.safe_load((Path(VALUES_FILE).parent / "en.yml").read_text(encoding="utf-8"))
    names = [h["name"] for h in language["days"]["holidays"]]
    assert names and all(holiday_name(n, "es") != n or n in ("Halloween", "Juneteenth") for n in names)
