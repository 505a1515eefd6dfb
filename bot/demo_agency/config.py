"""How one demo agency instance is configured (the command line or a test fills it in)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class DemoConfig:
    """`api_key` guards Open311 POST, `admin_token` the /admin endpoints ("" turns them off).

    `clock` is injectable so tests can stand on a holiday or at 23:59 without waiting.
    """

    state_dir: Path
    api_key: str
    admin_token: str = ""
    jurisdiction_id: str = "harborcity.example"
    timezone: str = "America/New_York"
    clock: Callable[[], datetime] = field(default=utc_now)
