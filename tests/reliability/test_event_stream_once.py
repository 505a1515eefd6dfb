"""An event whose XADD timed out and is sent again is in the stream once.

A stalled Redis (SIGSTOP) still holds the append the broker sent before its call timed out, and
runs it once it resumes; the broker, having seen only the timeout, sends the same events again.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis.asyncio import Redis
from redis_process import RedisProcess, redis_process

from bot.events import STREAM
from bot.events.broker import RedisStreamBroker


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RedisProcess]:
    with redis_process(tmp_path) as running:
        yield running


async def test_a_retried_append_after_a_timeout_adds_each_event_once(
    server: RedisProcess, caplog: pytest.LogCaptureFixture
) -> None:
    broker = RedisStreamBroker(Redis(port=server.port, socket_timeout=0.3))
    reader = Redis(port=server.port, decode_responses=True)
    now = time.time()
    events = [{"event": "user", "sender_id": "rest", "text": f"m{i}", "timestamp": now + i} for i in range(3)]
    await reader.ping()
    server.pause()
    try:
        with caplog.at_level(logging.WARNING, logger="bot.events.broker"):
            for event in events:
                broker.publish(event)
            await asyncio.sleep(0.6)  # the append was sent and timed out; it waits in Redis's socket
    finally:
        server.resume()
    await broker.flush(timeout=10)
    assert "Redis unavailable" in caplog.text  # the first try did time out and was retried

    entries = [json.loads(fields["event"]) for _, fields in await reader.xrange(STREAM)]
    assert entries == events
    await broker.close()
    await reader.close()
