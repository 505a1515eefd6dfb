"""Every way an agency call can fail, and the one place that turns failures into errors.

Actions catch `AgencyUnavailable` and tell the citizen something friendly; the
subclasses let them say something more precise ("no request with that number").
A reason is short and never carries personal data (no address, name or query
string), because it ends up in logs.

The HTTP helper and the field readers live here too, because their whole job is
to decide what counts as a failure: a timeout, a refused connection, a 5xx after
one retry, a 4xx, a body that is not JSON, a field of the wrong type.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timezone, tzinfo
from typing import Any

import aiohttp

DEFAULT_TIMEOUT = 3.0
DEFAULT_TIMEZONE = "America/New_York"
_MAX_REASON = 200


class AgencyUnavailable(Exception):
    """The agency could not answer: actions turn this into "try again later, or call 311"."""

    def __init__(self, api: str, reason: str) -> None:
        self.api = api
        self.reason = reason[:_MAX_REASON]
        super().__init__(f"{api}: {self.reason}")


class NotFound(AgencyUnavailable):
    """The agency answered and has no such thing (404, unknown id or address).

    A subclass, so an action that only catches AgencyUnavailable still fails politely.
    """


class Rejected(AgencyUnavailable):
    """The agency refused the call (4xx), with its own description (e.g. Open311 errors)."""

    def __init__(self, api: str, status: int, description: str) -> None:
        self.status = status
        self.description = description[:_MAX_REASON]
        super().__init__(api, f"HTTP {status}: {self.description}" if description else f"HTTP {status}")


@dataclass(frozen=True)
class Response:
    """Status and body of the last attempt; the body is read before the connection closes."""

    status: int
    body: bytes

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


async def send(
    session: aiohttp.ClientSession,
    method: str,
    url: str,
    *,
    api: str,
    timeout: float,
    params: Mapping[str, str] | None = None,
    data: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    idempotent: bool = True,
) -> Response:
    """One call with a timeout and at most one retry.

    Retries on a timeout, a dropped connection or a 5xx only when repeating the call
    is harmless (`idempotent`). A POST is retried only when the connection was never
    made, because a POST that timed out may still have created a service request.
    """
    for attempt in (1, 2):
        last = attempt == 2
        try:
            async with session.request(
                method,
                url,
                params=params,
                data=data,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=timeout),
            ) as resp:
                body = await resp.read()
        except asyncio.TimeoutError:
            if last or not idempotent:
                raise AgencyUnavailable(api, f"timed out after {timeout:g}s") from None
        except aiohttp.ClientConnectorError:
            if last:
                raise AgencyUnavailable(api, "could not connect") from None
        except aiohttp.ClientError as exc:
            if last or not idempotent:
                raise AgencyUnavailable(api, f"connection failed ({type(exc).__name__})") from None
        else:
            if resp.status < 500 or last or not idempotent:
                return Response(resp.status, body)
    raise AssertionError("unreachable")  # pragma: no cover


def expect_ok(api: str, response: Response) -> None:
    """Map a non-2xx status onto the error types (for APIs without their own error format).

    A 404 on a feed or list is AgencyUnavailable, never NotFound: "not found" must not
    read as "no alerts in effect" when the URL is simply wrong.
    """
    if response.ok:
        return
    if response.status < 500:
        raise Rejected(api, response.status, "")
    raise AgencyUnavailable(api, f"HTTP {response.status}")


def decode_json(api: str, body: bytes) -> Any:
    """JSON or AgencyUnavailable; never trust the Content-Type (NWS sends application/geo+json)."""
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise AgencyUnavailable(api, "invalid JSON") from None


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
