"""The console app with the inbox, served from a thread for sync browser tests, and how tests call it."""

from __future__ import annotations

import json
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


def console_app(config: HandoffConfig, inbox: InboxConfig) -> web.Application:
    """The real console app with the inbox on the given content (a no-op mount when create_app did it)."""
    app = create_app(config)
    setup_inbox(app, inbox)
    return app


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
