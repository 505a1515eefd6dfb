"""`python -m bot channels migrate-ids`: move conversations stored under platform ids to keyed ids."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import redis

from bot.channels.migrate import IdMigration
from bot.identity import IdentityKey
from bot.settings import Settings


def identity_for(settings: Settings) -> IdentityKey:
    """The identity secret `make run` uses: IDENTITY_SECRET, else the one kept in var/secrets/."""
    from bot.stack import with_identity_secret

    return IdentityKey.from_settings(with_identity_secret(settings, Path.cwd() / settings.var_dir))


def migrate_ids(args: argparse.Namespace) -> int:
    settings: Settings = args.settings
    identity = identity_for(settings)
    client = redis.Redis.from_url(settings.redis.url, decode_responses=True)
    try:
        report = IdMigration(client, identity).run()
    except redis.RedisError as exc:
        print(f"error: Redis at {settings.redis.address.host}:{settings.redis.address.port}: {exc}")
        return 1
    finally:
        client.close()
    for line in report.lines():
        print(line)
    return 0


def add_commands(commands: Any) -> None:
    channels = commands.add_parser(
        "channels", help="the messaging channels: move old conversations to keyed ids"
    ).add_subparsers(dest="channels_command", required=True)
    migrate = channels.add_parser(
        "migrate-ids",
        help="move conversations stored under phone numbers and platform ids to keyed conversation ids "
        "(run once after upgrading, with Rasa and the console stopped; running it again changes nothing)",
    )
    migrate.set_defaults(handler=migrate_ids)
