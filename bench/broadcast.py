"""One broadcast to 10,000 subscribers through a local stand-in for Telegram's Bot API.

Starts its own redis-server and the real broadcaster (`python -m bot.broadcasts`, Telegram switched
on, TELEGRAM_RATE_PER_SEC=0 so our limit does not pace it), subscribes N citizens, queues the
broadcast (`start_delivery`) and waits until every recipient is settled. Prints messages per
second (from the first send to the last), time to finish (from queueing), the broadcaster's peak
RSS (VmHWM), and Redis memory per subscriber (subscriptions alone, and with the delivery's state).
It also checks the outcome: each subscriber received exactly one message.

    .venv/bin/python bench/broadcast.py [--subscribers 10000] [--workers 16]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis
from aiohttp import web
from redis.exceptions import RedisError

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.broadcasts.delivery import delivery_report, start_delivery  # noqa: E402
from bot.broadcasts.model import SENDING, Broadcast, BroadcastStore, new_id  # noqa: E402
from bot.channels.store import conversation_key  # noqa: E402
from bot.identity import IdentityKey  # noqa: E402
from bot.stack import free_port, redis_server_binary  # noqa: E402
from bot.subscriptions.store import SubscriberStore  # noqa: E402

SECRET = "bench-broadcast-identity-secret-0123"  # noqa: S105 (a local bench's own key)
TIMEOUT = 600.0


@dataclass
class FakeTelegram:
    chats: Counter[str] = field(default_factory=Counter)
    first: float = 0.0
    last: float = 0.0

    async def handle(self, request: web.Request) -> web.Response:
        body: dict[str, Any] = await request.json()
        now = time.monotonic()
        self.first = self.first or now
        self.last = now
        self.chats[str(body["chat_id"])] += 1
        return web.json_response({"ok": True, "result": {"message_id": sum(self.chats.values())}})


def healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as answer:
            return bool(answer.status == 200)
    except OSError:
        return False


def spawn(argv: list[str], env: dict[str, str], log: Path | None) -> subprocess.Popen[bytes]:
    if log is None:
        return subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL)
    with log.open("ab") as out:
        return subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out, stderr=out)


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def used_memory(client: aioredis.Redis) -> int:
    info = await client.info("memory")
    return int(info["used_memory"])


async def run(subscribers: int, workers: int, log: Path) -> dict[str, float]:
    """The figures of one run (raises when a subscriber got no message or more than one)."""
    redis_port, broadcaster_port = free_port(), free_port()
    data = Path(tempfile.mkdtemp(prefix="bench-broadcast-"))
    argv = [redis_server_binary(), "--port", str(redis_port), "--save", "", "--dir", str(data)]
    redis_proc = await asyncio.to_thread(spawn, argv, {**os.environ}, None)
    fake = FakeTelegram()
    app = web.Application()
    app.router.add_post("/{tail:.*}", fake.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    api_port = free_port()
    await web.TCPSite(runner, "127.0.0.1", api_port).start()
    client = aioredis.Redis(port=redis_port)
    process: subprocess.Popen[bytes] | None = None
    try:
        for _ in range(100):
            try:
                await client.ping()
                break
            except (OSError, RedisError):
                await asyncio.sleep(0.05)
        baseline = await used_memory(client)
        identity, store = IdentityKey(SECRET), SubscriberStore(client)
        for number in range(subscribers):
            chat = str(10_000_000 + number)
            cid = identity.conversation_id("telegram", chat)
            await client.set(conversation_key("telegram", "address", cid), chat)
            await store.subscribe(cid, ["water"], ["all"], "Sign me up for water alerts?")
        subscribed = await used_memory(client)

        env = {
            k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "WHATSAPP_", "MESSENGER_"))
        }
        env.update(
            REDIS_URL=f"redis://127.0.0.1:{redis_port}/0", REDIS_HOST="127.0.0.1",
            REDIS_PORT=str(redis_port), REDIS_DB="0", REDIS_PASSWORD="", IDENTITY_SECRET=SECRET,
            TELEGRAM_TOKEN="123:bench", TELEGRAM_SECRET_TOKEN="bench-secret",  # noqa: S106
            TELEGRAM_API_URL=f"http://127.0.0.1:{api_port}", TELEGRAM_RATE_PER_SEC="0",
            BROADCAST_WORKERS_PER_CHANNEL=str(workers), BROADCASTER_PORT=str(broadcaster_port),
            ALERTS_POLL_SECONDS="3600", LOG_LEVEL="warning",
        )  # fmt: skip
        process = await asyncio.to_thread(spawn, [sys.executable, "-m", "bot.broadcasts"], env, log)
        for _ in range(1200):
            if await asyncio.to_thread(healthy, broadcaster_port):
                break
            if process.poll() is not None:
                raise RuntimeError(f"the broadcaster exited; see {log}")
            await asyncio.sleep(0.1)

        broadcast = Broadcast(
            id=new_id(), title="Boil water notice", text="Boil tap water for one minute before drinking.",
            topic="water", areas=("all",), channels=("telegram",), author="bench", status=SENDING,
        )  # fmt: skip
        await BroadcastStore(client).add(broadcast)
        started = time.monotonic()
        await start_delivery(client, broadcast)
        queued = await used_memory(client)
        while not (report := await delivery_report(client, broadcast.id))["done"]:
            if time.monotonic() - started > TIMEOUT:
                raise RuntimeError(f"not done after {TIMEOUT:.0f}s: {report['counts']}")
            await asyncio.sleep(0.05)
        finished = time.monotonic()
        done = await used_memory(client)
        rss = peak_rss_mb(process.pid)
        doubled = [chat for chat, n in fake.chats.items() if n > 1]
        if len(fake.chats) != subscribers or doubled or report["counts"]["sent"] != subscribers:
            raise RuntimeError(f"{len(fake.chats)} chats got it, {len(doubled)} twice: {report['counts']}")
        return {
            "subscribers": subscribers,
            "workers": workers,
            "messages_per_second": subscribers / max(fake.last - fake.first, 1e-6),
            "seconds_to_finish": finished - started,
            "broadcaster_peak_rss_mb": rss,
            "redis_bytes_per_subscriber": (subscribed - baseline) / subscribers,
            "redis_bytes_per_recipient_queued": (queued - subscribed) / subscribers,
            "redis_bytes_per_recipient_after": (done - subscribed) / subscribers,
        }
    finally:
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            await asyncio.to_thread(process.wait, 30)
        await client.close(close_connection_pool=True)
        await runner.cleanup()
        redis_proc.terminate()
        redis_proc.wait(10)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/broadcast.py", description=__doc__)
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=16, help="BROADCAST_WORKERS_PER_CHANNEL")
    args = parser.parse_args(argv)
    log = Path(tempfile.gettempdir()) / "bench-broadcaster.log"
    figures = asyncio.run(run(args.subscribers, args.workers, log))
    print(f"broadcast to {args.subscribers:,} Telegram subscribers, {args.workers} workers (log: {log})")
    print(f"  messages per second          {figures['messages_per_second']:.0f}")
    print(f"  time to finish               {figures['seconds_to_finish']:.1f} s")
    print(f"  broadcaster peak RSS         {figures['broadcaster_peak_rss_mb']:.0f} MB")
    print(f"  Redis per subscriber         {figures['redis_bytes_per_subscriber']:.0f} B (subscription)")
    print(f"  Redis per recipient, queued  {figures['redis_bytes_per_recipient_queued']:.0f} B")
    print(f"  Redis per recipient, done    {figures['redis_bytes_per_recipient_after']:.0f} B (kept a week)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
