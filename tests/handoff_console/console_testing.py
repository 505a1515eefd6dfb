"""Helpers for the console tests (imported as `console_testing`, next to the tests)."""

from __future__ import annotations

import asyncio
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis as AsyncRedis

from bot.handoff.app import create_app
from bot.handoff.config import HandoffConfig
from bot.handoff.store import QueueStore
from bot.stack import free_port, http_ok

PASSWORDS = {"dana": "dana-secret-pw", "lee": "lee-secret-pw", "erin": "erin-secret-pw"}
REDIS_DB = 7  # this package's own database on the shared test Redis


@dataclass
class Console:
    url: str
    redis_url: str
    agents_file: Path

    def enqueue(self, conversation_id: str, **fields: Any) -> None:
        """Put a conversation in the queue the way `action_handoff` does (the core's store)."""

        async def run() -> None:
            client = AsyncRedis.from_url(self.redis_url, decode_responses=True)
            try:
                await QueueStore(client).enqueue(
                    conversation_id,
                    channel=fields.get("channel", "socketio"),
                    reason=fields.get("reason", "requested"),
                    summary=fields.get("summary", {"reason": "requested"}),
                    history=fields.get("history", []),
                    seeded_until=time.time(),
                )
            finally:
                await client.close()

        in_thread(run)

    def citizen_says(self, conversation_id: str, text: str) -> None:
        """A citizen message of a queued chat, recorded the way the relay records Rasa's user events."""

        async def run() -> None:
            client = AsyncRedis.from_url(self.redis_url, decode_responses=True)
            try:
                await QueueStore(client).record(conversation_id, "citizen", text, time.time())
            finally:
                await client.close()

        in_thread(run)


def in_thread(make: Any) -> Any:
    """Run a coroutine in a thread of its own: playwright's sync API owns this thread's loop."""
    result: list[Any] = []
    worker = threading.Thread(target=lambda: result.append(asyncio.run(make())))
    worker.start()
    worker.join(30)
    assert result, "the coroutine failed or timed out (see the thread's traceback above)"
    return result[0]


def with_editor_page(app: Any) -> Any:
    """An editor-only page built the way the later Inbox will be: `add_nav`, `require_role`, `render`."""
    from aiohttp import web

    from bot.handoff.pages import add_nav, add_template_dir, render, require_role

    templates = Path(tempfile.mkdtemp(prefix="editor-templates-"))
    (templates / "editors.html").write_text(
        '{% extends "base.html" %}{% block title %}Editors{% endblock %}'
        "{% block main %}<h1>Editors only</h1>{% endblock %}"
    )
    add_template_dir(app, templates)

    async def editor_page(request: web.Request) -> web.StreamResponse:
        await require_role(request, "editor")
        return render(request, "editors.html", {})

    app.router.add_get("/editors-only", editor_page)
    add_nav(app, "/editors-only", "Editors only", role="editor")
    return app


class _Server(threading.Thread):
    """The aiohttp app in its own event loop; `stop()` runs its cleanup contexts."""

    def __init__(self, config: HandoffConfig) -> None:
        super().__init__(daemon=True)
        self.config = config
        self.loop = asyncio.new_event_loop()
        self.stopped = threading.Event()

    def run(self) -> None:
        from aiohttp import web

        asyncio.set_event_loop(self.loop)
        runner = web.AppRunner(with_editor_page(create_app(self.config)))
        self.loop.run_until_complete(runner.setup())
        self.loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", self.config.port).start())
        try:
            self.loop.run_forever()
        finally:
            self.loop.run_until_complete(runner.cleanup())
            self.loop.close()
            self.stopped.set()

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.stopped.wait(15)


def console_config(redis_url: str, agents_file: Path) -> HandoffConfig:
    return HandoffConfig(
        redis_url=redis_url,
        rasa_url=f"http://127.0.0.1:{free_port()}",  # nothing listens: these tests never reach Rasa
        rasa_token="unused",
        agents_file=agents_file,
        port=free_port(),
        sweep_seconds=3600.0,
    )


@contextmanager
def serve(config: HandoffConfig) -> Iterator[str]:
    """A running console process-alike (own thread and loop); yields its base URL."""
    server = _Server(config)
    server.start()
    url = f"http://127.0.0.1:{config.port}"
    deadline = time.monotonic() + 30
    try:
        while not http_ok(f"{url}/health"):
            if time.monotonic() > deadline:
                pytest.fail("the console did not start")
            time.sleep(0.1)
        yield url
    finally:
        server.stop()


def sign_in(page: Any, url: str, name: str, password: str | None = None) -> None:
    page.goto(f"{url}/login")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Password").fill(PASSWORDS[name] if password is None else password)
    page.get_by_role("button", name="Sign in").click()
