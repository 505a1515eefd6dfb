"""What the connector tests share besides fixtures: a stand-in platform API and the mounted connector.

- `FakePlatform`: a local aiohttp server standing in for Meta's Graph API, Twilio's REST API and
  Telegram's Bot API; it records every request (path, headers, raw body) and answers from a
  table (default 200 `{"ok": true}`), so a test asserts exactly what the platform would receive.
  The `platform` fixture (conftest.py) serves one per test.
- `conversation(channel, user)`: the conversation id a platform user gets (what Rasa sees), and
  `first(text)`: a first reply as the citizen reads it, with the privacy notice.
- `mounted(connector, bot)`: the connector's blueprint mounted the way `rasa run` mounts it
  (Rasa's own `register()` under `/webhooks/`), on a Sanic app served on a loopback port; the
  "agent" records every UserMessage and answers through the message's output channel with
  whatever `bot` returns, as Rasa's processor does (`send_response` per bot message).

A module of its own (not conftest.py) so test modules can import it by a unique name.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import parse_qsl

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer
from rasa.core.channels.channel import InputChannel, UserMessage, register
from sanic import Sanic

from bot.identity import IdentityKey
from bot.stack import free_port

Reply = dict[str, Any]
Bot = Callable[[UserMessage], list[Reply]]

# Sanic 21.12 rewrites its own methods when an app starts ("touch-up"); a second app in the same
# process then fails unless test mode keeps the originals.
Sanic.test_mode = True

IDENTITY_SECRET = "channel-tests-identity-secret-0123"
PRIVACY = "How we use your data: https://harborcity.example/privacy"


def conversation(channel: str, user: str | int) -> str:
    """The conversation id of a platform user: what Rasa, the trackers and the console see."""
    return IdentityKey(IDENTITY_SECRET).conversation_id(channel, str(user))


def first(text: str) -> str:
    """The first reply of a conversation as the citizen gets it: with the privacy notice, once."""
    return f"{text}\n\n{PRIVACY}"


# --- the platform's API ------------------------------------------------------------------------


@dataclass
class Hit:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    at: float

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode(), keep_blank_values=True))


@dataclass
class Answer:
    status: int = 200
    body: Any = field(default_factory=lambda: {"ok": True})
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class FakePlatform:
    """Stands in for a platform's API: records requests, answers from a table."""

    base_url: str = ""
    hits: list[Hit] = field(default_factory=list)
    answers: dict[tuple[str, str], list[Answer]] = field(default_factory=dict)

    def answer(self, path: str, *answers: Answer, method: str = "POST") -> None:
        """Answers for a path, used in order, the last one repeating."""
        self.answers[(method, path)] = list(answers)

    def on(self, path: str) -> list[Hit]:
        return [h for h in self.hits if h.path == path]

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.hits.append(
            Hit(
                request.method,
                request.path,
                dict(request.query),
                dict(request.headers),
                body,
                time.monotonic(),
            )
        )
        queue = self.answers.get((request.method, request.path))
        answer = (queue.pop(0) if len(queue) > 1 else queue[0]) if queue else Answer()
        return web.json_response(answer.body, status=answer.status, headers=answer.headers)


P = TypeVar("P", bound=FakePlatform)


@asynccontextmanager
async def served_platform(fake: P) -> AsyncIterator[P]:
    """`fake` answering every path on a local port (its `base_url` set) until the block ends."""
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", fake.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    fake.base_url = str(server.make_url("")).rstrip("/")
    try:
        yield fake
    finally:
        await server.close()


# --- the connector, mounted as Rasa mounts it --------------------------------------------------


def echo(message: UserMessage) -> list[Reply]:
    return [{"text": f"You said: {message.text}"}]


class RecordingAgent:
    """Stands in for Rasa's Agent: records each message, then answers as Rasa's processor would."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot
        self.received: list[UserMessage] = []

    async def handle_message(self, message: UserMessage) -> None:
        self.received.append(message)
        for reply in self.bot(message):
            await message.output_channel.send_response(message.sender_id, dict(reply))


@dataclass
class Harness:
    connector: Any
    agent: RecordingAgent
    base_url: str
    session: aiohttp.ClientSession

    @property
    def received(self) -> list[UserMessage]:
        return self.agent.received

    @property
    def webhook(self) -> str:
        return f"{self.base_url}/webhooks/{self.connector.name()}/webhook"

    async def post(
        self,
        body: bytes | Any,
        headers: dict[str, str] | None = None,
        *,
        query: str = "",
        settle: bool = True,
    ) -> tuple[int, str]:
        async with self.session.post(
            self.webhook + (f"?{query}" if query else ""), data=body, headers=headers or {}
        ) as response:
            text = await response.text()
        if settle:
            await self.settle()
        return response.status, text

    async def get(self, path: str = "/webhook", params: dict[str, str] | None = None) -> tuple[int, str]:
        url = f"{self.base_url}/webhooks/{self.connector.name()}{path}"
        async with self.session.get(url, params=params or {}) as response:
            return response.status, await response.text()

    async def settle(self) -> None:
        await self.connector.idle()


@asynccontextmanager
async def sanic_serving(
    channel: InputChannel, bot: Bot = echo, agent: RecordingAgent | None = None
) -> AsyncIterator[tuple[str, RecordingAgent]]:
    """A real Sanic server with `channel` registered as Rasa registers it; yields (base URL, agent)."""
    app = Sanic(f"channels-{uuid.uuid4().hex[:12]}", configure_logging=False)
    agent = agent or RecordingAgent(bot)
    app.ctx.agent = agent
    register([channel], app, route="/webhooks/")
    port = free_port()
    server = await app.create_server(
        host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False
    )
    assert server is not None
    await server.startup()
    await server.before_start()  # create_server() already listens; this runs the listeners
    await server.after_start()
    try:
        yield f"http://127.0.0.1:{port}", agent
    finally:
        await server.before_stop()
        closing = server.close()
        if closing is not None:
            await closing
        await server.after_stop()
        await asyncio.sleep(0)


@asynccontextmanager
async def mounted(
    connector: InputChannel, bot: Bot = echo, agent: RecordingAgent | None = None
) -> AsyncIterator[Harness]:
    """`agent` replaces the recording agent (a test's own subclass: slow or failing turns)."""
    async with sanic_serving(connector, bot, agent) as (base_url, agent):
        session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=20))
        try:
            harness = Harness(connector, agent, base_url, session)
            await harness.settle()  # start-up work (Telegram's setWebhook)
            yield harness
        finally:
            await session.close()
