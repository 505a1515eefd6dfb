"""The console shell's configuration, built from `bot.settings.Settings` (the only reader of env vars)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.settings import Settings


@dataclass(frozen=True)
class ConsoleConfig:
    """What the shell needs: Redis (sessions, sign-in limits), the accounts file and its port."""

    redis_url: str
    agents_file: Path = Path("var/agents.yml")
    port: int = 8080

    @classmethod
    def from_settings(cls, settings: Settings) -> ConsoleConfig:
        return cls(
            redis_url=settings.redis.url,
            agents_file=settings.handoff.agents_file,
            port=settings.handoff.port,
        )
