"""The console app with the inbox, served from a thread for sync browser tests, and how tests call it."""

from __future__ import annotations

import asyncio
import json
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis as redis_sync
from aiohttp import web

from bot.handoff.app import create_app
from bot.handoff.config import HandoffConfig
from bot.inbox.config import InboxConfig
from bot.inbox.web import setup_inbox

CONSOLE_DB = 9  # this package's own database on the shared test Redis
PASSWORDS = {"ella": "ella-editor-pw", "sam": "sam-agent-pw"}


class ConsoleServer(threading.Thread):
    """The real console app (`create_app` + `setup_inbox`) in its own loop; `stop()` runs its cleanups."""

    def __init__(self, config: HandoffConfig, inbox: InboxConfig) -> None:
        super().__init__(daemon=True)
        self.config, self.inbox = config, inbox
        self.loop = asyncio.new_event_loop()
        self.stopped = threading.Event()
        self.app: web.Application | None = None

    def run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.app = create_app(self.config)
        setup_inbox(self.app, self.inbox)  # a no-op when create_app already mounted it (from CONTENT_DIR)
        runner = web.AppRunner(self.app)
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


@dataclass
class Console:
    url: str
    redis_url: str
    project: Path
    tokens: dict[str, str]

    @property
    def content_dir(self) -> Path:
        return self.project / "data/content"

    def publish(self, *events: dict[str, Any]) -> None:
        client = redis_sync.Redis.from_url(self.redis_url)
        for event in events:
            client.xadd("civic:events", {"event": json.dumps(event)})
        client.close()

    def api(self, method: str, path: str, body: Any = None, who: str = "ella") -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        headers = {"Authorization": f"Bearer {self.tokens[who]}", "Content-Type": "application/json"}
        request = urllib.request.Request(self.url + path, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")

    def wait_for_groups(self, count: int) -> list[dict[str, Any]]:
        deadline = time.monotonic() + 15
        while True:
            groups = self.api("GET", "/api/inbox/groups")[1]["groups"]
            if len(groups) >= count or time.monotonic() > deadline:
                return groups
            time.sleep(0.1)
