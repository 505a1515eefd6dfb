"""Handoff fixtures: a real Redis, accounts in a temp file, the console app, a stand-in Rasa HTTP API."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from redis.asyncio import Redis
from server_support import serving
from stack_support import console_app

from bot.console.accounts import add_account
from bot.handoff.config import HandoffConfig
from bot.handoff.store import QueueStore

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
async def redis(redis_server: int) -> AsyncIterator[Redis]:
    client = Redis(port=redis_server, decode_responses=True)
    await client.flushdb()
    yield client
    await client.close(close_connection_pool=True)


@pytest.fixture
async def store(redis: Redis) -> QueueStore:
    return QueueStore(redis)


@pytest.fixture(scope="session")
def agents_template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """Three accounts, hashed once per session (bcrypt is slow on purpose)."""
    path = tmp_path_factory.mktemp("accounts") / "agents.yml"
    tokens = {
        "Dana": add_account(path, "Dana", "agent", "dana-password"),
        "Lee": add_account(path, "Lee", "agent", "lee-password"),
        "Eddie": add_account(path, "Eddie", "editor", "eddie-password"),
    }
    return path, tokens


@pytest.fixture
def agents(agents_template: tuple[Path, dict[str, str]], tmp_path: Path) -> dict[str, str]:
    """name -> API token; the accounts file is `tmp_path / "agents.yml"`."""
    shutil.copy(agents_template[0], tmp_path / "agents.yml")
    return agents_template[1]


@dataclass
class FakeRasa:
    """Stands in for Rasa's HTTP API (a third party to the console) and records what it was asked."""

    calls: list[dict[str, Any]] = field(default_factory=list)
    fail: bool = False
    fail_messages: bool = False  # refuse only `bot` events (what the console says), accept the rest
    delay: float = 0.0  # seconds each call takes (the console's client may give up first)
    fail_after_storing: bool = False  # store a `bot` event, then answer 500 (as a crash mid-call would)

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.json()
        is_message = isinstance(body, dict) and body.get("event") == "bot"
        if self.fail or (self.fail_messages and is_message):
            return web.json_response({"error": "down"}, status=500)
        await asyncio.sleep(self.delay)
        self.calls.append({"path": request.path, "query": dict(request.query), "body": body})
        if self.fail_after_storing and is_message:
            return web.json_response({"error": "lost the answer"}, status=500)
        return web.json_response({"events": []})

    async def tracker(self, request: web.Request) -> web.Response:
        path = request.path.removesuffix("/tracker") + "/tracker/events"
        return web.json_response({"events": [c["body"] for c in self.messages() if c["path"] == path]})

    def messages(self) -> list[dict[str, Any]]:
        """The `bot` events the console delivered, in order."""
        return [c for c in self.calls if isinstance(c["body"], dict) and c["body"].get("event") == "bot"]


@pytest.fixture
async def fake_rasa() -> AsyncIterator[tuple[FakeRasa, str]]:
    rasa = FakeRasa()
    app = web.Application()
    app.router.add_post("/conversations/{cid}/tracker/events", rasa.handle)
    app.router.add_post("/conversations/{cid}/trigger_intent", rasa.handle)
    app.router.add_get("/conversations/{cid}/tracker", rasa.tracker)
    async with serving(app) as base:
        yield rasa, base


@pytest.fixture
async def console(
    redis_server: int, redis: Redis, agents: dict[str, str], fake_rasa: tuple[FakeRasa, str], tmp_path: Path
) -> AsyncIterator[TestClient]:
    config = HandoffConfig(
        redis_url=f"redis://127.0.0.1:{redis_server}/0",
        rasa_url=fake_rasa[1],
        rasa_token="rasa-secret",
        agents_file=tmp_path / "agents.yml",
        data_dir=ROOT / "data/handoff",
        sweep_seconds=3600,
    )
    client = TestClient(TestServer(console_app(config)))
    await client.start_server()
    yield client
    await client.close()
