"""The alerts poller against a local NWS-style feed and a real Redis: what subscribers would get, once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis
from aiohttp import web
from server_support import serving

from bot.broadcasts.delivery import delivery_report
from bot.broadcasts.model import ALERT, SENDING, BroadcastStore
from bot.broadcasts.poller import AlertsPoller
from bot.settings import Settings
from bot.subscriptions.store import SubscriberStore

ROOT = Path(__file__).resolve().parents[3]
REDIS_DB = 9
NOW = datetime(2026, 11, 25, 15, 0, tzinfo=timezone.utc)


@pytest.fixture(autouse=True)
def at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # the catalog, the texts and the agency's facts are read from data/


@pytest.fixture
async def redis(redis_server: int) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(f"redis://127.0.0.1:{redis_server}/{REDIS_DB}")
    await client.flushdb()
    yield client
    await client.close()


class Feed:
    """An NWS-style alerts endpoint whose alerts (and whether it answers) the test sets."""

    def __init__(self) -> None:
        self.alerts: list[dict[str, Any]] = []
        self.down = False
        self.url = ""
        self.hits = 0
        self.tried_while_down = asyncio.Event()  # set once the feed refused a few polls

    async def serve(self, request: web.Request) -> web.Response:
        self.hits += 1
        if self.down:
            if self.hits >= 4:
                self.tried_while_down.set()
            return web.Response(status=503, text="maintenance")
        features = [
            {"id": f"https://alerts.example/{a['id']}", "type": "Feature", "geometry": None, "properties": a}
            for a in self.alerts
        ]
        body = {"type": "FeatureCollection", "features": features}
        return web.json_response(body, content_type="application/geo+json")


def alert(ident: str, **fields: Any) -> dict[str, Any]:
    properties = {
        "id": ident,
        "areaDesc": "Riverside; Old Town",
        "sent": (NOW - timedelta(hours=1)).isoformat(),
        "effective": (NOW - timedelta(hours=1)).isoformat(),
        "expires": (NOW + timedelta(hours=12)).isoformat(),
        "status": "Actual",
        "messageType": "Alert",
        "severity": "Severe",
        "urgency": "Immediate",
        "event": "Flood Warning",
        "headline": "Flood Warning for Riverside and Old Town",
        "description": "The Harbor River is over its banks.",
        "instruction": "Move to higher ground now.",
    }
    properties.update(fields)
    return properties


@pytest.fixture
async def feed() -> AsyncIterator[Feed]:
    served = Feed()
    app = web.Application()
    app.router.add_get("/alerts.geojson", served.serve)
    async with serving(app) as base:
        served.url = f"{base}/alerts.geojson"
        yield served


def settings_for(feed: Feed, **env: str) -> Settings:
    return Settings.from_env({"ALERTS_URL": feed.url, "ALERTS_FORMAT": "geojson", **env})


def poller(redis: aioredis.Redis, settings: Settings) -> AlertsPoller:
    return AlertsPoller(redis, settings, clock=NOW.timestamp)


async def subscribers(redis: aioredis.Redis) -> None:
    store = SubscriberStore(redis)
    await store.subscribe("twilio-riverside1", ["emergencies"], ["riverside"], "wording")
    await store.subscribe("telegram-oldtown1", ["emergencies"], ["old_town"], "wording")
    await store.subscribe("twilio-downtown1", ["emergencies"], ["downtown"], "wording")
    await store.subscribe("telegram-city1", ["emergencies"], ["all"], "wording")
    await store.subscribe("twilio-water1", ["water"], ["riverside"], "wording")


async def test_a_severe_alert_goes_to_the_emergencies_subscribers_of_its_districts_once(
    redis: aioredis.Redis, feed: Feed
) -> None:
    await subscribers(redis)
    feed.alerts = [alert("flood-1")]
    first = poller(redis, settings_for(feed))
    [sent] = await first.poll_once()
    assert sent.kind == ALERT and sent.status == SENDING and sent.topic == "emergencies"
    assert sent.areas == ("riverside", "old_town")
    assert sent.author == "alerts feed" and sent.alert_id == "flood-1" and sent.alert_version
    assert sent.text.startswith("Flood Warning for Riverside and Old Town\n")
    assert "Move to higher ground now." in sent.text
    assert "Area: Riverside; Old Town" in sent.text
    assert sent.link == "https://harborcity.example/alerts"  # no web page in the feed: the agency's
    assert sent.link in sent.text and sent.link in sent.sms_text()
    # Riverside, Old Town and the whole city's subscribers; not Downtown's, not water's.
    assert sent.audience["total"] == 3
    report = await delivery_report(redis, sent.id)
    assert report["counts"]["queued"] == 3
    assert (await BroadcastStore(redis).get(sent.id)) == sent

    assert await first.poll_once() == []
    restarted = poller(redis, settings_for(feed))  # a new process: only Redis remembers
    assert await restarted.poll_once() == []
    await first.close()
    await restarted.close()
    assert [b.id for b in await BroadcastStore(redis).newest()] == [sent.id]


async def test_two_pollers_at_once_relay_it_once(redis: aioredis.Redis, feed: Feed) -> None:
    feed.alerts = [alert("flood-2", areaDesc="Downtown")]
    pollers = [poller(redis, settings_for(feed)) for _ in range(4)]
    results = await asyncio.gather(*(p.poll_once() for p in pollers))
    assert sum(len(r) for r in results) == 1
    assert len(await BroadcastStore(redis).newest()) == 1
    for p in pollers:
        await p.close()


async def test_an_update_and_a_cancellation_say_so(redis: aioredis.Redis, feed: Feed) -> None:
    the_poller = poller(redis, settings_for(feed))
    feed.alerts = [alert("flood-3")]
    [first] = await the_poller.poll_once()
    assert not first.text.startswith(("Update", "Cancelled"))

    feed.alerts = [
        alert(
            "flood-3",
            messageType="Update",
            sent=NOW.isoformat(),
            headline="Flood Warning extended to Westside",
            areaDesc="Riverside; Old Town; Westside",
        )
    ]
    [update] = await the_poller.poll_once()
    assert update.id != first.id and update.alert_id == "flood-3"
    assert update.text.startswith("Update: Flood Warning extended to Westside")
    assert update.sms_text().startswith("Update: ")
    assert update.areas == ("westside", "riverside", "old_town")
    assert await the_poller.poll_once() == []

    # A cancellation is sent even when the feed rates it below the minimum: it follows the alert.
    feed.alerts = [
        alert("flood-3", messageType="Cancel", severity="Minor", headline="Flood Warning cancelled",
              instruction="")
    ]  # fmt: skip
    [cancel] = await the_poller.poll_once()
    assert cancel.text.startswith("Cancelled: Flood Warning cancelled")
    assert "\n\n" not in cancel.text  # the empty instruction's line is left out
    assert cancel.title == "Cancelled: Flood Warning"
    await the_poller.close()


async def test_expired_test_and_minor_alerts_are_never_sent(redis: aioredis.Redis, feed: Feed) -> None:
    feed.alerts = [
        alert("old", expires=(NOW - timedelta(minutes=1)).isoformat()),
        alert("drill", status="Exercise"),
        alert("heat", severity="Moderate"),
        alert("fog", severity="Minor"),
        alert("unknown", severity="Unknown"),
        # a cancellation of an alert never relayed, below the minimum: nobody heard of it
        alert("wind", messageType="Cancel", severity="Minor"),
    ]
    strict = poller(redis, settings_for(feed))
    assert await strict.poll_once() == []
    await strict.close()
    # ALERTS_BROADCAST_MIN_SEVERITY=moderate: the heat advisory goes out, the rest still does not.
    lenient = poller(redis, settings_for(feed, ALERTS_BROADCAST_MIN_SEVERITY="moderate"))
    assert [b.alert_id for b in await lenient.poll_once()] == ["heat"]
    await lenient.close()


async def test_an_area_that_names_no_district_goes_to_the_whole_city(
    redis: aioredis.Redis, feed: Feed
) -> None:
    await subscribers(redis)
    feed.alerts = [
        alert("storm", areaDesc="Bay County", web="https://weather.example/storm"),
        alert("tide", areaDesc="The Waterfront and East Side"),
    ]
    the_poller = poller(redis, settings_for(feed))
    sent = {b.alert_id: b for b in await the_poller.poll_once()}
    assert sent["storm"].areas == ("all",)
    assert sent["storm"].audience["total"] == 4  # every emergencies subscriber
    assert sent["storm"].link == "https://weather.example/storm"  # the alert's own page
    assert sent["tide"].areas == ("eastside", "harbor_district")  # the districts' other names
    await the_poller.close()


async def test_a_feed_that_is_down_is_tried_again_and_never_stops_the_loop(
    redis: aioredis.Redis, feed: Feed
) -> None:
    feed.alerts = [alert("flood-4")]
    feed.down = True
    settings = settings_for(feed)
    settings = replace(settings, broadcasts=replace(settings.broadcasts, alerts_poll_seconds=0.05))
    the_poller = poller(redis, settings)
    assert await the_poller.poll_once() == []

    stop = asyncio.Event()
    running = asyncio.create_task(the_poller.run(stop))
    await asyncio.wait_for(feed.tried_while_down.wait(), 5)
    assert not running.done()
    feed.down = False
    for _ in range(200):
        if await BroadcastStore(redis).newest():
            break
        await asyncio.sleep(0.02)
    stop.set()
    await asyncio.wait_for(running, 5)
    assert [b.alert_id for b in await BroadcastStore(redis).newest()] == ["flood-4"]
