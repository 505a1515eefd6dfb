"""Test helpers shared across the suite (imported as `stack_support`): the settings of a test stack,
a local Redis, REST clients, apps served from a thread.

Not named `tests.*`: a wheel in the venv ships a top-level `tests` package.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import secrets
import shutil
import subprocess
import threading
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any, TypeVar

import pytest
import redis
from aiohttp import web
from polling_support import wait_until

from bot.console.app import create_app
from bot.console.config import ConsoleConfig
from bot.handoff.config import HandoffConfig
from bot.inbox.config import InboxConfig
from bot.settings import Settings
from bot.stack import Stack, free_port, http_ok, redis_server_binary

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"  # data beside the checkout (the agency's files, datasets); CI has it
T = TypeVar("T")
# How long an app's cleanups may take: Background.stop's 10 s grace for each of the console's two
# background groups (queue relay, inbox recorder), plus 5 s margin.
APP_STOP_SECONDS = 2 * 10.0 + 5.0
# Start-up of a local redis-server or an in-thread app takes well under a second; the margin covers
# two cores busy with Rasa and the browser.
START_SECONDS = 30.0


def latest_model() -> Path:
    models = sorted((ROOT / "models").glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    if not models:
        pytest.fail("no trained model in models/: run `make train` (make test does it)")
    return models[-1]


def repacked_model(model: Path, destination: Path) -> Path:
    """The same model compressed again: other bytes, so another ETag, for a real rollout."""
    destination.write_bytes(gzip.compress(gzip.decompress(model.read_bytes()), mtime=1))
    return destination


def require_shared(path: Path, what: str) -> Path:
    """`path` (under ../shared, see SHARED) for a test that needs it, which must exist.

    If it is missing the test is skipped on a developer's machine, but fails when the environment
    variable `CI` is set and non-empty (`.ci/run` sets it): CI cannot go green without running it.
    """
    if path.exists():
        return path
    reason = f"{path} is not here ({what})"
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; CI is set, so this test fails instead of being skipped")
    pytest.skip(reason)


def project_copy(var_dir: Path) -> Path:
    """A copy of the checkout's data/ under `var_dir` (made once): what a stack's console may edit."""
    project = var_dir / "project"
    if not (project / "data").is_dir():
        shutil.copytree(ROOT / "data", project / "data", ignore=shutil.ignore_patterns(".write.lock"))
    return project


def stack_env(var_dir: Path, **overrides: str) -> dict[str, str]:
    """The environment of a test stack: fresh ports and a private var dir, so tests never touch a
    developer's `make run`. `overrides` are further variables (e.g. HANDOFF_HOURS="")."""
    env = {
        "REDIS_PORT": str(free_port()),
        "RASA_PORT": str(free_port()),
        "ACTION_PORT": str(free_port()),
        "DEMO_AGENCY_PORT": str(free_port()),
        "HANDOFF_PORT": str(free_port()),
        "MODEL_SERVER_PORT": str(free_port()),
        "BROADCASTER_PORT": str(free_port()),
        # Staffed around the clock, so a handoff test does not depend on the time CI runs;
        # the after-hours tests pass their own hours file and HANDOFF_HOURS="".
        "HANDOFF_HOURS": "always",
        "HANDOFF_AGENTS_FILE": str(var_dir / "agents.yml"),
        # a leading "-" (token_urlsafe's alphabet has it) once made `rasa run` read the token as a flag
        "RASA_TOKEN": "-" + secrets.token_urlsafe(16),
        "VAR_DIR": str(var_dir),
        "LOG_LEVEL": os.environ.get("TEST_LOG_LEVEL", "WARNING"),
        # The console's content studio and review inbox write to a copy of the content, never to
        # the checkout's, and queue retrains without running them (a real one takes minutes).
        "CONTENT_DIR": str(project_copy(var_dir) / "data" / "content"),
        "CONTENT_TRAINING": "false",
    }
    if os.environ.get("REDIS_URL"):
        env["REDIS_URL"] = os.environ["REDIS_URL"]
    env.update(overrides)
    return env


def stack_settings(var_dir: Path, **overrides: str) -> Settings:
    """`Settings` read from `stack_env(var_dir, **overrides)`."""
    return Settings.from_env(stack_env(var_dir, **overrides))


class RestClient:
    """Talks to the REST channel the way a server of the agency's would: with its bearer token.

    The channel stores a sender's conversation under a keyed hash (`rest-…`) and names it in every
    reply's `recipient_id`; `conversation_id(sender)` is the one last seen, for reading the tracker.
    """

    def __init__(self, base_url: str, token: str) -> None:
        self.base_url = base_url
        self.token = token
        self.conversations: dict[str, str] = {}

    @classmethod
    def of(cls, stack: Stack) -> RestClient:
        """A client of `stack`'s Rasa with the REST token it runs with."""
        return cls(f"http://127.0.0.1:{stack.settings.rasa.port}", stack.settings.security.rest_token)

    def post(self, body: Any, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], Any]:
        """POST `body` (JSON, or raw bytes) as is: status, headers and decoded answer, errors included."""
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        auth = {"Authorization": f"Bearer {self.token}"}
        sent = {"Content-Type": "application/json", **auth, **(headers or {})}
        request = urllib.request.Request(
            f"{self.base_url}/webhooks/rest/webhook", data=data, headers={k: v for k, v in sent.items() if v}
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, dict(response.headers), json.loads(response.read())
        except urllib.error.HTTPError as failed:
            raw = failed.read()
            return failed.code, dict(failed.headers), json.loads(raw) if raw else None

    def send(self, sender: str, text: str) -> list[dict[str, Any]]:
        status, _, messages = self.post({"sender": sender, "message": text})
        assert status == 200, f"the REST channel answered {status}: {messages}"
        for message in messages:
            self.conversations[sender] = message["recipient_id"]
        return messages

    def conversation_id(self, sender: str) -> str:
        """The conversation id the channel gave `sender` (after a `send` that got a reply)."""
        return self.conversations[sender]

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

    def answers() -> bool:
        if process.poll() is not None:
            pytest.fail(f"redis-server exited at start-up (status {process.returncode})")
        try:
            return bool(client.ping())
        except redis.ConnectionError:
            return False

    try:
        wait_until(answers, START_SECONDS, "redis-server did not start")
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


def console_app(handoff: HandoffConfig, inbox: InboxConfig | None = None) -> web.Application:
    """The real console app on the handoff config's Redis, accounts and port; the inbox on `inbox`,
    else on the environment's settings (as `python -m bot.console` would)."""
    shell = ConsoleConfig(redis_url=handoff.redis_url, agents_file=handoff.agents_file, port=handoff.port)
    return create_app(shell, handoff, inbox or InboxConfig.from_settings(Settings.from_env()))


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
        """Stop the loop and wait for the cleanups; fails if they are still running after APP_STOP_SECONDS."""
        self.loop.call_soon_threadsafe(self.loop.stop)
        if not self.stopped.wait(APP_STOP_SECONDS):
            raise AssertionError(
                f"the app on port {self.port} was still stopping after {APP_STOP_SECONDS:.0f}s"
            )
        self.join(APP_STOP_SECONDS)


@contextmanager
def serve_app(make_app: Callable[[], web.Application], port: int) -> Iterator[web.Application]:
    """Serve the app made by `make_app` on 127.0.0.1:`port` until the block ends; yields the app."""
    server = _AppThread(make_app, port)
    server.start()
    try:
        wait_until(lambda: http_ok(f"http://127.0.0.1:{port}/health"), START_SECONDS, "the app did not start")
        assert server.app is not None
        yield server.app
    finally:
        server.stop()


def run_in_thread(make: Callable[[], Coroutine[Any, Any, T]], timeout: float, what: str) -> T:
    """Run `make()` on a new event loop in a thread of its own; return its result or re-raise its error.

    For async code in sync tests (playwright's sync API owns the test thread's loop). Fails with
    AssertionError if the coroutine still runs after `timeout` seconds: it is then cancelled, and the
    thread is a daemon, so a loop that never ends can neither pass the test nor hold up the run.
    """
    outcome: list[tuple[bool, Any]] = []  # (finished normally, result or exception)
    running: list[tuple[asyncio.AbstractEventLoop, asyncio.Task[Any]]] = []

    async def main() -> T:
        task = asyncio.current_task()
        assert task is not None
        running.append((asyncio.get_running_loop(), task))
        return await make()

    def target() -> None:
        try:
            outcome.append((True, asyncio.run(main())))
        except BaseException as exc:  # re-raised in the test's thread
            outcome.append((False, exc))

    thread = threading.Thread(target=target, name=f"test: {what}", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        for loop, task in running:
            try:
                loop.call_soon_threadsafe(task.cancel)
            except RuntimeError:  # the loop closed meanwhile
                pass
        thread.join(APP_STOP_SECONDS)
        state = "then stopped when cancelled" if not thread.is_alive() else "and did not stop when cancelled"
        raise AssertionError(f"{what} was still running after {timeout:.0f}s, {state}")
    finished, value = outcome[0]
    if not finished:
        raise value
    return value


@asynccontextmanager
async def empty_redis_db(port: int, db: int) -> AsyncIterator[redis.asyncio.Redis]:
    """An async client on database `db` of the test Redis, emptied before and after the test."""
    import redis.asyncio

    client = redis.asyncio.Redis(port=port, db=db, decode_responses=True)
    await client.flushdb()
    try:
        yield client
    finally:
        await client.flushdb()
        await client.close(close_connection_pool=True)
