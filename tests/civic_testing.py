"""Test helpers shared by the end-to-end tests (imported as `civic_testing`).

Not named `tests.*`: a wheel in the venv ships a top-level `tests` package.
"""

from __future__ import annotations

import json
import os
import secrets
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from bot.settings import Settings
from bot.stack import free_port

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
        rasa_token=secrets.token_urlsafe(16),
        var_dir=var_dir,
        log_level="WARNING",
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
