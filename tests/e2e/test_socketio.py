"""The web chat's socket.io channel with session persistence, with a real socket.io client.

Rasa 3.6.21 calls ``sio.enter_room()`` without ``await``; with python-socketio
>= 5.10 that coroutine never runs, so replies never reach the citizen
(rasa#13027). requirements.txt pins 5.9.0; this test fails if that regresses.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import urllib.request
from typing import Any

import pytest
import socketio
from polling_support import wait_until_async

pytestmark = pytest.mark.stack


def tracker_events(base: str, token: str, conversation_id: str) -> list[dict[str, Any]]:
    url = f"{base}/conversations/{conversation_id}/tracker?token={token}"
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


def tracker_texts(base: str, token: str, conversation_id: str) -> list[str]:
    return [e.get("text") for e in tracker_events(base, token, conversation_id) if e.get("event") == "user"]


async def test_reply_reaches_the_page_and_the_conversation_survives_a_reload(stack):
    base = f"http://127.0.0.1:{stack.settings.rasa.port}"
    session_id = secrets.token_hex(8)
    first = await chat(base, stack.settings.rasa.token, session_id, "hello")
    assert any("automated assistant" in r.get("text", "") for r in first)
    # A page reload: a new socket, the same stored session id.
    second = await chat(base, stack.settings.rasa.token, session_id, "how do i get a library card")
    assert any("harborcity.example/library/card" in r.get("text", "") for r in second)
    assert tracker_texts(base, stack.settings.rasa.token, session_id) == [
        "hello",
        "how do i get a library card",
    ]


async def test_buttons_reach_the_web_chat(stack):
    base = f"http://127.0.0.1:{stack.settings.rasa.port}"
    replies = await chat(base, stack.settings.rasa.token, secrets.token_hex(8), "what can you do")
    buttons = [b for r in replies for b in r.get("quick_replies", r.get("buttons", []))]
    assert any(b["title"] == "Trash and recycling" for b in buttons)
