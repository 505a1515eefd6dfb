"""Our entry points for Rasa and the action server: secrets from the environment, BIND_HOST, refusals.

Real processes: `python -m bot.serve.actions` on a free port, called over HTTP like Rasa and like
an outsider; `python -m bot.serve.rasa` only as far as it refuses to start.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from polling_support import wait_until
from stack_support import ROOT

from bot.serve.exposure import connect_host, exposure_warning
from bot.settings import Settings
from bot.stack import Stack, StackError, free_port, http_ok

TOKEN = "action-token-for-tests_0123456789"
EVERYWHERE = "0.0.0.0"  # noqa: S104 (what BIND_HOST may say)


def child_env(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("RASA_TOKEN", "ACTION_SERVER_TOKEN", "BIND_HOST")}
    env["PYTHONPATH"] = str(ROOT / "bot" / "privacy" / "site")
    env.update(values)
    return env


@contextmanager
def action_server(log: Path, **env: str) -> Iterator[str]:
    """A real action server; yields its URL (on 127.0.0.1 whatever it binds)."""
    port = free_port()
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot.serve.actions", "--port", str(port)],
            cwd=ROOT,
            env=child_env(ACTION_SERVER_TOKEN=TOKEN, LOG_LEVEL="WARNING", **env),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: process.poll() is not None or http_ok(f"{url}/health"), 90, "no action server")
        assert process.poll() is None, log.read_text()
        yield url
    finally:
        process.terminate()
        process.wait(30)


def status_of(url: str, body: bytes | None = None) -> int:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.mark.parametrize(
    ("module", "env", "message"),
    [
        ("bot.serve.actions", {}, "error: ACTION_SERVER_TOKEN must be set"),
        ("bot.serve.rasa", {"ACTION_SERVER_TOKEN": TOKEN}, "error: RASA_TOKEN must be set"),
        ("bot.serve.rasa", {"RASA_TOKEN": "t"}, "error: ACTION_SERVER_TOKEN must be set"),
    ],
)
def test_a_server_without_its_secret_refuses_to_start(module: str, env: dict[str, str], message: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", module],
        cwd=ROOT,
        env=child_env(**env),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert done.stderr.strip().startswith(message)


def test_the_action_server_answers_only_calls_with_its_token(tmp_path: Path) -> None:
    action_call = json.dumps({"next_action": "action_check_request_status", "tracker": {}, "domain": {}})
    with action_server(tmp_path / "actions.log") as url:
        assert status_of(f"{url}/health") == 200
        assert status_of(f"{url}/webhook", action_call.encode()) == 401
        assert status_of(f"{url}/webhook?token=not-{TOKEN}", action_call.encode()) == 401
        assert status_of(f"{url}/actions") == 401
        assert status_of(f"{url}/actions?token={TOKEN}") == 200
    assert "listens on" not in (tmp_path / "actions.log").read_text()  # loopback: no warning


def test_binding_wider_than_loopback_says_so(tmp_path: Path) -> None:
    with action_server(tmp_path / "actions.log", BIND_HOST=EVERYWHERE) as url:
        assert status_of(f"{url}/actions?token={TOKEN}") == 200
    log = (tmp_path / "actions.log").read_text()
    assert "warning: the action server listens on every interface (BIND_HOST=0.0.0.0)" in log


def test_what_counts_as_exposed() -> None:
    assert exposure_warning("127.0.0.1", "x") is None and exposure_warning("::1", "x") is None
    assert exposure_warning("localhost", "x") is None
    assert "every interface" in (exposure_warning(EVERYWHERE, "x") or "")
    assert "10.1.2.3" in (exposure_warning("10.1.2.3", "x") or "")
    assert connect_host(EVERYWHERE) == connect_host("::") == "127.0.0.1"
    assert connect_host("127.0.0.1") == "127.0.0.1"


def test_make_run_refuses_a_bind_address_its_services_could_not_reach_each_other_on(tmp_path: Path) -> None:
    stack = Stack(Settings.from_env({"BIND_HOST": "10.1.2.3", "VAR_DIR": str(tmp_path)}), root=tmp_path)
    with pytest.raises(
        StackError, match=r"BIND_HOST=10\.1\.2\.3: make run listens on 127\.0\.0\.1 or on every"
    ):
        stack.start()
    assert stack.services == []  # nothing was started
