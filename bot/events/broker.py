"""A Rasa event broker that appends every tracker event to the Redis stream `civic:events`.

Configured in endpoints.yml (`event_broker: type: bot.events.broker.RedisStreamBroker`). Rasa calls
`publish` synchronously from its event loop, so events go into an in-process queue and one writer
task XADDs them in order. Redis trouble never reaches Rasa: the writer keeps a bounded backlog,
logs the outage once (no conversation ids or text: they are personal data) and retries. Events
go in batches through one Lua script that adds each only once (`_append_once`), so a retry after a
timeout never doubles one.
Readers use consumer groups and never delete entries; the stream is trimmed to about `maxlen`, and by
age: entries older than EVENTS_RETENTION_DAYS are dropped (XTRIM MINID, at most once a
`trim_every` seconds, after an append), since they hold what citizens wrote (docs/privacy.md).
"""

from __future__ import annotations

import asyncio
import collections
import hashlib
import itertools
import json
import logging
import time
from asyncio import AbstractEventLoop
from typing import Any

import redis.asyncio as aioredis
from rasa.core.brokers.broker import EventBroker
from rasa.utils.endpoints import EndpointConfig
from redis.commands.core import AsyncScript
from redis.exceptions import RedisError

from bot.events import STREAM
from bot.settings import Settings

log = logging.getLogger(__name__)
DEFAULT_MAXLEN = 200_000
MAX_BACKLOG = 50_000
RETRY_SECONDS = 1.0
TRIM_EVERY_SECONDS = 60.0
BATCH = 100  # events per round trip
DEDUP_SECONDS = 3600  # how long an added event's mark stops a retried XADD from adding it again
# The tail of every script that appends events once (here and in bot/tracker_store.py's save):
# KEYS[first ...] are the events' marks, ARGV[i + shift] the event of KEYS[i]; KEYS[stream] the
# stream, ARGV[lifetime] the marks' lifetime (s), ARGV[maxlen] the stream's approximate length.
APPEND_LOOP = """
local added = 0
for i = {first}, #KEYS do
  if redis.call('SET', KEYS[i], '1', 'NX', 'EX', ARGV[{lifetime}]) then
    redis.call('XADD', KEYS[{stream}], 'MAXLEN', '~', ARGV[{maxlen}], '*', 'event', ARGV[i + {shift}])
    added = added + 1
  end
end
return added
"""
# KEYS[1]: the stream; KEYS[i > 1]: each event's mark. ARGV[1]: the marks' lifetime (s),
# ARGV[2]: the stream's approximate maxlen, ARGV[i + 1]: the event for KEYS[i].
APPEND_ONCE = APPEND_LOOP.format(first=2, stream=1, lifetime=1, maxlen=2, shift=1)


def encode(event: dict[str, Any]) -> str:
    """An event as the stream holds it (the same text makes the same de-duplication mark)."""
    return json.dumps(event)


class RedisStreamBroker(EventBroker):
    def __init__(
        self,
        client: aioredis.Redis,
        stream: str = STREAM,
        maxlen: int = DEFAULT_MAXLEN,
        max_backlog: int = MAX_BACKLOG,
        retention_seconds: float | None = None,
        trim_every: float = TRIM_EVERY_SECONDS,
    ) -> None:
        self.client = client
        self.stream = stream
        self.maxlen = maxlen
        self._backlog: collections.deque[str] = collections.deque(maxlen=max_backlog)
        self._wakeup: asyncio.Event | None = None
        self._writer: asyncio.Task[None] | None = None
        self._failing = False
        self.dropped = 0
        self.retention_seconds = retention_seconds
        self.trim_every = trim_every
        self._trimmed_at = float("-inf")
        self.dedup_seconds = DEDUP_SECONDS
        self._append_script: AsyncScript | None = None

    @classmethod
    async def from_endpoint_config(
        cls, broker_config: EndpointConfig, event_loop: AbstractEventLoop | None = None
    ) -> RedisStreamBroker:
        kwargs = broker_config.kwargs
        client = aioredis.Redis(
            host=broker_config.url or "localhost",
            port=int(kwargs.get("port") or 6379),
            db=int(kwargs.get("db") or 0),
            password=kwargs.get("password") or None,
            socket_timeout=float(kwargs.get("socket_timeout") or 2.0),
            socket_connect_timeout=float(kwargs.get("socket_timeout") or 2.0),
        )
        return cls(
            client,
            stream=str(kwargs.get("stream") or STREAM),
            maxlen=int(kwargs.get("maxlen") or DEFAULT_MAXLEN),
            retention_seconds=Settings.from_env().privacy.events_retention_days * 86400,
        )

    def publish(self, event: dict[str, Any]) -> None:
        """Queue the event for the writer task; never raises, never blocks."""
        try:
            body = encode(event)
        except (TypeError, ValueError):
            log.warning("event broker: an event of type %s is not JSON; skipped", event.get("event"))
            return
        if len(self._backlog) == self._backlog.maxlen:
            self.dropped += 1
        self._backlog.append(body)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            log.warning("event broker: publish outside an event loop; event kept for the next one")
            return
        if self._writer is None or self._writer.done():
            self._wakeup = asyncio.Event()
            self._writer = loop.create_task(self._write_forever())
        assert self._wakeup is not None
        self._wakeup.set()

    async def _write_forever(self) -> None:
        assert self._wakeup is not None
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            await self._drain()

    async def _drain(self) -> None:
        while self._backlog:
            batch = list(itertools.islice(self._backlog, BATCH))
            try:
                await self._append_once(batch)
            except (RedisError, OSError) as exc:
                if not self._failing:
                    log.warning(
                        "event broker: Redis unavailable (%s); keeping up to %d events and retrying",
                        type(exc).__name__,
                        self._backlog.maxlen,
                    )
                    self._failing = True
                await asyncio.sleep(RETRY_SECONDS)
                continue
            for _ in batch:
                self._backlog.popleft()
            await self._trim_by_age()
            if self._failing:
                log.info("event broker: Redis is back; %d events were dropped meanwhile", self.dropped)
                self._failing = False

    def mark(self, body: str) -> str:
        """The key whose presence says this event is in the stream (see `_append_once`)."""
        return f"{self.stream}:added:{hashlib.sha256(body.encode()).hexdigest()[:32]}"

    def shares_redis_with(self, client: aioredis.Redis) -> bool:
        """Whether `client` talks to this broker's Redis database (so one script may write both)."""
        ours, theirs = self.client.connection_pool.connection_kwargs, client.connection_pool.connection_kwargs
        return all(ours.get(k) == theirs.get(k) for k in ("host", "port", "db", "path"))

    async def appended_elsewhere(self) -> None:
        """Events were appended with a conversation's save (`bot.tracker_store`): trim by age as usual."""
        await self._trim_by_age()

    async def _append_once(self, bodies: list[str]) -> int:
        """XADD each event unless an earlier try already did (one script, one round trip).

        A timeout leaves unknown whether the XADD ran; the retry must not add it twice. Each event
        leaves a mark named by the hash of its body (sender, type, timestamp and contents: no two
        events of a conversation share them) for `dedup_seconds`; the script skips marked events.
        """
        if self._append_script is None:
            self._append_script = self.client.register_script(APPEND_ONCE)
        marks = [self.mark(body) for body in bodies]
        added = await self._append_script(
            keys=[self.stream, *marks], args=[int(self.dedup_seconds), self.maxlen, *bodies]
        )
        return int(added)

    async def _trim_by_age(self) -> None:
        """Drop entries older than the retention period (exactly: a few old ones must not linger)."""
        if self.retention_seconds is None or time.monotonic() - self._trimmed_at < self.trim_every:
            return
        self._trimmed_at = time.monotonic()
        oldest_ms = max(0, int((time.time() - self.retention_seconds) * 1000))
        try:
            await self.client.xtrim(self.stream, minid=f"{oldest_ms}-0", approximate=False)
        except (RedisError, OSError) as exc:
            log.warning("event broker: old events not trimmed (%s); trying again later", type(exc).__name__)

    async def flush(self, timeout: float = 5.0) -> None:
        """Wait until the backlog is written (tests, shutdown)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while self._backlog and asyncio.get_running_loop().time() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.01)

    def is_ready(self) -> bool:
        return True

    async def close(self) -> None:
        await self.flush(timeout=2.0)
        if self._writer is not None:
            self._writer.cancel()
        await self.client.close(close_connection_pool=True)
