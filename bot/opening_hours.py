"""A facility's opening hours: the model and every rule about them, all pure.

"Is City Hall open?" is answered from one fetched facility at any instant and tested without a
clock. Hours are wall-clock times in the facility's time zone, so daylight-saving changes and a
server running in UTC do not move them. Closures beat special hours, which beat weekly hours.
(Staffed hours for human handoff are another matter: `bot.handoff.hours`.)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from bot.content.agency import SOURCE_LANGUAGE
from bot.formatting import clock_time, hours_text, moment_text

SEARCH_DAYS = 400  # a seasonal pool closed in winter still gets its next opening day


@dataclass(frozen=True)
class Interval:
    """Open from `opens` to `closes`; `ends_next_day` for overnight hours and "24:00"."""

    opens: time
    closes: time
    ends_next_day: bool = False

    @property
    def all_day(self) -> bool:
        return self.opens == time(0) and self.closes == time(0) and self.ends_next_day


Week = Mapping[int, tuple[Interval, ...]]  # weekday (Monday = 0) -> intervals


@dataclass(frozen=True)
class Period:
    """Dates from `start` to `end` inclusive; `yearly` ignores the year (a season such as 06-15 to 08-31)."""

    start: date
    end: date
    yearly: bool = False

    def contains(self, day: date) -> bool:
        if not self.yearly:
            return self.start <= day <= self.end
        key = (day.month, day.day)
        first, last = (self.start.month, self.start.day), (self.end.month, self.end.day)
        return first <= key <= last if first <= last else key >= first or key <= last


@dataclass(frozen=True)
class SpecialHours:
    """Hours that replace the weekly ones during `period` (a season, a short day before a holiday)."""

    period: Period
    week: Week
    note: str = ""


class Schedule(Protocol):
    """What the rules read of a facility (`bot.clients.facilities.Facility` is one)."""

    @property
    def timezone(self) -> str: ...

    @property
    def week(self) -> Week: ...

    @property
    def closures(self) -> Mapping[date, str]: ...  # date -> reason (holiday name)

    @property
    def special_hours(self) -> tuple[SpecialHours, ...]: ...


@dataclass(frozen=True)
class DayHours:
    """A facility's hours on one date; `note` says why they differ from usual (holiday, season)."""

    day: date
    intervals: tuple[Interval, ...]
    note: str = ""

    @property
    def closed(self) -> bool:
        return not self.intervals

    @property
    def all_day(self) -> bool:
        return any(i.all_day for i in self.intervals)


def hours_on(facility: Schedule, day: date) -> DayHours:
    """Closures beat special hours, which beat the weekly hours; the first matching special entry wins."""
    if day in facility.closures:
        return DayHours(day, (), facility.closures[day])
    for special in facility.special_hours:
        if special.period.contains(day):
            return DayHours(day, special.week.get(day.weekday(), ()), special.note)
    return DayHours(day, facility.week.get(day.weekday(), ()))


def open_now(facility: Schedule, now: datetime) -> bool:
    """Whether the facility is open at the instant `now` (aware), in the facility's own time zone.

    Overnight hours opened yesterday count until they close today; closing times are exclusive.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    local = now.astimezone(ZoneInfo(facility.timezone))
    at = local.time().replace(tzinfo=None)
    for interval in hours_on(facility, local.date()).intervals:
        if interval.opens <= at and (interval.ends_next_day or at < interval.closes):
            return True
    yesterday = hours_on(facility, local.date() - timedelta(days=1))
    return any(i.ends_next_day and at < i.closes for i in yesterday.intervals)


def _start(day: date, interval: Interval, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, interval.opens, tzinfo=zone)


def _end(day: date, interval: Interval, zone: ZoneInfo) -> datetime:
    end_day = day + timedelta(days=1) if interval.ends_next_day else day
    return datetime.combine(end_day, interval.closes, tzinfo=zone)


def next_opening(facility: Schedule, now: datetime) -> datetime | None:
    """The next time the facility opens after `now`, within SEARCH_DAYS."""
    zone = ZoneInfo(facility.timezone)
    today = now.astimezone(zone).date()
    for offset in range(SEARCH_DAYS):
        day = today + timedelta(days=offset)
        starts = sorted(_start(day, i, zone) for i in hours_on(facility, day).intervals)
        later = [s for s in starts if s > now]
        if later:
            return later[0]
    return None


@dataclass(frozen=True)
class FacilityNow:
    """Where a facility stands at one instant; `state` picks the response, the rest fills it.

    States: open, open_all_day, opens_later (closed now, opens later today), closed_rest_of_day
    (was open earlier today), closed_today (no hours today), closed_for (a holiday or closure:
    `reason`), no_hours (never opens in the next SEARCH_DAYS days). Times are display text.
    """

    state: str
    closes: str = ""
    opens: str = ""
    hours_today: str = ""
    reason: str = ""
    note: str = ""
    next_open: str = ""


def facility_now(facility: Schedule, now: datetime, language: str = SOURCE_LANGUAGE) -> FacilityNow:
    """The facility's state at the instant `now` (aware), with times in its own zone, in `language`."""
    zone = ZoneInfo(facility.timezone)
    local = now.astimezone(zone)
    today = hours_on(facility, local.date())
    hours = hours_text(today.intervals, language)
    if open_now(facility, now):
        yesterday = local.date() - timedelta(days=1)
        spans = [(local.date(), i) for i in today.intervals] + [
            (yesterday, i) for i in hours_on(facility, yesterday).intervals if i.ends_next_day
        ]
        current = [(d, i) for d, i in spans if _start(d, i, zone) <= now < _end(d, i, zone)]
        if today.all_day or any(i.all_day for _, i in current):
            return FacilityNow("open_all_day", hours_today=hours, note=today.note)
        closes = min((_end(d, i, zone) for d, i in current), default=None)
        return FacilityNow(
            "open", closes=clock_time(closes.astimezone(zone).time(), language) if closes else "",
            hours_today=hours, note=today.note,
        )  # fmt: skip
    upcoming = next_opening(facility, now)
    next_open = moment_text(upcoming, zone, language) if upcoming else ""
    if upcoming is None:
        return FacilityNow("no_hours", note=today.note)
    if today.closed:
        if local.date() in facility.closures:
            return FacilityNow("closed_for", reason=today.note, next_open=next_open)
        return FacilityNow("closed_today", note=today.note, next_open=next_open)
    if upcoming.astimezone(zone).date() == local.date():
        return FacilityNow(
            "opens_later",
            opens=clock_time(upcoming.astimezone(zone).time(), language),
            hours_today=hours,
            note=today.note,
        )
    return FacilityNow("closed_rest_of_day", hours_today=hours, note=today.note, next_open=next_open)


def usual_hours(facility: Schedule, day: date) -> DayHours:
    """The hours `day`'s weekday usually has (the season's, else the weekly ones), closures aside:
    "is it open on Saturdays?" asks about the rule, not one date."""
    for special in facility.special_hours:
        if special.period.contains(day):
            return DayHours(day, special.week.get(day.weekday(), ()), special.note)
    return DayHours(day, facility.week.get(day.weekday(), ()))


@dataclass(frozen=True)
class FacilityDay:
    """A facility on one date (not its state at an instant); `state` picks the response.

    States: open_on, open_all_day_on, closed_for_on (a holiday or closure: `reason`),
    closed_weekday (never open on that weekday), closed_on (closed that date, e.g. out of season),
    no_hours (never opens in the next SEARCH_DAYS days). `next_open` is the first opening after
    that date, as display text.
    """

    state: str
    hours: str = ""
    reason: str = ""
    note: str = ""
    next_open: str = ""


def facility_on(facility: Schedule, day: date, language: str = SOURCE_LANGUAGE) -> FacilityDay:
    """The facility's hours on `day` in its own zone, and when it next opens after a closed day,
    written in `language`."""
    today = hours_on(facility, day)
    if today.all_day:
        return FacilityDay("open_all_day_on", hours=hours_text(today.intervals, language), note=today.note)
    if today.intervals:
        return FacilityDay("open_on", hours=hours_text(today.intervals, language), note=today.note)
    zone = ZoneInfo(facility.timezone)
    last_moment = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone) - timedelta(microseconds=1)
    upcoming = next_opening(facility, last_moment)
    if upcoming is None:
        return FacilityDay("no_hours", note=today.note)
    next_open = moment_text(upcoming, zone, language)
    if day in facility.closures:
        return FacilityDay("closed_for_on", reason=today.note, next_open=next_open)
    if not today.note and any(facility.week.values()):
        return FacilityDay("closed_weekday", next_open=next_open)
    return FacilityDay("closed_on", note=today.note, next_open=next_open)
