"""`python -m bot inbox show | purge`: the review inbox from a terminal (the console has the pages)."""

from __future__ import annotations

import asyncio
from typing import Any

from redis.asyncio import Redis

from bot.inbox.config import InboxConfig
from bot.inbox.store import InboxStore
from bot.settings import Settings


def _store(settings: Settings) -> tuple[Redis, InboxStore]:
    redis = Redis.from_url(settings.redis.url, decode_responses=True)
    return redis, InboxStore(redis, InboxConfig.from_settings(settings).retention_seconds)


async def _show(settings: Settings, limit: int) -> int:
    redis, store = _store(settings)
    try:
        groups, total = await store.page(0, limit)
    finally:
        await redis.close()
    for group in groups:
        reasons = ", ".join(f"{reason} {n}" for reason, n in group.reasons)
        print(f"{group.count:>4}  [{group.language}] {group.text}  ({reasons})")
    print(f"{total} group(s); editors handle them at /inbox in the console")
    return 0


async def _purge(settings: Settings) -> int:
    redis, store = _store(settings)
    try:
        dropped = await store.purge()
    finally:
        await redis.close()
    print(f"dropped {dropped} message(s) older than INBOX_RETENTION_DAYS")
    return 0


def add_commands(commands: Any) -> None:
    inbox = commands.add_parser(
        "inbox", help="the review inbox: show groups, purge old messages"
    ).add_subparsers(dest="inbox_command", required=True)
    show = inbox.add_parser("show", help="print the inbox's groups, most frequent first (redacted text)")
    show.add_argument("--limit", type=int, default=50)
    show.set_defaults(handler=lambda args: asyncio.run(_show(args.settings, args.limit)))
    purge = inbox.add_parser(
        "purge", help="drop messages past the retention period now (the console does it too)"
    )
    purge.set_defaults(handler=lambda args: asyncio.run(_purge(args.settings)))
