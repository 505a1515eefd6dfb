"""The web chat's socket.io channel: server-issued sessions, rooms nobody else joins, limits, payloads.

Mounted as `rasa run` mounts it, on a real Redis, with real python-socketio clients; an agent
stands in for Rasa (`web_channel_support`), answering through the channel's output to the room.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import jwt
import pytest
import socketio
import socketio_support
from channel_support import IDENTITY_SECRET, conversation
from rasa.core.channels.channel import UserMessage
from web_channel_support import Served, served

from bot.channels.socketio import CivicSocketIOInput
from bot.identity import IdentityKey

QUIET_SECONDS = 0.5  # a reply to one page reaches it in milliseconds here; others must hear nothing
SETTINGS = {"user_message_evt": "user_uttered", "bot_message_evt": "bot_uttered", "session_persistence": True}


class Page(socketio_support.Page):
    """A web chat page on the in-process test server, which confirms sessions at once."""

    confirm_seconds = 10.0

    async def hears(self, count: int = 1) -> list[dict[str, Any]]:
        for _ in range(100):
            if len(self.heard) >= count:
                return self.heard
            await asyncio.sleep(0.05)
        pytest.fail(f"the page heard {self.heard}, not {count} messages")


@pytest.fixture
def credentials(redis_creds: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    for name in ("TRUSTED_PROXIES", "CHAT_MAX_MESSAGE_CHARS"):
        monkeypatch.delenv(name, raising=False)
    return {**redis_creds, **SETTINGS}


@pytest.fixture
async def chat(credentials: dict[str, Any]) -> AsyncIterator[Served]:
    async with served(CivicSocketIOInput.from_credentials(credentials)) as running:
        yield running


@pytest.fixture
async def pages(chat: Served) -> AsyncIterator[Any]:
    opened: list[Page] = []

    def new() -> Page:
        opened.append(Page(chat.base_url))
        return opened[-1]

    yield new
    for page in opened:
        await page.close()


def texts(received: list[UserMessage]) -> list[str]:
    return [m.text or "" for m in received]


async def test_the_server_issues_the_session_and_a_reload_keeps_it(chat: Served, pages: Any) -> None:
    first = pages()
    session_id = await first.open(None)
    assert IdentityKey(IDENTITY_SECRET).valid_session(session_id)
    await first.say("hello")
    assert (await first.hears())[0]["text"] == "You said: hello"
    [message] = chat.agent.received
    assert message.sender_id == conversation("socketio", session_id)
    assert session_id not in message.sender_id and message.input_channel == "socketio"
    await first.close()
    # The page reloads: a new socket presents the stored id and carries on in the same conversation.
    again = pages()
    assert await again.open(session_id) == session_id
    await again.say("still me")
    await again.hears()
    assert {m.sender_id for m in chat.agent.received} == {conversation("socketio", session_id)}


async def test_an_id_the_server_did_not_issue_gets_a_fresh_session_that_hears_nothing_else(
    chat: Served, pages: Any
) -> None:
    citizen = pages()
    session_id = await citizen.open(None)
    forged = session_id[:-1] + ("0" if session_id[-1] != "0" else "1")
    asked = [conversation("socketio", session_id), forged, "my-own-id", 42]
    others = [pages() for _ in asked]
    given = [await page.open(wanted) for page, wanted in zip(others, asked, strict=True)]
    assert session_id not in given and len(set(given)) == len(given)
    assert all(IdentityKey(IDENTITY_SECRET).valid_session(g) for g in given)
    await citizen.say("my address is 48 Quarry Lane")
    await citizen.hears()
    await asyncio.sleep(QUIET_SECONDS)
    assert [page.heard for page in others] == [[] for _ in others]
    # And the other way round: what they say stays in their own conversations.
    for page in others:
        await page.say("hi")
        await page.hears()
    assert len(citizen.heard) == 1


async def test_a_message_for_a_session_the_socket_was_not_given_is_dropped(chat: Served, pages: Any) -> None:
    citizen, intruder = pages(), pages()
    session_id = await citizen.open(None)
    await intruder.open(None)
    await intruder.say("I am the citizen now", session_id=session_id)
    await intruder.say("or their room", session_id=conversation("socketio", session_id))
    await asyncio.sleep(QUIET_SECONDS)
    assert chat.agent.received == [] and intruder.heard == [] and citizen.heard == []
    # A socket that never asked for a session cannot speak at all.
    silent = pages()
    await silent.client.connect(chat.base_url, socketio_path="/socket.io")
    await silent.client.emit("user_uttered", {"message": "hello", "session_id": session_id})
    await asyncio.sleep(QUIET_SECONDS)
    assert chat.agent.received == []


async def test_a_second_session_request_leaves_the_first_conversation(chat: Served, pages: Any) -> None:
    page, other = pages(), pages()
    first = await page.open(None)
    await page.ask(None)  # "New chat" on the same socket
    assert await other.open(first) == first
    await other.say("hello")
    await other.hears()
    await asyncio.sleep(QUIET_SECONDS)
    assert page.heard == []


async def test_an_over_long_message_gets_the_limit(chat: Served, pages: Any) -> None:
    page = pages()
    await page.open(None)
    await page.say("x" * 2001)
    [notice] = await page.hears()
    assert "too long" in notice["text"] and "2,000 characters" in notice["text"]
    assert chat.agent.received == []


async def test_too_many_messages_get_a_polite_wait(
    credentials: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RATE_CONVERSATION_BURST", "2")
    monkeypatch.setenv("RATE_CONVERSATION_PER_MINUTE", "6")  # one every 10 s
    async with served(CivicSocketIOInput.from_credentials(credentials)) as chat:
        page = Page(chat.base_url)
        try:
            await page.open(None)
            for text in ("one", "two", "three"):
                await page.say(text)
                await asyncio.sleep(0.1)  # in order
            heard = await page.hears(3)
        finally:
            await page.close()
    assert [h["text"] for h in heard[:2]] == ["You said: one", "You said: two"]
    assert "faster than I can answer" in heard[2]["text"] and "seconds" in heard[2]["text"]
    assert texts(chat.agent.received) == ["one", "two"]


async def test_only_offered_buttons_reach_the_assistant_as_intents(credentials: dict[str, Any]) -> None:
    def bot(message: UserMessage) -> list[dict[str, Any]]:
        return [{"text": "How did we do?", "buttons": [{"title": "5", "payload": '/rate{"rating":"5"}'}]}]

    async with served(CivicSocketIOInput.from_credentials(credentials), bot) as chat:
        page = Page(chat.base_url)
        try:
            await page.open(None)
            for number, text in enumerate(
                ('/rate{"rating":"1"}', "/handoff_request", '/rate{"rating":"5"}'), 1
            ):
                await page.say(text, metadata={"media_url": "https://evil.example/x.png"})
                await page.hears(number)
        finally:
            await page.close()
    assert texts(chat.agent.received) == ['rate{"rating":"1"}', "handoff_request", '/rate{"rating":"5"}']
    assert [b["payload"] for b in page.heard[0]["quick_replies"]] == ['/rate{"rating":"5"}']
    assert all(not m.metadata for m in chat.agent.received)


async def test_a_jwt_secret_still_guards_the_connection(credentials: dict[str, Any]) -> None:
    secret = "jwt-secret-of-the-embedding-site-0123"
    async with served(CivicSocketIOInput.from_credentials({**credentials, "jwt_key": secret})) as chat:
        refused = Page(chat.base_url)
        with pytest.raises(socketio.exceptions.ConnectionError):
            await refused.open(
                None,
                auth={
                    "token": jwt.encode(
                        {"user": "x"}, "a-wrong-secret-of-a-reasonable-length", algorithm="HS256"
                    )
                },
            )
        page = Page(chat.base_url)
        try:
            await page.open(None, auth={"token": jwt.encode({"user": "x"}, secret, algorithm="HS256")})
            await page.say("hello")
            assert (await page.hears())[0]["text"] == "You said: hello"
        finally:
            await page.close()
