"""Helpers for the console's browser tests (imported as `console_support`): the console served by
`tests/bot/conftest.py`, used in `tests/bot/console/` and `tests/bot/handoff/test_pages.py`, and
signing in for `tests/e2e/test_handoff_story.py`."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from redis.asyncio import Redis as AsyncRedis
from stack_support import console_app, run_in_thread, serve_app

from bot.handoff.config import HandoffConfig
from bot.handoff.store import QueueStore

PASSWORDS = {"dana": "dana-secret-pw", "lee": "lee-secret-pw", "erin": "erin-secret-pw"}
REDIS_DB = 7  # the served console's own database on the shared test Redis
# A few Redis commands take milliseconds; the margin covers two cores busy with Rasa and the browser.
REDIS_CALLS_SECONDS = 30.0


@dataclass
class Console:
    url: str
    redis_url: str
    agents_file: Path

    def enqueue(self, conversation_id: str, **fields: Any) -> None:
        """Put a conversation in the queue the way `action_start_handoff` does (the core's store)."""

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
    """Run `make()`'s coroutine in a thread of its own (playwright's sync API owns this thread's loop).

    Returns its result, re-raises its error, fails if it still runs after REDIS_CALLS_SECONDS.
    """
    return run_in_thread(make, REDIS_CALLS_SECONDS, "a Redis call of the console test")


def with_editor_page(app: Any) -> Any:
    """An editor-only page built the way the later Inbox will be: `add_nav`, `require_role`, `render`."""
    from aiohttp import web

    from bot.console.layout import add_nav, add_template_dir, render, require_role

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


@contextmanager
def serve(config: HandoffConfig) -> Iterator[str]:
    """A running console process-alike (own thread and loop); yields its base URL."""
    with serve_app(lambda: with_editor_page(console_app(config)), config.port):
        yield f"http://127.0.0.1:{config.port}"


def sign_in(page: Any, url: str, name: str, password: str | None = None) -> None:
    page.goto(f"{url}/login")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Password").fill(PASSWORDS[name] if password is None else password)
    page.get_by_role("button", name="Sign in").click()


# --- the console with its security rules set by the test (tests/bot/console/) ----------------------

ROLES = {"dana": "agent", "lee": "agent", "erin": "editor"}
MakeConsole = Callable[..., Awaitable[Any]]  # tests/bot/console/conftest.py's `make_console` (-> TestClient)


@dataclass
class StandInRasa:
    """Stands in for Rasa's HTTP API (a third party to the console): accepts what the console sends."""

    calls: list[str] = field(default_factory=list)

    async def handle(self, request: Any) -> Any:
        from aiohttp import web

        self.calls.append(request.path)
        return web.json_response({"events": []})

    def app(self) -> Any:
        from aiohttp import web

        app = web.Application()
        app.router.add_post("/conversations/{cid}/tracker/events", self.handle)
        app.router.add_post("/conversations/{cid}/trigger_intent", self.handle)
        return app


def secured_console(
    redis_url: str, agents_file: Path, rasa_url: str, content_dir: Path | None = None, **rules: Any
) -> Any:
    """The real console app with `rules` (ConsoleConfig fields: session lengths, sign-in limits,
    trusted proxies, public URL, audit caps) instead of the production defaults."""
    from bot.console.app import create_app
    from bot.console.config import ConsoleConfig
    from bot.inbox.config import InboxConfig

    shell = ConsoleConfig(redis_url=redis_url, agents_file=agents_file, **rules)
    handoff = HandoffConfig(
        redis_url=redis_url,
        rasa_url=rasa_url,
        rasa_token="unused",
        agents_file=agents_file,
        data_dir=Path(__file__).resolve().parent.parent / "data/handoff",
        sweep_seconds=3600.0,
    )
    return create_app(shell, handoff, InboxConfig(content_dir=content_dir) if content_dir else InboxConfig())


async def api_sign_in(client: Any, name: str, password: str | None = None, **headers: str) -> Any:
    """``POST /api/login`` as a script would; the client keeps the session cookie it gets."""
    body = {"name": name, "password": PASSWORDS.get(name, "") if password is None else password}
    return await client.post("/api/login", json=body, headers=headers)


async def audit_actions(redis: AsyncRedis, action: str | None = None) -> list[dict[str, str]]:
    """The audit log's entries, oldest first (all of them, or those of one action)."""
    entries = [fields for _, fields in await redis.xrange("civic:audit")]
    return [e for e in entries if action is None or e["action"] == action]
