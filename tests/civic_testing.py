"""Test helpers shared by the end-to-end tests (imported as `civic_testing`).

Not named `tests.*`: a wheel in the venv ships a top-level `tests` package.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import subprocess
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import redis
from aiohttp import web

from bot.handoff.config import HandoffConfig
from bot.settings import Settings
from bot.stack import free_port, http_ok, redis_server_binary

ROOT = Path(__file__).resolve().parent.parent


def latest_model() -> Path:
    models = sorted((ROOT / "models").glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    if not models:
        pytest.fail("no trained model in models/: run `make train` (make test does it)")
    return models[-1]


def stack_settings(var_dir: Path, **overrides: Any) -> Settings:
    """Fresh ports and a private var dir, so tests never touch a developer's `make run`."""
    values: dict[str, Any] = dict(
        redis_url=os.environ.get("REDIS_URL", ""),
        redis_port=free_port(),
        rasa_port=free_port(),
        action_port=free_port(),
        demo_agency_port=free_port(),
        handoff_port=free_port(),
        # Staffed around the clock, so a handoff test does not depend on the time CI runs;
        # the after-hours tests pass their own hours file and handoff_hours="".
        handoff_hours="always",
        handoff_agents_file=var_dir / "agents.yml",
        # a leading "-" (token_urlsafe's alphabet has it) once made `rasa run` read the token as a flag
        rasa_token="-" + secrets.token_urlsafe(16),
        var_dir=var_dir,
        log_level=os.environ.get("TEST_LOG_LEVEL", "WARNING"),
    )
    values.update(overrides)
    return Settings(**values)


class RestClient:
    """Talks to Rasa's REST channel the way a web page or SMS gateway would."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    def send(self, sender: str, text: str) -> list[dict[str, Any]]:
        body = json.dumps({"sender": sender, "message": text}).encode()
        request = urllib.request.Request(
            f"{self.base_url}/webhooks/rest/webhook", data=body, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())

    def say(self, sender: str, text: str) -> str:
        """All reply texts joined, for assertions on what the citizen reads."""
        return "\n".join(m.get("text", "") for m in self.send(sender, text))


def sender_id(prefix: str = "test") -> str:
    return f"{prefix}-{secrets.token_hex(6)}"


@contextmanager
def local_redis(data_dir: Path) -> Iterator[int]:
    """A throwaway redis-server for tests that need a Redis of their own."""
    port = free_port()
    argv = [
        redis_server_binary(), "--port", str(port), "--bind", "127.0.0.1", "--dir", str(data_dir),
        "--save", "", "--appendonly", "no", "--daemonize", "no", "--protected-mode", "yes",
    ]  # fmt: skip
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = redis.Redis(port=port)
    deadline = time.monotonic() + 15
    try:
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline or process.poll() is not None:
                    pytest.fail("redis-server did not start")
                time.sleep(0.05)
        client.close()
        yield port
    finally:
        process.terminate()
        process.wait(10)


def console_config(redis_url: str, agents_file: Path) -> HandoffConfig:
    """A handoff console that never reaches Rasa (nothing listens on its Rasa URL)."""
    return HandoffConfig(
        redis_url=redis_url,
        rasa_url=f"http://127.0.0.1:{free_port()}",
        rasa_token="unused",
        agents_file=agents_file,
        port=free_port(),
        sweep_seconds=3600.0,
    )


class _AppThread(threading.Thread):
    """An aiohttp app in its own thread and loop, like a separate process; `stop()` runs its cleanups."""

    def __init__(self, make_app: Callable[[], web.Application], port: int) -> None:
        super().__init__(daemon=True)
        self.make_app, self.port = make_app, port
        self.loop = asyncio.new_event_loop()
        self.stopped = threading.Event()
        self.app: web.Application | None = None

    def run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.app = self.make_app()
        runner = web.AppRunner(self.app)
        self.loop.run_until_complete(runner.setup())
        self.loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", self.port).start())
        try:
            self.loop.run_forever()
        finally:
            self.loop.run_until_complete(runner.cleanup())
            self.loop.close()
            self.stopped.set()

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.stopped.wait(15)


@contextmanager
def serve_app(make_app: Callable[[], web.Application], port: int) -> Iterator[web.Application]:
    """Serve the app made by `make_app` on 127.0.0.1:`port` until the block ends; yields the app."""
    server = _AppThread(make_app, port)
    server.start()
    deadline = time.monotonic() + 30
    try:
        while not http_ok(f"http://127.0.0.1:{port}/health"):
            if time.monotonic() > deadline:
                pytest.fail("the app did not start")
            time.sleep(0.1)
        assert server.app is not None
        yield server.app
    finally:
        server.stop()
