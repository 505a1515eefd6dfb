"""The analytics aggregator's throughput, and what it adds to a conversation's turn.

Starts its own redis-server (or uses REDIS_URL's database, which it empties: give it a throwaway
one), writes N synthetic events shaped like Rasa's (conversations over a week on five channels:
questions, rated answers, feedback taps, message tests, lookups, declines, handoffs with waits,
ratings), then:

1. times the aggregator applying them all (`Aggregator.catch_up`, batches of 500): events per second;
2. times appending a turn's events to the stream (what the event broker's writer does, 4 events in
   one round trip) with no reader, then again while a second process aggregates a fresh backlog of
   the same size: the difference is all the aggregator can add to a turn. Nothing more: Rasa's
   `publish` only queues the event in memory (the broker's writer task appends it later), and the
   aggregator runs in the console process and reads the stream on its own schedule.

    .venv/bin/python bench/analytics.py [--events 50000] [--turns 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import multiprocessing
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.analytics.aggregator import Aggregator  # noqa: E402
from bot.analytics.summary import summary  # noqa: E402
from bot.events import STREAM  # noqa: E402
from bot.stack import free_port, redis_server_binary  # noqa: E402

CHANNELS = ("socketio", "socketio", "twilio", "whatsapp", "telegram", "facebook")
ENTRIES = [f"faq_{n:02d}" for n in range(40)]
TESTED = {"faq_00": ("A", "B"), "faq_01": ("short", "long"), "faq_02": ("A", "B")}
REASONS = ("requested", "frustration", "sensitive", "lookup_failed", "misunderstood")


def event(kind: str, cid: str, t: float, **fields: Any) -> dict[str, Any]:
    return {"event": kind, "sender_id": cid, "timestamp": t, **fields}


def user(cid: str, t: float, channel: str, intent: str, text: str, entities: list[Any] | None = None):
    parse = {"intent": {"name": intent, "confidence": 0.87}, "entities": entities or [], "text": text}
    return event("user", cid, t, text=text, parse_data=parse, input_channel=channel)


def conversation(rng: random.Random, n: int, start: float) -> list[dict[str, Any]]:
    """One citizen's conversation: a few questions, answers, maybe a tap, a decline or a handoff."""
    cid, channel, t = f"bench-{n}", rng.choice(CHANNELS), start + rng.uniform(0, 7 * 86400)
    out: list[dict[str, Any]] = []
    for turn in range(rng.randint(1, 4)):
        t += rng.uniform(5, 60)
        out.append(user(cid, t, channel, "faq", f"question {turn} about something"))
        out.append(event("action", cid, t + 0.1, name="action_listen"))
        roll = rng.random()
        if roll < 0.08:
            out.append(event("action", cid, t + 0.2, name="utter_out_of_scope"))
            continue
        if roll < 0.12:
            out.append(
                event("bot", cid, t + 0.2, text="...", metadata={"utter_action": "utter_x_unavailable"})
            )
            continue
        entry = rng.choice(ENTRIES[:10] if rng.random() < 0.5 else ENTRIES)
        variant = rng.choice(TESTED[entry]) if entry in TESTED else ""
        aid = f"{n}-{turn}"
        kind = "lookup" if roll > 0.9 else "faq"
        rating = {"answer": aid, "entry": entry, "variant": variant, "kind": kind, "topic": entry[:5]}
        out.append(
            event("bot", cid, t + 0.3, text="...", metadata={"utter_action": "utter_faq", "rating": rating})
        )
        if rng.random() < 0.3:
            value = rng.choice(("up", "up", "down"))
            taps = [{"entity": "answer", "value": aid}, {"entity": "value", "value": value}]
            payload = json.dumps({"answer": aid, "value": value})
            out.append(user(cid, t + 3, channel, "feedback", f"/feedback{payload}", taps))
    if rng.random() < 0.1:
        t += 10
        reason = rng.choice(REASONS)
        meta = {"utter_action": "utter_handoff_queued", "handoff_reason": reason}
        out.append(event("bot", cid, t, text="...", metadata=meta))
        out.append(event("pause", cid, t + rng.uniform(10, 900)))
        out.append(event("slot", cid, t + 1000, name="handoff_rating", value=rng.randint(1, 5)))
    return out


def synthetic(count: int, seed: int = 18) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    start = time.time() - 8 * 86400
    events: list[dict[str, Any]] = []
    n = 0
    while len(events) < count:
        events.extend(conversation(rng, n, start))
        n += 1
    return events[:count]


async def fill(redis: aioredis.Redis, events: list[dict[str, Any]], stream: str = STREAM) -> None:
    for i in range(0, len(events), 500):
        async with redis.pipeline(transaction=False) as pipe:
            for item in events[i : i + 500]:
                pipe.xadd(stream, {"event": json.dumps(item)})
            await pipe.execute()


async def turn_latencies(redis: aioredis.Redis, turns: int, stream: str) -> list[float]:
    """Milliseconds to append one turn's 4 events in one round trip (as the broker's writer does)."""
    out = []
    now = time.time()
    for n in range(turns):
        body = [
            user(f"turn-{n}", now, "socketio", "faq", "a question"),
            event("action", f"turn-{n}", now, name="action_listen"),
            event("bot", f"turn-{n}", now, text="...", metadata={}),
            event("action", f"turn-{n}", now, name="action_listen"),
        ]
        started = time.perf_counter()
        async with redis.pipeline(transaction=False) as pipe:
            for item in body:
                pipe.xadd(stream, {"event": json.dumps(item)})
            await pipe.execute()
        out.append((time.perf_counter() - started) * 1000)
    return out


def aggregate_in_child(url: str, stream: str, ready: Any) -> None:
    """A second process (the console) applying a backlog while the parent appends turns."""

    async def run() -> None:
        redis = aioredis.Redis.from_url(url)
        ready.set()
        await Aggregator(redis, stream=stream).catch_up()
        await redis.close()

    asyncio.run(run())


def percentiles(values: list[float]) -> str:
    q = statistics.quantiles(values, n=100)
    return f"p50 {q[49]:.2f} ms, p95 {q[94]:.2f} ms"


async def bench(url: str, count: int, turns: int) -> None:
    redis = aioredis.Redis.from_url(url)
    await redis.flushdb()
    events = synthetic(count)
    await fill(redis, events)
    started = time.perf_counter()
    applied = await Aggregator(redis).catch_up()
    elapsed = time.perf_counter() - started
    today = datetime.datetime.now(datetime.timezone.utc).date()
    figures = await summary(redis, today - datetime.timedelta(days=9), today)
    print(f"aggregator: {applied} events in {elapsed:.2f} s = {applied / elapsed:,.0f} events/s")
    print(
        f"  -> {figures['conversations']} conversations, {figures['messages']} messages, "
        f"{figures['contained']} contained, {sum(figures['handoffs'].values())} handoffs"
    )
    started = time.perf_counter()
    assert await Aggregator(redis).catch_up() == 0
    print(f"  re-run over the same stream: 0 events applied in {time.perf_counter() - started:.3f} s")

    idle = await turn_latencies(redis, turns, "bench:turns")
    backlog = "bench:backlog"  # a fresh backlog for the child: the same work as above, in parallel
    await fill(redis, synthetic(count, seed=19), backlog)
    await redis.delete("civic:analytics:v1:cursor")
    ready = multiprocessing.get_context("spawn").Event()
    child = multiprocessing.get_context("spawn").Process(
        target=aggregate_in_child, args=(url, backlog, ready)
    )
    child.start()
    ready.wait(30)
    busy = await turn_latencies(redis, turns, "bench:turns")
    still_running = child.is_alive()
    child.join()
    print(f"appending a turn (4 events, one round trip), no reader:       {percentiles(idle)}")
    state = "still busy at the end" if still_running else "done before the end"
    print(f"appending a turn while another process aggregates ({state}): {percentiles(busy)}")
    print(
        "added latency on a turn: none on Rasa's side (publish() only queues in memory; the broker's\n"
        "writer appends asynchronously and the aggregator reads later, in the console process); the\n"
        "difference above is the shared Redis serving both."
    )
    await redis.close()


def wait_for_redis(port: int, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--turns", type=int, default=2_000)
    args = parser.parse_args()
    url = os.environ.get("REDIS_URL", "")
    if url:
        asyncio.run(bench(url, args.events, args.turns))
        return
    port = free_port()
    with tempfile.TemporaryDirectory() as data:
        argv = [redis_server_binary(), "--port", str(port), "--save", "", "--appendonly", "no", "--dir", data]
        server = subprocess.Popen(argv, stdout=subprocess.DEVNULL)
        try:
            wait_for_redis(port)
            asyncio.run(bench(f"redis://127.0.0.1:{port}/0", args.events, args.turns))
        finally:
            server.terminate()
            server.wait(10)


if __name__ == "__main__":
    main()
