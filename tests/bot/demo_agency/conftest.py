"""The demo agency on a real local port, over a copy of its data, with a clock the test sets."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from bot.demo_agency import DATA_DIR, DemoConfig, create_app

API_KEY = "demo-key"
ADMIN_TOKEN = "demo-admin"


class Clock:
    """A clock a test can move; the demo reads it for every answer."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Demo:
    base_url: str
    data_dir: Path
    state_dir: Path
    clock: Clock
    config: DemoConfig
    server: TestServer

    @property
    def open311(self) -> str:
        return f"{self.base_url}/open311/v2"

    async def restart(self) -> None:
        """Stop, and start a fresh app over the same data and state dirs (same port not needed)."""
        await self.server.close()
        self.server = TestServer(create_app(self.data_dir, self.config))
        await self.server.start_server()
        self.base_url = str(self.server.make_url("")).rstrip("/")


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 11, 25, 15, 0, tzinfo=timezone.utc))  # Wednesday 10:00 in Harbor City


@pytest.fixture
async def demo(tmp_path: Path, clock: Clock) -> AsyncIterator[Demo]:
    data_dir = tmp_path / "data"
    shutil.copytree(DATA_DIR, data_dir)
    config = DemoConfig(state_dir=tmp_path / "state", api_key=API_KEY, admin_token=ADMIN_TOKEN, clock=clock)
    server = TestServer(create_app(data_dir, config))
    await server.start_server()
    running = Demo(str(server.make_url("")).rstrip("/"), data_dir, config.state_dir, clock, config, server)
    yield running
    await running.server.close()
