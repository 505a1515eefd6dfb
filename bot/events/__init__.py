"""Rasa's conversation events on the Redis stream `civic:events`, for the handoff relay and the inbox."""

from __future__ import annotations

from redis.asyncio import Redis
from redis.exceptions import ResponseError

STREAM = "civic:events"


async def ensure_group(redis: Redis, group: str, stream: str = STREAM) -> None:
    """Create a reader's consumer group (and the stream) from the start of what the stream holds.

    Readers call it again after any Redis error: a Redis restarted without its data has lost the group.
    """
    try:
        await redis.xgroup_create(stream, group, id="0", mkstream=True)
    except ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise
