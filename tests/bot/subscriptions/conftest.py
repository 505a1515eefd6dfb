"""Fixtures for the subscription tests: the shared redis-server's DB 6 (emptied for each test), the
channel tests' stand-in platform API, and their helpers (tests/bot/channels) on the import path."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import redis
import redis.asyncio as aioredis

CHANNEL_TESTS = Path(__file__).resolve().parents[1] / "channels"
if str(CHANNEL_TESTS) not in sys.path:
    sys.path.insert(0, str(CHANNEL_TESTS))

from channel_support import IDENTITY_SECRET, FakePlatform, served_platform  # noqa: E402

DB = 6


@pytest.fixture
def redis_creds(redis_server: int) -> dict[str, str]:
    client = redis.Redis(port=redis_server, db=DB)
    client.flushdb()
    client.close()
    return {
        "redis_host": "127.0.0.1",
        "redis_port": str(redis_server),
        "redis_db": str(DB),
        "redis_password": "",
        "identity_secret": IDENTITY_SECRET,
    }


@pytest.fixture
async def db(redis_creds: dict[str, str]) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis(port=int(redis_creds["redis_port"]), db=DB, decode_responses=True)
    yield client
    await client.close()


@pytest.fixture
async def platform() -> AsyncIterator[FakePlatform]:
    async with served_platform(FakePlatform()) as fake:
        yield fake
