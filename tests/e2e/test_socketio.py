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

pytestmark = pytest.mark.stack


async def chat(url: str, session_id: str, text: str, timeout: float = 30.0) -> list[dict[str, Any]]:
    """Connect like a freshly loaded page, resume ``session_id``, send one message."""
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
        await asyncio.sleep(0.5)  # collect the rest of a multi-message answer
    finally:
        await client.disconnect()
    return replies


def tracker_texts(base: str, token: str, conversation_id: str) -> list[str]:
    url = f"{base}/conversations/{conversation_id}/tracker?token={token}"
    with urllib.request.urlopen(url, timeout=10) as response:
        events = json.loads(response.read())["events"]
    return [e.get("text") for e in events if e.get("event") == "user"]


async def test_reply_reaches_the_page_and_the_conversation_survives_a_reload(stack):
    base = f"http://127.0.0.1:{stack.settings.rasa_port}"
    session_id = secrets.token_hex(8)
    first = await chat(base, session_id, "hello")
    assert any("automated assistant" in r.get("text", "") for r in first)
    # A page reload: a new socket, the same stored session id.
    second = await chat(base, session_id, "how do i get a library card")
    assert any("harborcity.example/library/card" in r.get("text", "") for r in second)
    assert tracker_texts(base, stack.settings.rasa_token, session_id) == [
        "hello",
        "how do i get a library card",
    ]


async def test_buttons_reach_the_web_chat(stack):
    base = f"http://127.0.0.1:{stack.settings.rasa_port}"
    replies = await chat(base, secrets.token_hex(8), "what can you do")
    buttons = [b for r in replies for b in r.get("quick_replies", r.get("buttons", []))]
    assert any(b["title"] == "Trash and recycling" for b in buttons)
