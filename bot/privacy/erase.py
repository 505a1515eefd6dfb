"""Erasure: remove every trace of one citizen from Redis, and nothing of anyone else's.

`erase(redis, subject)` finds the traces (`bot.privacy.holdings.find`) and removes each the way its
store needs: a whole key is deleted; a stream entry is deleted (XDEL) and acknowledged in every
consumer group, so a restarted reader never meets a hole in its pending list; a list element, set or
sorted-set member, or hash field is removed on its own. Running it again finds nothing: it is
idempotent. It returns the counts per kind, which the command and the chat action report.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from redis.asyncio import Redis
from redis.exceptions import ResponseError

from bot.inbox.store import InboxStore
from bot.privacy.holdings import ENDPOINTS, INBOX_ITEM, Subject, Trace, find


async def _groups(redis: Redis, stream: str) -> list[str]:
    try:
        return [str(group["name"]) for group in await redis.xinfo_groups(stream)]
    except ResponseError:  # the stream is gone
        return []


async def remove(redis: Redis, traces: list[Trace]) -> Counter[str]:
    """Remove the traces; counts per kind of what was there to remove."""
    removed: Counter[str] = Counter()
    entries: dict[str, list[str]] = {}
    for trace in traces:
        if trace.op == "key":
            gone = await redis.delete(trace.key)
        elif trace.op == "stream":
            entries.setdefault(trace.key, []).append(trace.item)
            continue
        elif trace.op == "list":
            gone = await redis.lrem(trace.key, 0, trace.item)
        elif trace.op == "zset":
            gone = await redis.zrem(trace.key, trace.item)
        elif trace.op == "set":
            gone = await redis.srem(trace.key, trace.item)
        else:
            gone = await redis.hdel(trace.key, trace.item)
        removed[trace.kind] += 1 if gone else 0
    kinds = {(t.key, t.item): t.kind for t in traces if t.op == "stream"}
    for stream, ids in entries.items():
        for group in await _groups(redis, stream):
            await redis.xack(stream, group, *ids)
        for entry_id in ids:
            removed[kinds[(stream, entry_id)]] += int(await redis.xdel(stream, entry_id))
    return +removed


async def erase(
    redis: Redis, subject: Subject, *, full: bool = True, endpoints: Path = ENDPOINTS
) -> Counter[str]:
    """Remove everything held about `subject`; counts per kind (empty when nothing was held).

    The inbox's messages leave their groups' counts first, so a group never counts a message that
    is gone (the groups hold message ids, no text)."""
    traces = await find(redis, subject, full=full, endpoints=endpoints)
    inbox = [t.key.removeprefix(INBOX_ITEM) for t in traces if t.op == "key" and t.key.startswith(INBOX_ITEM)]
    if inbox:
        await InboxStore(redis, retention_seconds=0).forget(inbox)
    return await remove(redis, traces)


def summary(removed: Counter[str]) -> str:
    """ "removed: tracker 1, events 14, ..." or "nothing held"."""
    if not removed:
        return "nothing held about this conversation"
    return "removed: " + ", ".join(f"{kind} {count}" for kind, count in sorted(removed.items()))
