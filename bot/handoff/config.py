"""The handoff's configuration, built from `bot.settings.Settings` (the only reader of env vars)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.settings import Settings

DATA_DIR = Path("data/handoff")


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
        )
