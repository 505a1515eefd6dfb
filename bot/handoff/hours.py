"""Staffed hours from data/handoff/hours.yml: time zone, weekly schedule, holidays.

`HANDOFF_HOURS=always` (demos, tests) bypasses the file; see `load_hours`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True)
class Hours:
    zone: ZoneInfo
    weekly: dict[int, list[tuple[time, time]]] = field(default_factory=dict)
    holidays: frozenset[date] = frozenset()
    always: bool = False

    def is_open(self, now: datetime) -> bool:
        if self.always:
            return True
        local = now.astimezone(self.zone)
        if local.date() in self.holidays:
            return False
        return any(start <= local.time() < end for start, end in self.weekly.get(local.weekday(), []))

    def next_open(self, now: datetime) -> datetime | None:
        """The next start of a staffed period (local time), within two weeks; None if never staffed."""
        local = now.astimezone(self.zone)
        for offset in range(15):
            day = local.date() + timedelta(days=offset)
            if day in self.holidays:
                continue
            for start, _end in sorted(self.weekly.get(day.weekday(), [])):
                opening = datetime.combine(day, start, self.zone)
                if opening > local:
                    return opening
        return None


def _range(text: str) -> tuple[time, time]:
    start, _, end = str(text).partition("-")
    try:
        until = time.max if end.strip() == "24:00" else time.fromisoformat(end.strip())
        return time.fromisoformat(start.strip()), until
    except ValueError as exc:
        raise ValueError(f"hours: {text!r} is not an HH:MM-HH:MM range") from exc


def load_hours(path: Path, *, always: bool = False) -> Hours:
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    weekly_raw = raw.get("weekly") or {}
    unknown = set(weekly_raw) - set(DAYS)
    if unknown:
        raise ValueError(f"hours: unknown day names {sorted(unknown)}")
    weekly = {DAYS.index(day): [_range(r) for r in (ranges or [])] for day, ranges in weekly_raw.items()}
    holidays = frozenset(
        h if isinstance(h, date) else date.fromisoformat(str(h)) for h in raw.get("holidays") or []
    )
    return Hours(ZoneInfo(str(raw.get("timezone", "UTC"))), weekly, holidays, always)
