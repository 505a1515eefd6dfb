"""Waiting in tests without fixed sleeps (imported as `polling_support`).

`wait_until` / `wait_until_async` poll a condition until it holds or a deadline passes. Callers pass
deadlines derived from the configured timeouts of what they wait for, with the margin stated where
they are defined. A "nothing happened" check waits for a positive signal that the thing was handled
(a later message, a stream position) rather than for a while.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")
POLL_SECONDS = 0.05  # between two looks: short against every deadline, cheap for Redis or HTTP probes

Message = str | Callable[[], str]


def _text(message: Message) -> str:
    return message() if callable(message) else message


def wait_until(predicate: Callable[[], T], timeout: float, message: Message) -> T:
    """Return the first truthy value of `predicate()`, polled until `timeout` seconds have passed.

    Raises AssertionError(`message`) if it never became truthy; `message` may be a callable, so it
    can describe the last state seen.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"{_text(message)} (waited {timeout:.1f}s)")
        time.sleep(POLL_SECONDS)


async def wait_until_async(predicate: Callable[[], Awaitable[T] | T], timeout: float, message: Message) -> T:
    """`wait_until` inside an event loop: `predicate` may be sync or async; the loop runs between looks."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value  # type: ignore[return-value]
        if time.monotonic() >= deadline:
            raise AssertionError(f"{_text(message)} (waited {timeout:.1f}s)")
        await asyncio.sleep(POLL_SECONDS)
