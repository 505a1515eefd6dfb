"""The button payloads a conversation was offered: the only "/intent" messages a citizen may send.

Rasa reads a message starting with "/" as an intent with entities, skipping NLU. A client (a
socket.io script, a REST caller, a modified Telegram app) could send `/feedback{"value":"down"}`
or `/handoff_request` that no button offered. Every output channel remembers the payloads of the
buttons it sends (`remember`); an inbound "/..." that is not among them is read as typed text
(`citizen_text`). Redis being down fails closed: the payload is read as text, which NLU still
understands ("ask_alerts" is close enough to a question), and nothing is forged.

Key: `civic:offered:<conversation id>` (a set, TTL `OFFERED_TTL`); conversation ids carry no
personal data (`bot/identity.py`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from bot.channels.text import typed_text

log = logging.getLogger(__name__)

PREFIX = "civic:offered"
OFFERED_TTL = 7 * 24 * 3600  # a button stays usable as long as a platform lets it be tapped
ERRORS = (RedisError, OSError, asyncio.TimeoutError)


def offered_key(conversation_id: str) -> str:
    return f"{PREFIX}:{conversation_id}"


def button_payloads(message: dict[str, Any]) -> list[str]:
    """The "/..." payloads of a bot message's buttons and quick replies."""
    buttons = [*(message.get("buttons") or []), *(message.get("quick_replies") or [])]
    payloads = [b.get("payload") for b in buttons if isinstance(b, dict)]
    return [p.strip() for p in payloads if isinstance(p, str) and p.strip().startswith("/")]


class OfferedPayloads:
    """Remembers offered payloads per conversation and tells whether an inbound one was offered."""

    def __init__(self, client: aioredis.Redis, ttl: int = OFFERED_TTL) -> None:
        self.client = client
        self.ttl = ttl

    async def remember(self, conversation_id: str, payloads: Iterable[str]) -> None:
        values = [p.strip() for p in payloads if p.strip().startswith("/")]
        if not values:
            return
        key = offered_key(conversation_id)
        try:
            async with self.client.pipeline(transaction=True) as pipe:
                await pipe.sadd(key, *values).expire(key, self.ttl).execute()
        except ERRORS as exc:
            log.warning("Redis unavailable, offered buttons not remembered: %s", exc)

    async def was_offered(self, conversation_id: str, payload: str) -> bool:
        try:
            return bool(await self.client.sismember(offered_key(conversation_id), payload.strip()))
        except ERRORS as exc:
            log.warning("Redis unavailable, a button payload is read as text: %s", exc)
            return False

    async def citizen_text(self, conversation_id: str, text: str) -> str:
        """`text` as Rasa should get it: an offered payload as is, anything else as typed text."""
        stripped = text.strip()
        if stripped.startswith("/") and await self.was_offered(conversation_id, stripped):
            return stripped
        return typed_text(stripped)
