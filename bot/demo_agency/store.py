"""Where the demo agency's data lives: data files a developer edits, and a state log.

Data files are re-read when they change on disk, so an edit shows up at the next
request without a restart. A broken edit keeps the last good version (and logs
why), so a half-saved file never takes the demo down.

Everything changed at run time (new requests, admin edits) is an event appended
to `events.jsonl` in the state dir and replayed at start-up, so it survives a
restart. Contact details of a new request are never written there.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

log = logging.getLogger(__name__)

NAMES = ("services", "requests", "alerts", "facilities", "collection", "status")
_RELATIVE = re.compile(r"^now(?:([+-])(\d+)([mhd]))?$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


class DataFile:
    """One JSON data file, re-read whenever its modification time or size changes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp: tuple[int, int] | None = None
        self._data: Any = None
        self._loaded = False

    def get(self) -> Any:
        try:
            stat = self.path.stat()
        except OSError as exc:
            return self._keep(exc)
        stamp = (stat.st_mtime_ns, stat.st_size)
        if stamp == self._stamp:
            return self._data
        self._stamp = stamp  # a broken version is reported once, not at every request
        try:
            self._data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            return self._keep(exc)
        self._loaded = True
        return self._data

    def _keep(self, exc: Exception) -> Any:
        """The last good data; with none yet, the error (start-up must fail loudly)."""
        if not self._loaded:
            self._stamp = None
            raise exc
        log.warning("keeping the previous %s: %s", self.path.name, exc)
        return self._data


class DataFiles:
    """The six data files of a data dir (services.json, requests.json, ...)."""

    def __init__(self, data_dir: Path) -> None:
        self.files = {name: DataFile(data_dir / f"{name}.json") for name in NAMES}

    def get(self, name: str) -> Any:
        return self.files[name].get()

    def check(self) -> None:
        """Read every file once, so a missing or broken data dir fails at start-up."""
        for name in NAMES:
            self.get(name)


def resolve_relative(value: Any, now: datetime, tz: ZoneInfo) -> Any:
    """Replace "now", "now-2h", "now+3d" (m, h, d) with ISO datetimes in the agency's zone.

    Lets the demo data keep an alert active and an expected date in the future
    however long after it was written the demo runs.
    """
    if isinstance(value, dict):
        return {k: resolve_relative(v, now, tz) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve_relative(v, now, tz) for v in value]
    match = _RELATIVE.match(value) if isinstance(value, str) else None
    if not match:
        return value
    sign, amount, unit = match.groups()
    delta = timedelta(**{_UNITS[unit]: int(amount)}) if amount else timedelta()
    return iso(now + delta if sign != "-" else now - delta, tz)


def iso(moment: datetime, tz: ZoneInfo) -> str:
    return moment.astimezone(tz).isoformat(timespec="seconds")


class State:
    """Run-time changes, replayed from an append-only JSON Lines log."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.clear()

    def clear(self) -> None:
        self.created: dict[str, dict[str, Any]] = {}
        self.request_changes: dict[str, dict[str, Any]] = {}
        self.alerts: dict[str, dict[str, Any]] = {}
        self.cancelled_alerts: set[str] = set()
        self.status_changes: dict[str, dict[str, Any]] = {}

    def load(self) -> None:
        if not self.path.exists():
            return
        for number, line in enumerate(self.path.read_text(encoding="utf-8").splitlines(), 1):
            try:
                self._apply(json.loads(line))
            except (ValueError, KeyError, TypeError) as exc:
                log.warning("skipping line %d of %s: %s", number, self.path, exc)

    def record(self, event: dict[str, Any]) -> None:
        """Apply and append one event; the line is written before the caller answers."""
        self._apply(event)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as log_file:
            log_file.write(json.dumps(event, sort_keys=True) + "\n")

    def reset(self) -> None:
        self.clear()
        self.path.unlink(missing_ok=True)

    def _apply(self, event: dict[str, Any]) -> None:
        op = event["op"]
        if op == "request_created":
            self.created[str(event["request"]["service_request_id"])] = event["request"]
        elif op == "request_updated":
            self.request_changes.setdefault(str(event["id"]), {}).update(event["changes"])
        elif op == "alert_added":
            self.alerts[str(event["alert"]["id"])] = event["alert"]
        elif op == "alert_cancelled":
            self.cancelled_alerts.add(str(event["id"]))
        elif op == "status_set":
            self.status_changes.setdefault(str(event["id"]), {}).update(event["changes"])
        else:
            raise KeyError(f"unknown op {op!r}")


def next_request_id(ids: Iterable[str], floor: int = 512000) -> str:
    """One more than the highest numeric id, so new numbers look like the agency's."""
    numbers = [int(i) for i in ids if i.isdigit()]
    return str(max([floor, *numbers]) + 1)
