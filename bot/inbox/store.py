"""The inbox in Redis: redacted messages with their reasons, kept for the retention period.

Keys (all under ``inbox:``): ``inbox:items`` a sorted set of message ids by time (what
the pages list and the purge walks), ``inbox:item:<id>`` a hash per message (expires on its
own after the retention period too), ``inbox:done:<id>`` marks a message an editor handled,
so an event read again after a crash does not bring it back, and ``inbox:conv:<sender>``
the little the recorder remembers per conversation between events.

Each message joins a cluster once, when it is first recorded (`bot.inbox.clusters`, its id in the
item's ``cluster`` field), among the clusters of its language; the pages read clusters a page at a
time (all of them, or one language's), never every message.
An item's own expiry is a backstop a day after the retention period: the purge (every ten
minutes) removes it first, so the cluster's counters follow.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis

from bot.content.agency import SOURCE_LANGUAGE
from bot.inbox.clusters import CLUSTERS, ClusterIndex, Counts, cluster_key, language_key
from bot.inbox.selection import REASONS, Message

ITEMS = "inbox:items"
CONVERSATION_TTL = 2 * 86400
EXPIRY_GRACE = 86400  # the purge drops an item first, and takes it out of its cluster
MIGRATED = "inbox:clusters:migrated"  # set once the messages recorded before clusters joined theirs
# Set once the clusters made before languages were told apart are filed as English (theirs).
LANGUAGES_MIGRATED = "inbox:clusters:languages-migrated"
BATCH = 500


def _item_key(item_id: str) -> str:
    return f"inbox:item:{item_id}"


def _done_key(item_id: str) -> str:
    return f"inbox:done:{item_id}"


def _conversation_key(sender: str) -> str:
    return f"inbox:conv:{sender}"


@dataclass(frozen=True)
class Item:
    """An inbox message and every reason it was recorded for."""

    message: Message
    reasons: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {**self.message.as_dict(), "reasons": list(self.reasons)}

    @classmethod
    def from_row(cls, row: dict[str, str]) -> Item:
        fields = {k: v for k, v in row.items() if k not in ("reasons", "cluster")}
        return cls(Message.from_dict(fields), tuple(r for r in row.get("reasons", "").split(",") if r))

    @property
    def counted(self) -> tuple[Message, tuple[str, ...]]:
        return self.message, self.reasons


@dataclass(frozen=True)
class Cluster:
    """Similar messages as the pages show them: the most common wording, the counts, a few examples."""

    id: str
    text: str
    counts: Counts
    items: tuple[Item, ...]  # the most common wording first, then the newest (at most EXAMPLES)

    @property
    def count(self) -> int:
        return self.counts.count

    @property
    def latest(self) -> float:
        return self.counts.latest

    @property
    def reasons(self) -> list[tuple[str, int]]:
        return self.counts.reasons

    @property
    def intents(self) -> list[tuple[str, int]]:
        return self.counts.intents

    @property
    def declines(self) -> list[tuple[str, int]]:
        return self.counts.declines

    @property
    def answers(self) -> list[tuple[str, int]]:
        """The entries whose answers did not help, most frequent first."""
        return self.counts.answers

    @property
    def language(self) -> str:
        """The language of its messages (a cluster never mixes languages)."""
        return self.counts.language


EXAMPLES = 5


async def load_clusters(redis: Redis, cids: list[str], examples: int = EXAMPLES) -> list[Cluster]:
    """The clusters ``cids`` in that order (the ones gone since are left out): three round trips."""
    async with redis.pipeline(transaction=False) as pipe:
        for cid in cids:
            pipe.hgetall(cluster_key(cid))
            pipe.hgetall(cluster_key(cid, "tally"))
            pipe.zrevrange(cluster_key(cid, "wordings"), 0, 0)
            pipe.zrevrange(cluster_key(cid, "members"), 0, examples - 1)
        rows = await pipe.execute()
    found = [(cid, *rows[4 * i : 4 * i + 4]) for i, cid in enumerate(cids)]
    found = [row for row in found if row[1] and int(row[1].get("count") or 0) > 0]
    async with redis.pipeline(transaction=False) as pipe:
        for cid, _, _, top, _ in found:
            pipe.hget(cluster_key(cid, "sample"), top[0] if top else "")
        samples = await pipe.execute()
    wanted = [
        [sample, *[m for m in newest if m != sample]] if sample else list(newest)
        for sample, (*_, newest) in zip(samples, found, strict=True)
    ]
    async with redis.pipeline(transaction=False) as pipe:
        for ids in wanted:
            for item_id in ids[:examples]:
                pipe.hgetall(_item_key(item_id))
        items = iter(await pipe.execute())
    clusters = []
    for (cid, meta, counters, _, _), ids in zip(found, wanted, strict=True):
        shown = tuple(Item.from_row(row) for row in [next(items) for _ in ids[:examples]] if row)
        if shown:
            clusters.append(Cluster(cid, shown[0].message.text, Counts.parse(meta, counters), shown))
    return clusters


class InboxStore:
    """Reads and writes the inbox; the client must use ``decode_responses=True``."""

    def __init__(self, redis: Redis, retention_seconds: int) -> None:
        self.redis = redis
        self.retention_seconds = retention_seconds
        self.clusters = ClusterIndex(redis, retention_seconds)

    async def add(self, message: Message, reasons: list[str], now: float | None = None) -> bool:
        """Record ``message`` (or add reasons to it) in its cluster. False when too old or already handled."""
        now = time.time() if now is None else now
        expires = message.time + self.retention_seconds
        if expires <= now or not reasons:
            return False
        key = _item_key(message.id)
        async with self.clusters.lock:
            async with self.redis.pipeline(transaction=False) as pipe:
                pipe.exists(_done_key(message.id))
                pipe.hgetall(key)
                done, row = await pipe.execute()
            if done:
                return False
            known = row.get("reasons", "").split(",")
            merged = [reason for reason in REASONS if reason in {*known, *reasons}]
            cid = row.get("cluster") or await self.clusters.assign(message)
            fields: dict[str | bytes, str] = {k: str(v) for k, v in message.as_dict().items()}
            fields.update(reasons=",".join(merged), cluster=cid)

            def write(pipe: Any) -> None:
                pipe.hset(key, mapping=fields)
                pipe.expireat(key, int(expires) + EXPIRY_GRACE)
                pipe.zadd(ITEMS, {message.id: message.time})

            old = Item.from_row(row).counted if row.get("cluster") else None
            await self.clusters.update(cid, old, (message, tuple(merged)), prelude=write)
        return True

    async def retext(self, item_id: str, text: str) -> bool:
        """Replace a recorded message's text (redacted again once a form told us the address)."""
        key = _item_key(item_id)
        async with self.clusters.lock:
            row = await self.redis.hgetall(key)
            if not row:
                return False
            await self.redis.hset(key, "text", text)
            if row.get("cluster"):
                item = Item.from_row(row)
                new = Item.from_row({**row, "text": text})
                await self.clusters.update(row["cluster"], item.counted, new.counted)
        return True

    async def page(self, offset: int, limit: int, language: str = "") -> tuple[list[Cluster], int]:
        """One page of clusters (of every language, or of `language`), most frequent first, and how
        many there are."""
        ranked = language_key(language) if language else CLUSTERS
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.zrevrange(ranked, offset, offset + limit - 1)
            pipe.zcard(ranked)
            cids, total = await pipe.execute()
        clusters = await load_clusters(self.redis, list(cids))
        gone = set(cids) - {c.id for c in clusters}
        if gone:  # expired, or every example erased (`privacy erase`): off the pages
            async with self.redis.pipeline(transaction=False) as pipe:
                for key in dict.fromkeys((CLUSTERS, ranked)):
                    pipe.zrem(key, *gone)
                await pipe.execute()
        return clusters, int(total) - len(gone)

    async def language_counts(self, languages: list[str] | tuple[str, ...]) -> dict[str, int]:
        """How many clusters each of `languages` has (for the pages' language filter)."""
        async with self.redis.pipeline(transaction=False) as pipe:
            for code in languages:
                pipe.zcard(language_key(code))
            counts = await pipe.execute()
        return {code: int(count) for code, count in zip(languages, counts, strict=True)}

    async def cluster(self, group_id: str) -> Cluster | None:
        """The cluster ``group_id`` names, or the one message ``group_id`` is in now."""
        cid = group_id
        if await self.redis.zscore(CLUSTERS, cid) is None:
            cid = await self.redis.hget(_item_key(group_id), "cluster") or ""
        found = await load_clusters(self.redis, [cid]) if cid else []
        return found[0] if found else None

    async def member_ids(self, cid: str) -> list[str]:
        return list(await self.redis.zrevrange(cluster_key(cid, "members"), 0, -1))

    async def unclustered(self) -> AsyncIterator[list[Item]]:
        """Messages recorded before clusters existed, in batches (the migration, `migrate`)."""
        start = 0
        while True:
            ids = await self.redis.zrange(ITEMS, start, start + BATCH - 1)
            if not ids:
                return
            start += len(ids)
            async with self.redis.pipeline(transaction=False) as pipe:
                for item_id in ids:
                    pipe.hgetall(_item_key(item_id))
                rows = await pipe.execute()
            yield [Item.from_row(row) for row in rows if row and not row.get("cluster")]

    async def migrate(self) -> int:
        """Put every message recorded before clusters into its cluster, once; returns how many."""
        if await self.redis.exists(MIGRATED):
            return 0
        done = 0
        async for batch in self.unclustered():
            for item in batch:
                done += await self.add(item.message, list(item.reasons))
        await self.redis.set(MIGRATED, "1")
        return done

    async def migrate_languages(self) -> int:
        """File the clusters made before languages were told apart as English (every message then
        was), once; returns how many."""
        if await self.redis.exists(LANGUAGES_MIGRATED):
            return 0
        done, start = 0, 0
        while ranked := await self.redis.zrange(CLUSTERS, start, start + BATCH - 1, withscores=True):
            start += len(ranked)
            async with self.redis.pipeline(transaction=False) as pipe:
                for cid, _ in ranked:
                    pipe.hmget(cluster_key(cid), ["language", "count"])
                rows = await pipe.execute()
            unfiled = {  # a cluster gone since (no count) is left to the pages to drop
                cid: score
                for (cid, score), (language, count) in zip(ranked, rows, strict=True)
                if count and not language
            }
            if unfiled:
                async with self.redis.pipeline(transaction=False) as pipe:
                    for cid in unfiled:
                        pipe.hsetnx(cluster_key(cid), "language", SOURCE_LANGUAGE)
                    pipe.zadd(language_key(SOURCE_LANGUAGE), unfiled)
                    await pipe.execute()
                done += len(unfiled)
        await self.redis.set(LANGUAGES_MIGRATED, "1")
        return done

    async def items(self, now: float | None = None) -> list[Item]:
        """Every message still within the retention period, newest first."""
        now = time.time() if now is None else now
        ids = await self.redis.zrevrangebyscore(ITEMS, "+inf", now - self.retention_seconds)
        async with self.redis.pipeline(transaction=False) as pipe:
            for item_id in ids:
                pipe.hgetall(_item_key(item_id))
            rows = await pipe.execute()
        return [Item.from_row(row) for row in rows if row]

    async def _leave(self, ids: list[str]) -> None:
        """Take messages out of their clusters' counts before they are deleted."""
        async with self.redis.pipeline(transaction=False) as pipe:
            for item_id in ids:
                pipe.hgetall(_item_key(item_id))
            rows = await pipe.execute()
        for row in rows:
            if row and row.get("cluster"):
                await self.clusters.update(row["cluster"], Item.from_row(row).counted, None)

    async def forget(self, ids: list[str]) -> None:
        """Messages about to be erased (`bot.privacy.erase`) leave their clusters' counts first."""
        async with self.clusters.lock:
            await self._leave(ids)

    async def resolve(self, ids: list[str]) -> int:
        """An editor dealt with these messages: they leave the inbox for good."""
        if not ids:
            return 0
        async with self.clusters.lock:
            await self._leave(ids)
            async with self.redis.pipeline(transaction=True) as pipe:
                for item_id in ids:
                    pipe.zrem(ITEMS, item_id)
                    pipe.delete(_item_key(item_id))
                    pipe.set(_done_key(item_id), "1", ex=self.retention_seconds)
                results = await pipe.execute()
        return sum(int(r) for r in results[0::3])

    async def resolve_cluster(self, cid: str) -> list[str]:
        """An editor dealt with a whole group: its messages leave the inbox for good, in one go."""
        async with self.clusters.lock:
            ids = await self.member_ids(cid)
            async with self.redis.pipeline(transaction=True) as pipe:
                for item_id in ids:
                    pipe.zrem(ITEMS, item_id)
                    pipe.delete(_item_key(item_id))
                    pipe.set(_done_key(item_id), "1", ex=self.retention_seconds)
                await pipe.execute()
            await self.clusters.drop(cid)
        return ids

    async def purge(self, now: float | None = None) -> int:
        """Drop messages older than the retention period, in batches; returns how many."""
        now = time.time() if now is None else now
        cutoff = now - self.retention_seconds
        dropped = 0
        while old := await self.redis.zrangebyscore(ITEMS, "-inf", f"({cutoff}", start=0, num=BATCH):
            async with self.clusters.lock:
                await self._leave(old)
                async with self.redis.pipeline(transaction=True) as pipe:
                    pipe.zrem(ITEMS, *old)
                    pipe.delete(*[_item_key(item_id) for item_id in old])
                    await pipe.execute()
            dropped += len(old)
        return dropped

    async def conversation(self, sender: str) -> dict[str, Any]:
        raw = await self.redis.get(_conversation_key(sender))
        return json.loads(raw) if raw else {}

    async def save_conversation(self, sender: str, state: dict[str, Any]) -> None:
        await self.redis.set(_conversation_key(sender), json.dumps(state), ex=CONVERSATION_TTL)
