"""A socket.io client that talks to Rasa as the web chat page does (one connection per message)."""

from __future__ import annotations

import asyncio
import json
import urllib.request
from typing import Any

import socketio
from polling_support import wait_until_async


def tracker_events(base: str, token: str, conversation_id: str) -> list[dict[str, Any]]:
    # ALL: Rasa returns only the events after the latest restart by default
    url = f"{base}/conversations/{conversation_id}/tracker?token={token}&include_events=ALL"
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())["events"]


def said(events: list[dict[str, Any]], text: str) -> int:
    return sum(1 for e in events if e.get("event") == "user" and e.get("text") == text)


async def chat(
    url: str, token: str, session_id: str, text: str, timeout: float = 30.0
) -> list[dict[str, Any]]:
    """Connect like a freshly loaded page, resume ``session_id``, send one message; returns every reply.

    Rasa saves a turn when it is over, so once its tracker holds the message, the number of bot events
    after it is the number of replies to wait for. Fails if they are not all in within ``timeout``.
    """
    before = said(await asyncio.to_thread(tracker_events, url, token, session_id), text)

    async def bot_events_of_the_turn() -> tuple[list[dict[str, Any]]] | None:
        events = await asyncio.to_thread(tracker_events, url, token, session_id)
        if said(events, text) <= before:
            return None
        last = max(i for i, e in enumerate(events) if e.get("event") == "user" and e.get("text") == text)
        return ([e for e in events[last + 1 :] if e.get("event") == "bot"],)

    client = socketio.AsyncClient(reconnection=False)
    confirmed = asyncio.Event()
    replies: list[dict[str, Any]] = []
    got_reply = asyncio.Event()

    @client.on("session_confirm")
    async def _confirm(data: Any) -> None:
        confirmed.set()

    @client.on("bot_uttered")
    async def _reply(data: dict[str, Any]) -> None:
        replies.append(data)
        got_reply.set()

    await client.connect(url, socketio_path="/socket.io")
    try:
        await client.emit("session_request", {"session_id": session_id})
        await asyncio.wait_for(confirmed.wait(), timeout)
        await client.emit("user_uttered", {"message": text, "session_id": session_id})
        await asyncio.wait_for(got_reply.wait(), timeout)
        (bot_events,) = await wait_until_async(bot_events_of_the_turn, timeout, "Rasa did not save the turn")
        await wait_until_async(
            lambda: len(replies) >= len(bot_events),
            timeout,
            lambda: f"{len(bot_events)} replies in Rasa's tracker, {len(replies)} reached the page",
        )
    finally:
        await client.disconnect()
    return replies
