"""The web chat's socket.io channel with session persistence, with a real socket.io client.

Rasa 3.6.21 calls ``sio.enter_room()`` without ``await``; with python-socketio
>= 5.10 that coroutine never runs, so replies never reach the citizen
(rasa#13027). requirements.txt pins 5.9.0; this test fails if that regresses.
"""

from __future__ import annotations

import secrets

import pytest
from socketio_support import chat, tracker_events

pytestmark = pytest.mark.stack


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
