"""Typed reading of agency JSON payloads: a field of the wrong type is `AgencyUnavailable`.

Clients parse every body through `Reader`, so an unexpected shape fails the same
polite way as a timeout, with a reason that names the field but never its value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timezone, tzinfo
from typing import Any

from bot.clients.errors import AgencyUnavailable

DEFAULT_TIMEZONE = "America/New_York"  # for feeds that name no time zone

_ZULU = re.compile(r"Z$", re.IGNORECASE)
_COMPACT_OFFSET = re.compile(r"([+-]\d{2})(\d{2})$")
_FRACTION = re.compile(r"\.(\d+)")


def parse_datetime(value: str, default_tz: tzinfo = timezone.utc) -> datetime:
    """ISO 8601 / W3C datetime as an aware datetime; Python 3.10 rejects "Z" and "+0000" alone.

    A timestamp without offset (some Open311 servers send them) is read in `default_tz`.
    Raises ValueError.
    """
    text = _ZULU.sub("+00:00", value.strip())
    text = _COMPACT_OFFSET.sub(r"\1:\2", text)
    text = _FRACTION.sub(lambda m: "." + m.group(1)[:6].ljust(6, "0"), text)
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=default_tz)


class Reader:
    """Typed access to one JSON object; anything unexpected is AgencyUnavailable ("wrong shape").

    Missing optional text reads as "", because agencies send null, "" or nothing alike.
    """

    def __init__(self, api: str, value: Any, what: str, default_tz: tzinfo = timezone.utc) -> None:
        if not isinstance(value, Mapping):
            raise AgencyUnavailable(api, f"unexpected shape: {what} is not an object")
        self.api = api
        self.data: Mapping[str, Any] = value
        self.what = what
        self.default_tz = default_tz

    def _bad(self, key: str, expected: str) -> AgencyUnavailable:
        return AgencyUnavailable(self.api, f"unexpected shape: {self.what}.{key} is not {expected}")

    def has(self, key: str) -> bool:
        return self.data.get(key) not in (None, "")

    def text(self, key: str, *, required: bool = False) -> str:
        value = self.data.get(key)
        if value is None or value == "":
            if required:
                raise self._bad(key, "present")
            return ""
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise self._bad(key, "text")
        return str(value).strip()

    def number(self, key: str) -> float | None:
        value = self.data.get(key)
        if value is None or value == "":
            return None
        try:
            return float(value)
        except (TypeError, ValueError):
            raise self._bad(key, "a number") from None

    def flag(self, key: str) -> bool:
        value = self.data.get(key, False)
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise self._bad(key, "true or false")

    def when(self, key: str, *, required: bool = False) -> datetime | None:
        raw = self.text(key, required=required)
        if not raw:
            return None
        try:
            return parse_datetime(raw, self.default_tz)
        except ValueError:
            raise self._bad(key, "a datetime") from None

    def day(self, key: str) -> date:
        try:
            return date.fromisoformat(self.text(key, required=True))
        except ValueError:
            raise self._bad(key, "a YYYY-MM-DD date") from None

    def items(self, key: str, *, required: bool = False) -> Sequence[Any]:
        value = self.data.get(key)
        if value is None and not required:
            return []
        if not isinstance(value, list):
            raise self._bad(key, "a list")
        return value

    def child(self, key: str) -> Reader:
        return Reader(self.api, self.data.get(key), f"{self.what}.{key}", self.default_tz)


def as_list(api: str, value: Any, what: str) -> list[Any]:
    """The top-level list most agency responses are, or AgencyUnavailable."""
    if not isinstance(value, list):
        raise AgencyUnavailable(api, f"unexpected shape: {what} is not a list")
    return value
