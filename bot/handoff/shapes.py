"""The JSON shapes of the queue and of one conversation: the API returns them and the pages render them."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.handoff.keys import STORE


async def queue_view(app: web.Application) -> list[dict[str, Any]]:
    """`GET /api/queue`: open entries (waiting, claimed, ticket), longest waiting first."""
    return [entry.public() for entry in await app[STORE].queue()]


async def conversation_view(app: web.Application, conversation_id: str) -> dict[str, Any] | None:
    """`GET /api/conversations/{id}`: status, agent, transcript (text exactly as written); None if unknown."""
    store = app[STORE]
    entry = await store.get(conversation_id)
    if entry is None:
        return None
    return {**entry.public(), "messages": await store.messages(conversation_id)}
