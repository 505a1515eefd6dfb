"""What connectors remember between webhooks, in Redis: addresses, deliveries, windows, options.

Conversations are keyed by their conversation id (`bot/identity.py`: the channel plus a keyed
hash of the platform user id), never by the platform id, which is a phone number on SMS and
WhatsApp. The platform id needed to send is a value, kept under the conversation id. Keys, all
`civic:channel:v1:<channel>:<kind>:...`:

- `address:<conversation id>`: the platform user id (phone number, PSID, chat id). Replies, and
  messages the console pushes later, go to it; every message from the citizen refreshes it.
- `window:<conversation id>`: when the citizen last wrote; the 24-hour messaging window of Meta's
  platforms is open while the key exists.
- `options:<conversation id>`: the payloads of the numbered options last sent by SMS, for a
  reply "2".
- `yesno:<conversation id>`: the "helpful" and "not helpful" payloads of the rated answer last
  sent by SMS (FEEDBACK_SMS=true), for a reply "Y" or "N".
- `privacy:<conversation id>`: the privacy notice went out with a first reply.
- `language:<conversation id>`: the language of the last reply (`en`, `es`...), for what the
  connector says to a message that never reaches the assistant (a photo, one too long).
- `seen:<sha256 of a platform message id>`: a redelivered webhook is answered once: set to
  "received" with the delivery's append to the intake stream, "processed" once its turn is stored
  (`bot/channels/intake.py`).
- `button:<sha256 of a token>`: a button payload too long for the platform's button id.

The offered button payloads are `civic:offered:<conversation id>` (`bot/channels/offered.py`).
Before keyed ids, `window` and `options` were keyed by a sha256 of the platform id
(`legacy_key`); `python -m bot channels migrate-ids` moves them.

Redis being down at arrival refuses the webhook (503: the platform redelivers, `intake.py`).
While answering, reads fail open (the window as open, no options remembered; the address of the
message being answered is known without Redis) and are logged.
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

from bot.channels.offered import OfferedPayloads
from bot.settings import RedisAddress

log = logging.getLogger(__name__)

PREFIX = "civic:channel:v1"
ADDRESS_TTL = 90 * 24 * 3600  # a conversation's address outlives a quiet spell, not forever
STORE_ERRORS = (RedisError, OSError, asyncio.TimeoutError)


# SET with the TTL, unless the key is kept without one (a subscriber's): then SET keeps it so.
REMEMBER_ADDRESS = """
if redis.call('TTL', KEYS[1]) == -1 then
  return redis.call('SET', KEYS[1], ARGV[1])
end
return redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
"""


def digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()[:32]


def ref(sender_id: str) -> str:
    """How a sender or conversation appears in logs: a short hash, never the id (a phone number on SMS)."""
    return digest(sender_id)[:12]


def conversation_key(channel: str, kind: str, conversation_id: str) -> str:
    """A per-conversation key: the conversation id carries no personal data, so it is used as is."""
    return f"{PREFIX}:{channel}:{kind}:{conversation_id}"


def legacy_key(channel: str, kind: str, sender_id: str) -> str:
    """Where `window` and `options` were kept before keyed conversation ids (for the migration)."""
    return f"{PREFIX}:{channel}:{kind}:{digest(sender_id)}"


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
            self._client = self.connect(self.timeout)
        return self._client

    def connect(self, timeout: float) -> aioredis.Redis:
        """A new client on this Redis (the intake's blocking reads need a longer `timeout`)."""
        return aioredis.Redis(
            host=self.config.host,
            port=self.config.port,
            db=self.config.db,
            password=self.config.password or None,
            socket_timeout=timeout,
            socket_connect_timeout=min(timeout, self.timeout),
            decode_responses=True,
        )

    def key(self, kind: str, value: str) -> str:
        return f"{PREFIX}:{self.channel}:{kind}:{digest(value)}"

    def conversation_key(self, kind: str, conversation_id: str) -> str:
        return conversation_key(self.channel, kind, conversation_id)

    @property
    def offered(self) -> OfferedPayloads:
        return OfferedPayloads(self.client)

    async def close(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            await client.close()
            await client.connection_pool.disconnect()

    def seen_key(self, message_id: str) -> str:
        """The de-duplication mark of a platform message id ("received", then "processed"; `intake.py`)."""
        return self.key("seen", message_id)

    async def remember_address(self, conversation_id: str, address: str, ttl: int) -> None:
        """Where the conversation's citizen is on the platform (for replies, and for later pushes).

        An alert subscriber's address has no expiry (`bot.subscriptions.store` removes it while they
        are subscribed, so a quiet subscriber still gets the next alert): a new message keeps it so."""
        try:
            key = self.conversation_key("address", conversation_id)
            await self.client.eval(REMEMBER_ADDRESS, 1, key, address, ttl)
        except STORE_ERRORS as exc:
            log.warning("%s: Redis unavailable, cannot record where to reply: %s", self.channel, exc)

    async def address(self, conversation_id: str) -> str | None:
        """The platform user id of a conversation, or None when unknown (or Redis is down)."""
        return await self._read("address", conversation_id, "where to reply")

    async def remember_language(self, conversation_id: str, language: str, ttl: int) -> None:
        try:
            await self.client.set(self.conversation_key("language", conversation_id), language, ex=ttl)
        except STORE_ERRORS as exc:
            log.warning("%s: Redis unavailable, cannot record the reply language: %s", self.channel, exc)

    async def language(self, conversation_id: str) -> str | None:
        """The language of the conversation's last reply; None when unknown (or Redis is down)."""
        return await self._read("language", conversation_id, "the reply language")

    async def _read(self, kind: str, conversation_id: str, what: str) -> str | None:
        """A conversation's `kind` value; None when it has none, or Redis is down (logged as `what`)."""
        try:
            value = await self.client.get(self.conversation_key(kind, conversation_id))
        except STORE_ERRORS as exc:
            log.warning("%s: Redis unavailable, cannot look up %s: %s", self.channel, what, exc)
            return None
        return value if isinstance(value, str) and value else None

    async def first_reply(self, conversation_id: str, ttl: int) -> bool:
        """True once per conversation (within `ttl`): this reply is its first. False when Redis is down."""
        try:
            key = self.conversation_key("privacy", conversation_id)
            return bool(await self.client.set(key, "1", nx=True, ex=ttl))
        except STORE_ERRORS as exc:
            log.warning("%s: Redis unavailable, the privacy notice is not added: %s", self.channel, exc)
            return False

    async def open_window(self, conversation_id: str, since: float, seconds: int) -> None:
        """The citizen wrote at `since` (epoch seconds): replies are allowed for `seconds` after that."""
        remaining = int(since + seconds - time.time())
        if remaining <= 0:
            return
        try:
            key = self.conversation_key("window", conversation_id)
            await self.client.set(key, str(int(since)), ex=remaining)
        except STORE_ERRORS as exc:
            log.warning("%s: Redis unavailable, cannot record the messaging window: %s", self.channel, exc)

    async def window_open(self, conversation_id: str) -> bool:
        try:
            return bool(await self.client.exists(self.conversation_key("window", conversation_id)))
        except STORE_ERRORS as exc:
            log.warning("%s: Redis unavailable, assuming the messaging window is open: %s", self.channel, exc)
            return True

    async def remember_options(self, conversation_id: str, payloads: list[str], ttl: int) -> None:
        try:
            key = self.conversation_key("options", conversation_id)
            await self.client.set(key, json.dumps(payloads), ex=ttl)
        except STORE_ERRORS as exc:
            log.warning("%s: Redis unavailable, numbered options not remembered: %s", self.channel, exc)

    async def take_options(self, conversation_id: str) -> list[str]:
        """The options last sent, forgotten as they are read (they answer one reply only)."""
        key = self.conversation_key("options", conversation_id)
        try:
            async with self.client.pipeline(transaction=True) as pipe:
                raw, _ = await pipe.get(key).delete(key).execute()
        except STORE_ERRORS as exc:
            log.warning("%s: Redis unavailable, numbered options not available: %s", self.channel, exc)
            return []
        return _string_list(raw)

    async def remember_yes_no(self, conversation_id: str, payloads: tuple[str, str] | None, ttl: int) -> None:
        """The (Y, N) payloads of the last SMS's feedback question; None forgets an earlier one."""
        key = self.conversation_key("yesno", conversation_id)
        try:
            if payloads is None:
                await self.client.delete(key)
            else:
                await self.client.set(key, json.dumps(list(payloads)), ex=ttl)
        except STORE_ERRORS as exc:
            log.warning("%s: Redis unavailable, the Y/N question not remembered: %s", self.channel, exc)

    async def take_yes_no(self, conversation_id: str) -> tuple[str, str] | None:
        """The (Y, N) payloads last offered, forgotten as they are read (the next reply only)."""
        key = self.conversation_key("yesno", conversation_id)
        try:
            async with self.client.pipeline(transaction=True) as pipe:
                raw, _ = await pipe.get(key).delete(key).execute()
        except STORE_ERRORS as exc:
            log.warning("%s: Redis unavailable, the Y/N question not available: %s", self.channel, exc)
            return None
        pair = _string_list(raw)
        return (pair[0], pair[1]) if len(pair) == 2 else None

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
