"""The one HTTP call every agency client makes, and what counts as a failed one.

A timeout, a refused connection, a 5xx after one retry, a 4xx or a body that is
not JSON all become `AgencyUnavailable` (or a subclass), never an aiohttp error.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp

from bot.clients.errors import AgencyUnavailable, Rejected

DEFAULT_TIMEOUT = 3.0


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
