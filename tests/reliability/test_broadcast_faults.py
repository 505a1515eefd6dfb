"""A broadcaster process killed mid-fan-out: every subscriber gets the broadcast exactly once.

Real Redis (db 8), the real broadcaster (`python -m bot.broadcasts`, Telegram switched on in its
environment) sending to a local stand-in for Telegram's Bot API. The stand-in holds its answer to
the 5th message; the test `kill -9`s the process while that send is under way, starts a new one,
and checks what the platform received: each of the 20 chats once, none twice, none missing. The
held message reached the platform, but its worker died before hearing so: the documented in-flight
case, settled `failed` with reason `interrupted` and never sent again. Then SIGTERM stops the
second process cleanly.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import redis.asyncio as aioredis
from aiohttp import web
from server_support import serving

from bot.broadcasts.delivery import delivery_reasons, delivery_report, start_delivery
from bot.broadcasts.model import SENDING, SENT, Broadcast, BroadcastStore, new_id
from bot.channels.store import conversation_key
from bot.identity import IdentityKey
from bot.stack import free_port
from bot.subscriptions.store import SubscriberStore

ROOT = Path(__file__).resolve().parents[2]
DB = 8
SECRET = "broadcast-faults-identity-secret-01"
SUBSCRIBERS = 20
HOLD_AT = 5


class Telegram:
    """Telegram's sendMessage: records each chat id, holds the answer to the HOLD_AT-th request."""

    def __init__(self) -> None:
        self.chats: list[str] = []
        self.held = asyncio.Event()
        self.release = asyncio.Event()
        self.base_url = ""

    async def handle(self, request: web.Request) -> web.Response:
        body: dict[str, Any] = await request.json()
        self.chats.append(str(body["chat_id"]))
        if len(self.chats) == HOLD_AT:
            self.held.set()
            await self.release.wait()
        return web.json_response({"ok": True, "result": {"message_id": len(self.chats)}})


@pytest.fixture
def redis_port(redis_server: int) -> Iterator[int]:
    client = redis.Redis(port=redis_server, db=DB)
    client.flushdb()
    client.close()
    yield redis_server


@pytest.fixture
async def telegram() -> AsyncIterator[Telegram]:
    fake = Telegram()
    app = web.Application()
    app.router.add_post("/{tail:.*}", fake.handle)
    async with serving(app) as base:
        fake.base_url = base
        yield fake
        fake.release.set()


def environment(redis_port: int, api_url: str, port: int) -> dict[str, str]:
    channel_prefixes = ("TWILIO_", "TELEGRAM_", "WHATSAPP_", "MESSENGER_", "INSTAGRAM_", "META_", "REDIS_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(channel_prefixes)}
    env.update(
        REDIS_URL=f"redis://127.0.0.1:{redis_port}/{DB}",
        REDIS_HOST="127.0.0.1",
        REDIS_PORT=str(redis_port),
        REDIS_DB=str(DB),
        REDIS_PASSWORD="",
        IDENTITY_SECRET=SECRET,
        TELEGRAM_TOKEN="123:abc",
        TELEGRAM_SECRET_TOKEN="tg-secret",
        TELEGRAM_API_URL=api_url,
        TELEGRAM_RATE_PER_SEC="0",
        BROADCAST_WORKERS_PER_CHANNEL="1",
        BROADCASTER_PORT=str(port),
        ALERTS_POLL_SECONDS="3600",
        PYTHONUNBUFFERED="1",
    )
    return env


def healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as answer:
            return bool(answer.status == 200)
    except OSError:
        return False


def spawn(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "bot.broadcasts"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )


def tail(log: Path) -> str:
    return log.read_text()[-3000:]


async def broadcaster(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    process = await asyncio.to_thread(spawn, env, log)
    port = int(env["BROADCASTER_PORT"])
    for _ in range(600):
        if await asyncio.to_thread(healthy, port):
            return process
        assert process.poll() is None, await asyncio.to_thread(tail, log)
        await asyncio.sleep(0.1)
    process.kill()
    raise AssertionError(f"the broadcaster did not start: {await asyncio.to_thread(tail, log)}")


async def test_a_killed_broadcaster_leaves_no_double_and_no_gap(
    telegram: Telegram, redis_port: int, tmp_path: Path
) -> None:
    client = aioredis.Redis(port=redis_port, db=DB)
    identity, store = IdentityKey(SECRET), SubscriberStore(client)
    chats = [str(700000 + n) for n in range(SUBSCRIBERS)]
    for chat in chats:
        cid = identity.conversation_id("telegram", chat)
        await client.set(conversation_key("telegram", "address", cid), chat)
        await store.subscribe(cid, ["water"], ["all"], "Sign me up?")
    broadcast = Broadcast(
        id=new_id(), title="Boil water", text="Boil tap water.", topic="water", areas=("all",),
        channels=("telegram",), author="editor", status=SENDING,
    )  # fmt: skip
    await BroadcastStore(client).add(broadcast)
    assert (await start_delivery(client, broadcast))["total"] == SUBSCRIBERS

    env = environment(redis_port, telegram.base_url, free_port())
    log = tmp_path / "broadcaster.log"
    first = await broadcaster(env, log)
    await asyncio.wait_for(telegram.held.wait(), 60)
    first.send_signal(signal.SIGKILL)  # mid-send: the 5th message is at the platform, unanswered
    first.wait(10)
    telegram.release.set()
    assert len(telegram.chats) == HOLD_AT

    second = await broadcaster(env, log)
    try:
        deadline = time.monotonic() + 60
        # every recipient settled, then the broadcast marked `sent` (a moment later, under its lock)
        while not (await delivery_report(client, broadcast.id))["done"] or (
            (stored := await BroadcastStore(client).get(broadcast.id)) is None or stored.status != SENT
        ):
            assert time.monotonic() < deadline, await delivery_report(client, broadcast.id)
            await asyncio.sleep(0.1)
        report = await delivery_report(client, broadcast.id)
    finally:
        second.send_signal(signal.SIGTERM)
        code = await asyncio.to_thread(second.wait, 30)
    assert code == 0, await asyncio.to_thread(tail, log)  # a clean stop on SIGTERM

    assert sorted(telegram.chats) == sorted(chats)  # every chat once: no double, no gap
    assert report["counts"] == {
        "queued": 0, "sent": SUBSCRIBERS - 1, "delivered": 0, "failed": 1, "skipped": 0,
    }  # fmt: skip
    assert await delivery_reasons(client, broadcast.id) == {"failed:interrupted": 1}
    assert stored is not None and stored.status == SENT
    await client.close(close_connection_pool=True)
