"""Which broadcast a conversation last received, so a reply to it ("is my street affected?") is
answered from that broadcast. Written by the delivery worker after a send; read by the chat's actions.
Key `civic:bc:v1:received:<conversation id>` (the id carries no personal data), kept for a week.
"""

from __future__ import annotations

from typing import Any

import redis.asyncio as aioredis

RECEIVED_TTL = 7 * 24 * 3600


def received_key(conversation_id: str) -> str:
    return f"civic:bc:v1:received:{conversation_id}"


async def remember_received(redis: aioredis.Redis, conversation_id: str, broadcast_id: str) -> None:
    await redis.set(received_key(conversation_id), broadcast_id, ex=RECEIVED_TTL)


async def last_received(redis: aioredis.Redis, conversation_id: str) -> str | None:
    raw: Any = await redis.get(received_key(conversation_id))
    if raw is None:
        return None
    return raw.decode() if isinstance(raw, bytes) else str(raw)
