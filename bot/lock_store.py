"""A Redis lock store for Rasa: one turn of a conversation at a time, on one replica or many.

Rasa 3.6's `RedisLockStore` issues tickets with a read-then-write on a blocking client (two
processes can get the same ticket, and every call blocks Rasa's event loop), lets a turn's lock
lapse after 60 s while an action may run for 300 s, and wakes a waiting message once a second.
This one (endpoints.yml `lock_store: type: bot.lock_store.CivicRedisLockStore`):

- keeps each conversation's tickets in one Redis hash, `civic:lock:<conversation id>` (the key
  `bot/privacy/deferred.py` watches): field `next` numbers the tickets, and one field per live
  ticket holds its deadline in Redis's own clock (milliseconds). The lowest live ticket holds the
  lock. Issuing, trying and renewing are one Lua script (`ENTER`), so they are atomic and a turn
  that gets the lock at once costs one round trip; releasing is another (`LEAVE`). Each ticket
  carries its caller's token: a retried call gets the same ticket, and a call that failed (it may
  have run after it timed out) has its ticket withdrawn once Redis answers (`ABANDON`), so after
  an outage the next message does not wait for the ticket to expire;
- uses the asynchronous client with a socket timeout; a Redis error raises `StoreUnavailable`
  (bot/tracker_store.py), so the turn fails closed and the channel asks the citizen to resend;
- renews the holder's ticket in a background task for as long as the turn runs (slow actions
  included) and releases it at the end; a ticket expires only when its process stopped renewing
  it (died, or lost Redis), after `lifetime` seconds;
- wakes a waiting message as soon as the turn ahead ends: at once in this process, and through
  Redis pub/sub (`civic:lock:released`, one subscription per process) from another replica. In
  case a wake-up is missed (the subscription was down), waiters also poll, with a backoff from
  10 ms to 200 ms that starts again whenever the queue moves, renewing their ticket at each poll.
"""

from __future__ import annotations

import asyncio
import logging
import os
import uuid
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from typing import Any

import redis.asyncio as aioredis
from rasa.core.lock import TicketLock
from rasa.core.lock_store import LockStore
from rasa.utils.endpoints import EndpointConfig
from redis.exceptions import RedisError

from bot.tracker_store import StoreUnavailable, guarded, reconnecting

log = logging.getLogger(__name__)
DEFAULT_LIFETIME = 20.0  # seconds a ticket lives without renewal: how long a dead holder blocks
DEFAULT_SOCKET_TIMEOUT = 5.0
FIRST_POLL = 0.01
LAST_POLL = 0.2
WITHDRAW_RETRY = 0.5

# KEYS[1]: the conversation's lock; ARGV[1]: lifetime (ms); ARGV[2]: our ticket, or "0" for a new
# one; ARGV[3]: the caller's token. Each ticket's field holds "<deadline ms>:<token>". A new ticket
# is issued once per token (a retried call gets the same one). Drops expired tickets, (re)sets ours
# to now + lifetime and returns {ticket, how many are ahead}; {ticket, -1} when our ticket is gone
# (it expired: we were not renewing it).
ENTER = """
local now = redis.call('TIME')
now = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local lifetime = tonumber(ARGV[1])
local ticket = tonumber(ARGV[2])
local owner = ':' .. ARGV[3]
local fields = redis.call('HGETALL', KEYS[1])
if ticket == 0 then
  for i = 1, #fields, 2 do
    if fields[i] ~= 'next' and string.sub(fields[i + 1], -#owner) == owner then
      ticket = tonumber(fields[i])
    end
  end
  if ticket == 0 then
    ticket = redis.call('HINCRBY', KEYS[1], 'next', 1)
  end
elseif not redis.call('HGET', KEYS[1], ARGV[2]) then
  return {ticket, -1}
end
redis.call('HSET', KEYS[1], tostring(ticket), (now + lifetime) .. owner)
redis.call('PEXPIRE', KEYS[1], lifetime)
local ahead = 0
for i = 1, #fields, 2 do
  local number = tonumber(fields[i])
  if fields[i] ~= 'next' and number ~= ticket then
    if tonumber(string.match(fields[i + 1], '^(%d+)')) < now then
      redis.call('HDEL', KEYS[1], fields[i])
    elseif number < ticket then
      ahead = ahead + 1
    end
  end
end
return {ticket, ahead}
"""

# KEYS[1]: the conversation's lock; ARGV[1]: a token whose call failed. Its ticket (issued or not:
# the call may have run after it timed out) is withdrawn, and the waiters are woken.
ABANDON = """
local owner = ':' .. ARGV[1]
local fields = redis.call('HGETALL', KEYS[1])
for i = 1, #fields, 2 do
  if fields[i] ~= 'next' and string.sub(fields[i + 1], -#owner) == owner then
    redis.call('HDEL', KEYS[1], fields[i])
  end
end
if redis.call('HLEN', KEYS[1]) <= 1 then
  redis.call('DEL', KEYS[1])
else
  redis.call('PUBLISH', ARGV[2], ARGV[3])
end
return 1
"""

# KEYS[1]: the conversation's lock; ARGV[1]: our ticket; ARGV[2]: the channel that wakes waiters,
# ARGV[3]: the conversation id. The key goes when no ticket is left, else the waiters are woken.
LEAVE = """
redis.call('HDEL', KEYS[1], ARGV[1])
if redis.call('HLEN', KEYS[1]) <= 1 then
  redis.call('DEL', KEYS[1])
else
  redis.call('PUBLISH', ARGV[2], ARGV[3])
end
return 1
"""


class LockLost(StoreUnavailable):
    """Our ticket expired while we waited (the process stalled longer than the lifetime)."""


class CivicRedisLockStore(LockStore):
    """Rasa's `LockStore` on Redis, atomic and asynchronous, held for the whole turn."""

    def __init__(
        self,
        endpoint_config: EndpointConfig | None = None,
        *,
        client: aioredis.Redis | None = None,
        key_prefix: str | None = None,
        lifetime: float | None = None,
    ) -> None:
        kwargs: dict[str, Any] = dict(endpoint_config.kwargs) if endpoint_config else {}
        self.client = client or client_from(endpoint_config)
        prefix = str(key_prefix or kwargs.get("key_prefix") or "")
        self.key_prefix = f"{prefix}:lock:" if prefix.isalnum() else "lock:"
        self.lifetime = float(
            lifetime or kwargs.get("lifetime") or os.environ.get("TICKET_LOCK_LIFETIME") or DEFAULT_LIFETIME
        )
        self._enter = self.client.register_script(ENTER)
        self._leave = self.client.register_script(LEAVE)
        self._abandon = self.client.register_script(ABANDON)
        self._cleanups: set[asyncio.Task[None]] = set()
        self._released: dict[str, asyncio.Event] = {}
        self.channel = f"{self.key_prefix}released"
        self._listener: asyncio.Task[None] | None = None
        super().__init__()

    def key(self, conversation_id: str) -> str:
        return self.key_prefix + conversation_id

    async def enter(self, conversation_id: str, token: str, ticket: int = 0) -> tuple[int, int]:
        """(ticket, tickets ahead of it): `token`'s ticket when `ticket` is 0, else ours renewed."""
        args: list[str | int] = [int(self.lifetime * 1000), ticket, token]
        issued, ahead = await guarded(self._enter(keys=[self.key(conversation_id)], args=args))
        return int(issued), int(ahead)

    async def acquire(self, conversation_id: str, token: str) -> int:
        """Wait for our turn; returns the ticket, which holds the lock. On a Redis error the ticket
        is withdrawn in the background (a call that timed out may still have issued it)."""
        try:
            return await self._acquire(conversation_id, token)
        except BaseException:
            self._withdraw_later(conversation_id, token)
            raise

    async def _acquire(self, conversation_id: str, token: str) -> int:
        wakeup = self._released.setdefault(conversation_id, asyncio.Event())
        ticket, ahead = await self.enter(conversation_id, token)
        delay = FIRST_POLL
        while ahead:
            if ahead < 0:
                raise LockLost(f"lock ticket {ticket} expired while waiting")
            self._listen()
            try:
                await asyncio.wait_for(wakeup.wait(), delay)
            except asyncio.TimeoutError:
                delay = min(delay * 2, LAST_POLL)
            wakeup = self._released.setdefault(conversation_id, asyncio.Event())
            before, (_, ahead) = ahead, await self.enter(conversation_id, token, ticket)
            if ahead < before:  # the queue moved: the next turn may be ours soon
                delay = FIRST_POLL
        return ticket

    def _withdraw_later(self, conversation_id: str, token: str) -> None:
        task = asyncio.get_running_loop().create_task(self._withdraw(conversation_id, token))
        self._cleanups.add(task)
        task.add_done_callback(self._cleanups.discard)

    async def _withdraw(self, conversation_id: str, token: str) -> None:
        """Withdraw `token`'s ticket as soon as Redis answers (within its lifetime: after that it
        has expired anyway), so the conversation's next message does not wait for the expiry."""
        deadline = asyncio.get_running_loop().time() + self.lifetime
        args = [token, self.channel, conversation_id]
        while asyncio.get_running_loop().time() < deadline:
            try:
                await guarded(self._abandon(keys=[self.key(conversation_id)], args=args))
                return
            except StoreUnavailable:
                await asyncio.sleep(WITHDRAW_RETRY)

    def _wake(self, conversation_id: str) -> None:
        wakeup = self._released.pop(conversation_id, None)
        if wakeup is not None:
            wakeup.set()

    def _listen(self) -> None:
        """Start the subscription that wakes waiters released by other replicas (once a process)."""
        if self._listener is None or self._listener.done():
            self._listener = asyncio.get_running_loop().create_task(self._listen_forever())

    async def _listen_forever(self) -> None:
        while True:
            try:
                async with self.client.pubsub(ignore_subscribe_messages=True) as pubsub:
                    await pubsub.subscribe(self.channel)
                    while True:
                        message = await pubsub.get_message(timeout=1.0)
                        if message and message.get("type") == "message":
                            data = message["data"]
                            self._wake(data.decode() if isinstance(data, bytes) else str(data))
            except (RedisError, OSError, asyncio.TimeoutError) as exc:
                log.info("lock store: wake-ups paused (%s); waiters poll meanwhile", type(exc).__name__)
                await asyncio.sleep(1.0)

    async def release(self, conversation_id: str, ticket: int, token: str) -> None:
        """Give the lock up and wake this process's waiters. Never raises: if Redis is gone the
        ticket is withdrawn once it is back (or expires, no longer renewed)."""
        try:
            args: list[str | int] = [ticket, self.channel, conversation_id]
            await guarded(self._leave(keys=[self.key(conversation_id)], args=args))
        except StoreUnavailable as exc:
            log.warning("lock store: a lock was not released (%s); withdrawing it once Redis is back", exc)
            self._withdraw_later(conversation_id, token)
        self._wake(conversation_id)

    async def _renew(self, conversation_id: str, ticket: int, token: str) -> None:
        """Keep our ticket alive while the turn runs (every quarter of its lifetime)."""
        while True:
            await asyncio.sleep(self.lifetime / 4)
            try:
                _, ahead = await self.enter(conversation_id, token, ticket)
            except StoreUnavailable as exc:
                log.warning("lock store: a lock was not renewed (%s); retrying", exc)
                continue
            if ahead != 0:
                log.error("lock store: a turn's lock expired while it ran (renewal came too late)")
                return

    @asynccontextmanager
    async def lock(
        self,
        conversation_id: str,
        lock_lifetime: float = 0,
        wait_time_in_seconds: float = 0,
    ) -> AsyncGenerator[TicketLock, None]:
        """Hold the conversation's lock for the body (Rasa's arguments are ignored: the lock lives
        as long as the turn, and waiters are woken without a fixed wait)."""
        token = uuid.uuid4().hex
        ticket = await self.acquire(conversation_id, token)
        renewal = asyncio.get_running_loop().create_task(self._renew(conversation_id, ticket, token))
        try:
            yield TicketLock(conversation_id)
        finally:
            renewal.cancel()
            await self.release(conversation_id, ticket, token)

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
        await self.client.close(close_connection_pool=True)


def client_from(endpoint_config: EndpointConfig | None) -> aioredis.Redis:
    """The asynchronous client endpoints.yml describes (url, port, db, password, socket_timeout)."""
    kwargs: dict[str, Any] = dict(endpoint_config.kwargs) if endpoint_config else {}
    timeout = float(kwargs.get("socket_timeout") or DEFAULT_SOCKET_TIMEOUT)
    return aioredis.Redis(
        host=(endpoint_config.url if endpoint_config else None) or "localhost",
        port=int(kwargs.get("port") or 6379),
        db=int(kwargs.get("db") or 0),
        password=kwargs.get("password") or None,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        **reconnecting(),
    )
