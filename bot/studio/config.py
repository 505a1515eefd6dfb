"""The content studio's configuration, built from `bot.settings.Settings`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.content.model import CONTENT_DIR
from bot.settings import Settings


@dataclass(frozen=True)
class StudioConfig:
    """Where the content and models live, who must agree, and how to reach Rasa and Redis.

    ``approvals``: people who must agree on a change to a rumor, crisis or ``sensitive`` entry, its
    author counting as one (CONTENT_APPROVALS). ``review_months``: the review period
    (CONTENT_REVIEW_MONTHS). ``rasa_url`` / ``rasa_token``: Rasa's HTTP API, for "Try it" and the
    running model's name. ``redis_url``: where a retrained model is published to the replicas.
    ``trains``: this console process runs the queued training jobs (CONTENT_TRAINING; off in a
    replica without the models directory, or in tests that only check that a job was queued).
    ``timezone``: the agency's (AGENCY_TIMEZONE), in which ``last_reviewed`` and an entry's
    ``valid_from`` / ``valid_until`` are days, as the NLG reads them.
    """

    content_dir: Path = CONTENT_DIR
    approvals: int = 2
    review_months: int = 12
    model_dir: Path = Path("models")
    rasa_url: str = ""
    rasa_token: str = ""
    redis_url: str = ""
    trains: bool = True
    timezone: str = "America/New_York"

    @property
    def root(self) -> Path:
        """The project directory the content dir belongs to (``<root>/data/content``)."""
        return self.content_dir.parent.parent

    @property
    def history_dir(self) -> Path:
        """Every published version of every entry, one JSON Lines file per entry (kept in git)."""
        return self.content_dir / "_history"

    @property
    def drafts_dir(self) -> Path:
        """Unpublished drafts, one JSON file per entry (shared by console replicas, not in git)."""
        return self.content_dir / "_studio_drafts"

    @classmethod
    def from_settings(cls, settings: Settings) -> StudioConfig:
        return cls(
            content_dir=settings.inbox.content_dir,
            approvals=settings.studio.approvals,
            review_months=settings.studio.review_months,
            model_dir=settings.rasa.model_dir,
            rasa_url=settings.rasa.api_url,
            rasa_token=settings.rasa.token,
            redis_url=settings.redis.url,
            trains=settings.studio.trains,
            timezone=settings.agency.timezone,
        )
