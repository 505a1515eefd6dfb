"""The subscriber store on a real Redis: pairs, leaving a topic, STOP out of every audience, START, erase,
and the consent log with the words the citizen was shown."""

from __future__ import annotations

import redis.asyncio as aioredis

from bot.channels.store import ADDRESS_TTL, ChannelStore
from bot.settings import RedisAddress
from bot.subscriptions.catalog import ALL, load_catalog
from bot.subscriptions.store import ACTIVE, STOPPED, SubscriberStore

DB = 6  # the subscription tests' database (conftest.py)
CID = "twilio-" + "a" * 32
OTHER = "telegram-" + "b" * 32
WORDING = "Please confirm: Harbor City Alerts about Water for Downtown. Reply STOP to opt out."


def districts() -> list[str]:
    return [a.id for a in load_catalog().areas]


async def test_a_subscription_is_topic_area_pairs_and_its_consent_is_logged(db: aioredis.Redis) -> None:
    store = SubscriberStore(db, clock=lambda: 1000.0)
    subscriber = await store.subscribe(CID, ["water", "roads_snow"], ["downtown"], WORDING, via="socketio")
    assert subscriber.status == ACTIVE
    assert subscriber.pairs == ("water:downtown", "roads_snow:downtown")
    assert await store.audience("water", ["downtown"], districts()) == {CID}
    assert await store.audience("water", ["eastside"], districts()) == set()
    assert await store.audience("water", [ALL], districts()) == {CID}
    [consent] = await store.consent_log(CID)
    assert consent["action"] == "subscribe" and consent["channel"] == "twilio" and consent["at"] == 1000.0
    assert consent["topics"] == ["water", "roads_snow"] and consent["areas"] == ["downtown"]
    assert consent["wording"] == WORDING and consent["via"] == "socketio"


async def test_leaving_a_topic_keeps_the_others(db: aioredis.Redis) -> None:
    store = SubscriberStore(db)
    await store.subscribe(CID, ["water", "emergencies"], [ALL], WORDING)
    left = await store.unsubscribe(CID, ["water"])
    assert left is not None and left.topics() == ["emergencies"]
    assert await store.audience("water", [ALL], districts()) == set()
    assert await store.audience("emergencies", ["riverside"], districts()) == {CID}


async def test_stop_leaves_every_audience_and_start_restores(db: aioredis.Redis) -> None:
    store = SubscriberStore(db)
    await store.subscribe(CID, ["water"], ["downtown"], WORDING)
    await store.subscribe(OTHER, ["water"], [ALL], WORDING)
    stopped = await store.stop(CID, wording="You're unsubscribed", keyword="STOP")
    assert stopped.status == STOPPED
    assert await store.audience("water", ["downtown"], districts()) == {OTHER}
    assert (await store.audience_counts("water", [ALL], districts()))["twilio"] == 0
    restored = await store.start(CID, wording="Welcome back", keyword="START")
    assert restored is not None and restored.status == ACTIVE
    assert await store.audience("water", ["downtown"], districts()) == {CID, OTHER}
    actions = [(c["action"], c.get("keyword")) for c in await store.consent_log(CID)]
    assert actions == [("subscribe", None), ("stop", "STOP"), ("start", "START")]


async def test_stop_is_recorded_without_a_subscription(db: aioredis.Redis) -> None:
    store = SubscriberStore(db)
    await store.stop(CID, wording="You're unsubscribed", keyword="STOP")
    subscriber = await store.get(CID)
    assert subscriber is not None and subscriber.status == STOPPED
    # a later subscription in the chat is new consent: active again
    await store.subscribe(CID, ["water"], [ALL], WORDING)
    assert await store.audience("water", [ALL], districts()) == {CID}


async def test_erase_leaves_nothing(db: aioredis.Redis) -> None:
    store = SubscriberStore(db)
    await store.subscribe(CID, ["water"], ["downtown"], WORDING)
    assert await store.erase(CID) is True
    assert await store.get(CID) is None
    assert await store.consent_log(CID) == []
    assert [key async for key in db.scan_iter()] == []


async def test_a_subscriber_is_reachable_after_months_of_silence_and_forgotten_after_stop(
    db: aioredis.Redis,
) -> None:
    """The platform address of an active subscriber never expires (a new message keeps it so); once
    they stop, it expires like any conversation's."""
    port = db.connection_pool.connection_kwargs["port"]
    channel = ChannelStore(RedisAddress("127.0.0.1", port, DB), "twilio")
    address_key = channel.conversation_key("address", CID)
    await channel.remember_address(CID, "+15550104321", ADDRESS_TTL)
    assert 0 < await db.ttl(address_key) <= ADDRESS_TTL
    store = SubscriberStore(db)
    await store.subscribe(CID, ["water"], [ALL], WORDING)
    assert await db.ttl(address_key) == -1
    await channel.remember_address(CID, "+15550104321", ADDRESS_TTL)  # the citizen writes again
    assert await db.ttl(address_key) == -1 and await channel.address(CID) == "+15550104321"
    await store.stop(CID, wording="You're unsubscribed", keyword="STOP")
    assert 0 < await db.ttl(address_key) <= ADDRESS_TTL
    await channel.close()
