"""Facility hours: the client against a fixture feed, and the pure time-zone edges.

The fixture's agency is in New York; every `now` below is given in UTC on
purpose, so a test only passes if local wall-clock time is worked out right.
"""

from __future__ import annotations

from datetime import date, datetime, time, timezone

import pytest

from bot.clients.errors import AgencyUnavailable, NotFound
from bot.clients.facilities import FacilitiesClient, Facility, parse_facilities
from bot.opening_hours import Interval, hours_on, open_now

PATH = "/facilities.json"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


@pytest.fixture
async def facilities(session, canned) -> dict[str, Facility]:
    canned.reply("GET", PATH, fixture="facilities/facilities.json")
    found = await FacilitiesClient(session, canned.base_url).facilities()
    return {f.id: f for f in found}


async def test_the_feed_is_read_with_holidays_applied_where_asked(facilities):
    town_hall = facilities["town-hall"]
    assert town_hall.name == "Town Hall" and town_hall.address == "1 Civic Plaza"
    assert town_hall.timezone == "America/New_York" and town_hall.phone == "555-000-1000"
    assert town_hall.week[0] == (Interval(time(8, 30), time(16, 30)),)
    assert 5 not in town_hall.week and 6 not in town_hall.week
    assert town_hall.closures == {date(2026, 11, 26): "Thanksgiving Day", date(2026, 12, 25): "Christmas Day"}
    assert facilities["tow-yard"].closures == {}  # not closed_on_holidays
    assert facilities["west-office"].timezone == "America/Los_Angeles"


async def test_a_facility_is_found_by_id_name_or_alias(session, canned):
    canned.reply("GET", PATH, fixture="facilities/facilities.json")
    client = FacilitiesClient(session, canned.base_url)
    assert (await client.facility("municipal  building")).id == "town-hall"
    assert (await client.facility("TOW YARD")).id == "tow-yard"
    assert [f.id for f in await client.find("impound")] == ["tow-yard"]
    with pytest.raises(NotFound):
        await client.facility("Moon Base")


@pytest.mark.parametrize(
    "now,is_open",
    [
        (utc(2026, 11, 25, 13, 29), False),  # Wednesday 08:29 EST
        (utc(2026, 11, 25, 13, 30), True),  # 08:30 opens
        (utc(2026, 11, 25, 21, 29), True),  # 16:29
        (utc(2026, 11, 25, 21, 30), False),  # 16:30 closing time is exclusive
        (utc(2026, 11, 26, 4, 59), False),  # 23:59 Wednesday
        (utc(2026, 11, 26, 15, 0), False),  # 10:00 on Thanksgiving (a Thursday)
        (utc(2026, 11, 28, 15, 0), False),  # Saturday
        (utc(2026, 7, 15, 12, 45), True),  # 08:45 EDT: summer offset, not a fixed -05:00
        (utc(2026, 12, 24, 16, 59), True),  # 11:59 on Christmas Eve (special hours)
        (utc(2026, 12, 24, 17, 0), False),  # closes at noon
    ],
)
def test_town_hall(facilities, now, is_open):
    assert open_now(facilities["town-hall"], now) is is_open


def test_open_now_at_2359_local(facilities):
    at_2359 = utc(2026, 11, 27, 4, 59, 59)  # Thursday 26 November 23:59:59 EST, UTC already Friday
    assert open_now(facilities["tow-yard"], at_2359)
    assert open_now(facilities["late-library"], at_2359)  # Thursday 18:00-24:00
    assert not open_now(facilities["late-library"], utc(2026, 11, 27, 5, 0))  # midnight: closed
    assert not open_now(facilities["town-hall"], at_2359)


def test_24_7_is_open_at_every_minute_of_a_holiday(facilities):
    tow_yard = facilities["tow-yard"]
    assert all(open_now(tow_yard, utc(2026, 11, 26, h, m)) for h in range(24) for m in (0, 30, 59))
    assert hours_on(tow_yard, date(2026, 11, 26)).all_day


def test_overnight_hours_run_past_midnight(facilities):
    market = facilities["night-market"]  # Friday and Saturday 18:00-02:00
    assert not open_now(market, utc(2026, 11, 20, 22, 59))  # Friday 17:59 EST
    assert open_now(market, utc(2026, 11, 20, 23, 0))  # Friday 18:00
    assert open_now(market, utc(2026, 11, 21, 4, 59))  # Friday 23:59
    assert open_now(market, utc(2026, 11, 21, 6, 59))  # Saturday 01:59, still Friday's night
    assert not open_now(market, utc(2026, 11, 21, 7, 0))  # Saturday 02:00
    assert open_now(market, utc(2026, 11, 22, 6, 0))  # Sunday 01:00, Saturday's night
    assert not open_now(market, utc(2026, 11, 23, 6, 0))  # Monday 01:00: nothing on Sunday


def test_a_closure_also_cancels_the_night_after_it(facilities):
    market = facilities["night-market"]  # closed Friday 25 December 2026
    assert not open_now(market, utc(2026, 12, 25, 23, 30))  # Friday 18:30
    assert not open_now(market, utc(2026, 12, 26, 6, 0))  # Saturday 01:00
    assert open_now(market, utc(2026, 12, 26, 23, 30))  # Saturday 18:30 as usual


def test_hours_on_a_holiday_say_why(facilities):
    day = hours_on(facilities["town-hall"], date(2026, 11, 26))
    assert day.closed and day.note == "Thanksgiving Day"
    eve = hours_on(facilities["town-hall"], date(2026, 12, 24))
    assert eve.intervals == (Interval(time(8, 30), time(12, 0)),) and eve.note.startswith("Closes at noon")
    assert hours_on(facilities["town-hall"], date(2026, 11, 25)).intervals[0].closes == time(16, 30)


def test_a_yearly_season_wraps_the_new_year(facilities):
    rink = facilities["ice-rink"]  # Saturdays and Sundays from 12-01 to 02-28
    assert hours_on(rink, date(2026, 11, 28)).closed  # Saturday before the season
    assert hours_on(rink, date(2026, 12, 5)).note == "Skating season"
    assert open_now(rink, utc(2026, 12, 5, 15, 0))  # Saturday 10:00
    assert open_now(rink, utc(2027, 1, 2, 20, 0))  # Saturday 2 January 15:00
    assert not open_now(rink, utc(2027, 1, 4, 15, 0))  # a Monday in season
    assert hours_on(rink, date(2027, 3, 6)).closed  # a Saturday after it


def test_split_hours_close_for_lunch(facilities):
    clinic = facilities["split-clinic"]
    assert open_now(clinic, utc(2026, 11, 23, 16, 59))  # Monday 11:59
    assert not open_now(clinic, utc(2026, 11, 23, 17, 30))  # 12:30
    assert open_now(clinic, utc(2026, 11, 23, 18, 0))  # 13:00


def test_a_facility_in_another_zone_keeps_its_own_clock(facilities):
    west = facilities["west-office"]  # 09:00-17:00 Los Angeles
    assert not open_now(west, utc(2026, 11, 23, 15, 0))  # 10:00 in New York, 07:00 in LA
    assert open_now(west, utc(2026, 11, 23, 17, 0))  # 09:00 in LA


def test_a_naive_now_is_a_programming_error(facilities):
    with pytest.raises(ValueError, match="timezone-aware"):
        open_now(facilities["tow-yard"], datetime(2026, 1, 1, 12))


def feed(hours: object, **extra: object) -> dict[str, object]:
    return {"facilities": [{"id": "x", "name": "X", "hours": hours, **extra}]}


@pytest.mark.parametrize(
    "body,reason",
    [
        ({"facilities": "none"}, "facilities is not a list"),
        (feed({"monday": ["25:00-26:00"]}), "not a valid time range"),
        (feed({"monday": ["9am-5pm"]}), "not HH:MM-HH:MM"),
        (feed({"mon": ["09:00-17:00"]}), "unknown days"),
        (feed({"monday": ["09:00-09:00"]}), "opens and closes at once"),
        (feed({}, timezone="Mars/Olympus_Mons"), "unknown time zone"),
        (feed({}, closures=[{"date": "26 Nov"}]), "YYYY-MM-DD"),
        (feed({}, special_hours=[{"from": "06-15", "to": "2026-08-31", "hours": []}]), "mix"),
        ({"facilities": [{"name": "no id"}]}, "id"),
    ],
)
def test_a_feed_in_the_wrong_shape_is_unavailable(body, reason):
    with pytest.raises(AgencyUnavailable, match=reason):
        parse_facilities(body)


async def test_a_broken_feed_over_http_is_unavailable(session, canned):
    canned.reply("GET", PATH, body='{"facilities": [{"id": 1}]}')
    with pytest.raises(AgencyUnavailable, match="name"):
        await FacilitiesClient(session, canned.base_url).facilities()
