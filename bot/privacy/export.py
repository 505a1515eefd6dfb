"""Access: one JSON document with everything Redis holds about one citizen.

It reads the same traces erasure removes (`bot.privacy.holdings.find`), so "what we hold" and "what
we delete" can never drift apart. Values are given as held: the citizen is entitled to see their own
messages and addresses; the file is written readable by its owner only, and nothing of it is logged.
JSON values (tracker, events, queue summaries) are decoded, so the document reads as data.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from redis.asyncio import Redis

from bot.privacy.holdings import ENDPOINTS, Subject, Trace, find


def _decoded(value: Any) -> Any:
    """JSON text as data (nested: a stream entry's `event` field is JSON too); anything else as is."""
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except ValueError:
            return value
    if isinstance(value, dict):
        return {k: _decoded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decoded(v) for v in value]
    return value


async def _key_value(redis: Redis, key: str) -> Any:
    kind = await redis.type(key)
    if kind == "string":
        return await redis.get(key)
    if kind == "hash":
        return await redis.hgetall(key)
    if kind == "list":
        return await redis.lrange(key, 0, -1)
    if kind == "set":
        return sorted(await redis.smembers(key))
    if kind == "zset":
        return dict(await redis.zrange(key, 0, -1, withscores=True))
    if kind == "stream":
        return {entry_id: fields for entry_id, fields in await redis.xrange(key)}
    return None


async def _value(redis: Redis, trace: Trace) -> Any:
    if trace.op == "key":
        return await _key_value(redis, trace.key)
    if trace.op == "stream":
        entries = await redis.xrange(trace.key, min=trace.item, max=trace.item)
        return entries[0][1] if entries else None
    if trace.op == "zset":
        return {"member": trace.item, "score": await redis.zscore(trace.key, trace.item)}
    if trace.op == "hash":
        return {trace.item: await redis.hget(trace.key, trace.item)}
    return trace.item  # a list element or set member is the value itself


async def export(redis: Redis, subject: Subject, *, endpoints: Path = ENDPOINTS) -> dict[str, Any]:
    """Everything held about `subject`, grouped by kind, each with where it is kept."""
    held: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for trace in await find(redis, subject, endpoints=endpoints):
        place = {"key": trace.key, **({"entry": trace.item} if trace.op in ("stream", "hash") else {})}
        held[trace.kind].append({**place, "value": _decoded(await _value(redis, trace))})
    return {
        "subject": subject.as_dict(),
        "generated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "counts": {kind: len(items) for kind, items in sorted(held.items())},
        "held": dict(sorted(held.items())),
    }


def write_private(path: Path, document: dict[str, Any]) -> Path:
    """Write the document readable by its owner only (it is personal data)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(document, out, indent=2, ensure_ascii=False, default=str)
        out.write("\n")
    return path
