"""Real servers for the live-lookup actions: Redis, the demo agency, another city's Open311, an action server.

Nothing of ours is mocked. The domain is the real one merged with the staged lookups domain;
Rasa's own NLG renders every reply, so a missing {placeholder} fails a test; Rasa's own
FormAction drives the forms through a real HTTP action endpoint. Helpers are in lookup_support.py.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import redis
import redis.asyncio as aioredis
from aiohttp import web
from aiohttp.test_utils import TestServer
from lookup_support import (
    ADMIN_TOKEN,
    API_KEY,
    DOMAIN_FILES,
    START,
    Clock,
    Conversation,
    Demo,
    OtherCity,
    agency_env,
)
from rasa.shared.core.domain import Domain
from rasa_sdk.executor import ActionExecutor
from rasa_sdk.interfaces import ActionExecutionRejection as SdkRejection

from actions.resources import Resources, close_resources, open_resources
from bot.agency_config import AgencyConfig
from bot.demo_agency import DATA_DIR, DemoConfig, create_app
from bot.settings import Settings


@pytest.fixture
def redis_url(redis_server: int) -> str:
    """The shared test Redis (tests/conftest.py), emptied for each test."""
    url = f"redis://127.0.0.1:{redis_server}/0"
    client = redis.Redis.from_url(url)
    client.flushdb()
    client.close()
    return url


# --- the demo agency and another city -------------------------------------------------------------


@pytest.fixture
def clock() -> Clock:
    return Clock(START)


@pytest.fixture
async def demo(tmp_path: Path, clock: Clock) -> AsyncIterator[Demo]:
    data_dir = tmp_path / "demo-data"
    shutil.copytree(DATA_DIR, data_dir)
    config = DemoConfig(
        state_dir=tmp_path / "demo-state", api_key=API_KEY, admin_token=ADMIN_TOKEN, clock=clock
    )
    app = create_app(data_dir, config)
    hits: list[tuple[str, str]] = []

    @web.middleware
    async def count(request: web.Request, handler: Any) -> web.StreamResponse:
        hits.append((request.method, request.path))
        return await handler(request)

    app.middlewares.append(count)
    server = TestServer(app)
    await server.start_server()
    running = Demo(str(server.make_url("")).rstrip("/"), clock, server, hits)
    yield running
    await server.close()


@pytest.fixture
async def other_city() -> AsyncIterator[OtherCity]:
    city = OtherCity()
    server = TestServer(city.app())
    await server.start_server()
    city.base_url = str(server.make_url("")).rstrip("/")
    yield city
    await server.close()


@pytest.fixture
def agency_config(demo: Demo, redis_url: str) -> AgencyConfig:
    return AgencyConfig.from_settings(Settings.from_env(agency_env(demo, redis_url)))


@pytest.fixture
async def lookups(agency_config: AgencyConfig, clock: Clock) -> AsyncIterator[Resources]:
    """This process's action-server resources, pointed at the demo agency and the test Redis."""
    resources = await open_resources(agency_config, clock=clock)
    yield resources
    await close_resources()


# --- the domain, trackers, rendering -----------------------------------------------------------------


@pytest.fixture(scope="session")
def domain() -> Domain:
    return Domain.load([str(p) for p in DOMAIN_FILES])


@pytest.fixture(scope="session")
def domain_dict(domain: Domain) -> dict[str, Any]:
    return domain.as_dict()


@pytest.fixture(scope="session")
def executor() -> ActionExecutor:
    registered = ActionExecutor()
    registered.register_package("actions")
    return registered


@pytest.fixture
async def action_endpoint(executor: ActionExecutor) -> AsyncIterator[str]:
    """/webhook like rasa_sdk's, on aiohttp, so Rasa's RemoteAction calls our actions over real HTTP."""

    async def webhook(request: web.Request) -> web.Response:
        try:
            result = await executor.run(await request.json())
        except SdkRejection as exc:
            return web.json_response({"error": exc.message, "action_name": exc.action_name}, status=400)
        return web.json_response(result)

    app = web.Application()
    app.router.add_post("/webhook", webhook)
    server = TestServer(app)
    await server.start_server()
    yield str(server.make_url("/webhook"))
    await server.close()


@pytest.fixture
def conversation(domain: Domain, action_endpoint: str, lookups: Resources) -> Conversation:
    return Conversation(domain, action_endpoint)


# --- a broadcast a citizen replies to (test_broadcast_reply.py, test_replies_language.py) ------


@pytest.fixture
def db9_url(redis_server: int) -> str:
    """Database 9 of the shared test Redis, for the broadcasts a citizen received."""
    return f"redis://127.0.0.1:{redis_server}/9"


@pytest.fixture
async def db9(db9_url: str) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(db9_url)
    await client.flushdb()
    yield client
    await client.close()


@pytest.fixture
async def feed_url() -> AsyncIterator[str]:
    """An alerts feed (GeoJSON) with a flood warning issued an hour before START, 8 hours to run."""

    async def serve(_: web.Request) -> web.Response:
        flood = {
            "id": "flood-9",
            "event": "Flood Warning",
            "headline": "Flood Warning for Riverside and Old Town",
            "severity": "Severe",
            "urgency": "Immediate",
            "areaDesc": "Riverside; Old Town",
            "sent": (START - timedelta(hours=1)).isoformat(),
            "effective": (START - timedelta(hours=1)).isoformat(),
            "expires": (START + timedelta(hours=8)).isoformat(),  # 6:00 pm in Harbor City
        }
        features = [{"id": "flood-9", "type": "Feature", "geometry": None, "properties": flood}]
        return web.json_response({"type": "FeatureCollection", "features": features})

    app = web.Application()
    app.router.add_get("/alerts.geojson", serve)
    server = TestServer(app)
    await server.start_server()
    yield str(server.make_url("/alerts.geojson"))
    await server.close()
