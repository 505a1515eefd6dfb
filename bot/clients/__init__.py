"""Thin typed clients for the agency's live-lookup APIs, one module per API.

Each client takes an aiohttp `session` (one per process, opened by whoever runs
the client), a base URL and a `timeout` (3 s by default), returns frozen
dataclasses, and raises `AgencyUnavailable` (or its subclasses `NotFound` and
`Rejected`) for every failure. Formats: docs/agency-apis.md.

- `open311`: Open311 GeoReport v2 services, request status, new requests
- `alerts`: NWS-style GeoJSON or CAP 1.2 ATOM alert feeds
- `facilities`: facility hours, with pure `hours_on` / `open_now`
- `collection`: trash, recycling and yard-waste days by address
- `service_status`: whether online services are up
"""

from bot.clients.errors import AgencyUnavailable, NotFound, Rejected

__all__ = ["AgencyUnavailable", "NotFound", "Rejected"]
