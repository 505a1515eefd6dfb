"""`python -m bot agents add|list|remove`: console accounts in HANDOFF_AGENTS_FILE.

`add` takes the password from a terminal prompt, else the first line of standard input, else
generates one and prints it; the API token is always the last line of standard output (scripts
read it with `tail -n1`). The running console picks the change up without a restart.
"""

from __future__ import annotations

import argparse
import getpass
import secrets
import sys
from typing import Any

from bot.console.accounts import ROLES, AccountError, add_account, read_accounts, remove_account


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


def _add(args: argparse.Namespace) -> int:
    path = args.settings.handoff.agents_file
    try:
        password, generated = _password()
        token = add_account(path, args.name, args.role, password)
    except AccountError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"added {args.role} {args.name!r} to {path}")
    if generated:
        print(f"generated password: {password}")
    print("API token (shown once; use it as `Authorization: Bearer <token>`):")
    print(token)
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
    print(f"removed {args.name!r}")
    return 0


def add_commands(commands: Any) -> None:
    agents = commands.add_parser("agents", help="handoff console accounts (HANDOFF_AGENTS_FILE)")
    sub = agents.add_subparsers(dest="agents_command", required=True)
    add = sub.add_parser("add", help="add an account; prints its API token last")
    add.add_argument("name")
    add.add_argument("--role", choices=ROLES, default="agent")
    add.set_defaults(handler=_add)
    listing = sub.add_parser("list", help="names and roles")
    listing.set_defaults(handler=_list)
    remove = sub.add_parser("remove", help="remove an account (its sessions end at their next request)")
    remove.add_argument("name")
    remove.set_defaults(handler=_remove)
