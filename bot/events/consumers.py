"""Consumer names and abandoned entries, so several processes can read one stream's group.

Every process reads under its own name (`consumer_name`): two replicas (or a restarted process and
the one it replaced) under one name would share a pending list and acknowledge each other's work.
A process killed mid-batch leaves entries pending under its name forever; `claim_abandoned` moves
every entry idle for `min_idle_ms` (no live reader takes that long) to the caller, which then reads
it as its own pending entry, and drops consumers that have nothing pending and have not read for a
long time (dead processes' names, so the group does not grow by one per restart).
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
from typing import Any

from redis.asyncio import Redis

log = logging.getLogger(__name__)

CLAIM_IDLE_MS = 60_000  # an entry pending this long belongs to a process that died
CLAIM_EVERY_SECONDS = 15.0
FORGET_IDLE_MS = 3_600_000  # a consumer that has not read for an hour and holds nothing is gone


def consumer_name(role: str) -> str:
    """`role` plus this host, process id and a random tag: unique per process, readable in XINFO."""
    return f"{role}-{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"


async def claim_abandoned(
    redis: Redis, stream: str, group: str, consumer: str, min_idle_ms: int = CLAIM_IDLE_MS
) -> int:
    """Move entries pending longer than `min_idle_ms` (any consumer's) to `consumer`; how many.

    The caller then reads them with XREADGROUP from "0" (an entry trimmed meanwhile comes back with
    no fields, and the readers acknowledge those as they do any event they cannot use).
    """
    claimed, start = 0, "0-0"
    while True:
        reply: Any = await redis.xautoclaim(stream, group, consumer, min_idle_ms, start, count=200)
        start, entries = _text(reply[0]), reply[1]
        claimed += len(entries)
        if start == "0-0":
            break
    if claimed:
        log.info(
            "%s: claimed %d entr%s a stopped reader left pending",
            group,
            claimed,
            "y" if claimed == 1 else "ies",
        )
    await _forget_dead(redis, stream, group, consumer)
    return claimed


async def _forget_dead(redis: Redis, stream: str, group: str, consumer: str) -> None:
    for info in await redis.xinfo_consumers(stream, group):
        name = _text(info.get("name"))
        if (
            name != consumer
            and int(info.get("pending", 0)) == 0
            and int(info.get("idle", 0)) > FORGET_IDLE_MS
        ):
            await redis.xgroup_delconsumer(stream, group, name)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
