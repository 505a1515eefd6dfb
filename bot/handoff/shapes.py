"""The JSON shapes of the queue and of one conversation: the API returns them and the pages render them."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.handoff.keys import STORE
from bot.handoff.store import Entry
from bot.handoff.texts import language_name


def entry_view(entry: Entry) -> dict[str, Any]:
    """An entry as agents see it: `Entry.public()` with each language's own name ("Español"), for
    the badge (`language_name`) and for the language the console speaks to the citizen in."""
    return {
        **entry.public(),
        "language_name": language_name(entry.language),
        "reply_language_name": language_name(entry.speaks),
    }


async def queue_view(app: web.Application) -> list[dict[str, Any]]:
    """`GET /api/queue`: open entries (waiting, claimed, ticket), longest waiting first."""
    return [entry_view(entry) for entry in await app[STORE].queue()]


async def conversation_view(app: web.Application, conversation_id: str) -> dict[str, Any] | None:
    """`GET /api/conversations/{id}`: status, agent, languages, transcript (text exactly as written);
    None if unknown."""
    store = app[STORE]
    entry = await store.get(conversation_id)
    if entry is None:
        return None
    return {**entry_view(entry), "messages": await store.messages(conversation_id)}
