"""The day-word reader in Spanish (bot/days.py with data/language/es.yml), and the day an action reads
in a Spanish conversation (actions/asked_day.py)."""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from rasa_sdk import Tracker

from actions.asked_day import DAY_SLOT, asked_day
from bot.days import day_reader

READER = day_reader("es")
HARBOR = ZoneInfo("America/New_York")
SATURDAY, SUNDAY, MONDAY = date(2026, 12, 5), date(2026, 12, 6), date(2026, 12, 7)


def day(text: str, today: date = SATURDAY, **kwargs: Any) -> date | None:
    found = READER.read(text, today, **kwargs)
    assert found is not None, text
    return found.day


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("¿abre hoy?", SATURDAY),
        ("¿está abierto el depósito mañana?", SUNDAY),
        ("manana", SUNDAY),  # without the accent
        ("mañana por la mañana", SUNDAY),
        ("mañana en la mañana", SUNDAY),
        ("pasado mañana", MONDAY),
        ("esta mañana", SATURDAY),
        ("¿abre el domingo?", SUNDAY),
        ("este sábado", SATURDAY),  # said on a Saturday: today
        ("el próximo lunes", MONDAY),
        ("el proximo lunes", MONDAY),
        ("el lunes que viene", MONDAY),
        ("24 de diciembre", date(2026, 12, 24)),
        ("el 24 de diciembre de 2027", date(2027, 12, 24)),
        ("24 de dic.", date(2026, 12, 24)),
        ("el 24", date(2026, 12, 24)),
        ("el día 24", date(2026, 12, 24)),
        ("el 2", date(2027, 1, 2)),  # this month's has passed
        ("1ro de enero", date(2027, 1, 1)),
        ("24/12", date(2026, 12, 24)),
        ("12/24", date(2026, 12, 24)),  # unambiguous the other way round
        ("1/2", date(2027, 2, 1)),  # day first: 1 February
        ("2027-01-04", date(2027, 1, 4)),
        ("Navidad", date(2026, 12, 25)),
        ("¿abre el ayuntamiento en Nochebuena?", date(2026, 12, 24)),
        ("Año Nuevo", date(2027, 1, 1)),
        ("ano nuevo", date(2027, 1, 1)),
        ("Día de Acción de Gracias", date(2027, 11, 25)),
        ("accion de gracias", date(2027, 11, 25)),
        ("el Día de los Caídos", date(2027, 5, 31)),
        ("el 4 de julio", date(2027, 7, 4)),
        ("memorial day", date(2027, 5, 31)),  # the English names many use too
    ],
)
def test_day_words_said_on_a_saturday(text: str, expected: date) -> None:
    assert day(text) == expected


def test_next_monday_said_on_a_monday_is_a_week_later_and_monday_is_today() -> None:
    assert day("el próximo lunes", MONDAY) == date(2026, 12, 14)
    assert day("el lunes que viene", MONDAY) == date(2026, 12, 14)
    assert day("¿abre el lunes?", MONDAY) == MONDAY
    assert day("el próximo lunes", SUNDAY) == MONDAY


def test_kinds_and_flags() -> None:
    tonight = READER.read("¿alguna alerta esta noche?", SATURDAY)
    assert tonight and tonight.kind == "tonight" and tonight.is_today_or_now
    assert (later := READER.read("hoy en la noche", SATURDAY)) and later.kind == "tonight"
    weekly = READER.read("¿abre el ayuntamiento los sábados?", SATURDAY)
    assert weekly and weekly.every and weekly.day == SATURDAY
    mondays = READER.read("¿pasa la basura los lunes?", SATURDAY)
    assert mondays and mondays.every and mondays.day == MONDAY
    assert (every := READER.read("todos los lunes", SATURDAY)) and every.every
    assert (each := READER.read("cada miércoles", SATURDAY)) and each.every
    one_monday = READER.read("¿pasa la basura el lunes?", SATURDAY)
    assert one_monday and not one_monday.every
    after = READER.read("¿cuándo es la próxima recolección después de Acción de Gracias?", date(2026, 11, 20))
    assert after and after.after and after.day == date(2026, 11, 26)
    named = READER.read("el día después de Acción de Gracias", date(2026, 11, 20))
    assert named and not named.after and named.day == date(2026, 11, 27)
    assert named.holiday == "Day after Thanksgiving"


def test_a_holiday_is_known_by_its_english_name_which_the_replies_translate() -> None:
    christmas = READER.read("Navidad", SATURDAY)
    assert christmas and christmas.holiday == "Christmas Day"
    thanksgiving = READER.read("Acción de Gracias", SATURDAY)
    assert thanksgiving and thanksgiving.holiday == "Thanksgiving Day"
    assert READER.holiday_rules_on(date(2027, 12, 25)) == ["Christmas Day"]


def test_the_agencys_own_holidays_are_known_in_spanish_too() -> None:
    # Christmas 2027 is a Saturday; the agency observes it on Friday 24 Dec, as its feed says.
    feed = {date(2027, 12, 24): "Christmas Day (observed)", date(2026, 12, 26): "Harbor Festival"}
    december = date(2027, 12, 1)
    assert day("navidad", december, agency_holidays=feed) == date(2027, 12, 25)
    assert day("nochebuena", december, agency_holidays=feed) == date(2027, 12, 24)
    assert day("¿abre la biblioteca por el Harbor Festival?", SATURDAY, agency_holidays=feed) == date(
        2026, 12, 26
    )


def test_dates_that_do_not_exist_are_said_so() -> None:
    found = READER.read("¿abre el 30 de febrero?", SATURDAY)
    assert found and found.day is None and found.said == "30 de febrero"
    assert READER.read("¿abre el 45/13?", SATURDAY) is None


@pytest.mark.parametrize(
    "text",
    [
        "¿abren por la mañana?",  # in the morning, not tomorrow
        "¿a qué hora abren en la mañana?",
        "a las 9 de la mañana",
        "buenos días",
        "300 River Street",
        "la calle 8",
        "llame al 555-010-3110",
        "solicitud 638344",
        "¿está abierta la biblioteca?",
        "en mayo traigo hojas",  # a month without a day is no date
        "el mar estaba tranquilo",
    ],
)
def test_no_day_in_ordinary_text(text: str) -> None:
    assert READER.read(text, SATURDAY) is None


def test_follow_ups_keep_the_day() -> None:
    assert READER.is_follow_up("y la biblioteca?")
    assert READER.is_follow_up("¿y la biblioteca?")
    assert READER.is_follow_up("¿Y el depósito?")
    assert READER.is_follow_up("¿qué tal Riverside?")
    assert not READER.is_follow_up("¿está abierta la biblioteca?")
    assert not READER.is_follow_up("yo quiero saber")


# --- in a conversation: the action reads the conversation's language -------------------------------


def tracker(text: str, slots: dict[str, Any]) -> Tracker:
    message = {"text": text, "intent": {"name": "ask_facility_hours"}, "entities": []}
    return Tracker("citizen-1", slots, message, [], False, None, {}, "action_listen")


SATURDAY_NOON = datetime(2026, 12, 5, 17, 0, tzinfo=timezone.utc)


def test_a_spanish_conversation_reads_spanish_days() -> None:
    found = asked_day(tracker("¿abre la biblioteca mañana?", {"language": "es"}), SATURDAY_NOON, HARBOR)
    assert found and found.day == SUNDAY
    guessed = asked_day(tracker("¿y mañana?", {"language_guess": "es"}), SATURDAY_NOON, HARBOR)
    assert guessed and guessed.day == SUNDAY
    assert asked_day(tracker("¿abre la biblioteca mañana?", {}), SATURDAY_NOON, HARBOR) is None  # English


def test_and_the_library_keeps_the_remembered_day_in_spanish() -> None:
    slots = {"language": "es", DAY_SLOT: "2026-12-24"}
    found = asked_day(tracker("¿y la biblioteca?", slots), SATURDAY_NOON, HARBOR)
    assert found and found.day == date(2026, 12, 24) and found.kind == "remembered"
    assert asked_day(tracker("¿está abierta la biblioteca?", slots), SATURDAY_NOON, HARBOR) is None


def test_an_english_conversation_reads_as_before() -> None:
    found = asked_day(tracker("is the library open tomorrow?", {}), SATURDAY_NOON, HARBOR)
    assert found and found.day == SUNDAY
    assert asked_day(tracker("and the library?", {DAY_SLOT: "2026-12-24"}), SATURDAY_NOON, HARBOR)
