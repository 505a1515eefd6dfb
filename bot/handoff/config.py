"""The handoff's configuration, built from `bot.settings.Settings` (the only reader of env vars)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.settings import Settings

DATA_DIR = Path("data/handoff")


@dataclass(frozen=True)
class QueuePace:
    """How the wait is estimated and when a waiting chat stops counting (data/handoff/queue.yml)."""

    recent_chats: int = 20
    recent_hours: float = 8.0
    starting_pace_minutes: float = 5.0
    abandoned_after_minutes: float = 30.0

    @property
    def abandoned_after(self) -> float:
        """Seconds without a word from the citizen after which a waiting chat stops counting."""
        return self.abandoned_after_minutes * 60


def load_pace(data_dir: Path = DATA_DIR) -> QueuePace:
    """`queue.yml` in `data_dir` (the defaults without it); ValueError naming the file for a bad value."""
    path = data_dir / "queue.yml"
    if not path.exists():
        return QueuePace()
    raw: Any = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: must be a mapping")
    values: dict[str, float] = {}
    for name, default in vars(QueuePace()).items():
        value = raw.get(name, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise ValueError(f"{path}: {name} must be a positive number, not {value!r}")
        values[name] = value
    return QueuePace(
        recent_chats=int(values["recent_chats"]),
        recent_hours=float(values["recent_hours"]),
        starting_pace_minutes=float(values["starting_pace_minutes"]),
        abandoned_after_minutes=float(values["abandoned_after_minutes"]),
    )


@dataclass(frozen=True)
class Retention:
    """How long a wait, a ticket, a rating's link to its conversation and the change events last
    (EVENTS_RETENTION_DAYS and friends, docs/privacy.md)."""

    wait_expiry_hours: float = 4.0
    ticket_days: float = 90.0
    rating_id_days: float = 30.0
    changes_days: float = 30.0

    @classmethod
    def from_settings(cls, settings: Settings) -> Retention:
        privacy = settings.privacy
        return cls(
            wait_expiry_hours=privacy.handoff_wait_expiry_hours,
            ticket_days=privacy.ticket_retention_days,
            rating_id_days=privacy.rating_id_retention_days,
            changes_days=privacy.events_retention_days,
        )


@dataclass(frozen=True)
class HandoffConfig:
    """What the console and the actions need: where Redis, Rasa and the data files are."""

    redis_url: str
    rasa_url: str
    rasa_token: str
    agents_file: Path = Path("var/agents.yml")
    hours_file: Path = DATA_DIR / "hours.yml"
    hours_always: bool = False
    inactivity_minutes: float = 30.0
    data_dir: Path = DATA_DIR
    port: int = 8080
    sweep_seconds: float = 15.0
    retention: Retention = Retention()

    @classmethod
    def from_settings(cls, settings: Settings) -> HandoffConfig:
        handoff = settings.handoff
        return cls(
            redis_url=settings.redis.url,
            rasa_url=settings.rasa.api_url,
            rasa_token=settings.rasa.token,
            agents_file=handoff.agents_file,
            hours_file=handoff.hours_file,
            hours_always=handoff.always_staffed,
            inactivity_minutes=handoff.inactivity_minutes,
            port=handoff.port,
            retention=Retention.from_settings(settings),
        )
