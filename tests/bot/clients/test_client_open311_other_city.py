"""A second, minimal Open311 server (another city, other codes and ids, batch tokens).

Proves the client hard-wires nothing from Harbor City or the demo agency: it
follows whatever the server says, and a batch server's token resolves later.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from aiohttp import web

from bot.clients.errors import NotFound, Rejected
from bot.clients.open311 import Open311Client

JURISDICTION = "springfield.example"
API_KEY = "springfield-key"


class Springfield:
    """Queues requests and hands out tokens; a token gets its id once "processed"."""

    def __init__(self) -> None:
        self.requests: dict[str, dict[str, object]] = {
            "SPR-00042": {
                "service_request_id": "SPR-00042",
                "status": "closed",
                "status_notes": "Tree removed",
                "service_name": "Fallen tree",
                "service_code": "TREE",
                "requested_datetime": "2026-03-02T08:00:00-06:00",
                "updated_datetime": "2026-03-03T12:00:00-06:00",
                "address": "742 Evergreen Terrace",
                "lat": 39.78,
                "long": -89.65,
            }
        }
        self.tokens: dict[str, str | None] = {}
        self.base_url = ""

    def error(self, code: int, description: str) -> web.Response:
        return web.json_response([{"code": code, "description": description}], status=code)

    async def services(self, request: web.Request) -> web.Response:
        if request.query.get("jurisdiction_id") != JURISDICTION:
            return self.error(400, "jurisdiction_id is required")
        body = [
            {"service_code": "TREE", "service_name": "Fallen tree", "metadata": False, "type": "batch"},
            {"service_code": "SNOW", "service_name": "Unplowed street", "metadata": False, "type": "batch"},
        ]
        return web.json_response(body)

    async def create(self, request: web.Request) -> web.Response:
        form = await request.post()
        if form.get("api_key") != API_KEY:
            return self.error(403, "Invalid api_key")
        if form.get("service_code") not in ("TREE", "SNOW"):
            return self.error(404, "service_code not found")
        token = f"tok{len(self.tokens) + 1}"
        self.tokens[token] = None
        return web.json_response([{"token": token}], status=201)

    def process(self, token: str) -> str:
        request_id = f"SPR-{len(self.requests) + 42:05d}"
        self.requests[request_id] = {"service_request_id": request_id, "status": "open"}
        self.tokens[token] = request_id
        return request_id

    async def token(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        if token not in self.tokens:
            return self.error(404, "token not found")
        request_id = self.tokens[token]
        return web.json_response([{"service_request_id": request_id, "token": token}] if request_id else [])

    async def one(self, request: web.Request) -> web.Response:
        found = self.requests.get(request.match_info["id"])
        return web.json_response([found]) if found else self.error(404, "no such request")

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/api/v2/services.json", self.services)
        app.router.add_post("/api/v2/requests.json", self.create)
        app.router.add_get("/api/v2/tokens/{token}.json", self.token)
        app.router.add_get("/api/v2/requests/{id}.json", self.one)
        return app


@pytest.fixture
async def springfield(serve):
    city = Springfield()
    city.base_url = await serve(city.app()) + "/api/v2"
    return city


@pytest.fixture
def client(session, springfield):
    return Open311Client(
        session,
        springfield.base_url,
        api_key=API_KEY,
        jurisdiction_id=JURISDICTION,
        timezone="America/Chicago",
    )


async def test_services_come_from_the_server(client):
    services = await client.services()
    assert [(s.service_code, s.type) for s in services] == [("TREE", "batch"), ("SNOW", "batch")]


async def test_alphanumeric_ids_and_other_offsets_work(client):
    request = await client.request("SPR-00042")
    assert request.status == "closed" and request.address == "742 Evergreen Terrace"
    assert request.updated_datetime == datetime(2026, 3, 3, 18, 0, tzinfo=timezone.utc)


async def test_a_batch_server_returns_a_token_that_resolves_later(client, springfield):
    created = await client.create_request("SNOW", address_string="742 Evergreen Terrace", description="Deep")
    assert created.token == "tok1" and created.service_request_id is None
    assert await client.request_id_for_token(created.token) is None
    request_id = springfield.process(created.token)
    assert await client.request_id_for_token(created.token) == request_id
    assert (await client.request(request_id)).status == "open"


async def test_its_own_errors_surface(client, session, springfield):
    with pytest.raises(NotFound, match="service_code not found"):
        await client.create_request("PW-POT", lat=1.0, long=2.0, description="Harbor City code")
    wrong_key = Open311Client(session, springfield.base_url, api_key="nope", jurisdiction_id=JURISDICTION)
    with pytest.raises(Rejected, match="Invalid api_key"):
        await wrong_key.create_request("TREE", lat=1.0, long=2.0, description="x")
    with pytest.raises(NotFound, match="no such request"):
        await client.request("512077")
