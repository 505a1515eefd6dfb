"""Facilities and their hours from the agency's facilities endpoint (format: docs/agency-apis.md).

The client only fetches and validates the feed; what the hours mean at an instant (open now,
next opening) is `bot.opening_hours`. A facility's hours are in its own time zone: the
facility's `timezone`, else the feed's, else AGENCY_TIMEZONE.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import aiohttp

from bot.clients.errors import AgencyUnavailable, NotFound
from bot.clients.payload import DEFAULT_TIMEZONE, Reader
from bot.clients.transport import DEFAULT_TIMEOUT, decode_json, expect_ok, send
from bot.opening_hours import Interval, Period, SpecialHours, Week

API = "facilities"
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_INTERVAL = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
_MONTH_DAY = re.compile(r"^(\d{2})-(\d{2})$")
_LEAP_YEAR = 2000  # a yearly "MM-DD" is stored in a leap year so that 02-29 is valid


@dataclass(frozen=True)
class Facility:
    """One facility as the feed describes it; `timezone`, `week`, `closures` and `special_hours`
    make it a `bot.opening_hours.Schedule`."""

    id: str
    name: str
    address: str
    timezone: str
    week: Week
    aliases: tuple[str, ...] = ()
    closures: Mapping[date, str] = field(default_factory=dict)  # date -> reason (holiday name)
    special_hours: tuple[SpecialHours, ...] = ()
    phone: str = ""
    url: str = ""
    note: str = ""

    def matches(self, name: str) -> bool:
        wanted = " ".join(name.lower().split())
        return wanted in {self.id.lower(), self.name.lower(), *(a.lower() for a in self.aliases)}


def parse_interval(api: str, text: str) -> Interval:
    """ "08:30-16:30"; "22:00-06:00" runs overnight; "00:00-24:00" is all day."""
    match = _INTERVAL.match(text) if isinstance(text, str) else None
    if not match:
        raise AgencyUnavailable(api, f"unexpected shape: {text!r} is not HH:MM-HH:MM")
    oh, om, ch, cm = (int(g) for g in match.groups())
    if oh > 23 or om > 59 or cm > 59 or ch > 24 or (ch == 24 and cm):
        raise AgencyUnavailable(api, f"unexpected shape: {text!r} is not a valid time range")
    opens, closes = time(oh, om), time(ch % 24, cm)
    if closes == opens and ch != 24:
        raise AgencyUnavailable(api, f"unexpected shape: {text!r} opens and closes at once")
    return Interval(opens, closes, ends_next_day=ch == 24 or closes < opens)


def parse_week(api: str, value: Any, what: str) -> Week:
    """{"monday": ["08:30-16:30"], ...} (a missing day is closed), or one list for every day."""
    if isinstance(value, list):
        intervals = tuple(parse_interval(api, t) for t in value)
        return dict.fromkeys(range(7), intervals)
    if not isinstance(value, Mapping):
        raise AgencyUnavailable(api, f"unexpected shape: {what} is neither a list nor an object")
    unknown = set(value) - set(WEEKDAYS)
    if unknown:
        raise AgencyUnavailable(api, f"unexpected shape: {what} has unknown days")
    reader = Reader(api, value, what)
    return {WEEKDAYS.index(day): tuple(parse_interval(api, t) for t in reader.items(day)) for day in value}


def parse_period_bound(api: str, text: str) -> tuple[date, bool]:
    """ "2026-12-24" (that date) or "06-15" (every year); returns the date and whether it is yearly."""
    month_day = _MONTH_DAY.match(text)
    try:
        if month_day:
            return date(_LEAP_YEAR, int(month_day[1]), int(month_day[2])), True
        return date.fromisoformat(text), False
    except ValueError:
        raise AgencyUnavailable(api, f"unexpected shape: {text!r} is not a date") from None


def parse_special(reader: Reader) -> SpecialHours:
    start, yearly = parse_period_bound(reader.api, reader.text("from", required=True))
    end, end_yearly = parse_period_bound(reader.api, reader.text("to") or reader.text("from"))
    if yearly != end_yearly:
        raise AgencyUnavailable(reader.api, "unexpected shape: special hours mix MM-DD and YYYY-MM-DD")
    week = parse_week(reader.api, reader.data.get("hours", []), f"{reader.what}.hours")
    return SpecialHours(Period(start, end, yearly), week, reader.text("note"))


def parse_closures(reader: Reader, key: str) -> dict[date, str]:
    closures = {}
    for index, item in enumerate(reader.items(key)):
        entry = Reader(reader.api, item, f"{reader.what}.{key}[{index}]")
        closures[entry.day("date")] = entry.text("name") or entry.text("reason") or "Closed"
    return closures


def parse_facility(reader: Reader, timezone: str, holidays: Mapping[date, str]) -> Facility:
    tz = reader.text("timezone") or timezone
    _check_timezone(reader.api, tz)
    inherited = holidays if reader.flag("closed_on_holidays") else {}
    closures = {**inherited, **parse_closures(reader, "closures")}
    return Facility(
        id=reader.text("id", required=True),
        name=reader.text("name", required=True),
        address=reader.text("address"),
        timezone=tz,
        week=parse_week(reader.api, reader.data.get("hours", {}), f"{reader.what}.hours"),
        aliases=tuple(str(a) for a in reader.items("aliases")),
        closures=closures,
        special_hours=tuple(
            parse_special(Reader(reader.api, s, f"{reader.what}.special_hours[{i}]"))
            for i, s in enumerate(reader.items("special_hours"))
        ),
        phone=reader.text("phone"),
        url=reader.text("url"),
        note=reader.text("note"),
    )


def _check_timezone(api: str, name: str) -> None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise AgencyUnavailable(api, f"unexpected shape: unknown time zone {name!r}") from None


def parse_facilities(body: Any, default_timezone: str = DEFAULT_TIMEZONE) -> list[Facility]:
    """The whole feed: holidays apply to every facility with `closed_on_holidays`."""
    feed = Reader(API, body, "feed")
    timezone = feed.text("timezone") or default_timezone
    holidays = parse_closures(feed, "holidays")
    return [
        parse_facility(Reader(API, item, f"facilities[{i}]"), timezone, holidays)
        for i, item in enumerate(feed.items("facilities", required=True))
    ]


class FacilitiesClient:
    """GET `{base_url}/facilities.json`; `timezone` is AGENCY_TIMEZONE, used when the feed names none."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        timezone: str = DEFAULT_TIMEZONE,
    ) -> None:
        _check_timezone(API, timezone)
        self.session = session
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.timezone = timezone

    async def facilities(self) -> list[Facility]:
        response = await send(
            self.session, "GET", f"{self.base_url}/facilities.json", api=API, timeout=self.timeout
        )
        expect_ok(API, response)
        return parse_facilities(decode_json(API, response.body), self.timezone)

    async def find(self, name: str) -> list[Facility]:
        """Every facility whose id, name or alias is `name` (case-insensitive): "pool" may be several."""
        return [f for f in await self.facilities() if f.matches(name)]

    async def facility(self, name: str) -> Facility:
        """The first facility called `name`; NotFound when none is."""
        found = await self.find(name)
        if not found:
            raise NotFound(API, "no facility by that name")
        return found[0]
