"""Trash, recycling and yard-waste days for an address (format: docs/agency-apis.md).

The agency matches the address (it knows its own street names); an address it
does not serve is NotFound, which the assistant answers differently from "the
schedule is down".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import aiohttp

from bot.clients.errors import AgencyUnavailable, NotFound
from bot.clients.payload import Reader
from bot.clients.transport import DEFAULT_TIMEOUT, decode_json, expect_ok, send

API = "collection"
STREAMS = ("trash", "recycling", "yard_waste")


@dataclass(frozen=True)
class Pickup:
    """One waste stream at one address: its day, how often, and the next dates."""

    stream: str
    day: str
    frequency: str
    next_pickups: tuple[date, ...]
    note: str = ""

    @property
    def next_pickup(self) -> date | None:
        return self.next_pickups[0] if self.next_pickups else None


@dataclass(frozen=True)
class CollectionSchedule:
    address: str  # as the agency spells it, so the citizen sees what was matched
    district: str
    pickups: tuple[Pickup, ...]
    note: str = ""

    def pickup(self, stream: str) -> Pickup | None:
        return next((p for p in self.pickups if p.stream == stream), None)


def parse_pickup(reader: Reader) -> Pickup:
    dates = []
    for raw in reader.items("next_pickups"):
        try:
            dates.append(date.fromisoformat(str(raw)))
        except ValueError:
            raise AgencyUnavailable(API, f"unexpected shape: {reader.what}.next_pickups") from None
    return Pickup(
        stream=reader.text("stream", required=True),
        day=reader.text("day").lower(),
        frequency=reader.text("frequency"),
        next_pickups=tuple(sorted(dates)),
        note=reader.text("note"),
    )


def parse_schedule(body: object) -> CollectionSchedule:
    reader = Reader(API, body, "schedule")
    return CollectionSchedule(
        address=reader.text("address", required=True),
        district=reader.text("district"),
        pickups=tuple(
            parse_pickup(Reader(API, p, f"pickups[{i}]"))
            for i, p in enumerate(reader.items("pickups", required=True))
        ),
        note=reader.text("note"),
    )


def _not_found(body: bytes) -> AgencyUnavailable:
    """NotFound only when the agency says so; a bare 404 more likely means a wrong base URL."""
    try:
        said = decode_json(API, body)
    except AgencyUnavailable:
        said = None
    if isinstance(said, dict) and said.get("error") == "not_found":
        return NotFound(API, "address not in the collection schedule")
    return AgencyUnavailable(API, "HTTP 404 without a not_found answer (wrong base URL?)")


class CollectionClient:
    """GET `{base_url}/collection.json?address=...`."""

    def __init__(
        self, session: aiohttp.ClientSession, base_url: str, *, timeout: float = DEFAULT_TIMEOUT
    ) -> None:
        self.session = session
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    async def schedule(self, address: str) -> CollectionSchedule:
        """The schedule for `address`; NotFound when the agency does not collect there."""
        if not address.strip():
            raise NotFound(API, "no address given")
        response = await send(
            self.session,
            "GET",
            f"{self.base_url}/collection.json",
            api=API,
            timeout=self.timeout,
            params={"address": address.strip()},
        )
        if response.status == 404:
            raise _not_found(response.body)
        expect_ok(API, response)
        return parse_schedule(decode_json(API, response.body))
