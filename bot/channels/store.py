"""What connectors remember between webhooks, in Redis: deliveries seen, open windows, options, long payloads.

Keys never carry personal data in clear (a sender id is a phone number on SMS and WhatsApp):
`civic:channel:v1:<channel>:<kind>:<sha256 of the value>`.

| kind | value | why |
|---|---|---|
| `seen` | a platform message id | a redelivered webhook is answered once (SET NX EX) |
| `window` | a sender | the sender wrote in the last 24 h (Meta's standard messaging window) |
| `options` | a sender | the payloads of the numbered options last sent by SMS, for a reply "2" |
| `button` | a token | a button payload too long for the platform's button id |

Redis being down must not silence the assistant: every read fails open (a delivery counts as
new, the window as open, no options remembered) and is logged.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import secrets
import time
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from bot.settings import RedisAddress

log = logging.getLogger(__name__)

PREFIX = "civic:channel:v1"
STORE_ERRORS = (RedisError, OSError, asyncio.TimeoutError)


def digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()[:32]


def ref(sender_id: str) -> str:
    """How a sender appears in logs: a short hash, never the id (a phone number on SMS)."""
    return digest(sender_id)[:12]


REDIS_TIMEOUT = 2.0  # seconds: a slow Redis must not hold a webhook past the platform's patience


class ChannelStore:
    """One channel's view of Redis; the client is opened on first use, on the running loop."""

    def __init__(self, config: RedisAddress, channel: str, timeout: float = REDIS_TIMEOUT) -> None:
        self.config = config
        self.channel = channel
        self.timeout = timeout
        self._client: aioredis.Redis | None = None

    @property
    def client(self) -> aioredis.Redis:
        if self._client is None:
            self._client = aioredis.Redis(
                host=self.config.host,
                port=self.config.port,
                db=self.config.db,
                password=self.config.password or None,
                socket_timeout=self.timeout,
                socket_connect_timeout=self.timeout,
                decode_responses=True,
            )
        return self._client

    def key(self, kind: str, value: str) -> str:
        return f"{PREFIX}:{self.channel}:{kind}:{digest(value)}"

    async def close(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            await client.close()
            await client.connection_pool.disconnect()

    async def first_delivery(self, message_id: str, ttl: int) -> bool:
        """True the first time a message id is seen within `ttl` seconds (and when Redis is down)."""
        try:
            return bool(await self.client.set(self.key("seen", message_id), "1", nx=True, ex=ttl))
        except STORE_ERRORS as exc:
            log.warning("%s: Redis unavailable, cannot check for a duplicate delivery: %s", self.channel, exc)
            return True

    async def open_window(self, sender_id: str, since: float, seconds: int) -> None:
        """The sender wrote at `since` (epoch seconds): replies are allowed for `seconds` after that."""
        remaining = int(since + seconds - time.time())
        if remaining <= 0:
            return
        try:
            await self.client.set(self.key("window", sender_id), str(int(since)), ex=remaining)
        except STORE_ERRORS as exc:
            log.warning("%s: Redis unavailable, cannot record the messaging window: %s", self.channel, exc)

    async def window_open(self, sender_id: str) -> bool:
        try:
            return bool(await self.client.exists(self.key("window", sender_id)))
        except STORE_ERRORS as exc:
            log.warning("%s: Redis unavailable, assuming the messaging window is open: %s", self.channel, exc)
            return True

    async def remember_options(self, sender_id: str, payloads: list[str], ttl: int) -> None:
        try:
            await self.client.set(self.key("options", sender_id), json.dumps(payloads), ex=ttl)
        except STORE_ERRORS as exc:
            log.warning("%s: Redis unavailable, numbered options not remembered: %s", self.channel, exc)

    async def take_options(self, sender_id: str) -> list[str]:
        """The options last sent to the sender, forgotten as they are read (they answer one reply only)."""
        key = self.key("options", sender_id)
        try:
            async with self.client.pipeline(transaction=True) as pipe:
                raw, _ = await pipe.get(key).delete(key).execute()
        except STORE_ERRORS as exc:
            log.warning("%s: Redis unavailable, numbered options not available: %s", self.channel, exc)
            return []
        return _string_list(raw)

    async def stash(self, payload: str, ttl: int) -> str | None:
        """A short token standing for a payload too long for a button id (None when Redis is down)."""
        token = "~" + secrets.token_hex(8)
        try:
            await self.client.set(self.key("button", token), payload, ex=ttl)
        except STORE_ERRORS as exc:
            log.warning("%s: Redis unavailable, cannot keep a long button payload: %s", self.channel, exc)
            return None
        return token

    async def unstash(self, token: str) -> str | None:
        try:
            value = await self.client.get(self.key("button", token))
        except STORE_ERRORS as exc:
            log.warning("%s: Redis unavailable, cannot read a long button payload: %s", self.channel, exc)
            return None
        return value if isinstance(value, str) else None


def is_stash_token(value: str) -> bool:
    return len(value) == 17 and value.startswith("~") and all(c in "0123456789abcdef" for c in value[1:])


def _string_list(raw: Any) -> list[str]:
    if not raw:
        return []
    try:
        value = json.loads(raw)
    except ValueError:
        return []
    return [str(v) for v in value] if isinstance(value, list) else []
