"""Many citizens at once through the real stack, faults injected meanwhile, and what was stored checked.

The load (`Load`): C conversations x M messages, spread over the REST channel (bearer token), the
web chat (a socket.io client speaking to Rasa's socket.io channel, a socket kept open per page) and
Telegram (signed webhooks; a local aiohttp server stands in for the Bot API and records every
reply). Each message carries a unique marker (`<tag>c<conversation>m<message>`) appended to a
question the bot answers at once, some through the action server. Each citizen waits for the
answer before sending the next message, and behaves as a citizen or a platform does when
something fails:

- a "please send that again" (REST 503 + Retry-After, the web chat's notice): the same message is
  sent again;
- a dropped connection or no answer in time (the outcome is unknown: Rasa may have stored the
  turn before it died): the citizen comes back, and the message is sent again unless the stored
  conversation already holds it (then it counts as `replies_lost`: stored, answer not seen). This
  is the console's rule for its `client_message_id` retries (docs/deployment.md);
- a webhook not acknowledged with 200 (refused connection, 503): the platform redelivers the
  identical update until it is.

`check` then reads what is stored, in Redis (the conversations `civic:tracker:<id>`, the event
stream `civic:events`), and counts what a citizen or an operator would notice: messages lost,
doubled or out of order, user messages not followed by exactly one bot answer turn, conversations
restarted, Telegram replies sent twice, and stream entries doubled or missing. `run_scenario`
drives a load, injects one fault (`FAULTS`) once part of the load is answered, and checks.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import random
import secrets
import signal
import statistics
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import aiohttp
import redis.asyncio
import socketio
from aiohttp import web
from polling_support import wait_until, wait_until_async
from stack_support import ROOT, serve_app, stack_settings
from test_replicas import replica_ports

from bot.channels.notices import ChannelNotices
from bot.events import STREAM
from bot.identity import IdentityKey
from bot.stack import Service, Stack, free_port

TELEGRAM_TOKEN = "7012345678:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
TELEGRAM_SECRET = "harbor-city-telegram-secret_01"
SEND = f"/bot{TELEGRAM_TOKEN}/sendMessage"
# Questions answered with one bot message each and no form; the alerts and service-status lookups
# go through the action server (so its SIGSTOP holds them up), and so does every conversation's
# first turn (action_session_start is ours).
QUESTIONS = (
    "when is city hall open",
    "are there any alerts today",
    "how do I pay a parking ticket",
    "is online bill pay working",
    "thanks",
)
CHANNELS = ("rest", "socketio", "telegram")
# A load's many conversations come from one address and send far faster than a citizen: buckets
# too big to refuse anything (the limits are still checked, one Redis script per message).
NO_LIMITS = {
    f"RATE_{name}_{kind}": "1000000"
    for name in ("CONVERSATION", "WEB_ADDRESS", "REST_ADDRESS")
    for kind in ("PER_MINUTE", "BURST")
}
RESEND_SECONDS = 1.0  # a citizen told "send that again in a minute", sped up
RECONNECT_SECONDS = 0.5  # between two attempts to reach a Rasa that is down
RASA_START_SECONDS = 240.0  # a Rasa process loading the model on two busy cores, with margin
NOTICE = ChannelNotices.load().store_unavailable


@dataclass(frozen=True)
class Plan:
    """How big the load is and how long the faults last (`from_env`: FAULT_* variables)."""

    conversations: int = 6  # the short load `make test` runs; `make faults` the full one
    messages: int = 5
    think_seconds: float = 0.3  # at most this long (random) between an answer and the next message
    action_stop_seconds: float = 10.0
    redis_pause_seconds: float = 8.0
    fault_at: float = 0.3  # the fault starts once this share of the messages is answered
    duplicate_webhooks: bool = False  # each update posted twice at once, and again after its answer

    @property
    def answer_seconds(self) -> float:
        """How long a citizen waits for an answer before treating it as lost: longer than any fault."""
        return max(self.action_stop_seconds, self.redis_pause_seconds) + 30.0

    @property
    def give_up_seconds(self) -> float:
        """How long one message may take, resends included, before the load fails."""
        return self.answer_seconds + RASA_START_SECONDS + 60.0

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Plan:
        values = os.environ if env is None else env
        default = cls()
        return cls(
            conversations=int(values.get("FAULT_CONVERSATIONS", default.conversations)),
            messages=int(values.get("FAULT_MESSAGES", default.messages)),
            think_seconds=float(values.get("FAULT_THINK_SECONDS", default.think_seconds)),
            action_stop_seconds=float(values.get("FAULT_ACTION_STOP_SECONDS", default.action_stop_seconds)),
            redis_pause_seconds=float(values.get("FAULT_REDIS_PAUSE_SECONDS", default.redis_pause_seconds)),
        )


# --- Telegram's Bot API, stood in for ----------------------------------------------------------


class FakeTelegram:
    """Records every `sendMessage` by chat; served from a thread of its own (`serving`)."""

    def __init__(self) -> None:
        self.port = free_port()
        self._lock = threading.Lock()
        self._sent: dict[int, list[str]] = {}

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def replies(self, chat: int) -> int:
        return len(self.texts(chat))

    def texts(self, chat: int) -> list[str]:
        with self._lock:
            return list(self._sent.get(chat, []))

    async def handle(self, request: web.Request) -> web.Response:
        if request.path == SEND:
            body = await request.json()
            with self._lock:
                self._sent.setdefault(int(body["chat_id"]), []).append(str(body.get("text", "")))
        return web.json_response({"ok": True, "result": True})

    async def health(self, _: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/health", self.health)
        app.router.add_route("*", "/{tail:.*}", self.handle)
        return app

    @contextmanager
    def serving(self) -> Iterator[FakeTelegram]:
        with serve_app(self.app, self.port):
            yield self


@contextmanager
def fault_stack(var: Path, replicas: int = 1) -> Iterator[tuple[Stack, FakeTelegram]]:
    """The real stack, supervised (a killed service is restarted), with Telegram on and no rate limits."""
    with FakeTelegram().serving() as telegram:
        env = {
            "TELEGRAM_TOKEN": TELEGRAM_TOKEN,
            "TELEGRAM_SECRET_TOKEN": TELEGRAM_SECRET,
            "TELEGRAM_API_URL": telegram.base_url,
            **NO_LIMITS,
        }
        if replicas > 1:
            env |= replica_ports(replicas)
        with Stack(stack_settings(var, **env), root=ROOT, extra_env=env) as stack:
            yield stack, telegram


# --- the citizens --------------------------------------------------------------------------------


@dataclass
class Message:
    marker: str
    text: str
    attempts: int = 0
    seconds: float = 0.0  # from the first attempt to the answer
    answered: bool = False
    reply_lost: bool = False  # stored, but the citizen never saw the answer (the process died)


@dataclass
class Counts:
    """What the citizens went through while the load ran."""

    resends: int = 0  # "please send that again" (503, the web chat's notice) or an unanswered try
    redeliveries: int = 0  # webhook deliveries not acknowledged, redelivered by the "platform"
    connection_errors: int = 0
    no_reply_seen: int = 0  # Telegram: acknowledged, no reply reached the chat while the citizen waited


class Target:
    """The running stack as the citizens and the check see it."""

    def __init__(self, stack: Stack, telegram: FakeTelegram) -> None:
        assert stack.redis is not None
        self.stack, self.telegram = stack, telegram
        self.urls = stack.rasa_urls
        self.rest_token = stack.settings.security.rest_token
        self.identity = IdentityKey.from_settings(stack.settings)
        self.redis_url = stack.redis.url
        self.store = redis.asyncio.Redis.from_url(self.redis_url, socket_timeout=5, decode_responses=True)

    async def stored_events(self, conversation_id: str) -> list[dict[str, Any]]:
        raw = await self.store.get(f"civic:tracker:{conversation_id}")
        return list(json.loads(raw)["events"]) if raw else []

    async def holds(self, conversation_id: str, marker: str) -> bool:
        """Whether the stored conversation has a user message with `marker`; waits out a Redis outage."""
        while True:
            try:
                events = await self.stored_events(conversation_id)
            except redis.RedisError:
                await asyncio.sleep(RECONNECT_SECONDS)
                continue
            return any(marker in str(e.get("text")) for e in events if e.get("event") == "user")

    async def close(self) -> None:
        await self.store.close(close_connection_pool=True)


class Citizen:
    """One conversation; `say` returns once the message is answered (or known to be stored)."""

    channel = ""

    def __init__(self, target: Target, plan: Plan, counts: Counts, http: aiohttp.ClientSession) -> None:
        self.target, self.plan, self.counts, self.http = target, plan, counts, http
        self.conversation_id = ""

    def url(self, index: int) -> str:
        """Message `index` goes to replica `index` mod N: consecutive messages alternate replicas."""
        return self.target.urls[index % len(self.target.urls)]

    async def say(self, index: int, message: Message) -> None:
        raise NotImplementedError

    async def unknown_outcome(self, message: Message) -> bool:
        """After a dropped connection or a timeout: True if the message was stored (do not resend)."""
        self.counts.connection_errors += 1
        if self.conversation_id and await self.target.holds(self.conversation_id, message.marker):
            message.reply_lost = True
            return True
        await asyncio.sleep(RECONNECT_SECONDS)
        return False

    async def close(self) -> None:
        return None


class RestCitizen(Citizen):
    channel = "rest"

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.sender = f"fault-{secrets.token_hex(6)}"
        self.conversation_id = self.target.identity.conversation_id("rest", self.sender)

    async def say(self, index: int, message: Message) -> None:
        headers = {"Authorization": f"Bearer {self.target.rest_token}"}
        body = {"sender": self.sender, "message": message.text}
        timeout = aiohttp.ClientTimeout(total=self.plan.answer_seconds)
        while True:
            message.attempts += 1
            try:
                url = f"{self.url(index)}/webhooks/rest/webhook"
                async with self.http.post(url, json=body, headers=headers, timeout=timeout) as response:
                    answer = await response.json(content_type=None)
                    status = response.status
            except (aiohttp.ClientError, asyncio.TimeoutError):
                if await self.unknown_outcome(message):
                    return
                continue
            if status == 200:
                message.answered = bool(answer)
                return
            if status in (429, 503):
                self.counts.resends += 1
                await asyncio.sleep(RESEND_SECONDS)
                continue
            raise AssertionError(f"the REST channel answered {status}: {answer}")


@dataclass
class Socket:
    client: socketio.AsyncClient
    heard: asyncio.Queue[str | None]  # None: the connection dropped


class WebCitizen(Citizen):
    """A web chat page: one socket per replica it talks to, the session the server issued."""

    channel = "socketio"
    pages = itertools.count()

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.session_id: str | None = None
        self.sockets: dict[str, Socket] = {}
        self.home = next(self.pages)

    def url(self, index: int) -> str:
        """A page's socket lives on one replica (pages are spread over them): unlike a REST call or a
        webhook, a browser does not hop between replicas mid-conversation. With two sockets on two
        replicas, the answer to one message reaches both, and a late copy would be taken for the
        next message's answer."""
        return self.target.urls[self.home % len(self.target.urls)]

    async def socket(self, url: str) -> Socket:
        known = self.sockets.get(url)
        if known is not None and known.client.connected:
            return known
        self.sockets.pop(url, None)
        client = socketio.AsyncClient(reconnection=False)
        heard: asyncio.Queue[str | None] = asyncio.Queue()
        confirmed: asyncio.Queue[str] = asyncio.Queue()
        client.on("bot_uttered", lambda data: heard.put_nowait(str(data.get("text"))))
        client.on("disconnect", lambda: heard.put_nowait(None))
        client.on("session_confirm", lambda data: confirmed.put_nowait(str(data)))
        try:
            await client.connect(url, socketio_path="/socket.io", wait_timeout=10)
            await client.emit("session_request", {"session_id": self.session_id})
            self.session_id = await asyncio.wait_for(confirmed.get(), 30)
        except BaseException:
            await client.disconnect()
            raise
        self.conversation_id = self.target.identity.conversation_id("socketio", self.session_id)
        self.sockets[url] = Socket(client, heard)
        return self.sockets[url]

    async def say(self, index: int, message: Message) -> None:
        while True:
            message.attempts += 1
            try:
                socket = await self.socket(self.url(index))
                while not socket.heard.empty():  # late answers to earlier messages
                    socket.heard.get_nowait()
                data = {"message": message.text, "session_id": self.session_id}
                await socket.client.emit("user_uttered", data)
                reply = await asyncio.wait_for(socket.heard.get(), self.plan.answer_seconds)
            except (socketio.exceptions.SocketIOError, OSError, asyncio.TimeoutError):
                reply = None
            if reply == NOTICE:
                self.counts.resends += 1
                await asyncio.sleep(RESEND_SECONDS)
                continue
            if reply is None:
                await self.drop(self.url(index))
                if await self.unknown_outcome(message):
                    return
                continue
            message.answered = True
            return

    async def drop(self, url: str) -> None:
        socket = self.sockets.pop(url, None)
        if socket is not None:
            await socket.client.disconnect()

    async def close(self) -> None:
        for url in list(self.sockets):
            await self.drop(url)


UPDATE_IDS = itertools.count(int(time.time()) % 1_000_000 * 1000)


class TelegramCitizen(Citizen):
    """A Telegram chat: each message is an update posted with the secret token until acknowledged."""

    channel = "telegram"
    chats = itertools.count(4_000_000 + secrets.randbelow(1_000_000) * 100)

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.chat = next(self.chats)
        self.conversation_id = self.target.identity.conversation_id("telegram", str(self.chat))

    def update(self, text: str) -> bytes:
        update_id = next(UPDATE_IDS)
        user = {"id": self.chat, "is_bot": False, "first_name": "Sheena", "language_code": "en"}
        chat = {"id": self.chat, "first_name": "Sheena", "type": "private"}
        sent = {"message_id": update_id, "from": user, "chat": chat, "date": int(time.time()), "text": text}
        return json.dumps({"update_id": update_id, "message": sent}).encode()

    async def deliver(self, url: str, body: bytes) -> bool:
        """One delivery; True if acknowledged (200)."""
        headers = {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}
        try:
            async with self.http.post(f"{url}/webhooks/telegram/webhook", data=body, headers=headers) as r:
                return r.status == 200
        except (aiohttp.ClientError, asyncio.TimeoutError):
            self.counts.connection_errors += 1
            return False

    async def deliver_until_acknowledged(self, index: int, message: Message, body: bytes) -> None:
        while True:
            message.attempts += 1
            if await self.deliver(self.url(index), body):
                return
            self.counts.redeliveries += 1
            await asyncio.sleep(RESEND_SECONDS)

    async def say(self, index: int, message: Message) -> None:
        body = self.update(message.text)
        before = self.target.telegram.replies(self.chat)
        copies = 2 if self.plan.duplicate_webhooks else 1
        await asyncio.gather(*(self.deliver_until_acknowledged(index, message, body) for _ in range(copies)))
        try:
            await wait_until_async(
                lambda: self.target.telegram.replies(self.chat) > before, self.plan.answer_seconds, "no reply"
            )
            message.answered = True
        except AssertionError:
            message.answered = False
        if not message.answered:
            self.counts.no_reply_seen += 1
        if self.plan.duplicate_webhooks:  # the platform's late redelivery of an answered update
            await self.deliver_until_acknowledged(index + 1, message, body)


CITIZENS: dict[str, type[Citizen]] = {
    "rest": RestCitizen,
    "socketio": WebCitizen,
    "telegram": TelegramCitizen,
}


# --- the load ------------------------------------------------------------------------------------


@dataclass
class Conversation:
    citizen: Citizen
    messages: list[Message]


class Load:
    """`plan.conversations` citizens at once, each sending `plan.messages` marked messages in turn."""

    def __init__(self, target: Target, plan: Plan) -> None:
        self.target, self.plan = target, plan
        self.tag = "".join(random.choice("bdfghjkpqvwxz") for _ in range(5))  # matches no word
        self.counts = Counts()
        self.conversations: list[Conversation] = []
        self.finished = 0
        self.seconds = 0.0
        self._task: asyncio.Task[None] | None = None

    def marker(self, conversation: int, message: int) -> str:
        return f"{self.tag}c{conversation}m{message}z"  # "z": m1 is no part of m10

    @property
    def total(self) -> int:
        return self.plan.conversations * self.plan.messages

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def reached(self, share: float, timeout: float) -> None:
        """Wait until `share` of the messages are done (the moment to inject a fault)."""
        deadline = time.monotonic() + timeout
        while self.finished < share * self.total:
            assert self._task is not None
            if self._task.done():
                self._task.result()
                return
            assert time.monotonic() < deadline, f"only {self.finished}/{self.total} answered in {timeout}s"
            await asyncio.sleep(0.05)

    async def done(self) -> None:
        assert self._task is not None
        await self._task

    async def _run(self) -> None:
        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(connector=connector) as http:
            for index in range(self.plan.conversations):
                kind = CITIZENS[CHANNELS[index % len(CHANNELS)]]
                citizen = kind(self.target, self.plan, self.counts, http)
                messages = [
                    Message(
                        self.marker(index, i),
                        f"{QUESTIONS[(index + i) % len(QUESTIONS)]} {self.marker(index, i)}",
                    )
                    for i in range(self.plan.messages)
                ]
                self.conversations.append(Conversation(citizen, messages))
            start = time.perf_counter()
            try:
                await asyncio.gather(*(self._converse(c) for c in self.conversations))
            finally:
                self.seconds = time.perf_counter() - start
                for conversation in self.conversations:
                    await conversation.citizen.close()

    async def _converse(self, conversation: Conversation) -> None:
        for index, message in enumerate(conversation.messages):
            started = time.perf_counter()
            try:
                await asyncio.wait_for(conversation.citizen.say(index, message), self.plan.give_up_seconds)
            except asyncio.TimeoutError:
                what = f"{conversation.citizen.channel} message {message.marker}"
                raise AssertionError(
                    f"{what} still unanswered after {self.plan.give_up_seconds:.0f}s"
                ) from None
            message.seconds = time.perf_counter() - started
            self.finished += 1
            await asyncio.sleep(random.uniform(0, self.plan.think_seconds))


# --- the check -----------------------------------------------------------------------------------


@dataclass
class Tally:
    """What one scenario did and found. Every count from `lost` on must be 0."""

    sent: int = 0
    seconds: float = 0.0
    p50_ms: float = 0.0
    p95_ms: float = 0.0
    resends: int = 0
    redeliveries: int = 0
    connection_errors: int = 0
    replies_lost: int = 0
    lost: int = 0
    doubled: int = 0
    out_of_order: int = 0
    bad_turns: int = 0  # a user message not followed by exactly one answer turn (>= 1 bot message)
    restarted: int = 0
    answered_twice: int = 0  # Telegram replies beyond the bot messages stored
    stream_duplicates: int = 0
    stream_missing: int = 0
    problems: list[str] = field(default_factory=list)

    FAULTS = (
        "lost", "doubled", "out_of_order", "bad_turns", "restarted", "answered_twice",
        "stream_duplicates", "stream_missing",
    )  # fmt: skip

    @property
    def per_second(self) -> float:
        return self.sent / self.seconds if self.seconds else 0.0

    def faults(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in self.FAULTS if getattr(self, name)}

    def summary(self) -> str:
        shown = [f.name for f in fields(self) if f.name not in ("problems", "seconds", "p50_ms", "p95_ms")]
        counts = " ".join(f"{name}={getattr(self, name)}" for name in shown)
        return f"{counts} {self.per_second:.1f} msg/s p50={self.p50_ms:.0f}ms p95={self.p95_ms:.0f}ms"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else 0.0


def turns(events: list[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    """Each user message's text with the events after it, up to the next user message."""
    found: list[tuple[str, list[dict[str, Any]]]] = []
    for event in events:
        if event.get("event") == "user":
            found.append((str(event.get("text")), []))
        elif found:
            found[-1][1].append(event)
    return found


def check_conversation(conversation: Conversation, events: list[dict[str, Any]], tally: Tally) -> None:
    """Lost, doubled, out of order, answer turns and restarts of one conversation, into `tally`."""
    where = f"{conversation.citizen.channel} {conversation.citizen.conversation_id[:20]}"
    said = turns(events)
    positions: list[int] = []
    for message in conversation.messages:
        at = [i for i, (text, _) in enumerate(said) if message.marker in text]
        if not at:
            tally.lost += 1
            tally.problems.append(f"{where}: {message.marker} lost (attempts {message.attempts})")
            continue
        if len(at) > 1:
            tally.doubled += len(at) - 1
            tally.problems.append(f"{where}: {message.marker} stored {len(at)} times")
        if positions and at[0] < positions[-1]:
            tally.out_of_order += 1
            tally.problems.append(f"{where}: {message.marker} stored before the message sent before it")
        positions.append(at[0])
    for text, after in said:
        bots = sum(1 for e in after if e.get("event") == "bot")
        listens = sum(1 for e in after if e.get("event") == "action" and e.get("name") == "action_listen")
        if bots < 1 or listens != 1:
            tally.bad_turns += 1
            tally.problems.append(f"{where}: {text!r} answered by {bots} bot messages in {listens} turns")
    starts = sum(1 for e in events if e.get("event") == "session_started")
    restarts = sum(1 for e in events if e.get("event") == "restart")
    if starts != 1 or restarts:
        tally.restarted += 1
        tally.problems.append(f"{where}: {starts} sessions started, {restarts} restarts")


async def check(load: Load, settle_seconds: float = 180.0) -> Tally:
    """Wait until every message is stored (webhooks are processed after their 200), then count."""
    target = load.target
    messages = [m for c in load.conversations for m in c.messages]
    latencies = [m.seconds * 1000 for m in messages]
    tally = Tally(
        sent=len(messages),
        seconds=load.seconds,
        p50_ms=statistics.median(latencies) if latencies else 0.0,
        p95_ms=percentile(latencies, 0.95),
        replies_lost=sum(m.reply_lost for m in messages),
        resends=load.counts.resends,
        redeliveries=load.counts.redeliveries,
        connection_errors=load.counts.connection_errors,
    )

    async def all_stored() -> bool:
        for conversation in load.conversations:
            stored = json.dumps(await target.stored_events(conversation.citizen.conversation_id))
            if not all(m.marker in stored for m in conversation.messages):
                return False
        return True

    try:
        await wait_until_async(all_stored, settle_seconds, "not every message was stored")
    except AssertionError:
        pass  # counted as lost below, message by message
    stored = {
        c.citizen.conversation_id: await target.stored_events(c.citizen.conversation_id)
        for c in load.conversations
    }
    for conversation in load.conversations:
        events = stored[conversation.citizen.conversation_id]
        check_conversation(conversation, events, tally)
        if isinstance(conversation.citizen, TelegramCitizen):
            replies = target.telegram.replies(conversation.citizen.chat)
            bots = sum(1 for e in events if e.get("event") == "bot")
            if replies > bots:
                tally.answered_twice += replies - bots
                texts = [text[:50] for text in target.telegram.texts(conversation.citizen.chat)]
                tally.problems.append(
                    f"telegram chat: {replies} replies sent for {bots} bot messages: {texts}"
                )
    # the stream is written after the conversation (asynchronously): give the broker a moment
    deadline = time.monotonic() + 30.0
    while True:
        duplicates, missing = await stream_against(target, stored)
        if not missing or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.5)
    tally.stream_duplicates, tally.stream_missing = duplicates, missing
    if duplicates or missing:
        tally.problems.append(f"event stream: {duplicates} entries doubled, {missing} events missing")
    return tally


def canonical(event: dict[str, Any]) -> str:
    return json.dumps({k: v for k, v in event.items() if k != "sender_id"}, sort_keys=True)


async def stream_against(target: Target, stored: dict[str, list[dict[str, Any]]]) -> tuple[int, int]:
    """(entries doubled, stored events missing) in `civic:events` for the conversations in `stored`."""
    streamed: dict[str, Counter[str]] = {conversation: Counter() for conversation in stored}
    last = "-"
    while True:
        batch = await target.store.xrange(STREAM, min=last, count=5000)
        if last != "-":
            batch = batch[1:]
        if not batch:
            break
        for _, entry in batch:
            event = json.loads(entry["event"])
            sender = event.get("sender_id")
            if sender in streamed:
                streamed[sender][canonical(event)] += 1
        last = batch[-1][0]
    duplicates = missing = 0
    for conversation, events in stored.items():
        expected = Counter(canonical(e) for e in events)
        got = streamed[conversation]
        duplicates += sum(max(0, got[key] - count) for key, count in expected.items())
        duplicates += sum(count for key, count in got.items() if key not in expected)
        missing += sum(max(0, count - got[key]) for key, count in expected.items())
    return duplicates, missing


# --- the faults ----------------------------------------------------------------------------------


def service(stack: Stack, prefix: str) -> Service:
    return next(s for s in stack.services if s.name.startswith(prefix))


def process_id(stack: Stack, prefix: str) -> int:
    found = service(stack, prefix).pid()
    assert found is not None, f"{prefix} is not running"
    return found


async def kill_rasa(stack: Stack, plan: Plan) -> None:
    """`kill -9` of the first Rasa (its whole process group: no shutdown code runs); the stack's
    supervisor starts it again, and the citizens wait for it."""
    rasa = service(stack, "rasa")
    killed = process_id(stack, "rasa")
    os.killpg(killed, signal.SIGKILL)
    await asyncio.to_thread(
        wait_until,
        lambda: rasa.pid() != killed and rasa.running() and rasa.ready(),
        RASA_START_SECONDS,
        "the supervisor did not bring Rasa back",
    )


async def stopped_for(group: int, seconds: float) -> None:
    """The process group stopped (SIGSTOP: its connections stay open, calls to it hang), then resumed."""
    os.killpg(group, signal.SIGSTOP)
    try:
        await asyncio.sleep(seconds)
    finally:
        os.killpg(group, signal.SIGCONT)


async def stop_action_server(stack: Stack, plan: Plan) -> None:
    """The action server stopped for `plan.action_stop_seconds`."""
    await stopped_for(process_id(stack, "action server"), plan.action_stop_seconds)


async def restart_redis(stack: Stack, plan: Plan) -> None:
    """Redis stopped (it writes its append-only file), down a few seconds, started on the same data."""
    redis_service = service(stack, "redis")
    await asyncio.to_thread(redis_service.stop)
    await asyncio.sleep(3.0)
    await asyncio.to_thread(redis_service.start, stack.root)
    await asyncio.to_thread(wait_until, redis_service.ready, 30, "Redis did not start again")


async def pause_redis(stack: Stack, plan: Plan) -> None:
    """Redis unreachable (SIGSTOP: connections stay open, calls time out) for `plan.redis_pause_seconds`."""
    await stopped_for(process_id(stack, "redis"), plan.redis_pause_seconds)


async def no_fault(stack: Stack, plan: Plan) -> None:
    return None


Fault = Callable[[Stack, Plan], Awaitable[None]]
FAULTS: dict[str, Fault] = {
    "kill -9 rasa": kill_rasa,
    "action server stopped": stop_action_server,
    "redis restarted": restart_redis,
    "redis unreachable": pause_redis,
    "webhook redelivered": no_fault,  # with Plan.duplicate_webhooks
    "two replicas": no_fault,  # on a RASA_REPLICAS=2 stack: messages alternate replicas
    "no fault": no_fault,
}


async def run_scenario(stack: Stack, telegram: FakeTelegram, plan: Plan, fault: Fault) -> Tally:
    """Drive `plan`'s load, inject `fault` once `plan.fault_at` of it is answered, check the store."""
    target = Target(stack, telegram)
    try:
        load = Load(target, plan)
        load.start()
        await load.reached(plan.fault_at, plan.give_up_seconds)
        await fault(stack, plan)
        await load.done()
        return await check(load)
    finally:
        await target.close()
