"""`python -m bot agents add|password|list|remove`: console accounts in HANDOFF_AGENTS_FILE.

`add` and `password` take the password from a terminal prompt, else the first line of standard
input, else generate one and print it; `add` always prints the API token as the last line of
standard output (scripts read it with `tail -n1`). A password that breaks the policy (fewer than
12 characters, or a common one) is refused with the reason on standard error and status 1. The
running console picks every change up without a restart; a new password or a removed account
signs that account out everywhere. Each change goes in the audit log (`bot.audit`) as done by
``cli:<operating-system user>``; when Redis cannot be reached the change stands and a warning says
it was not logged.
"""

from __future__ import annotations

import argparse
import getpass
import secrets
import sys
from typing import Any

import redis

from bot.audit import record_sync
from bot.console.accounts import (
    ROLES,
    AccountError,
    add_account,
    change_password,
    read_accounts,
    remove_account,
)
from bot.settings import Settings


def _password() -> tuple[str, bool]:
    """(password, generated)."""
    if sys.stdin.isatty():
        first = getpass.getpass("Password (empty: generate one): ")
        if first and getpass.getpass("Repeat the password: ") != first:
            raise AccountError("the passwords differ")
        if first:
            return first, False
    else:
        line = sys.stdin.readline().rstrip("\r\n")
        if line:
            return line, False
    return secrets.token_urlsafe(12), True


def _operator() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no user name in a bare container
        return "cli"


def _audit(settings: Settings, action: str, name: str, detail: str = "") -> None:
    try:
        record_sync(
            settings.redis.url,
            _operator(),
            action,
            name,
            detail=detail,
            max_entries=settings.console.audit_max_entries,
            retention_seconds=settings.console.audit_retention_days * 24 * 3600,
        )
    except redis.RedisError:
        where = f"{settings.redis.address.host}:{settings.redis.address.port}"
        print(f"warning: not written to the audit log: Redis at {where} did not answer", file=sys.stderr)


def _add(args: argparse.Namespace) -> int:
    path = args.settings.handoff.agents_file
    try:
        password, generated = _password()
        token = add_account(path, args.name, args.role, password)
    except AccountError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    _audit(args.settings, "account_add", args.name, f"role {args.role}")
    print(f"added {args.role} {args.name!r} to {path}")
    if generated:
        print(f"generated password: {password}")
    print("API token (shown once; use it as `Authorization: Bearer <token>`):")
    print(token)
    return 0


def _change_password(args: argparse.Namespace) -> int:
    path = args.settings.handoff.agents_file
    try:
        password, generated = _password()
        change_password(path, args.name, password)
    except AccountError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    _audit(args.settings, "password_change", args.name)
    print(f"changed the password of {args.name!r}; its sessions have ended")
    if generated:
        print(f"generated password: {password}")
    return 0


def _list(args: argparse.Namespace) -> int:
    accounts = read_accounts(args.settings.handoff.agents_file)
    for account in sorted(accounts.values(), key=lambda a: a.name):
        print(f"{account.name}\t{account.role}")
    return 0


def _remove(args: argparse.Namespace) -> int:
    path = args.settings.handoff.agents_file
    if not remove_account(path, args.name):
        print(f"error: no account named {args.name!r} in {path}", file=sys.stderr)
        return 1
    _audit(args.settings, "account_remove", args.name)
    print(f"removed {args.name!r}; its sessions have ended")
    return 0


def add_commands(commands: Any) -> None:
    agents = commands.add_parser("agents", help="handoff console accounts (HANDOFF_AGENTS_FILE)")
    sub = agents.add_subparsers(dest="agents_command", required=True)
    add = sub.add_parser("add", help="add an account; prints its API token last")
    add.add_argument("name")
    add.add_argument("--role", choices=ROLES, default="agent")
    add.set_defaults(handler=_add)
    password = sub.add_parser("password", help="change an account's password (signs it out everywhere)")
    password.add_argument("name")
    password.set_defaults(handler=_change_password)
    listing = sub.add_parser("list", help="names and roles")
    listing.set_defaults(handler=_list)
    remove = sub.add_parser("remove", help="remove an account (signs it out everywhere)")
    remove.add_argument("name")
    remove.set_defaults(handler=_remove)
