"""Outgoing platform calls: one aiohttp session per connector, bounded retries on 429 and 5xx.

A call is retried when the platform says "too many requests" (429) or fails on its side (5xx),
and when the connection could not be made; never on another 4xx, which a retry cannot fix.
The wait honours the platform's own hint (a `Retry-After` header, or Telegram's
`parameters.retry_after`), else backs off exponentially; a hint longer than `max_wait` ends
the attempts at once rather than holding a conversation for minutes. Log lines name the call
(`what`), never the URL (Telegram's carries the bot token) or the body (it is personal data).
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import aiohttp

log = logging.getLogger(__name__)

# The successful answers of the platform calls made in this task, when someone listens (the
# broadcaster reads the platform's message ids from them); None: nobody does.
_ANSWERS: ContextVar[list[Any] | None] = ContextVar("platform_answers", default=None)


@contextmanager
def recording() -> Iterator[list[Any]]:
    """Within the block, every successful platform answer (decoded JSON) is appended to the list."""
    answers: list[Any] = []
    token = _ANSWERS.set(answers)
    try:
        yield answers
    finally:
        _ANSWERS.reset(token)


class PlatformError(Exception):
    """A platform call failed for good; `status` is the HTTP status (0: no answer at all)."""

    def __init__(self, platform: str, what: str, status: int, detail: str) -> None:
        self.platform = platform
        self.what = what
        self.status = status
        self.detail = detail[:300]
        super().__init__(f"{platform} {what}: HTTP {status}: {self.detail}")


class PlatformSender:
    def __init__(
        self,
        platform: str,
        *,
        attempts: int = 4,
        backoff: float = 0.5,
        max_wait: float = 30.0,
        timeout: float = 10.0,
    ) -> None:
        self.platform = platform
        self.attempts = max(1, attempts)
        self.backoff = backoff
        self.max_wait = max_wait
        self.timeout = timeout
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()

    async def post(
        self,
        url: str,
        *,
        what: str,
        json_body: Any = None,
        form: Any = None,
        headers: dict[str, str] | None = None,
        auth: aiohttp.BasicAuth | None = None,
    ) -> Any:
        """POST and return the decoded JSON answer ({} when it is not JSON); raise PlatformError."""
        for attempt in range(1, self.attempts + 1):
            last = attempt == self.attempts
            try:
                async with self._client().post(
                    url, json=json_body, data=form, headers=headers, auth=auth
                ) as response:
                    raw = await response.read()
                    if response.status < 300:
                        answer = _json(raw)
                        listening = _ANSWERS.get()
                        if listening is not None:
                            listening.append(answer)
                        return answer
                    retryable = response.status == 429 or response.status >= 500
                    hint = _retry_after(response.headers.get("Retry-After"), raw)
                    error = PlatformError(self.platform, what, response.status, _detail(raw))
            except aiohttp.ClientConnectionError as exc:
                retryable, hint = True, None
                error = PlatformError(self.platform, what, 0, f"no connection: {type(exc).__name__}")
            except asyncio.TimeoutError:
                # The request may have reached the platform: sending it again could answer twice.
                raise PlatformError(self.platform, what, 0, f"no answer within {self.timeout:g}s") from None
            if not retryable or last:
                raise error
            delay = (
                hint if hint is not None else self.backoff * 2 ** (attempt - 1) * (1 + random.random() / 4)
            )
            if delay > self.max_wait:
                raise PlatformError(self.platform, what, error.status, f"asked to wait {delay:g}s; giving up")
            log.info("%s %s: HTTP %s, retrying in %.2fs", self.platform, what, error.status or "-", delay)
            await asyncio.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else {}
    except ValueError:
        return {}


def _detail(raw: bytes) -> str:
    """The platform's own error description (code and message), which never echoes our message text."""
    body = _json(raw)
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):  # Meta: {"error": {"message", "type", "code", "error_subcode"}}
            return f"code {error.get('code')}/{error.get('error_subcode', '-')}: {error.get('message', '')}"
        if "description" in body:  # Telegram: {"ok": false, "error_code", "description"}
            return str(body["description"])
        if "message" in body:  # Twilio: {"code", "message", "more_info", "status"}
            return f"code {body.get('code')}: {body['message']}"
    return raw[:120].decode("utf-8", "replace")


def _retry_after(header: str | None, raw: bytes) -> float | None:
    if header:
        try:
            return max(0.0, float(header))
        except ValueError:
            try:
                when = email.utils.parsedate_to_datetime(header)
            except (TypeError, ValueError):
                when = None
            if when is not None:
                return max(0.0, when.timestamp() - time.time())
    body = _json(raw)
    if isinstance(body, dict) and isinstance(body.get("parameters"), dict):
        value = body["parameters"].get("retry_after")
        if isinstance(value, (int, float)):
            return float(value)
    return None
