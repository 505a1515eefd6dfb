"""Background loops stop even when a cancellation is swallowed (as redis-py 4.x can)."""

from __future__ import annotations

import asyncio
import time

from bot.background import Background


async def _swallows_cancels(background: Background, ticks: list[float]) -> None:
    """A loop whose waits, like redis-py's connection check, turn a cancel into a plain return."""
    while not background.stopping.is_set():
        ticks.append(time.monotonic())
        try:
            await asyncio.sleep(0.2)
        except asyncio.CancelledError:
            pass


async def test_stop_ends_a_loop_that_swallowed_its_cancel() -> None:
    background, ticks = Background(), []
    task = background.start(_swallows_cancels(background, ticks), "stubborn")
    await asyncio.sleep(0.1)
    started = time.monotonic()
    await background.stop()
    assert task.done()
    assert time.monotonic() - started < 2.0


async def test_stop_ends_a_loop_that_only_a_cancel_reaches() -> None:
    background = Background()
    task = background.start(asyncio.sleep(3600), "sleeper")
    await background.stop()
    assert task.cancelled()


async def test_pause_wakes_at_once_when_stopping() -> None:
    background = Background()
    waiter = asyncio.create_task(background.pause(3600))
    await asyncio.sleep(0)
    started = time.monotonic()
    await background.stop()
    assert await waiter is True
    assert time.monotonic() - started < 1.0
    assert await background.pause(0) is True
