"""The inbox in Redis: redacted messages with their reasons, kept for the retention period.

Keys (all under ``inbox:``): ``inbox:items`` a sorted set of message ids by time (what
the pages list and the purge walks), ``inbox:item:<id>`` a hash per message (expires on its
own after the retention period too), ``inbox:done:<id>`` marks a message an editor handled,
so an event read again after a crash does not bring it back, and ``inbox:conv:<sender>``
the little the recorder remembers per conversation between events.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis

from bot.inbox.selection import REASONS, Message

ITEMS = "inbox:items"
CONVERSATION_TTL = 2 * 86400


def _item_key(item_id: str) -> str:
    return f"inbox:item:{item_id}"


def _done_key(item_id: str) -> str:
    return f"inbox:done:{item_id}"


def _conversation_key(sender: str) -> str:
    return f"inbox:conv:{sender}"


@dataclass(frozen=True)
class Item:
    """An inbox message and every reason it was recorded for."""

    message: Message
    reasons: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {**self.message.as_dict(), "reasons": list(self.reasons)}


class InboxStore:
    """Reads and writes the inbox; the client must use ``decode_responses=True``."""

    def __init__(self, redis: Redis, retention_seconds: int) -> None:
        self.redis = redis
        self.retention_seconds = retention_seconds

    async def add(self, message: Message, reasons: list[str], now: float | None = None) -> bool:
        """Record ``message`` (or add reasons to it). False when it is too old or already handled."""
        now = time.time() if now is None else now
        expires = message.time + self.retention_seconds
        if expires <= now or not reasons or await self.redis.exists(_done_key(message.id)):
            return False
        key = _item_key(message.id)
        known = (await self.redis.hget(key, "reasons") or "").split(",")
        merged = [reason for reason in REASONS if reason in {*known, *reasons}]
        fields: dict[str | bytes, str] = {k: str(v) for k, v in message.as_dict().items()}
        fields["reasons"] = ",".join(merged)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(key, mapping=fields)
            pipe.expireat(key, int(expires) + 1)
            pipe.zadd(ITEMS, {message.id: message.time})
            await pipe.execute()
        return True

    async def retext(self, item_id: str, text: str) -> bool:
        """Replace a recorded message's text (redacted again once a form told us the address)."""
        key = _item_key(item_id)
        if not await self.redis.exists(key):
            return False
        await self.redis.hset(key, "text", text)
        return True

    async def items(self, now: float | None = None) -> list[Item]:
        """Every message still within the retention period, newest first."""
        now = time.time() if now is None else now
        ids = await self.redis.zrevrangebyscore(ITEMS, "+inf", now - self.retention_seconds)
        async with self.redis.pipeline(transaction=False) as pipe:
            for item_id in ids:
                pipe.hgetall(_item_key(item_id))
            rows = await pipe.execute()
        found = []
        for row in rows:
            if row:
                reasons = tuple(r for r in row.pop("reasons", "").split(",") if r)
                found.append(Item(Message.from_dict(row), reasons))
        return found

    async def resolve(self, ids: list[str]) -> int:
        """An editor dealt with these messages: they leave the inbox for good."""
        if not ids:
            return 0
        async with self.redis.pipeline(transaction=True) as pipe:
            for item_id in ids:
                pipe.zrem(ITEMS, item_id)
                pipe.delete(_item_key(item_id))
                pipe.set(_done_key(item_id), "1", ex=self.retention_seconds)
            results = await pipe.execute()
        return sum(int(r) for r in results[0::3])

    async def purge(self, now: float | None = None) -> int:
        """Drop messages older than the retention period; returns how many."""
        now = time.time() if now is None else now
        cutoff = now - self.retention_seconds
        old = await self.redis.zrangebyscore(ITEMS, "-inf", f"({cutoff}")
        if not old:
            return 0
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.zremrangebyscore(ITEMS, "-inf", f"({cutoff}")
            pipe.delete(*[_item_key(item_id) for item_id in old])
            await pipe.execute()
        return len(old)

    async def conversation(self, sender: str) -> dict[str, Any]:
        raw = await self.redis.get(_conversation_key(sender))
        return json.loads(raw) if raw else {}

    async def save_conversation(self, sender: str, state: dict[str, Any]) -> None:
        await self.redis.set(_conversation_key(sender), json.dumps(state), ex=CONVERSATION_TTL)
