"""The console's configuration, derived from `bot.settings.Settings` (the only reader of env vars)."""

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
    def from_settings(cls, settings: Settings, redis_url: str | None = None) -> HandoffConfig:
        return cls(
            redis_url=redis_url or settings.redis_url or f"redis://127.0.0.1:{settings.redis_port}/0",
            rasa_url=settings.rasa_url or f"http://127.0.0.1:{settings.rasa_port}",
            rasa_token=settings.rasa_token,
            agents_file=settings.handoff_agents_file,
            hours_file=settings.handoff_hours_file,
            hours_always=settings.handoff_hours == "always",
            inactivity_minutes=settings.handoff_inactivity_minutes,
            port=settings.handoff_port,
        )
