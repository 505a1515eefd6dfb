"""`python -m bot agents ...` as an operator runs it: a subprocess, the password on stdin."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from bot.console.accounts import Accounts

ROOT = Path(__file__).resolve().parents[3]


def agents_cli(path: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HANDOFF_AGENTS_FILE": str(path)}
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
