"""Durable intake: a signed webhook's events are in Redis before the platform gets its 200.

Each channel has `shards` Redis streams, `civic:intake:v1:<channel>:<shard>`; a conversation
always goes to the same shard (a hash of its id). At arrival one Lua script per event claims the
de-duplication mark (`SET seen NX`, value "received") and appends the event (`XADD`), atomically:
either both happen or neither, so a delivery we answer 200 for is in the stream, and a copy
redelivered while the first waits or runs is dropped (the first is durable). When Redis refuses,
the webhook answers 503 and the platform redelivers.

Workers run in every Rasa process (one consumer per process, `hostname-pid-random`, in the group
`workers` of every shard). A shard is read by one process at a time: its lease
(`...:lease:<shard>`, `SET NX PX`, renewed every quarter of `lease_seconds`) is what makes the
order hold across replicas. Processes share the shards fairly (`ceil(shards / live workers)`,
live workers are a sorted set of heartbeats). A process that takes a shard first claims every
entry still pending there (`XAUTOCLAIM` from 0: the previous owner died or let go), then reads new
ones; inside a process, entries of one conversation run one after the other, others in parallel.

An entry is acknowledged (`XACK` + `XDEL`) in one transaction with the mark turning "processed",
after the handler returned, which for a message is after Rasa stored the turn. A handler that
raises is retried with a doubling backoff, later entries of its conversation waiting; after
`max_attempts` (counted in Redis, so a crash counts too) it becomes a dead letter
(`civic:intake:v1:dead`, with its error) that editors see in the console and can retry.
Nothing imports Rasa here (the console reads the dead letters).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import math
import os
import secrets
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError, ResponseError

log = logging.getLogger(__name__)

PREFIX = "civic:intake:v1"
DEAD = f"{PREFIX}:dead"
GROUP = "workers"
STORE_ERRORS = (RedisError, OSError, asyncio.TimeoutError)
ERROR_CHARS = 300

Fields = dict[str, str]
Handler = Callable[[Fields], Awaitable[None]]

# KEYS: stream, seen key (or the stream again when there is no message id); ARGV: ttl, "1" when
# the seen key counts, then the entry's field/value pairs. Nil when the message was already seen.
APPEND = """
if ARGV[2] == '1' and not redis.call('SET', KEYS[2], 'received', 'NX', 'EX', ARGV[1]) then
  return false
end
return redis.call('XADD', KEYS[1], '*', unpack(ARGV, 3))
"""
OWNER = "if redis.call('GET', KEYS[1]) == ARGV[1] then return "
RENEW = OWNER + "redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0"
RELEASE = OWNER + "redis.call('DEL', KEYS[1]) end return 0"
# KEYS: dead letters, stream; ARGV: the letter's id, then the fields. Nil when already retried.
RETRY = """
if redis.call('HDEL', KEYS[1], ARGV[1]) == 1 then
  return redis.call('XADD', KEYS[2], '*', unpack(ARGV, 2))
end
return false
"""


def consumer_name() -> str:
    """Unique per process and start: a restarted process never inherits a dead one's entries by name."""
    return f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"


def stream_key(channel: str, shard: int) -> str:
    return f"{PREFIX}:{channel}:{shard}"


def shard_of(conversation_id: str, shards: int) -> int:
    return int(hashlib.sha256(conversation_id.encode("utf-8")).hexdigest()[:8], 16) % shards


@dataclass(frozen=True)
class IntakeOptions:
    shards: int = 8
    max_attempts: int = 5
    retry_backoff: float = 1.0  # seconds before the 2nd attempt, doubling
    lease_seconds: float = 20.0  # a dead process's shards are taken over after this
    batch: int = 32
    max_in_flight: int = 64
    block_ms: int = 500


@dataclass(frozen=True)
class DeadLetter:
    """An entry that failed `attempts` times; `fields` are what the stream held."""

    id: str
    channel: str
    stream: str
    conversation: str
    error: str
    attempts: int
    failed_at: float
    fields: Fields

    @property
    def summary(self) -> str:
        """What the citizen sent, as the page shows it."""
        try:
            event = json.loads(self.fields.get("event", "{}"))
        except ValueError:
            return ""
        return str(event.get("text") or event.get("kind") or "")[:200]

    def as_json(self) -> str:
        return json.dumps(self.__dict__)

    @classmethod
    def from_json(cls, raw: str) -> DeadLetter:
        return cls(**json.loads(raw))


class DeadLetters:
    """The dead-letter list, shared by every channel (the console lists and retries it)."""

    def __init__(self, client: aioredis.Redis) -> None:
        self.client = client

    async def add(self, letter: DeadLetter) -> None:
        await self.client.hset(DEAD, letter.id, letter.as_json())

    async def count(self) -> int:
        return int(await self.client.hlen(DEAD))

    async def all(self) -> list[DeadLetter]:
        """Newest failure first."""
        raw = await self.client.hgetall(DEAD)
        letters = [DeadLetter.from_json(str(value)) for value in raw.values()]
        return sorted(letters, key=lambda letter: letter.failed_at, reverse=True)

    async def get(self, letter_id: str) -> DeadLetter | None:
        raw = await self.client.hget(DEAD, letter_id)
        if raw is None:
            return None
        return DeadLetter.from_json(str(raw))

    async def retry(self, letter: DeadLetter) -> bool:
        """Back into its stream (at the end) with fresh attempts; False when it was already retried."""
        args = [item for pair in letter.fields.items() for item in pair]
        added = await self.client.eval(RETRY, 2, DEAD, letter.stream, letter.id, *args)
        return added is not None


class Intake:
    """One channel's streams: `append` at arrival, `start(handler)` runs this process's worker."""

    def __init__(
        self,
        connect: Callable[[float], aioredis.Redis],
        channel: str,
        options: IntakeOptions = IntakeOptions(),
    ) -> None:
        self.connect = connect  # a client with the given socket timeout
        self.channel = channel
        self.options = options
        self.consumer = consumer_name()
        self._client: aioredis.Redis | None = None
        self._reader: aioredis.Redis | None = None
        self._owned: set[int] = set()
        self._chains: dict[str, asyncio.Task[None]] = {}
        self._in_shard: dict[int, int] = {}
        self._in_flight: set[str] = set()  # entry ids dispatched and not finished
        self._reread_pending = False  # a read was cut off: its entries may be ours, unseen
        self._local: set[str] = set()  # entries appended here and not yet done (for `idle`)
        self._loop: asyncio.Task[None] | None = None
        self._stopping = False
        self._beat_at = 0.0

    @property
    def client(self) -> aioredis.Redis:
        if self._client is None:
            self._client = self.connect(2.0)
        return self._client

    @property
    def reader(self) -> aioredis.Redis:
        if self._reader is None:
            self._reader = self.connect(self.options.block_ms / 1000 + 5.0)
        return self._reader

    def stream(self, conversation_id: str) -> str:
        return stream_key(self.channel, shard_of(conversation_id, self.options.shards))

    # --- arrival ---------------------------------------------------------------------------------

    async def append(self, entries: list[tuple[str, Fields, str]], dedup_ttl: int) -> list[str | None]:
        """Append (conversation, fields, seen key or "") in order; None for a duplicate.

        Raises on a Redis error (then nothing may be acknowledged)."""
        async with self.client.pipeline(transaction=False) as pipe:
            for conversation, fields, seen in entries:
                stream = self.stream(conversation)
                entry = {**fields, "conversation": conversation, "seen": seen}
                args = [item for pair in entry.items() for item in pair]
                pipe.eval(APPEND, 2, stream, seen or stream, dedup_ttl, "1" if seen else "0", *args)
            added = await pipe.execute()
        ids = [str(entry_id) if entry_id else None for entry_id in added]
        for (conversation, _, _), entry_id in zip(entries, ids, strict=True):
            if entry_id:
                self._local.add(f"{self.stream(conversation)}/{entry_id}")
        return ids

    async def busy(self) -> bool:
        """Whether an entry appended here is still in its stream (whichever replica runs it), or any
        entry runs here."""
        if self._local:
            local = sorted(self._local)
            async with self.client.pipeline(transaction=False) as pipe:
                for item in local:
                    stream, entry_id = item.rsplit("/", 1)
                    pipe.xrange(stream, entry_id, entry_id)
                found = await pipe.execute()
            self._local.difference_update(
                item for item, entries in zip(local, found, strict=True) if not entries
            )
        return bool(self._local or self._chains)

    async def depth(self) -> int:
        """Entries of this channel not yet done (waiting or running), over every shard: done ones
        are deleted from their stream."""
        async with self.client.pipeline(transaction=False) as pipe:
            for shard in range(self.options.shards):
                pipe.xlen(stream_key(self.channel, shard))
            return sum(int(length) for length in await pipe.execute())

    # --- the worker ------------------------------------------------------------------------------

    def start(self, handle: Handler) -> None:
        self._stopping = False
        self._loop = asyncio.get_running_loop().create_task(self._run(handle))

    async def stop(self, grace: float) -> None:
        """Stop reading, let running entries finish (within `grace`), then hand the shards back."""
        self._stopping = True
        if self._loop is not None:
            self._loop.cancel()
            await asyncio.gather(self._loop, return_exceptions=True)
        chains = list(self._chains.values())
        if chains:
            _, pending = await asyncio.wait(chains, timeout=grace)
            for task in pending:
                task.cancel()
        try:
            for shard in list(self._owned):
                await self.client.eval(RELEASE, 1, self._lease(shard), self.consumer)
            await self.client.zrem(self._workers, self.consumer)
        except STORE_ERRORS as exc:
            log.warning("%s: could not hand the intake shards back: %s", self.channel, exc)
        self._owned.clear()
        for client in (self._client, self._reader):
            if client is not None:
                await client.close()
                await client.connection_pool.disconnect()
        self._client = self._reader = None

    @property
    def _workers(self) -> str:
        return f"{PREFIX}:{self.channel}:workers"

    def _lease(self, shard: int) -> str:
        return f"{PREFIX}:{self.channel}:lease:{shard}"

    async def _run(self, handle: Handler) -> None:
        while not self._stopping:
            try:
                if time.monotonic() - self._beat_at >= self.options.lease_seconds / 4:
                    await self._heartbeat(handle)
                await self._read(handle)
            except asyncio.CancelledError:
                raise
            except STORE_ERRORS as exc:
                log.warning("%s: Redis unavailable for the intake worker: %s", self.channel, exc)
                self._reader = None  # a read cut off mid-way leaves its connection unusable
                # Redis may have run that read after we stopped waiting for it: the entries it
                # handed to this consumer are pending under our name, and ">" never returns them.
                self._reread_pending = True
                await asyncio.sleep(1.0)

    async def _heartbeat(self, handle: Handler) -> None:
        """Renew the leases, share the shards with the live workers, take over free ones."""
        now, lease_ms = time.time(), int(self.options.lease_seconds * 1000)
        self._beat_at = time.monotonic()
        await self.client.zadd(self._workers, {self.consumer: now})
        await self.client.zremrangebyscore(self._workers, "-inf", now - self.options.lease_seconds)
        for shard in list(self._owned):
            if not await self.client.eval(RENEW, 1, self._lease(shard), self.consumer, lease_ms):
                log.warning("%s: lost the intake shard %d", self.channel, shard)
                self._owned.discard(shard)
        live = max(1, int(await self.client.zcard(self._workers)))
        share = math.ceil(self.options.shards / live)
        for shard in sorted(self._owned, reverse=True):
            if len(self._owned) <= share:
                break
            if not self._in_shard.get(shard):
                await self.client.eval(RELEASE, 1, self._lease(shard), self.consumer)
                self._owned.discard(shard)
        for shard in range(self.options.shards):
            if len(self._owned) >= share:
                break
            if shard not in self._owned and await self.client.set(
                self._lease(shard), self.consumer, nx=True, px=lease_ms
            ):
                await self._take(shard, handle)

    async def _take(self, shard: int, handle: Handler) -> None:
        """Own `shard`: every entry left pending by an earlier owner runs first, in order."""
        stream = stream_key(self.channel, shard)
        try:
            await self.client.xgroup_create(stream, GROUP, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        self._owned.add(shard)
        cursor = "0-0"
        while True:
            reply = await self.client.xautoclaim(stream, GROUP, self.consumer, 0, cursor, count=100)
            cursor, claimed = reply[0], reply[1]
            for entry_id, fields in claimed:
                if fields:
                    self._dispatch(shard, str(entry_id), dict(fields), handle)
            if cursor in ("0-0", b"0-0"):
                break

    async def _read(self, handle: Handler) -> None:
        if not self._owned or len(self._chains) >= self.options.max_in_flight:
            await asyncio.sleep(0.05 if self._owned else 0.5)
            return
        owned = sorted(self._owned)
        if self._reread_pending:
            await self._read_own_pending(owned, handle)
        streams = {stream_key(self.channel, shard): ">" for shard in owned}
        reply = await self.reader.xreadgroup(
            GROUP, self.consumer, streams, count=self.options.batch, block=self.options.block_ms
        )
        for stream, entries in reply or []:
            shard = int(str(stream).rsplit(":", 1)[1])
            for entry_id, fields in entries:
                self._dispatch(shard, str(entry_id), dict(fields), handle)

    async def _read_own_pending(self, owned: list[int], handle: Handler) -> None:
        """Dispatch the entries pending under this consumer that it is not already running."""
        for shard in owned:
            stream = stream_key(self.channel, shard)
            reply = await self.client.xreadgroup(GROUP, self.consumer, {stream: "0"}, count=1000)
            for _, entries in reply or []:
                for entry_id, fields in entries:
                    if fields and str(entry_id) not in self._in_flight:
                        self._dispatch(shard, str(entry_id), dict(fields), handle)
        self._reread_pending = False

    def _dispatch(self, shard: int, entry_id: str, fields: Fields, handle: Handler) -> None:
        conversation = fields.get("conversation", "")
        before = self._chains.get(conversation)
        task = asyncio.get_running_loop().create_task(self._after(before, shard, entry_id, fields, handle))
        self._chains[conversation] = task
        self._in_shard[shard] = self._in_shard.get(shard, 0) + 1
        self._in_flight.add(entry_id)

        def finished(_: asyncio.Task[None]) -> None:
            self._in_shard[shard] -= 1
            self._in_flight.discard(entry_id)
            if self._chains.get(conversation) is task:
                del self._chains[conversation]

        task.add_done_callback(finished)

    async def _after(
        self, before: asyncio.Task[None] | None, shard: int, entry_id: str, fields: Fields, handle: Handler
    ) -> None:
        if before is not None:
            await asyncio.gather(before, return_exceptions=True)
        await self._process(stream_key(self.channel, shard), entry_id, fields, handle)

    async def _process(self, stream: str, entry_id: str, fields: Fields, handle: Handler) -> None:
        seen = fields.get("seen", "")

        async def count() -> tuple[int, Any]:
            """This attempt's number (a crash counts too) and the de-duplication mark, in one round trip."""
            async with self.client.pipeline(transaction=False) as pipe:
                pipe.hincrby(f"{stream}:attempts", entry_id, 1).get(seen or f"{stream}:none")
                attempt, mark = await pipe.execute()
            return int(attempt), mark

        while True:
            attempt, mark = await self._redis_call(count)
            if mark == "processed":
                log.info("%s: an entry already processed was acknowledged", self.channel)
                await self._done(stream, entry_id, fields)
                return
            try:
                await handle(fields)
            except Exception as exc:
                error = f"{type(exc).__name__}: {exc}"[:ERROR_CHARS]
                log.warning("%s: attempt %d of an intake entry failed: %s", self.channel, attempt, error)
                if attempt >= self.options.max_attempts:
                    await self._dead(stream, entry_id, fields, error, attempt)
                    return
                await asyncio.sleep(self.options.retry_backoff * 2 ** (attempt - 1))
                continue
            await self._done(stream, entry_id, fields)
            return

    async def _redis_call(self, call: Callable[[], Awaitable[Any]]) -> Any:
        """A call that must happen: retried until Redis answers (the entry stays pending meanwhile)."""
        while True:
            try:
                return await call()
            except STORE_ERRORS as exc:
                log.warning("%s: Redis unavailable for an intake entry, retrying: %s", self.channel, exc)
                await asyncio.sleep(1.0)

    async def processed(self, fields: Fields) -> None:
        """Mark the entry's delivery processed as soon as its turn is stored, before its replies go
        out (they may take a while: Telegram's pacing): a process killed meanwhile leaves an entry
        whose re-run is then acknowledged, not answered and stored a second time."""
        seen = fields.get("seen", "")
        if seen:
            await self._redis_call(lambda: self.client.set(seen, "processed", xx=True, keepttl=True))

    async def _done(self, stream: str, entry_id: str, fields: Fields) -> None:
        seen = fields.get("seen", "")

        async def finish() -> None:
            async with self.client.pipeline(transaction=True) as pipe:
                if seen:
                    pipe.set(seen, "processed", xx=True, keepttl=True)
                pipe.xack(stream, GROUP, entry_id).xdel(stream, entry_id).hdel(f"{stream}:attempts", entry_id)
                await pipe.execute()

        await self._redis_call(finish)
        self._local.discard(f"{stream}/{entry_id}")

    async def _dead(self, stream: str, entry_id: str, fields: Fields, error: str, attempts: int) -> None:
        letter = DeadLetter(
            id=f"{self.channel}.{stream.rsplit(':', 1)[1]}.{entry_id}",
            channel=self.channel,
            stream=stream,
            conversation=fields.get("conversation", ""),
            error=error,
            attempts=attempts,
            failed_at=time.time(),
            fields=fields,
        )

        async def bury() -> None:
            async with self.client.pipeline(transaction=True) as pipe:
                pipe.hset(DEAD, letter.id, letter.as_json())
                pipe.xack(stream, GROUP, entry_id).xdel(stream, entry_id).hdel(f"{stream}:attempts", entry_id)
                await pipe.execute()

        await self._redis_call(bury)
        log.error("%s: an entry failed %d times, now a dead letter: %s", self.channel, attempts, error)
        self._local.discard(f"{stream}/{entry_id}")
