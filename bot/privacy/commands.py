"""`python -m bot privacy erase | export | retention`: a citizen's data on request, and the retention rules.

A citizen is named by their channel and platform id (`--channel twilio --user +15551234567`; REST is
channel `rest` with the sender) or by the conversation id itself (`--conversation socketio-...`, as the
console shows it). The conversation id is derived as the channels derive it (`bot/identity.py`), with
IDENTITY_SECRET from the environment or, as `make run` keeps it, from `var/secrets/identity_secret`.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
import time
from pathlib import Path
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from bot.audit import record_sync
from bot.identity import IdentityKey, channel_of
from bot.privacy.erase import erase, summary
from bot.privacy.export import export, write_private
from bot.privacy.holdings import Subject
from bot.privacy.retention import apply as apply_retention
from bot.settings import Settings, SettingsError

SECRET_FILE = Path("secrets/identity_secret")


def identity_key(settings: Settings) -> IdentityKey:
    """The identity key the running stack uses (never a fresh one: that would name nobody)."""
    secret = settings.security.identity_secret
    path = settings.var_dir / SECRET_FILE
    if not secret and path.exists():
        secret = path.read_text(encoding="utf-8").strip()
    if not secret:
        raise SettingsError(f"IDENTITY_SECRET must be set (or {path} exist) to find a citizen's conversation")
    return IdentityKey(secret)


def subject_of(args: argparse.Namespace) -> Subject:
    if args.conversation:
        return Subject(args.conversation, channel_of(args.conversation))
    if not (args.channel and args.user):
        raise SettingsError("give --conversation ID, or both --channel and --user")
    key = identity_key(args.settings)
    return Subject(key.conversation_id(args.channel, args.user), args.channel, args.user)


def _client(settings: Settings) -> Redis:
    return Redis.from_url(settings.redis.url, decode_responses=True)


async def _erase(args: argparse.Namespace) -> int:
    subject = subject_of(args)
    redis = _client(args.settings)
    try:
        removed = await erase(redis, subject)
        rewritten = await _rewrite_aof(redis) if removed else True
    finally:
        await redis.close()
    print(f"conversation {subject.conversation_id}: {summary(removed)}")
    _audit(args.settings, "privacy_erase")
    if not rewritten:
        print("note: Redis refused BGREWRITEAOF; its append-only file keeps the old writes until rewritten")
    return 0


def _audit(settings: Settings, action: str) -> None:
    """Who erased or exported, and when; never whose data (naming the conversation would be a trace)."""
    try:
        record_sync(settings.redis.url, f"cli:{getpass.getuser()}", action)
    except RedisError as exc:
        print(f"warning: not written to the audit log (Redis: {exc})", file=sys.stderr)


async def _rewrite_aof(redis: Redis) -> bool:
    """Ask Redis to rewrite its append-only file, which still holds the erased writes (False if refused)."""
    try:
        if (await redis.config_get("appendonly")).get("appendonly") != "yes":
            return True
        await redis.bgrewriteaof()
    except RedisError as exc:  # a managed Redis may refuse CONFIG or BGREWRITEAOF
        return "in progress" in str(exc) or "scheduled" in str(exc)
    return True


async def _export(args: argparse.Namespace) -> int:
    subject = subject_of(args)
    redis = _client(args.settings)
    try:
        document = await export(redis, subject)
    finally:
        await redis.close()
    out = args.out or args.settings.var_dir / "privacy" / f"{subject.conversation_id}-{int(time.time())}.json"
    write_private(out, document)
    _audit(args.settings, "privacy_export")
    counts = ", ".join(f"{kind} {n}" for kind, n in document["counts"].items()) or "nothing held"
    print(f"conversation {subject.conversation_id}: wrote {out} ({counts})")
    return 0


async def _retention(args: argparse.Namespace) -> int:
    redis = _client(args.settings)
    try:
        done = await apply_retention(redis, args.settings.privacy)
    finally:
        await redis.close()
    print(", ".join(f"{what} {n}" for what, n in done.items()))
    return 0


def _run(handler: Any) -> Any:
    def run(args: argparse.Namespace) -> int:
        try:
            return int(asyncio.run(handler(args)))
        except SettingsError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1

    return run


def _who(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--channel", help="the citizen's channel: twilio, whatsapp, telegram, facebook, rest, ..."
    )
    parser.add_argument("--user", help="their id on that channel (a phone number on SMS and WhatsApp)")
    parser.add_argument(
        "--conversation", help="or the conversation id itself (as the console shows it: twilio-...)"
    )


def add_commands(commands: Any) -> None:
    privacy = commands.add_parser(
        "privacy", help="a citizen's data: erase it, export it; apply the retention rules"
    ).add_subparsers(dest="privacy_command", required=True)
    erase_cmd = privacy.add_parser("erase", help="remove every trace of one citizen (idempotent)")
    _who(erase_cmd)
    erase_cmd.set_defaults(handler=_run(_erase))
    export_cmd = privacy.add_parser(
        "export", help="write one JSON file with everything held about one citizen"
    )
    _who(export_cmd)
    export_cmd.add_argument(
        "--out", type=Path, help="where to write it (default var/privacy/<id>-<time>.json)"
    )
    export_cmd.set_defaults(handler=_run(_export))
    retention = privacy.add_parser(
        "retention", help="apply the retention rules now (the broker and the console also apply them)"
    )
    retention.set_defaults(handler=_run(_retention))
