"""`python -m bot.demo_agency`: arguments, and the real process answering over HTTP."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from bot.demo_agency import DATA_DIR
from bot.demo_agency.__main__ import parse_args
from bot.settings import Settings
from bot.stack import free_port

ROOT = Path(__file__).resolve().parents[3]


def test_defaults_come_from_the_environment():
    args = parse_args(
        [], Settings.from_env({"DEMO_AGENCY_PORT": "8123", "VAR_DIR": "/tmp/v", "DEMO_AGENCY_API_KEY": "k"})
    )
    assert (args.host, args.port, args.data_dir) == ("127.0.0.1", 8123, DATA_DIR)
    assert args.state_dir == Path("/tmp/v/demo_agency")
    assert args.api_key == "k" and len(args.admin_token) >= 16  # generated when not given


def test_the_command_line_wins():
    args = parse_args(
        ["--port", "9001", "--host", "192.0.2.1", "--api-key", "cli"],
        Settings.from_env({"DEMO_AGENCY_PORT": "8123"}),
    )
    assert (args.port, args.host, args.api_key) == (9001, "192.0.2.1", "cli")
    assert parse_args([], Settings.from_env({})).port == 8000


def get_json(url: str) -> object:
    with urllib.request.urlopen(url, timeout=2) as response:
        return json.loads(response.read())


def test_the_module_runs_the_demo_agency(tmp_path):
    port = free_port()
    argv = [sys.executable, "-m", "bot.demo_agency", "--port", str(port), "--state-dir", str(tmp_path)]
    process = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                status = get_json(f"http://127.0.0.1:{port}/status.json")
                break
            except (urllib.error.URLError, ConnectionError):
                assert process.poll() is None and time.monotonic() < deadline, "demo agency did not start"
                time.sleep(0.2)
        assert {s["id"] for s in status["services"]} >= {"payments", "permits", "311-app"}
        request = get_json(f"http://127.0.0.1:{port}/open311/v2/requests/512077.json")
        assert request[0]["service_name"] == "Pothole"
    finally:
        process.terminate()
        output = process.communicate(timeout=10)[0].decode()
    assert f"demo agency on http://127.0.0.1:{port}" in output
