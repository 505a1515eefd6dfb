"""Alerts, facilities, collection and service status of the demo agency, through the real clients."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from bot.clients.alerts import AlertsClient
from bot.clients.collection import CollectionClient
from bot.clients.errors import NotFound
from bot.clients.facilities import FacilitiesClient
from bot.clients.service_status import ServiceStatusClient
from bot.opening_hours import hours_on, open_now

FEEDS = {"geojson": "/alerts.geojson", "cap-atom": "/alerts.atom"}


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


@pytest.fixture(params=list(FEEDS))
def alerts(request, session, demo):
    return AlertsClient(session, demo.base_url + FEEDS[request.param], format=request.param)


async def test_the_boil_water_notice_comes_before_the_heat_advisory(alerts, demo):
    active = await alerts.active(now=demo.clock.now)
    assert [(a.event, a.area, a.severity) for a in active] == [
        ("Boil Water Notice", "Downtown", "Severe"),
        ("Heat Advisory", "Eastside", "Moderate"),
    ]
    assert "rolling boil" in active[0].instruction
    assert "500 Oak Avenue" in active[1].instruction


async def test_the_expired_flood_watch_is_in_the_feed_but_never_returned(alerts, demo):
    assert "Flood Watch" in {a.event for a in await alerts.fetch()}
    assert "Flood Watch" not in {a.event for a in await alerts.active(now=demo.clock.now)}
    assert await alerts.active(now=demo.clock.now, area="Riverside") == []


async def test_alerts_by_area(alerts, demo):
    assert [a.event for a in await alerts.active(now=demo.clock.now, area="eastside")] == ["Heat Advisory"]
    assert [a.event for a in await alerts.active(now=demo.clock.now, area="Downtown")] == [
        "Boil Water Notice"
    ]


async def test_demo_alerts_stay_active_whenever_the_demo_runs(alerts, demo):
    demo.clock.now = utc(2031, 5, 1, 12, 0)
    assert len(await alerts.active(now=demo.clock.now)) == 2


async def test_the_geojson_feed_is_shaped_like_the_nws_api(session, demo):
    async with session.get(demo.base_url + "/alerts.geojson") as response:
        assert response.content_type == "application/geo+json"
        feed = await response.json(content_type=None)
    assert feed["type"] == "FeatureCollection" and "@context" in feed
    properties = feed["features"][0]["properties"]
    nws_keys = {"@id", "areaDesc", "sent", "effective", "onset", "expires", "ends", "status", "messageType"}
    nws_keys |= {"category", "severity", "certainty", "urgency", "event", "senderName", "headline"}
    nws_keys |= {"description", "instruction", "response", "geocode", "affectedZones", "parameters"}
    assert nws_keys <= set(properties)


@pytest.fixture
async def facilities(session, demo):
    return {f.id: f for f in await FacilitiesClient(session, demo.base_url).facilities()}


async def test_facilities_carry_the_published_harbor_city_facts(facilities):
    assert facilities["city-hall"].address == "100 Main Street"
    assert facilities["central-library"].address == "20 Elm Street"
    assert facilities["recycling-depot"].address == "2200 Industrial Way"
    assert facilities["impound-lot"].address == "45 Harbor Road"
    assert facilities["community-center"].address == "500 Oak Avenue"
    assert "aquatic-center" in facilities


async def test_city_hall_weekdays_830_to_1630_closed_on_holidays(facilities):
    city_hall = facilities["city-hall"]
    assert open_now(city_hall, utc(2026, 11, 25, 13, 30))  # Wednesday 08:30
    assert not open_now(city_hall, utc(2026, 11, 25, 21, 30))  # 16:30
    assert not open_now(city_hall, utc(2026, 11, 28, 15, 0))  # Saturday
    thanksgiving = hours_on(city_hall, date(2026, 11, 26))
    assert thanksgiving.closed and thanksgiving.note == "Thanksgiving Day"
    assert not open_now(city_hall, utc(2026, 11, 26, 15, 0))


async def test_the_impound_lot_is_open_at_2359_on_a_holiday(facilities):
    assert open_now(facilities["impound-lot"], utc(2026, 11, 27, 4, 59))  # Thanksgiving 23:59 EST
    assert open_now(facilities["impound-lot"], utc(2026, 12, 26, 4, 59))  # Christmas 23:59


async def test_the_recycling_depot_opens_saturdays_8_to_2(facilities):
    depot = facilities["recycling-depot"]
    assert open_now(depot, utc(2026, 11, 28, 13, 0))  # Saturday 08:00
    assert not open_now(depot, utc(2026, 11, 28, 19, 0))  # 14:00
    assert not open_now(depot, utc(2026, 11, 25, 15, 0))  # Wednesday


async def test_outdoor_pools_daily_11_to_7_from_june_15_to_august_31(session, demo):
    pools = await FacilitiesClient(session, demo.base_url).find("outdoor pool")
    assert len(pools) == 2
    for pool in pools:
        assert not open_now(pool, utc(2026, 6, 14, 16, 0))  # June 14, noon EDT
        assert open_now(pool, utc(2026, 6, 15, 15, 0))  # June 15, 11:00
        assert open_now(pool, utc(2026, 8, 31, 22, 59))  # August 31, 18:59
        assert not open_now(pool, utc(2026, 8, 31, 23, 0))  # 19:00
        assert not open_now(pool, utc(2026, 9, 1, 16, 0))
        assert open_now(pool, utc(2027, 7, 4, 16, 0))  # every year, holidays included


async def test_collection_for_12_elm_st_from_the_demo_clock(session, demo):
    demo.clock.now = utc(2026, 11, 30, 15, 0)  # Monday
    schedule = await CollectionClient(session, demo.base_url).schedule("12 elm st.")
    assert schedule.address == "12 Elm Street" and schedule.district == "Downtown"
    trash, recycling, yard = schedule.pickups
    assert (trash.stream, trash.day, trash.next_pickup) == ("trash", "tuesday", date(2026, 12, 1))
    assert recycling.next_pickups == (date(2026, 12, 1), date(2026, 12, 8), date(2026, 12, 15))
    assert yard.frequency == "weekly" and yard.next_pickups[0] == date(2026, 12, 2)  # first Wednesday
    assert yard.next_pickups[1] == date(2027, 1, 6)  # monthly from December
    assert schedule.note.startswith("Put carts at the curb")


async def test_collection_today_counts_in_harbor_city_time(session, demo):
    demo.clock.now = utc(2026, 12, 1, 4, 30)  # still Monday 23:30 in Harbor City, Tuesday in UTC
    schedule = await CollectionClient(session, demo.base_url).schedule("12 Elm Street, Harbor City")
    assert schedule.pickups[0].next_pickup == date(2026, 12, 1)
    demo.clock.now = utc(2026, 12, 2, 4, 30)  # Tuesday 23:30
    schedule = await CollectionClient(session, demo.base_url).schedule("12 Elm Street")
    assert schedule.pickups[0].next_pickup == date(2026, 12, 1)


async def test_every_other_week_recycling_across_a_53_week_year(session, demo):
    demo.clock.now = utc(2026, 12, 20, 15, 0)  # 2026 has an ISO week 53
    schedule = await CollectionClient(session, demo.base_url).schedule("88 Main St")
    recycling = schedule.pickup("recycling")
    assert recycling.frequency == "biweekly"
    assert recycling.next_pickups == (date(2026, 12, 21), date(2027, 1, 4), date(2027, 1, 18))
    assert schedule.pickup("trash").next_pickups[:2] == (date(2026, 12, 21), date(2026, 12, 28))
    assert schedule.pickup("yard_waste") is None


async def test_an_unknown_address_is_not_found(session, demo):
    with pytest.raises(NotFound):
        await CollectionClient(session, demo.base_url).schedule("1 Nowhere Road")
    async with session.get(demo.base_url + "/collection.json") as response:
        assert response.status == 400


async def test_online_service_status(session, demo):
    statuses = {s.id: s for s in await ServiceStatusClient(session, demo.base_url).statuses()}
    assert {"payments", "permits", "311-app"} <= set(statuses)
    assert statuses["payments"].status == "up"
    assert statuses["permits"].status == "degraded" and statuses["permits"].note
    assert {s.status for s in statuses.values()} == {"up", "degraded", "down"}
    assert all(s.updated < demo.clock.now for s in statuses.values())
