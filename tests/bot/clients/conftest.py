"""Real local HTTP servers for client contract tests: no mocking of our own code.

`canned` is a server that answers from a table of canned replies (fixture files
shaped exactly like the real APIs) and records every hit, so a test can count
retries and check what the client sent.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
Serve = Callable[[web.Application], Awaitable[str]]


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    delay: float = 0.0


@dataclass
class Hit:
    method: str
    path: str
    query: dict[str, str]
    form: dict[str, str]
    headers: dict[str, str]


@dataclass
class Canned:
    """Replies by (method, path); a list of replies is used in order, the last one repeating."""

    base_url: str = ""
    routes: dict[tuple[str, str], list[Reply]] = field(default_factory=dict)
    hits: list[Hit] = field(default_factory=list)

    def reply(self, method: str, path: str, **spec: object) -> None:
        """One reply for every call: fixture= (a file under tests/fixtures) or body=, status=, delay=."""
        self.sequence(method, path, [spec])

    def sequence(self, method: str, path: str, specs: list[dict[str, object]]) -> None:
        """Replies used in order, the last one repeating (e.g. a 500, then the real answer)."""
        self.routes[(method, path)] = [self._reply(**spec) for spec in specs]  # type: ignore[arg-type]

    @staticmethod
    def _reply(
        fixture: str | None = None,
        status: int = 200,
        body: bytes | str = b"",
        content_type: str = "application/json",
        delay: float = 0.0,
    ) -> Reply:
        data = (FIXTURES / fixture).read_bytes() if fixture else body
        return Reply(status, data.encode() if isinstance(data, str) else data, content_type, delay)

    def hits_on(self, path: str) -> list[Hit]:
        return [h for h in self.hits if h.path == path]

    async def handle(self, request: web.Request) -> web.StreamResponse:
        form = {k: str(v) for k, v in (await request.post()).items()} if request.method == "POST" else {}
        self.hits.append(Hit(request.method, request.path, dict(request.query), form, dict(request.headers)))
        replies = self.routes.get((request.method, request.path))
        if not replies:
            return web.Response(status=404, text="<html>no such page</html>", content_type="text/html")
        reply = replies.pop(0) if len(replies) > 1 else replies[0]
        if reply.delay:
            await asyncio.sleep(reply.delay)
        return web.Response(status=reply.status, body=reply.body, content_type=reply.content_type)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handle)
        return app


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    """Start any aiohttp app on a free local port; returns its base URL (no trailing slash)."""
    servers: list[TestServer] = []

    async def start(app: web.Application) -> str:
        server = TestServer(app)
        await server.start_server()
        servers.append(server)
        return str(server.make_url("")).rstrip("/")

    yield start
    for server in servers:
        await server.close()


@pytest.fixture
async def canned(serve: Serve) -> Canned:
    table = Canned()
    table.base_url = await serve(table.app())
    return table
