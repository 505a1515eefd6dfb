"""Whether online services (payments portal, permit portal, 311 app) are up (format: docs/agency-apis.md).

A status outside up/degraded/down fails the whole call: telling a citizen a
portal works when the agency meant something else is worse than "can't check".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import aiohttp

from bot.clients.errors import AgencyUnavailable, NotFound
from bot.clients.payload import Reader
from bot.clients.transport import DEFAULT_TIMEOUT, decode_json, expect_ok, send

API = "service_status"
STATUSES = ("up", "degraded", "down")


@dataclass(frozen=True)
class ServiceStatus:
    id: str
    name: str
    status: str
    note: str  # the incident note, "" when there is none
    updated: datetime | None
    url: str = ""
    aliases: tuple[str, ...] = ()

    def matches(self, name: str) -> bool:
        wanted = " ".join(name.lower().split())
        return wanted in {self.id.lower(), self.name.lower(), *(a.lower() for a in self.aliases)}


def parse_status(reader: Reader, feed_updated: datetime | None) -> ServiceStatus:
    status = reader.text("status", required=True).lower()
    if status not in STATUSES:
        raise AgencyUnavailable(API, f"unexpected shape: {reader.what}.status is not up, degraded or down")
    return ServiceStatus(
        id=reader.text("id", required=True),
        name=reader.text("name", required=True),
        status=status,
        note=reader.text("note"),
        updated=reader.when("updated") or feed_updated,
        url=reader.text("url"),
        aliases=tuple(str(a) for a in reader.items("aliases")),
    )


def parse_statuses(body: object) -> list[ServiceStatus]:
    feed = Reader(API, body, "feed")
    updated = feed.when("updated")
    return [
        parse_status(Reader(API, item, f"services[{i}]"), updated)
        for i, item in enumerate(feed.items("services", required=True))
    ]


class ServiceStatusClient:
    """GET `{base_url}/status.json`."""

    def __init__(
        self, session: aiohttp.ClientSession, base_url: str, *, timeout: float = DEFAULT_TIMEOUT
    ) -> None:
        self.session = session
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    async def statuses(self) -> list[ServiceStatus]:
        response = await send(
            self.session, "GET", f"{self.base_url}/status.json", api=API, timeout=self.timeout
        )
        expect_ok(API, response)
        return parse_statuses(decode_json(API, response.body))

    async def status(self, name: str) -> ServiceStatus:
        """One service by id, name or alias ("payments", "Payments portal"); NotFound otherwise."""
        found = [s for s in await self.statuses() if s.matches(name)]
        if not found:
            raise NotFound(API, "no online service by that name")
        return found[0]
