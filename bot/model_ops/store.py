"""The model every Rasa replica should run, kept in Redis: published once, pulled by all.

Redis holds the bytes, so any number of model servers (`bot.serve.models`) serve the same model
and a replica on any machine gets it. Keys (`civic:model:*`):

- `current`: hash of the published model: `etag` (sha256 of the file), `name`, `size`,
  `mtime` (the file's modification time: which of two models is newer) and `published_at`;
- `blob:<etag>`: the file; the current and the previous model are kept (a rollback is a publish);
- `names`: hash etag -> file name, to say which model a replica reports;
- `replicas`: hash replica -> JSON `{"etag", "name", "seen_at"}`, written each time a replica asks
  for the model (every `wait_time_between_pulls`): what it runs is the ETag it presents.

The ETag is the file's content hash, so publishing the same file twice changes nothing.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from redis.asyncio import Redis

PREFIX = "civic:model"
CURRENT = f"{PREFIX}:current"
NAMES = f"{PREFIX}:names"
REPLICAS = f"{PREFIX}:replicas"
HISTORY = f"{PREFIX}:history"
KEEP = 2  # the current model and the one before it
ACTIVE_SECONDS = 35.0  # a replica that asked within this long is running (it asks every 10 s)


def blob_key(etag: str) -> str:
    return f"{PREFIX}:blob:{etag}"


def etag_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def bare_etag(header: str | None) -> str:
    """The hash inside an ETag or If-None-Match header (`W/"abc"` or `"abc"` -> `abc`)."""
    value = (header or "").strip()
    if value.startswith("W/"):
        value = value[2:]
    return value.strip('"')


@dataclass(frozen=True)
class ModelFile:
    """A model file read into memory (read it with `read_model`, off the event loop)."""

    name: str
    data: bytes
    mtime: float


def read_model(path: Path) -> ModelFile:
    return ModelFile(path.name, path.read_bytes(), path.stat().st_mtime)


@dataclass(frozen=True)
class Published:
    """One published model."""

    etag: str
    name: str
    size: int
    mtime: float
    published_at: float

    @classmethod
    def from_hash(cls, fields: dict[bytes, bytes]) -> Published | None:
        if not fields:
            return None
        text = {k.decode(): v.decode() for k, v in fields.items()}
        return cls(
            etag=text["etag"],
            name=text["name"],
            size=int(text["size"]),
            mtime=float(text["mtime"]),
            published_at=float(text["published_at"]),
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Report:
    """What one replica last said it runs."""

    replica: str
    etag: str
    name: str
    seen_at: float

    def active(self, now: float | None = None) -> bool:
        return (now if now is not None else time.time()) - self.seen_at <= ACTIVE_SECONDS


class ModelStore:
    """Publish, read and track the current model; the client must not decode responses (bytes)."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    async def current(self) -> Published | None:
        return Published.from_hash(await self.redis.hgetall(CURRENT))

    async def blob(self, etag: str) -> bytes | None:
        data = await self.redis.get(blob_key(etag))
        return bytes(data) if data is not None else None

    async def publish(self, model: ModelFile) -> tuple[Published, bool]:
        """Make `model` the current model; returns it and whether anything changed.

        One transaction writes the file and the `current` hash, so a reader never sees a current
        model without its bytes. Models older than the previous one are deleted afterwards.
        """
        etag = etag_of(model.data)
        existing = await self.current()
        if existing is not None and existing.etag == etag:
            return existing, False
        published = Published(etag, model.name, len(model.data), model.mtime, time.time())
        fields: dict[str | bytes, str] = {k: str(v) for k, v in published.as_dict().items()}
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(blob_key(etag), model.data)
            pipe.hset(CURRENT, mapping=fields)
            pipe.hset(NAMES, etag, model.name)
            pipe.lrem(HISTORY, 0, etag)
            pipe.lpush(HISTORY, etag)
            await pipe.execute()
        await self._forget_old()
        return published, True

    async def publish_if_newer(self, model: ModelFile) -> tuple[Published, bool]:
        """Publish `model` unless the published model is the same or was built later.

        A model server starting from an image publishes the model baked into it only when that
        model is newer, so restarting an old image never rolls back a `bot model reload`.
        """
        existing = await self.current()
        if existing is not None and existing.mtime >= model.mtime:
            return existing, False
        return await self.publish(model)

    async def _forget_old(self) -> None:
        old = await self.redis.lrange(HISTORY, KEEP, -1)
        if not old:
            return
        async with self.redis.pipeline(transaction=True) as pipe:
            for etag in old:
                pipe.delete(blob_key(etag.decode()))
                pipe.hdel(NAMES, etag)
            pipe.ltrim(HISTORY, 0, KEEP - 1)
            await pipe.execute()

    async def report(self, replica: str, presented: str) -> None:
        """Remember that `replica` runs the model whose ETag it presented ("" if none we know)."""
        etag = bare_etag(presented)
        name = await self.redis.hget(NAMES, etag) if etag else None
        entry = {"etag": etag if name else "", "name": name.decode() if name else "", "seen_at": time.time()}
        await self.redis.hset(REPLICAS, replica, json.dumps(entry))

    async def reports(self) -> list[Report]:
        raw = await self.redis.hgetall(REPLICAS)
        reports = []
        for replica, value in sorted(raw.items()):
            entry = json.loads(value)
            reports.append(Report(replica.decode(), entry["etag"], entry["name"], float(entry["seen_at"])))
        return reports

    async def forget_stale(self, older_than: float = 24 * 3600) -> None:
        """Drop reports of replicas gone for a day (scaled down, renamed pods)."""
        now = time.time()
        stale = [r.replica for r in await self.reports() if now - r.seen_at > older_than]
        if stale:
            await self.redis.hdel(REPLICAS, *stale)


def status(current: Published | None, reports: list[Report], now: float | None = None) -> dict[str, Any]:
    """The rollout as JSON: the published model and what every active replica runs."""
    now = now if now is not None else time.time()
    active = [r for r in reports if r.active(now)]
    return {
        "model": current.as_dict() if current else None,
        "replicas": [
            {
                "replica": r.replica,
                "model": r.name or None,
                "current": current is not None and r.etag == current.etag,
                "seen_seconds_ago": round(now - r.seen_at, 1),
            }
            for r in active
        ],
        "rolled_out": current is not None and bool(active) and all(r.etag == current.etag for r in active),
    }
