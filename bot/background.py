"""Background loops that are sure to stop.

redis-py 4.x (Rasa pins `<5`) can swallow a task's cancellation: before each command the pool
checks the connection under `async_timeout(0)`, and a cancel that lands there is taken for that
zero timeout. The loop then carries on and an app's cleanup that awaits it never returns (it hung
CI). So every loop also watches a stop event, and stopping cancels again until each task is done.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from typing import Any

log = logging.getLogger(__name__)


class Background:
    """The long-running tasks of one app, and the event that tells them to stop."""

    def __init__(self) -> None:
        self.stopping = asyncio.Event()
        self._tasks: list[asyncio.Task[Any]] = []

    def start(self, coroutine: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        task = asyncio.create_task(coroutine, name=name)
        self._tasks.append(task)
        return task

    async def pause(self, seconds: float) -> bool:
        """Sleep up to ``seconds``; True as soon as the loop should stop."""
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self.stopping.wait(), seconds)
        return self.stopping.is_set()

    async def stop(self, grace: float = 10.0) -> None:
        """Set the event, then cancel (again if a cancel was swallowed) until every task ended."""
        self.stopping.set()
        pending = {task for task in self._tasks if not task.done()}
        deadline = asyncio.get_running_loop().time() + grace
        while pending and asyncio.get_running_loop().time() < deadline:
            for task in pending:
                task.cancel()
            _, pending = await asyncio.wait(pending, timeout=0.5)
        for task in pending:
            log.warning("background task %s did not stop within %.0fs", task.get_name(), grace)
        for task in self._tasks:
            if task.done() and not task.cancelled() and task.exception() is not None:
                log.warning("background task %s failed: %r", task.get_name(), task.exception())
        self._tasks.clear()
