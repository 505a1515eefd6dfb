"""`python -m bot run` supervises its services: a crashed one comes back, with backoff, and says so.

First with small real processes (fast: the backoff, the status file, a service stopped on purpose
staying stopped), then on the real stack: `kill -9` of the action server, which the supervisor
starts again while Rasa keeps answering.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from polling_support import wait_until
from stack_support import ROOT, RestClient, sender_id, stack_settings

from bot.stack import Service, Stack, http_ok
from bot.supervisor import Supervisor

RESTART_SECONDS = 60.0  # the action server's start-up on a busy 2-core machine, with margin


def python_service(tmp_path: Path, name: str, code: str) -> Service:
    service = Service(
        name, [sys.executable, "-c", code], dict(os.environ), lambda: True, tmp_path / f"{name}.log"
    )
    service.start(tmp_path)
    return service


def test_a_crashing_service_is_restarted_with_growing_backoff(tmp_path: Path) -> None:
    # Each start appends the time to a file, then the process exits with code 3.
    starts = tmp_path / "starts"
    starts.touch()
    crasher = python_service(
        tmp_path,
        "crasher",
        f"import time, sys; open({str(starts)!r}, 'a').write(f'{{time.time()}}\\n'); sys.exit(3)",
    )
    steady = python_service(tmp_path, "steady", "import time; time.sleep(120)")
    lines: list[str] = []
    supervisor = Supervisor(lambda: [crasher, steady], tmp_path / "stack-status.json", lines.append)
    supervisor.start()
    try:
        wait_until(lambda: len(starts.read_text().split()) >= 4, 30, lambda: f"restarts: {lines}")
    finally:
        supervisor.stop()
        crasher.stop()
        steady.stop()
    times = [float(t) for t in starts.read_text().split()]
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert gaps[0] >= 1.0 and gaps[1] >= 2.0 and gaps[2] >= 4.0, gaps
    assert "crasher exited (code 3); restarting in 1s" in lines[0]
    assert any("crasher exited (code 3); restarting in 4s" in line for line in lines)
    assert not any("steady" in line for line in lines)
    status = {s["name"]: s for s in json.loads((tmp_path / "stack-status.json").read_text())["services"]}
    assert status["crasher"]["restarts"] >= 3 and status["crasher"]["last_exit_code"] == 3
    assert status["steady"]["restarts"] == 0 and status["steady"]["last_exit_code"] is None


def test_a_service_stopped_on_purpose_stays_stopped(tmp_path: Path) -> None:
    service = python_service(tmp_path, "quiet", "import time; time.sleep(120)")
    lines: list[str] = []
    supervisor = Supervisor(lambda: [service], tmp_path / "stack-status.json", lines.append)
    supervisor.start()
    try:
        service.stop()
        time.sleep(2.0)  # four of the supervisor's looks, ample to notice an exit and restart it
        assert not service.running() and lines == []
    finally:
        supervisor.stop()


@pytest.fixture(scope="module")
def supervised(
    tmp_path_factory: pytest.TempPathFactory, model_path: Path
) -> Iterator[tuple[Stack, list[str]]]:
    lines: list[str] = []
    settings = stack_settings(tmp_path_factory.mktemp("var"))
    with Stack(settings, root=ROOT, report=lines.append) as running:
        yield running, lines


@pytest.mark.stack
def test_kill_9_of_the_action_server_brings_it_back(supervised: tuple[Stack, list[str]]) -> None:
    stack, lines = supervised
    actions = next(s for s in stack.services if s.name == "action server")
    assert actions.process is not None
    killed = actions.process.pid
    os.killpg(killed, signal.SIGKILL)
    wait_until(
        lambda: actions.running() and actions.pid() != killed and http_ok(f"{actions.url}/health"),
        RESTART_SECONDS,
        lambda: f"the action server did not come back; supervisor said {lines}",
    )
    assert any(line.startswith("action server exited (code -9); restarting in 1s") for line in lines), lines
    status = {s["name"]: s for s in json.loads(stack.status_file.read_text())["services"]}
    assert status["action server"]["restarts"] == 1 and status["action server"]["last_exit_code"] == -9
    assert status["action server"]["pid"] == actions.pid() and status["action server"]["running"]
    assert all(s["restarts"] == 0 for name, s in status.items() if name != "action server")
    # ... and the console's /health shows it to an operator's monitor (no pids or paths there)
    console = next(s for s in stack.services if s.name == "handoff console")
    with urllib.request.urlopen(f"{console.url}/health", timeout=5) as response:
        health = json.load(response)
    shown = {s["name"]: s for s in health["services"]}
    assert shown["action server"] == {
        "name": "action server",
        "running": True,
        "restarts": 1,
        "last_exit_code": -9,
        "last_exit_at": status["action server"]["last_exit_at"],
    }
    assert health["status"] == "ok" and {"rasa", "model server", "handoff console"} <= set(shown)
    # Rasa's custom actions run again: the opening-hours answer comes from the action server
    reply = RestClient.of(stack).say(sender_id("supervised"), "when is city hall open")
    assert "city hall" in reply.lower(), reply
