"""The day-word reader (bot/days.py): relative days, weekdays, dates, holidays, the agency's zone."""

from __future__ import annotations

from datetime import date, datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.days import DayReader, day_bounds, load_day_words, local_today

READER = DayReader(load_day_words())
HARBOR = ZoneInfo("America/New_York")
SATURDAY, SUNDAY, MONDAY = date(2026, 12, 5), date(2026, 12, 6), date(2026, 12, 7)


def day(text: str, today: date = SATURDAY, **kwargs: object) -> date | None:
    found = READER.read(text, today, **kwargs)  # type: ignore[arg-type]
    assert found is not None, text
    return found.day


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("is the depot open tomorrow?", SUNDAY),
        ("city hall open tmrw", SUNDAY),
        ("what about the day after tomorrow", MONDAY),
        ("is it open today", SATURDAY),
        ("open on Sunday?", SUNDAY),
        ("this saturday", SATURDAY),  # said on a Saturday: today
        ("next Monday", MONDAY),
        ("Dec 24", date(2026, 12, 24)),
        ("december 24th, 2027", date(2027, 12, 24)),
        ("24th of December", date(2026, 12, 24)),
        ("12/24", date(2026, 12, 24)),
        ("24/12", date(2026, 12, 24)),  # unambiguous the other way round
        ("12/24/27", date(2027, 12, 24)),
        ("2027-01-04", date(2027, 1, 4)),
        ("on the 24th?", date(2026, 12, 24)),
        ("on the 2nd?", date(2027, 1, 2)),  # this month's has passed
        ("Dec 1", date(2027, 12, 1)),  # passed this year: next year's
        ("Christmas Eve", date(2026, 12, 24)),
        ("is city hall open on xmas", date(2026, 12, 25)),
        ("New Year's Day", date(2027, 1, 1)),
        ("new years eve", date(2026, 12, 31)),
        ("thanksgiving", date(2027, 11, 25)),  # the fourth Thursday of November, next year's
        ("memorial day", date(2027, 5, 31)),  # the last Monday of May
    ],
)
def test_day_words_said_on_a_saturday(text: str, expected: date) -> None:
    assert day(text) == expected


def test_next_monday_said_on_a_monday_is_a_week_later_and_monday_is_today() -> None:
    assert day("next monday", MONDAY) == date(2026, 12, 14)
    assert day("is it open monday", MONDAY) == MONDAY
    assert day("next monday", SUNDAY) == MONDAY  # the first Monday after today


def test_kinds_and_flags() -> None:
    tonight = READER.read("any alerts tonight", SATURDAY)
    assert tonight and tonight.kind == "tonight" and tonight.is_today_or_now
    weekly = READER.read("is city hall open on saturdays", SATURDAY)
    assert weekly and weekly.every and weekly.day == SATURDAY
    assert (every := READER.read("every monday", SATURDAY)) and every.every
    after = READER.read("when is my next pickup after Thanksgiving", date(2026, 11, 20))
    assert after and after.after and after.day == date(2026, 11, 26) and after.holiday == "Thanksgiving Day"
    named = READER.read("the day after thanksgiving", date(2026, 11, 20))
    assert named and not named.after and named.day == date(2026, 11, 27)
    assert named.holiday == "Day after Thanksgiving"
    july = READER.read("is city hall open on the 4th of july", SATURDAY)
    assert july and july.holiday == "Independence Day" and july.day == date(2027, 7, 4)


def test_a_holiday_on_a_weekend_is_its_own_date_and_the_agency_names_are_known() -> None:
    # Christmas 2027 is a Saturday; the agency observes it on Friday 24 Dec, as its feed says.
    feed = {date(2027, 12, 24): "Christmas Day (observed)", date(2026, 12, 26): "Harbor Festival"}
    december = date(2027, 12, 1)
    assert day("christmas", december, agency_holidays=feed) == date(2027, 12, 25)
    assert day("christmas eve", december, agency_holidays=feed) == date(2027, 12, 24)
    assert day("is the library open for the harbor festival", SATURDAY, agency_holidays=feed) == date(
        2026, 12, 26
    )
    assert READER.holiday_rules_on(date(2027, 12, 25)) == ["Christmas Day"]


def test_dates_that_do_not_exist_are_said_so() -> None:
    found = READER.read("is it open on feb 30", SATURDAY)
    assert found and found.day is None and found.said == "feb 30"
    assert day("feb 29", SATURDAY) == date(2028, 2, 29)
    assert READER.read("is it open 13/45", SATURDAY) is None


@pytest.mark.parametrize(
    "text",
    [
        "we'd like to know the hours",  # "wed"
        "my bin sat out all day",  # "sat" is left out on purpose
        "300 River Street",
        "call 555-010-3110",
        "request 638344",
        "is the library open",
        "pickup on 4th street",
        "in may i bring leaves",  # a month without a day is no date
    ],
)
def test_no_day_in_ordinary_text(text: str) -> None:
    assert READER.read(text, SATURDAY) is None


def test_local_midnight_is_not_utc_midnight() -> None:
    # 23:30 on Saturday in Harbor City is already 04:30 on Sunday in UTC.
    late = datetime(2026, 12, 6, 4, 30, tzinfo=timezone.utc)
    today = local_today(late, HARBOR)
    assert today == SATURDAY
    assert day("tomorrow", today) == SUNDAY
    with pytest.raises(ValueError):
        local_today(datetime(2026, 12, 6, 4, 30), HARBOR)


def test_day_bounds_follow_daylight_saving() -> None:
    start, end = day_bounds(date(2026, 11, 1), HARBOR)  # clocks go back: a 25-hour day
    assert (end.astimezone(timezone.utc) - start.astimezone(timezone.utc)).total_seconds() == 25 * 3600
    assert start.utcoffset() != end.utcoffset()


def test_follow_ups_keep_the_day() -> None:
    assert READER.is_follow_up("and the library?")
    assert READER.is_follow_up("what about Riverside")
    assert not READER.is_follow_up("is the library open")
    assert not READER.is_follow_up("andrew street")


def test_a_broken_language_file_names_the_key(tmp_path: Path) -> None:
    path = tmp_path / "xx.yml"
    path.write_text("stopwords: [a]\n")
    with pytest.raises(ValueError, match="days section is missing"):
        load_day_words(path)
    path.write_text("days:\n  numeric_order: sideways\n")
    with pytest.raises(ValueError, match="numeric_order"):
        load_day_words(path)


def test_day_first_order(tmp_path: Path) -> None:
    text = Path(load_day_words.__defaults__[0]).read_text()  # type: ignore[index]
    path = tmp_path / "en-gb.yml"
    path.write_text(text.replace("numeric_order: month_first", "numeric_order: day_first"))
    reader = DayReader(load_day_words(path))
    found = reader.read("is it open 1/2", SATURDAY)
    assert found and found.day == date(2027, 2, 1)
