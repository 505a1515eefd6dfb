"""Handoff relay latency with 20 concurrent handed-off chats, on a stack this script starts itself.

Each citizen is a python-socketio client on Rasa's socket.io channel (long-polling: see docs/measurements.md)
that asks for a person; one agent claims every chat through the JSON API and listens on the
console's websocket. Then, in each chat at once, messages go both ways:

- citizen -> agent: `user_uttered` until the message event arrives on the agent's websocket;
- agent -> citizen: `POST /api/conversations/{id}/messages` until the citizen gets `bot_uttered`.

Prints p50/p95 of each direction. Loopback only; every wait is bounded.

    .venv/bin/python bench/relay.py [--chats 20] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import socketio

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.console.accounts import add_account  # noqa: E402
from bot.identity import IdentityKey  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.stack import Stack, free_port  # noqa: E402

TIMEOUT = 60.0


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@dataclass
class Citizen:
    """One web chat: a socket.io client and the bot messages it has received, by text."""

    rasa_url: str
    identity: IdentityKey
    session_id: str | None = None  # issued by the server at connect()
    client: socketio.AsyncClient = field(default_factory=lambda: socketio.AsyncClient(reconnection=False))
    waiting: dict[str, asyncio.Future[float]] = field(default_factory=dict)
    got: list[str] = field(default_factory=list)
    news: asyncio.Event = field(default_factory=asyncio.Event)

    async def connect(self) -> None:
        confirmed: asyncio.Queue[str] = asyncio.Queue()
        self.client.on("session_confirm", confirmed.put)
        self.client.on("bot_uttered", self._uttered)
        await self.client.connect(self.rasa_url, socketio_path="/socket.io")
        await self.client.emit("session_request", {"session_id": self.session_id})
        self.session_id = str(await asyncio.wait_for(confirmed.get(), TIMEOUT))

    @property
    def conversation_id(self) -> str:
        """The conversation the console knows this chat by: a keyed hash of the session id."""
        return self.identity.conversation_id("socketio", self.session_id or "")

    async def _uttered(self, data: dict[str, Any]) -> None:
        text = str(data.get("text", ""))
        self.got.append(text)
        self.news.set()
        future = self.waiting.pop(text, None)
        if future is not None and not future.done():
            future.set_result(time.perf_counter())

    async def say(self, text: str) -> None:
        await self.client.emit("user_uttered", {"message": text, "session_id": self.session_id})

    async def wait_for(self, fragment: str) -> None:
        deadline = time.monotonic() + TIMEOUT
        while not any(fragment in t for t in self.got):
            self.news.clear()
            await asyncio.wait_for(self.news.wait(), max(0.1, deadline - time.monotonic()))


@dataclass
class Agent:
    """The agent's side: the JSON API with a Bearer token and the live events websocket."""

    session: aiohttp.ClientSession
    base: str
    token: str
    waiting: dict[tuple[str, str], asyncio.Future[float]] = field(default_factory=dict)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def listen(self, ready: asyncio.Event) -> None:
        async with self.session.ws_connect(f"{self.base}/api/events", headers=self.headers) as ws:
            ready.set()
            async for frame in ws:
                event = frame.json()
                message = event.get("message") or {}
                if event.get("type") == "message" and message.get("sender") == "citizen":
                    future = self.waiting.pop((event["conversation_id"], message.get("text", "")), None)
                    if future is not None and not future.done():
                        future.set_result(time.perf_counter())

    async def post(self, path: str, body: dict[str, Any] | None = None) -> None:
        async with self.session.post(f"{self.base}{path}", json=body or {}, headers=self.headers) as r:
            if r.status != 200:
                raise RuntimeError(f"{path}: HTTP {r.status} {await r.text()}")


async def one_chat(citizen: Citizen, agent: Agent, rounds: int, up: list[float], down: list[float]) -> None:
    loop = asyncio.get_running_loop()
    cid = citizen.conversation_id
    for i in range(rounds):
        text = f"citizen message {i} in {cid}"
        arrived: asyncio.Future[float] = loop.create_future()
        agent.waiting[(cid, text)] = arrived
        start = time.perf_counter()
        await citizen.say(text)
        up.append((await asyncio.wait_for(arrived, TIMEOUT) - start) * 1000)

        reply = f"agent reply {i} in {cid}"
        delivered: asyncio.Future[float] = loop.create_future()
        citizen.waiting[reply] = delivered
        start = time.perf_counter()
        await agent.post(f"/api/conversations/{cid}/messages", {"text": reply})
        down.append((await asyncio.wait_for(delivered, TIMEOUT) - start) * 1000)


async def measure(stack: Stack, token: str, chats: int, rounds: int) -> tuple[list[float], list[float]]:
    rasa = f"http://127.0.0.1:{stack.settings.rasa.port}"
    console = f"http://127.0.0.1:{stack.settings.handoff.port}"
    citizens = [Citizen(rasa, IdentityKey.from_settings(stack.settings)) for _ in range(chats)]
    await asyncio.gather(*(c.connect() for c in citizens))
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT)) as session:
        agent = Agent(session, console, token)
        ready = asyncio.Event()
        listener = asyncio.create_task(agent.listen(ready))
        await asyncio.wait_for(ready.wait(), TIMEOUT)
        for citizen in citizens:  # queued one by one, as people arrive
            await citizen.say("I want to talk to a real person")
            await citizen.wait_for("in line")
        await asyncio.gather(*(agent.post(f"/api/conversations/{c.conversation_id}/claim") for c in citizens))
        await asyncio.gather(*(c.wait_for("has joined") for c in citizens))
        up: list[float] = []
        down: list[float] = []
        await asyncio.gather(*(one_chat(c, agent, rounds, up, down) for c in citizens))
        listener.cancel()
    await asyncio.gather(*(c.client.disconnect() for c in citizens))
    return up, down


def line(name: str, values: list[float]) -> str:
    return (
        f"{name:<18} p50 {statistics.median(values):7.1f} ms  p95 {percentile(values, 0.95):7.1f} ms  "
        f"({len(values)} messages)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chats", type=int, default=20, help="concurrent handed-off chats")
    parser.add_argument("--rounds", type=int, default=5, help="messages each way per chat")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="civic-relay-"))
    agents_file = workdir / "agents.yml"
    token = add_account(agents_file, "bench", "agent", secrets.token_urlsafe(16))
    settings = Settings.from_env({
        "REDIS_PORT": str(free_port()), "RASA_PORT": str(free_port()), "ACTION_PORT": str(free_port()),
        "MODEL_SERVER_PORT": str(free_port()),
        "DEMO_AGENCY_PORT": str(free_port()), "HANDOFF_PORT": str(free_port()),
        "HANDOFF_AGENTS_FILE": str(agents_file), "HANDOFF_HOURS": "always",
        "RASA_TOKEN": secrets.token_urlsafe(16), "VAR_DIR": str(workdir / "var"), "LOG_LEVEL": "WARNING",
    })  # fmt: skip
    try:
        # Every chat comes from this machine's one address: its bucket must not be what is measured.
        with Stack(settings, root=ROOT, extra_env={"RATE_WEB_ADDRESS_PER_MINUTE": "0"}) as stack:
            up, down = asyncio.run(measure(stack, token, args.chats, args.rounds))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"\nHandoff relay, {args.chats} concurrent chats, {args.rounds} messages each way per chat")
    print(line("citizen -> agent", up))
    print(line("agent -> citizen", down))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
