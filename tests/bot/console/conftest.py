"""Fixtures for the console's security tests: a clean Redis database, accounts hashed once per session,
a stand-in for Rasa's HTTP API, and `make_console` for a real console with the rules a test sets.

The browser tests of this package use `fresh` (tests/bot/conftest.py) instead; async tests live in
modules of their own (a playwright module keeps an event loop running).
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from console_support import PASSWORDS, ROLES, MakeConsole, StandInRasa, secured_console
from redis.asyncio import Redis
from server_support import serving
from stack_support import empty_redis_db

from bot.console.accounts import add_account

DB = 11  # this package's own database on the shared test Redis


@pytest.fixture
async def redis(redis_server: int) -> AsyncIterator[Redis]:
    async with empty_redis_db(redis_server, DB) as client:
        yield client


@pytest.fixture(scope="session")
def accounts_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """dana and lee (agents) and erin (editor), hashed once per session (bcrypt is slow on purpose)."""
    path = tmp_path_factory.mktemp("console-accounts") / "agents.yml"
    for name, password in PASSWORDS.items():
        add_account(path, name, ROLES[name], password)
    return path


@pytest.fixture
def accounts(accounts_template: Path, tmp_path: Path) -> Path:
    """This test's own copy of the accounts file (tests add, remove and change accounts)."""
    path = tmp_path / "agents.yml"
    shutil.copy(accounts_template, path)
    return path


@pytest.fixture
async def rasa() -> AsyncIterator[tuple[StandInRasa, str]]:
    stand_in = StandInRasa()
    async with serving(stand_in.app()) as base:
        yield stand_in, base


@pytest.fixture
async def make_console(
    redis_server: int, redis: Redis, accounts: Path, rasa: tuple[StandInRasa, str]
) -> AsyncIterator[MakeConsole]:
    """`await make_console(**rules)`: a started console (real HTTP on 127.0.0.1) and a client with a
    cookie jar; `ssl=` serves https. Every console made is closed when the test ends."""
    clients: list[TestClient] = []

    async def make(ssl: Any = None, content_dir: Path | None = None, **rules: Any) -> TestClient:
        app = secured_console(
            f"redis://127.0.0.1:{redis_server}/{DB}", accounts, rasa[1], content_dir, **rules
        )
        server = TestServer(app)
        await server.start_server(ssl=ssl)
        client = TestClient(server)
        await client.start_server()
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.close()
