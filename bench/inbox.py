"""The review inbox at scale: 50,000 recorded messages, the console's pages, and the handoff relay meanwhile.

Starts Redis and the console (`python -m bot.console`, the process that runs the inbox's recorder,
the analytics consumer and the handoff relay on one event loop), then:

1. publishes ``--messages`` unsure citizen messages to ``civic:events`` as Rasa's broker does (texts
   made up here from templates, with typos and fillers; spread over four weeks) and times the
   console's recorder until every one is recorded and clustered;
2. while an agent's handed-off chats relay citizen messages (stream -> queue -> the agent's
   websocket), opens ``/inbox`` (first page) and ``/analytics`` again and again as a signed-in editor;
3. prints p50/p95 per page and the relay's p50/p95 under that load.

Targets (issue #18): pages under 1 s, relay p95 under 200 ms. No Rasa is needed. Loopback only;
every wait is bounded.

    .venv/bin/python bench/inbox.py [--messages 50000] [--chats 10] [--page-loads 40]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from redis.asyncio import Redis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.console.accounts import add_account  # noqa: E402
from bot.events import STREAM  # noqa: E402
from bot.handoff.store import QueueStore  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.stack import Stack, free_port  # noqa: E402

TIMEOUT = 60.0
DAY = 86400
EDITOR_PASSWORD = secrets.token_urlsafe(16)

# Made-up questions a city assistant misses: {place}, {day}, {thing} are filled in at random.
TEMPLATES = [
    "is the {place} open on {day}", "what time does the {place} close {day}",
    "can i bring my {thing} to the {place}",
    "why was my {thing} not picked up on {day}", "who do i call about a broken {thing} near the {place}",
    "do i need a permit to put a {thing} in my driveway", "how much does it cost to get rid of a {thing}",
    "is there parking near the {place}", "are dogs allowed at the {place}",
    "can i reserve the {place} for {day}",
    "the {thing} outside the {place} is leaking", "when will the {place} reopen after the storm",
    "is it true the {place} is closing for good", "heard they are selling the {place}, is that real",
    "someone said the {place} will charge a fee starting {day}", "is the water safe near the {place}",
    "my neighbor keeps a {thing} on the sidewalk, is that allowed", "can the city remove a dead {thing}",
    "where do i pay for a {thing} license", "how do i complain about noise from the {place}",
    "is the {place} hiring", "does the {place} have wifi", "is there a bus to the {place} on {day}",
    "how do i volunteer at the {place}", "can kids go to the {place} alone",
]  # fmt: skip
PLACES = [
    "library", "pool", "dump", "recycling center", "senior center", "community garden", "skate park",
    "animal shelter", "city hall", "farmers market", "dog park", "marina", "ice rink", "museum",
]  # fmt: skip
DAYS = ["sunday", "monday", "saturday", "the holiday", "friday night", "thanksgiving", "new years day"]
THINGS = [
    "couch", "mattress", "fridge", "tree branch", "bike", "trampoline", "boat", "shed", "hot tub", "raccoon",
    "streetlight", "fire hydrant", "car battery", "paint can", "piano", "tire", "fence", "trailer",
]  # fmt: skip
FILLERS = ["", "", "", "hi ", "hello, ", "quick question: ", "um ", "excuse me "]
ENDINGS = ["", "", "?", "??", " please", " thanks", "!"]


def made_up_question(rng: random.Random) -> str:
    text = rng.choice(TEMPLATES).format(
        place=rng.choice(PLACES), day=rng.choice(DAYS), thing=rng.choice(THINGS)
    )
    if rng.random() < 0.25:  # a typo: two letters swapped
        i = rng.randrange(1, len(text) - 1)
        text = text[: i - 1] + text[i] + text[i - 1] + text[i + 1 :]
    text = rng.choice(FILLERS) + text + rng.choice(ENDINGS)
    return text.capitalize() if rng.random() < 0.3 else text


def unsure_event(rng: random.Random, n: int, now: float) -> dict[str, Any]:
    """A user event as Rasa's tracker store publishes it, for a message the assistant was unsure about."""
    text = made_up_question(rng)
    intent, confidence = rng.choice([("nlu_fallback", 0.3), ("out_of_scope", 0.9), ("faq", 0.45)])
    return {
        "sender_id": f"bench-{n % 9000}-{n}",
        "event": "user",
        "timestamp": now - rng.uniform(0, 27 * DAY),
        "metadata": {},
        "text": text,
        "parse_data": {
            "text": text,
            "intent": {"name": intent, "confidence": confidence},
            "entities": [],
            "intent_ranking": [{"name": intent, "confidence": confidence}],
        },
        "input_channel": rng.choice(["socketio", "twilio", "telegram", "facebook"]),
        "message_id": f"bench{n}",
    }


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def line(name: str, values: list[float]) -> str:
    if not values:
        return f"{name:<22} (no measurements)"
    return (
        f"{name:<22} p50 {statistics.median(values):7.1f} ms  p95 {percentile(values, 0.95):7.1f} ms  "
        f"({len(values)} requests)"
    )


async def record(redis: Redis, count: int) -> float:
    """Publish ``count`` unsure messages; seconds until the console recorded (and clustered) them all."""
    rng, now = random.Random(18), time.time()
    start = time.perf_counter()
    for first in range(0, count, 1000):
        async with redis.pipeline(transaction=False) as pipe:
            for n in range(first, min(count, first + 1000)):
                pipe.xadd(STREAM, {"event": json.dumps(unsure_event(rng, n, now))})
            await pipe.execute()
    deadline = time.monotonic() + max(600.0, count / 20)
    last = -1
    while (done := await redis.zcard("inbox:items")) < count:
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {done} of {count} messages were recorded in time")
        if done // 5000 != last // 5000:
            print(f"  recorded {done} of {count} ...", flush=True)
        last = done
        await asyncio.sleep(0.5)
    return time.perf_counter() - start


async def relay_chats(
    redis: Redis, session: aiohttp.ClientSession, base: str, token: str, chats: int
) -> list[str]:
    """Handed-off chats an agent has claimed (the relay forwards their citizens' messages)."""
    store = QueueStore(redis)
    cids = [f"bench-relay-{i}-{secrets.token_hex(4)}" for i in range(chats)]
    for cid in cids:
        await store.enqueue(
            cid, channel="socketio", reason="requested", summary={}, history=[], seeded_until=0
        )
    headers = {"Authorization": f"Bearer {token}"}
    for cid in cids:
        async with session.post(
            f"{base}/api/conversations/{cid}/claim", json={}, headers=headers
        ) as response:
            if response.status != 200:
                raise RuntimeError(f"claim: HTTP {response.status} {await response.text()}")
    return cids


async def relay_load(
    redis: Redis, session: aiohttp.ClientSession, base: str, token: str, cids: list[str], stop: asyncio.Event
) -> list[float]:
    """Citizen messages into the stream, chat after chat, timed until the agent's websocket has them."""
    waiting: dict[tuple[str, str], asyncio.Future[float]] = {}
    latencies: list[float] = []
    ready = asyncio.Event()

    async def listen() -> None:
        headers = {"Authorization": f"Bearer {token}"}
        async with session.ws_connect(f"{base}/api/events", headers=headers) as ws:
            ready.set()
            async for frame in ws:
                event = frame.json()
                message = event.get("message") or {}
                if event.get("type") == "message" and message.get("sender") == "citizen":
                    future = waiting.pop((event["conversation_id"], message.get("text", "")), None)
                    if future is not None and not future.done():
                        future.set_result(time.perf_counter())

    listener = asyncio.create_task(listen())
    await asyncio.wait_for(ready.wait(), TIMEOUT)
    loop = asyncio.get_running_loop()
    n = 0
    while not stop.is_set():
        cid = cids[n % len(cids)]
        text = f"citizen message {n}"
        arrived: asyncio.Future[float] = loop.create_future()
        waiting[(cid, text)] = arrived
        event = {
            "sender_id": cid,
            "event": "user",
            "text": text,
            "timestamp": time.time(),
            "input_channel": "socketio",
        }
        start = time.perf_counter()
        await redis.xadd(STREAM, {"event": json.dumps(event)})
        latencies.append((await asyncio.wait_for(arrived, TIMEOUT) - start) * 1000)
        n += 1
        await asyncio.sleep(0.05)
    listener.cancel()
    return latencies


async def stand_in_rasa(port: int) -> web.AppRunner:
    """Accepts what the console sends Rasa (pause, the agent's messages): the bench measures the console."""

    async def accept(request: web.Request) -> web.Response:
        await request.read()
        return web.json_response({"events": []})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", accept)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner


async def page_load(session: aiohttp.ClientSession, url: str) -> tuple[int, float]:
    start = time.perf_counter()
    async with session.get(url, allow_redirects=False) as response:
        await response.read()
        return response.status, (time.perf_counter() - start) * 1000


async def measure(stack: Stack, editor: str, agent_token: str, args: argparse.Namespace) -> None:
    assert stack.redis is not None
    redis = Redis.from_url(stack.redis.url, decode_responses=True)
    base = f"http://127.0.0.1:{stack.settings.handoff.port}"
    rasa = await stand_in_rasa(stack.settings.rasa.port)
    try:
        print(f"Recording {args.messages} messages through the console's recorder ...", flush=True)
        seconds = await record(redis, args.messages)
        clusters = await redis.zcard("inbox:clusters")
        jar = aiohttp.CookieJar(unsafe=True)  # the session cookie of 127.0.0.1
        async with aiohttp.ClientSession(
            cookie_jar=jar, timeout=aiohttp.ClientTimeout(total=TIMEOUT)
        ) as session:
            async with session.post(
                f"{base}/api/login", json={"name": editor, "password": EDITOR_PASSWORD}
            ) as r:
                if r.status != 200:
                    raise RuntimeError(f"sign-in: HTTP {r.status}")
            status, _ = await page_load(session, f"{base}/analytics")
            pages = {"/inbox": f"{base}/inbox"}
            if status == 200:
                pages["/analytics"] = f"{base}/analytics"
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT)) as agent_session:
                cids = await relay_chats(redis, agent_session, base, agent_token, args.chats)
                stop = asyncio.Event()
                relay = asyncio.create_task(relay_load(redis, agent_session, base, agent_token, cids, stop))
                timings: dict[str, list[float]] = {name: [] for name in pages}
                for _ in range(args.page_loads):
                    for name, url in pages.items():
                        code, ms = await page_load(session, url)
                        if code != 200:
                            raise RuntimeError(f"{name}: HTTP {code}")
                        timings[name].append(ms)
                stop.set()
                relayed = await relay
    finally:
        await redis.close()
        await rasa.cleanup()
    print(f"\nReview inbox with {args.messages} recorded messages in {clusters} clusters")
    print(f"recording and clustering: {seconds:.1f} s ({args.messages / seconds:.0f} messages/s)")
    for name, values in timings.items():
        print(line(f"GET {name}", values))
    if "/analytics" not in pages:
        print("GET /analytics          (not served by this console)")
    print(line(f"relay ({args.chats} chats)", relayed).replace("requests", "messages"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=50_000, help="unsure messages recorded first")
    parser.add_argument("--chats", type=int, default=10, help="handed-off chats the relay forwards")
    parser.add_argument(
        "--page-loads", type=int, default=40, help="loads of each page under the relay's load"
    )
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="civic-inbox-"))
    agents_file = workdir / "agents.yml"
    add_account(agents_file, "ella", "editor", EDITOR_PASSWORD)
    agent_token = add_account(agents_file, "bench", "agent", secrets.token_urlsafe(16))
    settings = Settings.from_env({
        "REDIS_PORT": str(free_port()), "RASA_PORT": str(free_port()), "HANDOFF_PORT": str(free_port()),
        "HANDOFF_AGENTS_FILE": str(agents_file), "HANDOFF_HOURS": "always",
        "RASA_TOKEN": secrets.token_urlsafe(16), "VAR_DIR": str(workdir / "var"), "LOG_LEVEL": "WARNING",
    })  # fmt: skip
    stack = Stack(settings, root=ROOT, supervise=False)
    try:
        # Only Redis and the console: the pages, the recorder and the relay share the console's loop.
        stack.redis = stack._ensure_redis()
        stack._env = stack._child_env(stack.redis)
        stack._start(stack._handoff_console(), 120)
        asyncio.run(measure(stack, "ella", agent_token, args))
    finally:
        stack.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
