"""Where the agency's live-lookup APIs are, read from the environment (the only reader for this feature).

Every URL is optional: unset, it points at the embedded demo agency
(`python -m bot.demo_agency`) on 127.0.0.1:DEMO_AGENCY_PORT with the demo's
paths, so a fresh checkout answers live questions with no configuration.

| Variable | Default | Meaning |
|---|---|---|
| OPEN311_BASE_URL | demo `/open311/v2` | GeoReport v2 endpoint root |
| OPEN311_API_KEY | DEMO_AGENCY_API_KEY when the demo is used, else "" | sent on POST only |
| OPEN311_JURISDICTION_ID | "" | sent on every Open311 call when set |
| ALERTS_URL | demo `/alerts.geojson` (`/alerts.atom` for cap-atom) | full feed URL |
| ALERTS_FORMAT | geojson | `geojson` or `cap-atom` |
| FACILITIES_URL, COLLECTION_URL, SERVICE_STATUS_URL | demo root | base URL; the client appends |
|   |   | `/facilities.json` etc. (a full URL ending so is trimmed) |
| AGENCY_TIMEZONE | America/New_York | IANA zone for hours, dates and "as of" times |
| AGENCY_TIMEOUT_SECONDS | 3 | the longest a citizen waits for one lookup |
| DEMO_AGENCY_PORT | 8000 | where the demo agency listens |
| REDIS_URL, else REDIS_HOST/REDIS_PORT/REDIS_DB/REDIS_PASSWORD | 127.0.0.1:6379/0 | the lookup cache |
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.clients.alerts import FORMATS
from bot.settings import RedisTarget

DEMO_HOST = "127.0.0.1"
DEMO_PATHS = {
    "open311": "/open311/v2",
    "geojson": "/alerts.geojson",
    "cap-atom": "/alerts.atom",
}
# The clients append these to their base URL; a configured URL that already ends so is trimmed.
ENDPOINT_FILES = {
    "FACILITIES_URL": "/facilities.json",
    "COLLECTION_URL": "/collection.json",
    "SERVICE_STATUS_URL": "/status.json",
}


def _text(env: Mapping[str, str], name: str, default: str = "") -> str:
    return env.get(name, "").strip() or default


def _number(
    env: Mapping[str, str], name: str, default: float, *, whole: bool = False, zero: bool = False
) -> float:
    raw = _text(env, name)
    if not raw:
        return default
    try:
        value = int(raw) if whole else float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a{' whole' if whole else ''} number, got {raw!r}") from None
    if value < 0 or (value == 0 and not zero):
        raise ValueError(f"{name} must be {'zero or more' if zero else 'positive'}, got {raw!r}")
    return value


def _base_url(env: Mapping[str, str], name: str, demo: str) -> str:
    url = _text(env, name)
    if not url:
        return demo
    url = url.rstrip("/")
    suffix = ENDPOINT_FILES[name]
    return url[: -len(suffix)] if url.endswith(suffix) else url


def _redis_url(env: Mapping[str, str]) -> str:
    url = _text(env, "REDIS_URL")
    if url:
        return RedisTarget.from_url(url).url
    target = RedisTarget(
        host=_text(env, "REDIS_HOST", "127.0.0.1"),
        port=int(_number(env, "REDIS_PORT", 6379, whole=True)),
        db=int(_number(env, "REDIS_DB", 0, whole=True, zero=True)),
        password=_text(env, "REDIS_PASSWORD"),
    )
    return target.url


@dataclass(frozen=True)
class AgencyConfig:
    """Everything the lookup actions need to reach the agency and the cache."""

    open311_base_url: str
    alerts_url: str
    facilities_url: str
    collection_url: str
    service_status_url: str
    redis_url: str = "redis://127.0.0.1:6379/0"
    open311_api_key: str = ""
    open311_jurisdiction_id: str = ""
    alerts_format: str = "geojson"
    timezone: str = "America/New_York"
    timeout_seconds: float = 3.0
    uses_demo: bool = False  # at least one API is the demo agency (said once in the action server log)

    def __post_init__(self) -> None:
        if self.alerts_format not in FORMATS:
            raise ValueError(f"ALERTS_FORMAT must be one of {', '.join(FORMATS)}, got {self.alerts_format!r}")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"AGENCY_TIMEZONE {self.timezone!r} is not an IANA time zone") from None

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> AgencyConfig:
        env = dict(os.environ if env is None else env)
        port = int(_number(env, "DEMO_AGENCY_PORT", 8000, whole=True))
        demo = f"http://{DEMO_HOST}:{port}"
        alerts_format = _text(env, "ALERTS_FORMAT", "geojson").lower()
        open311_is_demo = not _text(env, "OPEN311_BASE_URL")
        urls = ("OPEN311_BASE_URL", "ALERTS_URL", *ENDPOINT_FILES)
        return cls(
            open311_base_url=_text(env, "OPEN311_BASE_URL", demo + DEMO_PATHS["open311"]).rstrip("/"),
            open311_api_key=_text(env, "OPEN311_API_KEY")
            or (_text(env, "DEMO_AGENCY_API_KEY") if open311_is_demo else ""),
            open311_jurisdiction_id=_text(env, "OPEN311_JURISDICTION_ID"),
            alerts_url=_text(env, "ALERTS_URL", demo + DEMO_PATHS.get(alerts_format, "")),
            alerts_format=alerts_format,
            facilities_url=_base_url(env, "FACILITIES_URL", demo),
            collection_url=_base_url(env, "COLLECTION_URL", demo),
            service_status_url=_base_url(env, "SERVICE_STATUS_URL", demo),
            redis_url=_redis_url(env),
            timezone=_text(env, "AGENCY_TIMEZONE", "America/New_York"),
            timeout_seconds=_number(env, "AGENCY_TIMEOUT_SECONDS", 3.0),
            uses_demo=any(not _text(env, name) for name in urls),
        )
