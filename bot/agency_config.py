"""Where the agency's live-lookup APIs are: built from `Settings` (docs/configuration.md).

Every URL is optional: unset, it points at the embedded demo agency
(`python -m bot.demo_agency`) on 127.0.0.1:DEMO_AGENCY_PORT with the demo's paths, so a fresh
checkout answers live questions with no configuration. The Open311 key defaults to the demo's
key only when Open311 itself is the demo.
"""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from bot.settings import Settings

DEMO_PATHS = {
    "open311": "/open311/v2",
    "geojson": "/alerts.geojson",
    "cap-atom": "/alerts.atom",
}
# The clients append these to their base URL; a configured URL that already ends so is trimmed.
ENDPOINT_FILES = {
    "facilities": "/facilities.json",
    "collection": "/collection.json",
    "service_status": "/status.json",
}


def _base_url(url: str, endpoint: str, demo: str) -> str:
    if not url:
        return demo
    url = url.rstrip("/")
    suffix = ENDPOINT_FILES[endpoint]
    return url[: -len(suffix)] if url.endswith(suffix) else url


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

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @classmethod
    def from_settings(cls, settings: Settings) -> AgencyConfig:
        agency, demo = settings.agency, settings.demo.url
        urls = (
            agency.open311_base_url,
            agency.alerts_url,
            agency.facilities_url,
            agency.collection_url,
            agency.service_status_url,
        )
        return cls(
            open311_base_url=(agency.open311_base_url or demo + DEMO_PATHS["open311"]).rstrip("/"),
            open311_api_key=agency.open311_api_key
            or (settings.demo.api_key if not agency.open311_base_url else ""),
            open311_jurisdiction_id=agency.open311_jurisdiction_id,
            alerts_url=agency.alerts_url or demo + DEMO_PATHS[agency.alerts_format],
            alerts_format=agency.alerts_format,
            facilities_url=_base_url(agency.facilities_url, "facilities", demo),
            collection_url=_base_url(agency.collection_url, "collection", demo),
            service_status_url=_base_url(agency.service_status_url, "service_status", demo),
            redis_url=settings.redis.url,
            timezone=agency.timezone,
            timeout_seconds=agency.timeout_seconds,
            uses_demo=not all(urls),
        )
