"""A small Redis cache for live lookups: fresh within `ttl`, a labelled stale copy when the agency is down.

`LookupCache.get_or_fetch(key, fetch, ttl, stale_ttl, kind=...)` returns `(value, stale)`:

- a value fetched less than `ttl` seconds ago is served from Redis without calling the agency;
- otherwise `fetch()` is called; its answer is stored for `ttl + stale_ttl` seconds;
- when `fetch()` raises `AgencyUnavailable` (not `NotFound`: "no such request" is an answer, not
  an outage), the last answer still kept is returned with `stale=True`; the result's `fetched_at`
  says when the agency gave it ("as of 10:42"); with nothing kept, the error propagates.

Values are stored as JSON: dataclasses become dicts, dates ISO strings, and `kind` (e.g.
`list[Facility]`) turns them back into the same frozen dataclasses, so cached and fresh answers
are the same objects to the caller. A Redis that is down or slow only costs the caching: lookups
then go straight to the agency.

Keys never carry personal data in clear: `cache_key("collection", address)` hashes the parts.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import hashlib
import json
import logging
import types
import typing
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from typing import Any, Generic, TypeVar

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from bot.clients.errors import AgencyUnavailable, NotFound

log = logging.getLogger(__name__)

PREFIX = "civic:lookup:v1"
T = TypeVar("T")


def cache_key(name: str, *parts: str) -> str:
    """`civic:lookup:v1:<name>[:<hash of the parts>]`; parts are normalised (case, spaces) before hashing."""
    if not parts:
        return f"{PREFIX}:{name}"
    normalised = "\x1f".join(" ".join(str(p).lower().split()) for p in parts)
    return f"{PREFIX}:{name}:{hashlib.sha256(normalised.encode()).hexdigest()[:32]}"


def to_jsonable(value: Any) -> Any:
    """Dataclasses, dates and mappings as plain JSON values (mapping keys become strings)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {_key_text(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    return value


def _key_text(key: Any) -> str:
    return key.isoformat() if isinstance(key, (date, datetime)) else str(key)


def from_jsonable(kind: Any, data: Any) -> Any:
    """The inverse of `to_jsonable` for `kind` (dataclasses, Optional, tuple[X, ...], Mapping, dates)."""
    return _decoder(kind)(data)


Decoder = Callable[[Any], Any]


def _keep_none(decode: Decoder) -> Decoder:
    return lambda data: None if data is None else decode(data)


@functools.cache
def _decoder(kind: Any) -> Decoder:
    """One decoding function per type, built once: a cached answer is decoded at every lookup."""
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if kind is Any:
        return lambda data: data
    if origin in (typing.Union, types.UnionType):
        return _decoder(next(a for a in args if a is not type(None)))
    if dataclasses.is_dataclass(kind) and isinstance(kind, type):
        fields = {name: _decoder(hint) for name, hint in _field_types(kind).items()}
        return _keep_none(lambda data: kind(**{k: fields[k](v) for k, v in data.items() if k in fields}))
    if kind in (datetime, date, time):
        return _keep_none(kind.fromisoformat)
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        item = _decoder(args[0])
        return _keep_none(lambda data: tuple(item(v) for v in data))
    if origin is tuple:
        items = [_decoder(a) for a in args]
        return _keep_none(lambda data: tuple(f(v) for f, v in zip(items, data, strict=True)))
    if origin in (list, Sequence):
        item = _decoder(args[0])
        return _keep_none(lambda data: [item(v) for v in data])
    if origin in (dict, Mapping):
        key, value = _decoder(args[0]), _decoder(args[1])
        as_key = int if args[0] is int else (lambda k: k)
        return _keep_none(lambda data: {key(as_key(k)): value(v) for k, v in data.items()})
    if kind is float:
        return _keep_none(float)
    return lambda data: data


@functools.cache
def _field_types(kind: type) -> dict[str, Any]:
    """A dataclass's field types, resolved once (typing.get_type_hints is slow)."""
    hints = typing.get_type_hints(kind)
    return {f.name: hints[f.name] for f in dataclasses.fields(kind)}


@dataclass(frozen=True)
class Fetched(Generic[T]):
    """What `get_or_fetch` returns; unpacks as `(value, stale)`."""

    value: T
    stale: bool
    fetched_at: datetime  # when the agency gave this answer (aware, UTC)

    def __iter__(self) -> typing.Iterator[Any]:
        yield self.value
        yield self.stale


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class LookupCache:
    """The lookup cache on one `redis.asyncio.Redis` client (one per process; the caller closes it)."""

    def __init__(self, client: aioredis.Redis, *, clock: Callable[[], datetime] = utc_now) -> None:
        self.client = client
        self.clock = clock

    async def get_or_fetch(
        self,
        key: str,
        fetch: Callable[[], Awaitable[T]],
        ttl: float,
        stale_ttl: float,
        *,
        kind: Any = Any,
    ) -> Fetched[T]:
        now = self.clock()
        kept = await self._read(key, kind)
        age = (now - kept.fetched_at).total_seconds() if kept is not None else 0.0
        if kept is not None and age < ttl:
            return kept
        if age >= ttl + stale_ttl:  # Redis expires it too; this keeps the rule exact under any clock
            kept = None
        try:
            value = await fetch()
        except NotFound:
            raise
        except AgencyUnavailable as exc:
            if kept is None:
                raise
            log.warning("%s: serving the copy from %s (%s)", exc.api, kept.fetched_at.isoformat(), exc.reason)
            return Fetched(kept.value, True, kept.fetched_at)
        await self._write(key, value, now, ttl + stale_ttl)
        return Fetched(value, False, now)

    async def _read(self, key: str, kind: Any) -> Fetched[Any] | None:
        try:
            raw = await self.client.get(key)
        except (RedisError, OSError, asyncio.TimeoutError) as exc:
            log.warning("lookup cache unreadable, asking the agency: %s", type(exc).__name__)
            return None
        if raw is None:
            return None
        try:
            envelope = json.loads(raw)
            fetched_at = datetime.fromtimestamp(float(envelope["at"]), timezone.utc)
            return Fetched(from_jsonable(kind, envelope["value"]), False, fetched_at)
        except (ValueError, KeyError, TypeError):
            log.warning("lookup cache entry unreadable (written by another version?); ignoring it")
            return None

    async def _write(self, key: str, value: Any, now: datetime, keep_seconds: float) -> None:
        body = json.dumps({"at": now.timestamp(), "value": to_jsonable(value)}, separators=(",", ":"))
        try:
            await self.client.set(key, body, ex=max(1, round(keep_seconds)))
        except (RedisError, OSError, asyncio.TimeoutError) as exc:
            log.warning("lookup cache not written: %s", type(exc).__name__)
