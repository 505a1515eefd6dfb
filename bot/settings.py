"""One frozen settings object filled from the environment: the only reader of env vars.

Every variable is documented in the README's configuration table. Secrets have
no defaults; where a local run needs one, the stack generates it per run.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from bot.channels.config import enabled_channels, set_channel_vars


def _int(env: dict[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be a whole number, got {raw!r}") from exc


def _origin(env: dict[str, str], name: str) -> str:
    """An http(s) origin without a trailing slash; a typo here would leave the web chat silently dead."""
    raw = env.get(name, "").strip().rstrip("/")
    if raw and (urlparse(raw).scheme not in ("http", "https") or not urlparse(raw).netloc):
        raise ValueError(f"{name} must be an http:// or https:// URL, got {raw!r}")
    return raw


def _float(env: dict[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be a number, got {raw!r}") from exc


@dataclass(frozen=True)
class RedisTarget:
    """Where Redis is, split the way Rasa's endpoints.yml wants it."""

    host: str
    port: int
    db: int = 0
    password: str = ""

    @classmethod
    def from_url(cls, url: str) -> RedisTarget:
        parsed = urlparse(url)
        if parsed.scheme not in ("redis", ""):
            raise ValueError(f"REDIS_URL must start with redis:// (got {parsed.scheme}://)")
        db_part = parsed.path.lstrip("/")
        return cls(
            host=parsed.hostname or "127.0.0.1",
            port=parsed.port or 6379,
            db=int(db_part) if db_part else 0,
            password=parsed.password or "",
        )

    @property
    def url(self) -> str:
        auth = f":{self.password}@" if self.password else ""
        return f"redis://{auth}{self.host}:{self.port}/{self.db}"


@dataclass(frozen=True)
class Settings:
    """Everything the processes of the stack are configured with."""

    redis_url: str = ""
    redis_port: int = 6379
    rasa_port: int = 5005
    action_port: int = 5055
    demo_agency_port: int = 8000
    demo_agency_api_key: str = ""
    rasa_token: str = ""
    conversation_expiry_seconds: int = 7 * 24 * 3600
    model_dir: Path = Path("models")
    var_dir: Path = Path("var")
    log_level: str = "INFO"
    # Human handoff console (bot/handoff): port, accounts file, staffed hours, inactivity rule.
    handoff_port: int = 8080
    handoff_agents_file: Path = Path("var/agents.yml")
    handoff_hours: str = ""  # "always": staffed around the clock (demos, tests); else the hours file
    handoff_hours_file: Path = Path("data/handoff/hours.yml")
    handoff_inactivity_minutes: float = 30.0
    # Messaging channels (bot/channels/config.py): the ones whose secrets are all set, and the
    # names (never the values) of the channel variables that are set; Rasa reads the values.
    channels: tuple[str, ...] = ()
    channel_vars: frozenset[str] = frozenset()
    # Where a citizen's browser reaches Rasa's socket.io (the web chat); empty: this machine's Rasa port.
    rasa_public_url: str = ""
    # Where the handoff console reaches Rasa's HTTP API; empty: this machine's Rasa port.
    rasa_url: str = ""
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def rasa_browser_url(self) -> str:
        """The Rasa origin the web chat page connects to (RASA_PUBLIC_URL, else 127.0.0.1:RASA_PORT)."""
        return self.rasa_public_url or f"http://127.0.0.1:{self.rasa_port}"

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        return cls(
            redis_url=env.get("REDIS_URL", "").strip(),
            redis_port=_int(env, "REDIS_PORT", 6379),
            rasa_port=_int(env, "RASA_PORT", 5005),
            action_port=_int(env, "ACTION_PORT", 5055),
            demo_agency_port=_int(env, "DEMO_AGENCY_PORT", 8000),
            demo_agency_api_key=env.get("DEMO_AGENCY_API_KEY", "").strip(),
            rasa_token=env.get("RASA_TOKEN", "").strip(),
            conversation_expiry_seconds=_int(env, "CONVERSATION_EXPIRY_SECONDS", 7 * 24 * 3600),
            model_dir=Path(env.get("MODEL_DIR", "models")),
            var_dir=Path(env.get("VAR_DIR", "var")),
            log_level=env.get("LOG_LEVEL", "INFO").upper(),
            handoff_port=_int(env, "HANDOFF_PORT", 8080),
            handoff_agents_file=Path(env.get("HANDOFF_AGENTS_FILE", "").strip() or "var/agents.yml"),
            handoff_hours=env.get("HANDOFF_HOURS", "").strip().lower(),
            handoff_hours_file=Path(env.get("HANDOFF_HOURS_FILE", "").strip() or "data/handoff/hours.yml"),
            handoff_inactivity_minutes=_float(env, "HANDOFF_INACTIVITY_MINUTES", 30.0),
            channels=enabled_channels(env),
            channel_vars=set_channel_vars(env),
            rasa_public_url=_origin(env, "RASA_PUBLIC_URL"),
            rasa_url=_origin(env, "RASA_URL"),
        )
