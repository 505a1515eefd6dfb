"""Fan-out of live console events to every open websocket.

Durable state lives in Redis (`bot.handoff.store`); the hub only carries notifications,
so a console that reconnects re-reads the queue and loses nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

Event = dict[str, Any]


class EventHub:
    """Each subscriber gets its own bounded queue; a subscriber too slow to keep up is dropped."""

    def __init__(self, max_backlog: int = 1000) -> None:
        self._subscribers: set[asyncio.Queue[Event | None]] = set()
        self._max_backlog = max_backlog

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)

    def publish(self, event: Event) -> None:
        for queue in list(self._subscribers):
            try:
                queue.put_nowait(event)
            except asyncio.QueueFull:
                self._subscribers.discard(queue)
                with contextlib.suppress(asyncio.QueueFull):
                    queue.put_nowait(None)

    @contextlib.asynccontextmanager
    async def subscribe(self) -> AsyncIterator[asyncio.Queue[Event | None]]:
        """A queue of events; `None` means "you fell behind: reload the queue and subscribe again"."""
        queue: asyncio.Queue[Event | None] = asyncio.Queue(self._max_backlog)
        self._subscribers.add(queue)
        try:
            yield queue
        finally:
            self._subscribers.discard(queue)

    def close(self) -> None:
        for queue in list(self._subscribers):
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait(None)
        self._subscribers.clear()
