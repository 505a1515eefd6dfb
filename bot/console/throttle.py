"""Sign-in throttling that holds under concurrency (ASVS 2.2.1).

Each attempt first takes a slot, atomically (one Lua script), on two counters: one per account name
and one per client address (`bot.console.proxy.client_address`). When either is full the attempt
is refused without checking the password, and the caller is told how long until the window ends.
So twenty wrong passwords sent at once are not twenty bcrypt checks: only as many as the limit
allows are evaluated. A failed attempt keeps its slots for the window (CONSOLE_LOGIN_LOCKOUT_MINUTES,
started by the first failure); a successful one clears the account's counter and gives back its slot
on the address's.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web
from redis.asyncio import Redis

from bot.console.keys import CONFIG, REDIS
from bot.console.proxy import client_address

PREFIX = "handoff:login_failures:"

# KEYS: account counter, address counter. ARGV: account limit, address limit, window (ms).
# Returns {1, 0, account count, address count} when the attempt may go ahead (its slots taken),
# else {0, milliseconds until the later lock ends, index of that counter (1 or 2), 0}.
_RESERVE = """
local wait, full = 0, 0
for i, key in ipairs(KEYS) do
  if tonumber(redis.call('GET', key) or '0') >= tonumber(ARGV[i]) then
    local ttl = redis.call('PTTL', key)
    if ttl < 0 then
      redis.call('PEXPIRE', key, ARGV[3])
      ttl = tonumber(ARGV[3])
    end
    if ttl > wait then wait, full = ttl, i end
  end
end
if wait > 0 then return {0, wait, full, 0} end
local counts = {}
for i, key in ipairs(KEYS) do
  counts[i] = redis.call('INCR', key)
  if counts[i] == 1 then redis.call('PEXPIRE', key, ARGV[3]) end
end
return {1, 0, counts[1], counts[2]}
"""
# KEYS: account counter, address counter: forget the account's failures, give back the address slot.
_SUCCEEDED = """
redis.call('DEL', KEYS[1])
if tonumber(redis.call('GET', KEYS[2]) or '0') > 0 then redis.call('DECR', KEYS[2]) end
return 1
"""


@dataclass(frozen=True)
class Attempt:
    """A sign-in attempt's slot: `allowed`, else `wait_seconds` until the lock ends."""

    allowed: bool
    wait_seconds: int = 0
    locks_account: bool = False  # a failure now locks the account (this attempt filled its counter)
    locks_address: bool = False
    locked: str = ""  # refused: "account" or "address", whichever lock ends later
    locked_key: str = ""


def _redis(request: web.Request) -> Redis:
    return request.app[REDIS]


def _keys(request: web.Request, name: str) -> list[str]:
    return [f"{PREFIX}account:{name.strip().lower()[:64]}", f"{PREFIX}address:{client_address(request)}"]


def _seconds(milliseconds: int) -> int:
    return max(1, -(-milliseconds // 1000))


async def reserve(request: web.Request, name: str) -> Attempt:
    """Take a slot for one sign-in attempt, or learn how long this account or address is locked."""
    config = request.app[CONFIG]
    limits = [config.login_max_failures, config.login_max_failures_per_address]
    window_ms = config.login_lockout_seconds * 1000
    keys = _keys(request, name)
    result = await _redis(request).eval(_RESERVE, 2, *keys, *limits, window_ms)
    allowed, wait_ms, first, second = (int(value) for value in result)
    if not allowed:
        kind = ("account", "address")[first - 1]
        return Attempt(False, _seconds(wait_ms), locked=kind, locked_key=keys[first - 1])
    return Attempt(True, 0, first == limits[0], second == limits[1])


async def first_refusal(request: web.Request, attempt: Attempt) -> bool:
    """True for the first refused attempt of a lock: only that one is audited, so guesses sent at
    a locked account cannot flood the capped audit log and push older entries out."""
    marker = PREFIX + "refused:" + attempt.locked_key.removeprefix(PREFIX)
    return bool(await _redis(request).set(marker, "1", nx=True, ex=attempt.wait_seconds))


async def wait_seconds(request: web.Request, name: str) -> int:
    """Seconds until sign-in may be tried again for this account or address; 0 when it may now."""
    config = request.app[CONFIG]
    limits = [config.login_max_failures, config.login_max_failures_per_address]
    redis, wait_ms = _redis(request), 0
    for key, limit in zip(_keys(request, name), limits, strict=True):
        if int(await redis.get(key) or 0) >= limit:
            wait_ms = max(wait_ms, int(await redis.pttl(key)))
    return _seconds(wait_ms) if wait_ms > 0 else 0


async def succeeded(request: web.Request, name: str) -> None:
    await _redis(request).eval(_SUCCEEDED, 2, *_keys(request, name))
