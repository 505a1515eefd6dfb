"""Erasure asked for in the chat: what can go at once, and the rest once Rasa has finished the turn.

The citizen's "yes" arrives in a turn Rasa is still running. The action erases everything at once,
but Rasa then saves the conversation (the whole history it holds in memory) and publishes the turn's
events, the confirmation included. So the erasure is finished after the turn: when Rasa's lock on
the conversation is gone (it holds it until the tracker is saved), and again a moment later for the
event broker's writes, the full erasure runs once more and leaves nothing, not even the confirmation
(it was delivered; the copy on the citizen's device is theirs).

If the action server stops in between, the conversation stays listed in `civic:privacy:pending`
(its id only); the next erasure from the chat and `python -m bot privacy retention` finish it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from pathlib import Path

from redis.asyncio import Redis

from bot.privacy.erase import erase
from bot.privacy.holdings import ENDPOINTS, Subject, store_prefixes

log = logging.getLogger(__name__)
PENDING = "civic:privacy:pending"
TURN_SECONDS = 330.0  # longest a turn holds the lock: bot/lock_store.py renews it while actions run (300 s)
SETTLE_SECONDS = 3.0  # after the turn: the broker writes, the console's readers record, in the background
POLL_SECONDS = 0.2


async def mark_pending(redis: Redis, conversation_id: str, now: float | None = None) -> None:
    await redis.zadd(PENDING, {conversation_id: time.time() if now is None else now})


async def turn_finished(redis: Redis, conversation_id: str, timeout: float = TURN_SECONDS) -> bool:
    """Wait until Rasa no longer holds the conversation's lock; False after `timeout`."""
    _, lock_prefix = store_prefixes(ENDPOINTS)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not await redis.exists(lock_prefix + conversation_id):
            return True
        await asyncio.sleep(POLL_SECONDS)
    return False


async def finish(redis: Redis, subject: Subject, *, settle: float = SETTLE_SECONDS) -> Counter[str]:
    """After the turn: the full erasure, twice (the broker may still be writing), then off the list."""
    await turn_finished(redis, subject.conversation_id)
    await asyncio.sleep(settle)
    removed = await erase(redis, subject)
    await asyncio.sleep(settle)
    removed += await erase(redis, subject)
    await redis.zrem(PENDING, subject.conversation_id)
    return removed


async def finish_due(redis: Redis, older_than: float = TURN_SECONDS * 2, endpoints: Path = ENDPOINTS) -> int:
    """Finish erasures whose action server stopped before it could (listed longer than `older_than`)."""
    due = await redis.zrangebyscore(PENDING, "-inf", time.time() - older_than)
    for conversation_id in due:
        await erase(redis, Subject(conversation_id), endpoints=endpoints)
        await redis.zrem(PENDING, conversation_id)
    return len(due)
