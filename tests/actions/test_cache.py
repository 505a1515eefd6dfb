"""The lookup cache on a real Redis: fresh, stale when the agency is down, typed round trips, hashed keys.

It tests bot/cache.py but stays here: it uses this folder's `redis_url` fixture and lookup_support's clock.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone

import pytest
import redis.asyncio as aioredis
from lookup_support import START, Clock

from bot.cache import LookupCache, cache_key, from_jsonable, to_jsonable
from bot.clients.alerts import Alert, parse_geojson
from bot.clients.collection import CollectionSchedule, parse_schedule
from bot.clients.errors import AgencyUnavailable, NotFound
from bot.clients.facilities import Facility, parse_facilities
from bot.clients.open311 import Service, ServiceRequest, parse_request, parse_service
from bot.clients.payload import Reader
from bot.clients.service_status import ServiceStatus, parse_statuses
from bot.demo_agency import DATA_DIR

FIXTURES = DATA_DIR.parents[2] / "tests" / "fixtures"


@pytest.fixture
async def client(redis_url):
    connection = aioredis.Redis.from_url(redis_url)
    yield connection
    await connection.close(close_connection_pool=True)


class Upstream:
    def __init__(self) -> None:
        self.calls = 0
        self.failure: Exception | None = None
        self.value = {"answer": 1}

    async def __call__(self):
        self.calls += 1
        if self.failure:
            raise self.failure
        return self.value


async def test_fresh_within_ttl_then_refetched(client):
    clock, upstream = Clock(START), Upstream()
    cache = LookupCache(client, clock=clock)
    assert tuple(await cache.get_or_fetch("k", upstream, 60, 600)) == ({"answer": 1}, False)
    clock.advance(seconds=59)
    upstream.value = {"answer": 2}
    assert tuple(await cache.get_or_fetch("k", upstream, 60, 600)) == ({"answer": 1}, False)
    assert upstream.calls == 1
    clock.advance(seconds=2)
    assert tuple(await cache.get_or_fetch("k", upstream, 60, 600)) == ({"answer": 2}, False)
    assert upstream.calls == 2


async def test_stale_copy_when_the_agency_is_down_and_labelled(client):
    clock, upstream = Clock(START), Upstream()
    cache = LookupCache(client, clock=clock)
    await cache.get_or_fetch("k", upstream, 60, 600)
    clock.advance(seconds=120)
    upstream.failure = AgencyUnavailable("alerts", "HTTP 503")
    result = await cache.get_or_fetch("k", upstream, 60, 600)
    assert (result.value, result.stale, result.fetched_at) == ({"answer": 1}, True, START)
    clock.advance(seconds=600)  # past ttl + stale_ttl
    with pytest.raises(AgencyUnavailable):
        await cache.get_or_fetch("k", upstream, 60, 600)


async def test_nothing_kept_means_the_failure_propagates_and_not_found_is_never_stale(client):
    clock, upstream = Clock(START), Upstream()
    cache = LookupCache(client, clock=clock)
    upstream.failure = AgencyUnavailable("alerts", "timed out after 3s")
    with pytest.raises(AgencyUnavailable):
        await cache.get_or_fetch("k", upstream, 60, 600)
    upstream.failure = None
    await cache.get_or_fetch("k", upstream, 60, 600)
    clock.advance(seconds=61)
    upstream.failure = NotFound("open311", "no such request")
    with pytest.raises(NotFound):
        await cache.get_or_fetch("k", upstream, 60, 600)


async def test_entries_expire_in_redis_after_ttl_plus_stale_ttl(client):
    cache = LookupCache(client, clock=Clock(START))
    await cache.get_or_fetch("k", Upstream(), 60, 600)
    assert 600 < await client.ttl("k") <= 660
    envelope = json.loads(await client.get("k"))
    assert envelope["value"] == {"answer": 1}


async def test_a_dead_redis_only_costs_the_caching():
    dead = aioredis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.5)
    upstream = Upstream()
    cache = LookupCache(dead, clock=Clock(START))
    assert tuple(await cache.get_or_fetch("k", upstream, 60, 600)) == ({"answer": 1}, False)
    upstream.failure = AgencyUnavailable("alerts", "HTTP 503")
    with pytest.raises(AgencyUnavailable):
        await cache.get_or_fetch("k", upstream, 60, 600)
    await dead.close(close_connection_pool=True)


def test_keys_hash_what_citizens_type():
    key = cache_key("collection", "12 Elm Street")
    assert key.startswith("civic:lookup:v1:collection:") and "elm" not in key.lower()
    assert key == cache_key("collection", "  12   elm STREET ")
    assert cache_key("alerts") == "civic:lookup:v1:alerts"


def roundtrip(kind, value):
    return from_jsonable(kind, json.loads(json.dumps(to_jsonable(value))))


def test_every_lookup_result_survives_json():
    facilities = parse_facilities(json.loads((DATA_DIR / "facilities.json").read_text()))
    assert roundtrip(list[Facility], facilities) == facilities
    alerts = parse_geojson((FIXTURES / "alerts" / "nws_alerts.geojson").read_bytes())
    assert roundtrip(list[Alert], alerts) == alerts
    schedule = parse_schedule(json.loads((FIXTURES / "collection" / "schedule_12_elm.json").read_text()))
    assert roundtrip(CollectionSchedule, schedule) == schedule
    assert isinstance(roundtrip(CollectionSchedule, schedule).pickups[0].next_pickups[0], date)
    statuses = parse_statuses(json.loads((FIXTURES / "service_status" / "status.json").read_text()))
    assert roundtrip(list[ServiceStatus], statuses) == statuses
    services = [
        parse_service(Reader("open311", s, "s")) for s in json.loads((DATA_DIR / "services.json").read_text())
    ]
    assert roundtrip(list[Service], services) == services
    raw = json.loads((FIXTURES / "open311" / "request_638344.json").read_text())[0]
    request = parse_request(Reader("open311", raw, "request"))
    back = roundtrip(ServiceRequest, request)
    assert back == request and back.updated_datetime == datetime(2010, 4, 14, 14, 37, 38, tzinfo=timezone.utc)
    assert back.requested_datetime.utcoffset() == timedelta(hours=-8)
