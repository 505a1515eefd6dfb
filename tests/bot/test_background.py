"""Background loops stop even when a cancellation is swallowed (as redis-py 4.x can)."""

from __future__ import annotations

import asyncio
import time

from polling_support import wait_until_async

from bot.background import Background

TICK = 0.2  # the stubborn loop's sleep between ticks


async def _swallows_cancels(background: Background, ticks: list[float]) -> None:
    """A loop whose waits, like redis-py's connection check, turn a cancel into a plain return."""
    while not background.stopping.is_set():
        ticks.append(time.monotonic())
        try:
            await asyncio.sleep(TICK)
        except asyncio.CancelledError:
            pass


async def test_stop_ends_a_loop_that_swallowed_its_cancel() -> None:
    background, ticks = Background(), []
    task = background.start(_swallows_cancels(background, ticks), "stubborn")
    # it ticked, so it now waits in its sleep, where it will swallow the cancel (five ticks' margin)
    await wait_until_async(lambda: ticks, 5 * TICK, "the loop never ran")
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
