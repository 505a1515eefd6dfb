"""Rate limits for the web chat and REST channels: Redis token buckets, per conversation and per address.

Each bucket holds up to `burst` messages and refills at `per_minute`; a message takes one token
from every bucket that applies (its conversation's and its client address's), and only when all
of them have one, so a refused message costs nothing. The check and the take are one Lua script:
atomic under any concurrency and across Rasa replicas, timed by Redis's own clock. A refused
message learns how long until it would pass (`Retry-After` on REST).

Keys: `civic:rate:conversation:<conversation id>` (ids carry no personal data, `bot/identity.py`)
and `civic:rate:address:<keyed hash of channel and address>` (an address is personal data): a Redis
hash of the level and the time it was measured, expiring once the bucket would be full again (40 s
with the defaults). Redis being down fails open (logged): better an answer than a citizen refused
because a limit cannot be read.

The client address is the TCP peer, or the `X-Forwarded-For` hop a trusted proxy (TRUSTED_PROXIES)
saw: the right-most address that is not one of our proxies, since a client can write anything to the
left of it.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from bot.identity import IdentityKey
from bot.settings import Bucket

log = logging.getLogger(__name__)

PREFIX = "civic:rate"
ERRORS = (RedisError, OSError, asyncio.TimeoutError)
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# KEYS: the buckets; ARGV: per bucket, tokens per second and burst. Returns {1, "0"} when a token
# was taken from every bucket, else {0, "<seconds until each has one>"} and nothing is taken.
TAKE = """
if redis.replicate_commands then redis.replicate_commands() end
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local levels = {}
local wait = 0
for i = 1, #KEYS do
  local rate = tonumber(ARGV[2 * i - 1])
  local burst = tonumber(ARGV[2 * i])
  local state = redis.call('HMGET', KEYS[i], 'tokens', 'at')
  local level = tonumber(state[1])
  local at = tonumber(state[2])
  if level == nil or at == nil then
    level = burst
  else
    level = math.min(burst, level + math.max(0, now - at) * rate)
  end
  levels[i] = level
  if level < 1 and (1 - level) / rate > wait then
    wait = (1 - level) / rate
  end
end
if wait > 0 then
  return {0, tostring(wait)}
end
for i = 1, #KEYS do
  local rate = tonumber(ARGV[2 * i - 1])
  local burst = tonumber(ARGV[2 * i])
  redis.call('HSET', KEYS[i], 'tokens', tostring(levels[i] - 1), 'at', tostring(now))
  redis.call('EXPIRE', KEYS[i], math.ceil(burst / rate) + 1)
end
return {1, "0"}
"""


@dataclass(frozen=True)
class Limit:
    """One bucket a message must take a token from: its key and its size."""

    key: str
    bucket: Bucket


class RateLimiter:
    """Takes a token from every bucket of a message, atomically, in Redis."""

    def __init__(self, client: aioredis.Redis, identity: IdentityKey) -> None:
        self.client = client
        self.identity = identity
        self._take = client.register_script(TAKE)

    def conversation(self, conversation_id: str, bucket: Bucket) -> Limit:
        return Limit(f"{PREFIX}:conversation:{conversation_id}", bucket)

    def address(self, channel: str, address: str, bucket: Bucket) -> Limit:
        """The bucket of a client address on `channel`; the key holds a keyed hash, not the address."""
        hashed = self.identity.conversation_id(f"address-{channel}", address)
        return Limit(f"{PREFIX}:address:{hashed}", bucket)

    async def take(self, limits: Iterable[Limit]) -> float:
        """0 when the message may pass (a token taken from each bucket), else the seconds to wait."""
        active = [limit for limit in limits if not limit.bucket.unlimited]
        if not active:
            return 0.0
        args: list[float] = []
        for limit in active:
            args += [limit.bucket.per_minute / 60.0, float(limit.bucket.burst)]
        try:
            allowed, wait = await self._take(keys=[limit.key for limit in active], args=args)
        except ERRORS as exc:
            log.warning("Redis unavailable, a message passed without a rate limit check: %s", exc)
            return 0.0
        return 0.0 if int(allowed) == 1 else max(float(wait), 0.001)


def retry_after(wait: float) -> int:
    """Whole seconds for a `Retry-After` header or a message: at least 1."""
    return max(1, math.ceil(wait))


def trusted_networks(proxies: Iterable[str]) -> tuple[Network, ...]:
    """TRUSTED_PROXIES entries (addresses or CIDR ranges) as networks; a typo is left out with a warning."""
    networks: list[Network] = []
    for entry in proxies:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            log.warning("TRUSTED_PROXIES: %r is not an address or a range; ignored", entry)
    return tuple(networks)


def _trusted(address: str, networks: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_address(peer: str, forwarded_for: str | None, networks: Sequence[Network]) -> str:
    """The client's address: `peer`, or when `peer` is a trusted proxy, the last untrusted forwarded hop."""
    if not forwarded_for or not _trusted(peer, networks):
        return peer
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, networks):
            return hop
    return hops[0] if hops else peer
