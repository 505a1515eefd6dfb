"""Values for response placeholders: times, dates, "2 days ago", display names.

Only the values: the sentences around them are responses in the domain. Pure functions, no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo


def clock_time(moment: time) -> str:
    """ "8:30 am", "4 pm", "12 pm"."""
    hour = moment.hour % 12 or 12
    suffix = "am" if moment.hour < 12 else "pm"
    return f"{hour}:{moment.minute:02d} {suffix}" if moment.minute else f"{hour} {suffix}"


def day_text(day: date) -> str:
    """ "Mon 30 Nov"."""
    return f"{day:%a} {day.day} {day:%b}"


def moment_text(moment: datetime, zone: ZoneInfo) -> str:
    """ "Mon 30 Nov, 8:30 am" in the agency's zone."""
    local = moment.astimezone(zone)
    return f"{day_text(local.date())}, {clock_time(local.time())}"


def as_of_text(moment: datetime, zone: ZoneInfo, now: datetime) -> str:
    """ "10:42 am" the same day, else "Tue 24 Nov, 10:42 am"."""
    local = moment.astimezone(zone)
    return (
        clock_time(local.time()) if local.date() == now.astimezone(zone).date() else moment_text(moment, zone)
    )


def ago_text(moment: datetime, now: datetime) -> str:
    """ "just now", "5 minutes ago", "3 hours ago", "2 days ago"."""
    seconds = (now - moment).total_seconds()
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = int(seconds // size)
            return f"{count} {unit}{'' if count == 1 else 's'} ago"
    return "just now"


def hours_text(intervals: Sequence[Any]) -> str:
    """ "8:30 am-4:30 pm" (an en dash) for items with `opens`/`closes` times; several joined by ", "."""
    return ", ".join(f"{clock_time(i.opens)}–{clock_time(i.closes)}" for i in intervals)


def stream_name(stream: str) -> str:
    """ "yard_waste" -> "Yard waste"."""
    return stream.replace("_", " ").strip().capitalize()


def status_word(status: str) -> str:
    """An Open311 status as sent ("open", "closed", "in_progress" -> "in progress")."""
    return status.replace("_", " ").strip()
