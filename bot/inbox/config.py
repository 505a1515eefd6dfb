"""Inbox configuration from the environment (see the README's "Review inbox and retraining").

``bot/settings.py`` is the project's reader of env vars; these few live here until the
lead folds them into ``Settings`` (the field names are the same).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from bot.content.model import CONTENT_DIR
from bot.events import STREAM

GROUP = "inbox"
OUT_OF_SCOPE_FILE = Path("data/nlu/out_of_scope.staff.yml")
DRAFTS_FILE = "_drafts.yml"


def _number(env: dict[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    try:
        return float(raw) if raw else default
    except ValueError as exc:
        raise ValueError(f"{name} must be a number, got {raw!r}") from exc


@dataclass(frozen=True)
class InboxConfig:
    """Where the content lives, how unsure counts as unsure, and how long messages are kept."""

    content_dir: Path = CONTENT_DIR
    retention_days: float = 30.0
    confidence_threshold: float = 0.6
    stream: str = STREAM
    group: str = GROUP
    consumer: str = "console"

    @property
    def root(self) -> Path:
        """The project directory the content dir belongs to (``<root>/data/content``)."""
        return self.content_dir.parent.parent

    @property
    def out_of_scope_file(self) -> Path:
        return self.root / OUT_OF_SCOPE_FILE

    @property
    def drafts_file(self) -> Path:
        return self.content_dir / DRAFTS_FILE

    @property
    def retention_seconds(self) -> int:
        return int(self.retention_days * 86400)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> InboxConfig:
        env = dict(os.environ if env is None else env)
        return cls(
            content_dir=Path(env.get("CONTENT_DIR", "").strip() or CONTENT_DIR),
            retention_days=_number(env, "INBOX_RETENTION_DAYS", 30.0),
            confidence_threshold=_number(env, "INBOX_CONFIDENCE_THRESHOLD", 0.6),
        )
