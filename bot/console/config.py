"""The console shell's configuration, built from `bot.settings.Settings` (the only reader of env vars)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.settings import Settings

DAY = 24 * 3600


@dataclass(frozen=True)
class ConsoleConfig:
    """What the shell needs: Redis (sessions, sign-in limits, audit log), the accounts file, its port,
    and the security rules (durations in seconds, so tests can use short ones)."""

    redis_url: str
    agents_file: Path = Path("var/agents.yml")
    port: int = 8080
    public_url: str = ""  # the console's own origin; "" = the scheme and Host of each request
    trusted_proxies: tuple[str, ...] = ()  # addresses or networks whose X-Forwarded-* headers count
    session_idle_seconds: float = 30 * 60
    session_max_seconds: float = 12 * 3600
    login_max_failures: int = 5
    login_max_failures_per_address: int = 20
    login_lockout_seconds: int = 15 * 60
    audit_max_entries: int = 100_000
    audit_retention_seconds: float = 365 * DAY
    stack_status_file: Path | None = None  # var/stack-status.json when `python -m bot run` supervises
    metrics_token: str = ""  # reads /metrics (bot/metrics.py); "" turns it off

    @classmethod
    def from_settings(cls, settings: Settings) -> ConsoleConfig:
        console = settings.console
        return cls(
            redis_url=settings.redis.url,
            agents_file=settings.handoff.agents_file,
            port=settings.handoff.port,
            public_url=console.public_url,
            trusted_proxies=settings.security.trusted_proxies,
            metrics_token=settings.security.metrics_token,
            session_idle_seconds=console.session_idle_minutes * 60,
            session_max_seconds=console.session_max_hours * 3600,
            login_max_failures=console.login_max_failures,
            login_max_failures_per_address=console.login_max_failures_per_address,
            login_lockout_seconds=max(1, round(console.login_lockout_minutes * 60)),
            audit_max_entries=console.audit_max_entries,
            audit_retention_seconds=console.audit_retention_days * DAY,
            stack_status_file=settings.var_dir / "stack-status.json",
        )
