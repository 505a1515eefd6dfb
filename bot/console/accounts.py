"""Agent accounts in one YAML file (HANDOFF_AGENTS_FILE) shared by the console and the CLI.

Passwords are bcrypt hashes (`bot.console.passwords`: the policy and the pre-hash); API tokens are
random and stored only as their SHA-256 (a token is high-entropy, so a fast hash is enough and a
lookup stays cheap on every API call). Every change is a read-modify-write under an exclusive lock
on a lock file beside the accounts file, ending in an atomic replace, so two `agents add` at the
same moment both land. The console re-reads the file when it changes, so a change takes effect at
once; a session remembers its account's password hash (`Account.stamp`), so changing the password
or removing the account signs it out everywhere.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import hmac
import os
import re
import secrets
import tempfile
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.console.passwords import hash_password, password_problem, verify_password
from bot.datafile import exclusive

ROLES = ("agent", "editor", "approver")  # approver: approves or sends back content studio changes
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,39}$")


class AccountError(ValueError):
    """A bad name, role or duplicate; the message is shown to the operator."""


@dataclass(frozen=True)
class Account:
    name: str
    role: str
    password_hash: str
    token_sha256: str

    @property
    def is_editor(self) -> bool:
        return self.role == "editor"

    @property
    def stamp(self) -> str:
        """Changes whenever the password does (a new salt each time), and with a removed-then-re-added
        account: sessions keep it and end when it no longer matches."""
        return hashlib.sha256(self.password_hash.encode()).hexdigest()[:32]


@functools.cache
def _dummy_hash() -> str:
    """Checked when the name is unknown: a sign-in takes as long for a wrong name as for a wrong password."""
    return hash_password(secrets.token_urlsafe(16))


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


def locked(path: Path) -> AbstractContextManager[None]:
    """The exclusive lock on ``<accounts file>.lock`` (every writer, in every process, takes it)."""
    return exclusive(path.with_name(path.name + ".lock"))


def read_accounts(path: Path) -> dict[str, Account]:
    if not path.exists():
        return {}
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    agents: dict[str, Any] = raw.get("agents") or {}
    return {
        str(name): Account(
            str(name), str(entry.get("role", "agent")), str(entry["password"]), str(entry["token_sha256"])
        )
        for name, entry in agents.items()
    }


def write_accounts(path: Path, accounts: dict[str, Account]) -> None:
    """Atomic replace with mode 0600: the file holds hashes, not secrets, but stays private."""
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {
        "agents": {
            a.name: {"role": a.role, "password": a.password_hash, "token_sha256": a.token_sha256}
            for a in sorted(accounts.values(), key=lambda a: a.name)
        }
    }
    header = "# Console accounts: bcrypt hashes and SHA-256 of API tokens. Edit: `python -m bot agents`.\n"
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".agents-", suffix=".yml")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(header + yaml.safe_dump(body, sort_keys=True))
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _check_password(password: str) -> None:
    problem = password_problem(password)
    if problem:
        raise AccountError(problem)


def add_account(path: Path, name: str, role: str, password: str) -> str:
    """Add `name`; returns the API token (shown once, stored only hashed)."""
    if not NAME.match(name):
        raise AccountError("a name is 1-40 letters, digits, spaces, dots, dashes or underscores")
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}")
    _check_password(password)
    token = new_token()
    account = Account(name, role, hash_password(password), token_digest(token))  # slow: outside the lock
    with locked(path):
        accounts = read_accounts(path)
        if name in accounts:
            raise AccountError(f"an account named {name!r} exists already")
        accounts[name] = account
        write_accounts(path, accounts)
    return token


def change_password(path: Path, name: str, password: str) -> None:
    """Give `name` a new password; its sessions end at their next request."""
    _check_password(password)
    hashed = hash_password(password)
    with locked(path):
        accounts = read_accounts(path)
        old = accounts.get(name)
        if old is None:
            raise AccountError(f"no account named {name!r}")
        accounts[name] = Account(name, old.role, hashed, old.token_sha256)
        write_accounts(path, accounts)


def remove_account(path: Path, name: str) -> bool:
    with locked(path):
        accounts = read_accounts(path)
        if accounts.pop(name, None) is None:
            return False
        write_accounts(path, accounts)
    return True


class Accounts:
    """The accounts file as the console sees it, re-read whenever it changes on disk."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp: tuple[int, int, int] | None = None
        self._by_name: dict[str, Account] = {}
        self._by_token: dict[str, Account] = {}

    def _refresh(self) -> None:
        try:
            stat = self.path.stat()
            stamp = (stat.st_ino, stat.st_mtime_ns, stat.st_size)  # every write is a new file (os.replace)
        except FileNotFoundError:
            stamp = (0, 0, -1)
        if stamp == self._stamp:
            return
        self._by_name = read_accounts(self.path)
        self._by_token = {a.token_sha256: a for a in self._by_name.values()}
        self._stamp = stamp

    def get(self, name: str) -> Account | None:
        self._refresh()
        return self._by_name.get(name)

    def names(self) -> list[str]:
        self._refresh()
        return sorted(self._by_name)

    def by_token(self, token: str) -> Account | None:
        """The account whose API token this is, or None."""
        if not token:
            return None
        self._refresh()
        found = self._by_token.get(token_digest(token))
        if found is None or not hmac.compare_digest(found.token_sha256, token_digest(token)):
            return None
        return found

    def check_password(self, name: str, password: str) -> Account | None:
        """bcrypt check (blocking, ~0.2 s); use `verify` from async code."""
        account = self.get(name)
        ok = verify_password(password, account.password_hash if account else _dummy_hash())
        return account if ok and account is not None else None

    async def verify(self, name: str, password: str) -> Account | None:
        """`check_password` off the event loop."""
        return await asyncio.to_thread(self.check_password, name, password)
