"""The review inbox's configuration, built from `bot.settings.Settings` (docs/content-and-inbox.md)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.content.model import CONTENT_DIR
from bot.events import STREAM
from bot.settings import Settings

GROUP = "inbox"
OUT_OF_SCOPE_FILE = Path("data/nlu/out_of_scope.staff.yml")
DRAFTS_FILE = "_drafts.yml"


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
    def from_settings(cls, settings: Settings) -> InboxConfig:
        inbox = settings.inbox
        return cls(
            content_dir=inbox.content_dir,
            retention_days=inbox.retention_days,
            confidence_threshold=inbox.confidence_threshold,
        )
