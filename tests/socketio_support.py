"""A socket.io client that talks to Rasa as the web chat page does (one connection per message).

The server issues the session id (the page keeps it in localStorage and presents it again after a
reload); the conversation (tracker and room) is the keyed hash of it that `WebSession` computes
with the stack's identity secret, as the channel does.
"""

from __future__ import annotations

import asyncio
import json
import urllib.request
from dataclasses import dataclass, field
from typing import Any

import socketio
from polling_support import wait_until_async

from bot.channels.text import typed_text
from bot.identity import IdentityKey
from bot.stack import Stack


def tracker_events(base: str, token: str, conversation_id: str) -> list[dict[str, Any]]:
    # ALL: Rasa returns only the events after the latest restart by default
    url = f"{base}/conversations/{conversation_id}/tracker?token={token}&include_events=ALL"
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())["events"]


def said(events: list[dict[str, Any]], text: str) -> int:
    """How often the citizen said `text` (a "/..." no button offered is kept as typed text)."""
    forms = {text, typed_text(text)}
    return sum(1 for e in events if e.get("event") == "user" and e.get("text") in forms)


def conversation_of(stack: Stack, session_id: str) -> str:
    """The conversation id the socket.io channel keeps a web chat session's tracker under."""
    return IdentityKey.from_settings(stack.settings).conversation_id("socketio", session_id)


@dataclass
class WebSession:
    """One browser's web chat: the Rasa it talks to and the session id the server gave it (None at first)."""

    url: str
    token: str  # Rasa's HTTP API token, to read the tracker
    identity: IdentityKey
    session_id: str | None = None
    confirmed: list[str] = field(default_factory=list)  # every id the server confirmed, in order

    @classmethod
    def of(cls, stack: Stack, session_id: str | None = None) -> WebSession:
        base = f"http://127.0.0.1:{stack.settings.rasa.port}"
        return cls(base, stack.settings.rasa.token, IdentityKey.from_settings(stack.settings), session_id)

    @property
    def conversation_id(self) -> str:
        assert self.session_id, "no session yet: the server issues it at the first session_request"
        return self.identity.conversation_id("socketio", self.session_id)


async def chat(session: WebSession, text: str, timeout: float = 30.0) -> list[dict[str, Any]]:
    """Connect like a freshly loaded page, resume the session, send one message; returns every reply.

    Rasa saves a turn when it is over, so once its tracker holds the message, the number of bot events
    after it is the number of replies to wait for. Fails if they are not all in within ``timeout``.
    """
    client = socketio.AsyncClient(reconnection=False)
    confirmed: asyncio.Queue[str] = asyncio.Queue()
    replies: list[dict[str, Any]] = []
    got_reply = asyncio.Event()

    @client.on("session_confirm")
    async def _confirm(data: Any) -> None:
        await confirmed.put(str(data))

    @client.on("bot_uttered")
    async def _reply(data: dict[str, Any]) -> None:
        replies.append(data)
        got_reply.set()

    await client.connect(session.url, socketio_path="/socket.io")
    try:
        await client.emit("session_request", {"session_id": session.session_id})
        session.session_id = await asyncio.wait_for(confirmed.get(), timeout)
        session.confirmed.append(session.session_id)
        conversation = session.conversation_id
        before = said(await asyncio.to_thread(tracker_events, session.url, session.token, conversation), text)

        async def bot_events_of_the_turn() -> tuple[list[dict[str, Any]]] | None:
            events = await asyncio.to_thread(tracker_events, session.url, session.token, conversation)
            if said(events, text) <= before:
                return None
            last = max(i for i, e in enumerate(events) if said([e], text))
            return ([e for e in events[last + 1 :] if e.get("event") == "bot"],)

        await client.emit("user_uttered", {"message": text, "session_id": session.session_id})
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


class Page:
    """A web chat page kept open: one socket, the session the server gave it, everything it heard."""

    confirm_seconds = 30.0  # a busy stack's Rasa confirms a session well within this

    def __init__(self, url: str) -> None:
        self.url = url
        self.client = socketio.AsyncClient(reconnection=False)
        self.heard: list[dict[str, Any]] = []
        self.confirmed: asyncio.Queue[str] = asyncio.Queue()
        self.session_id = ""
        self.client.on("bot_uttered", self._heard)
        self.client.on("session_confirm", self._confirmed)

    async def _heard(self, data: dict[str, Any]) -> None:
        self.heard.append(data)

    async def _confirmed(self, data: Any) -> None:
        await self.confirmed.put(str(data))

    async def open(self, session_id: Any = None, auth: dict[str, str] | None = None) -> str:
        """Connect and ask for `session_id` (None: a new one); returns the id the server confirmed."""
        await self.client.connect(self.url, socketio_path="/socket.io", auth=auth)
        return await self.ask(session_id)

    async def ask(self, session_id: Any) -> str:
        """A `session_request` on the open socket; the confirmed id is this page's session from now."""
        await self.client.emit("session_request", {"session_id": session_id})
        self.session_id = await asyncio.wait_for(self.confirmed.get(), self.confirm_seconds)
        return self.session_id

    async def say(self, text: str, session_id: str | None = None, **extra: Any) -> None:
        data = {"message": text, "session_id": session_id or self.session_id, **extra}
        await self.client.emit("user_uttered", data)

    def texts(self) -> list[str]:
        return [str(m.get("text")) for m in self.heard]

    async def close(self) -> None:
        await self.client.disconnect()
