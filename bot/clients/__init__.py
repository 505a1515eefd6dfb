"""Thin typed clients for the agency's live-lookup APIs, one module per API.

Each client takes an aiohttp `session` (one per process, opened by whoever runs
the client), a base URL and a `timeout` (3 s by default), returns frozen
dataclasses, and raises `AgencyUnavailable` (or its subclasses `NotFound` and
`Rejected`, in `errors`) for every failure. Formats: docs/agency-apis.md.
Shared by all of them: `transport` (the HTTP call) and `payload` (typed JSON reading).

- `open311`: Open311 GeoReport v2 services, request status, new requests
- `alerts`: NWS-style GeoJSON or CAP 1.2 ATOM alert feeds
- `facilities`: facilities and their hours (what the hours mean: `bot.opening_hours`)
- `collection`: trash, recycling and yard-waste days by address
- `service_status`: whether online services are up

Besides them, `rasa` is the client for our own Rasa server's HTTP API (the console, model
reloads), with its own error type `RasaUnavailable`.
"""

from bot.clients.errors import AgencyUnavailable, NotFound, Rejected

__all__ = ["AgencyUnavailable", "NotFound", "Rejected"]
