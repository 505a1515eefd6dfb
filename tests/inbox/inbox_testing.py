"""How the inbox tests reach the console they serve (`conftest.py`): its pages, JSON API and event stream."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis as redis_sync
from inbox_events import RECORD_SECONDS
from polling import wait_until

CONSOLE_DB = 9  # this package's own database on the shared test Redis
PASSWORDS = {"ella": "ella-editor-pw", "sam": "sam-agent-pw"}


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
        """The inbox's groups once there are at least `count` (>= 1); fails after RECORD_SECONDS."""
        seen: list[dict[str, Any]] = []

        def enough() -> list[dict[str, Any]] | None:
            seen[:] = self.api("GET", "/api/inbox/groups")[1]["groups"]
            return list(seen) if len(seen) >= count else None

        return wait_until(enough, RECORD_SECONDS, lambda: f"expected {count} inbox groups, got {seen}")
