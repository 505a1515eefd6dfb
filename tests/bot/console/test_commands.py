"""`python -m bot agents ...` as an operator runs it: a subprocess, the password on stdin; ten at once."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import redis as redis_sync
from console_support import MakeConsole, api_sign_in, audit_actions
from redis.asyncio import Redis

from bot.console.accounts import Accounts

ROOT = Path(__file__).resolve().parents[3]


def agents_cli(path: Path, *args: str, stdin: str = "", **env_vars: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HANDOFF_AGENTS_FILE": str(path), **env_vars}
    return subprocess.run(
        [sys.executable, "-m", "bot", "agents", *args],
        input=stdin, capture_output=True, text=True, cwd=ROOT, env=env, timeout=120, check=False,
    )  # fmt: skip


def test_add_reads_password_from_stdin_and_prints_token_last(tmp_path: Path) -> None:
    path = tmp_path / "agents.yml"
    done = agents_cli(path, "add", "Dana", "--role", "editor", stdin="correct horse battery\n")
    assert done.returncode == 0, done.stderr
    token = done.stdout.strip().splitlines()[-1]
    accounts = Accounts(path)
    account = accounts.by_token(token)
    assert account is not None and account.name == "Dana" and account.role == "editor"
    assert accounts.check_password("Dana", "correct horse battery") is not None
    assert accounts.check_password("Dana", "wrong") is None
    text = path.read_text()
    assert token not in text and "correct horse battery" not in text
    assert oct(path.stat().st_mode & 0o777) == "0o600"


def test_add_without_password_generates_one(tmp_path: Path) -> None:
    path = tmp_path / "agents.yml"
    done = agents_cli(path, "add", "Lee")
    lines = done.stdout.strip().splitlines()
    password = next(line.split(": ", 1)[1] for line in lines if line.startswith("generated password"))
    assert Accounts(path).check_password("Lee", password) is not None
    assert Accounts(path).by_token(lines[-1]) is not None


def test_duplicate_list_and_remove(tmp_path: Path) -> None:
    path = tmp_path / "agents.yml"
    agents_cli(path, "add", "Dana", stdin="password-one\n")
    again = agents_cli(path, "add", "Dana", stdin="password-two\n")
    assert again.returncode == 1 and "exists" in again.stderr
    assert agents_cli(path, "list").stdout.split() == ["Dana", "agent"]
    assert agents_cli(path, "remove", "Dana").returncode == 0
    assert agents_cli(path, "list").stdout == ""


def test_a_short_or_common_password_is_refused_with_the_reason(tmp_path: Path) -> None:
    path = tmp_path / "agents.yml"
    short = agents_cli(path, "add", "Dana", stdin="short-pw\n")
    assert short.returncode == 1
    assert short.stderr.strip() == "error: the password must have at least 12 characters"
    common = agents_cli(path, "add", "Dana", stdin="QWERTY123456\n")  # on the list, in any case
    assert common.returncode == 1
    assert common.stderr.strip() == "error: that password is on the list of common passwords; choose another"
    assert not path.exists() or "Dana" not in path.read_text()


def test_any_length_of_password_works(tmp_path: Path) -> None:
    path = tmp_path / "agents.yml"
    long_password = "correct horse battery staple " * 200  # 5,800 characters, far past bcrypt's 72 bytes
    done = agents_cli(path, "add", "Dana", stdin=long_password + "\n")
    assert done.returncode == 0, done.stderr
    accounts = Accounts(path)
    assert accounts.check_password("Dana", long_password) is not None
    assert accounts.check_password("Dana", long_password[:72]) is None  # every character counts


def test_password_changes_the_password_and_remove_removes(tmp_path: Path) -> None:
    path = tmp_path / "agents.yml"
    agents_cli(path, "add", "Dana", stdin="the-first-passphrase\n")
    weak = agents_cli(path, "password", "Dana", stdin="password\n")
    assert weak.returncode == 1 and "at least 12 characters" in weak.stderr
    changed = agents_cli(path, "password", "Dana", stdin="the-second-passphrase\n")
    assert changed.returncode == 0, changed.stderr
    assert "its sessions have ended" in changed.stdout
    assert Accounts(path).check_password("Dana", "the-second-passphrase") is not None
    assert Accounts(path).check_password("Dana", "the-first-passphrase") is None
    missing = agents_cli(path, "password", "Nobody", stdin="the-third-passphrase\n")
    assert missing.returncode == 1 and "no account named 'Nobody'" in missing.stderr


def test_without_redis_the_change_stands_and_a_warning_says_it_was_not_logged(tmp_path: Path) -> None:
    path = tmp_path / "agents.yml"
    done = agents_cli(path, "add", "Dana", stdin="the-first-passphrase\n", REDIS_URL="redis://127.0.0.1:1/0")
    assert done.returncode == 0
    assert "warning: not written to the audit log: Redis at 127.0.0.1:1 did not answer" in done.stderr
    assert Accounts(path).get("Dana") is not None


async def test_ten_adds_at_once_all_land_and_all_ten_can_sign_in(
    make_console: MakeConsole, redis: Redis, redis_server: int, tmp_path: Path
) -> None:
    path = tmp_path / "agents.yml"  # the accounts file the console serves (the `accounts` fixture)
    env = {
        **os.environ,
        "HANDOFF_AGENTS_FILE": str(path),
        "REDIS_URL": f"redis://127.0.0.1:{redis_server}/11",
    }
    names = [f"agent{i}" for i in range(10)]
    pipe = asyncio.subprocess.PIPE
    command = [sys.executable, "-m", "bot", "agents", "add"]
    processes = [
        await asyncio.create_subprocess_exec(
            *command, name, cwd=ROOT, env=env, stdin=pipe, stdout=pipe, stderr=pipe
        )
        for name in names
    ]
    # All ten started before any is fed its password: they hash and write at the same moment.
    passwords = [f"{name}-passphrase\n".encode() for name in names]
    outputs = await asyncio.gather(*(p.communicate(pw) for p, pw in zip(processes, passwords, strict=True)))
    assert [p.returncode for p in processes] == [0] * 10, [err.decode() for _, err in outputs]
    console = await make_console()
    for name in names:
        answer = await api_sign_in(console, name, f"{name}-passphrase")
        assert answer.status == 200, (name, await answer.text())
    tokens = [out.decode().strip().splitlines()[-1] for out, _ in outputs]
    assert [Accounts(path).by_token(t).name for t in tokens] == names  # type: ignore[union-attr]
    added = sorted(e["target"] for e in await audit_actions(redis, "account_add"))
    assert added == names
    assert all(e["actor"].startswith("cli") for e in await audit_actions(redis, "account_add"))


def test_account_changes_are_in_the_audit_log(tmp_path: Path, redis_server: int) -> None:
    url = f"redis://127.0.0.1:{redis_server}/12"
    client = redis_sync.Redis.from_url(url, decode_responses=True)
    client.flushdb()
    path = tmp_path / "agents.yml"
    agents_cli(path, "add", "Dana", "--role", "editor", stdin="the-first-passphrase\n", REDIS_URL=url)
    agents_cli(path, "password", "Dana", stdin="the-second-passphrase\n", REDIS_URL=url)
    agents_cli(path, "remove", "Dana", REDIS_URL=url)
    agents_cli(path, "remove", "Dana", REDIS_URL=url)  # nothing changed: nothing logged
    entries = [fields for _, fields in client.xrange("civic:audit")]
    client.flushdb()
    assert [(e["action"], e["target"], e["detail"]) for e in entries] == [
        ("account_add", "Dana", "role editor"),
        ("password_change", "Dana", ""),
        ("account_remove", "Dana", ""),
    ]
    assert all(e["actor"].startswith("cli") for e in entries)
    assert "passphrase" not in str(entries)
