"""Retention, each rule with a short duration: the event stream by age, waits, tickets, rating comments.

Real Redis and the real stores; the handoff service speaks to a stand-in for Rasa's HTTP API (a real
aiohttp server recording what it was asked), as the console's sweep does every 15 seconds.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from redis.asyncio import Redis
from server_support import serving
from stack_support import empty_redis_db

from bot.clients.rasa import RasaClient
from bot.events.broker import RedisStreamBroker
from bot.handoff.config import Retention
from bot.handoff.service import WAIT_EXPIRED, WAIT_EXPIRED_INTENT, WAITING_SLOT, HandoffService
from bot.handoff.store import QueueStore
from bot.settings import Settings

ROOT = Path(__file__).resolve().parents[3]
DB = 7
HOUR, DAY = 3600, 86400


@pytest.fixture
async def redis(redis_server: int) -> AsyncIterator[Redis]:
    async with empty_redis_db(redis_server, DB) as client:
        yield client


@pytest.fixture
async def rasa_calls() -> AsyncIterator[tuple[list[dict[str, Any]], str]]:
    """A stand-in for Rasa's HTTP API that records every call."""
    calls: list[dict[str, Any]] = []

    async def handle(request: web.Request) -> web.Response:
        calls.append({"path": request.path, "body": await request.json()})
        return web.json_response({"events": []})

    app = web.Application()
    app.router.add_post("/conversations/{cid}/tracker/events", handle)
    app.router.add_post("/conversations/{cid}/trigger_intent", handle)
    async with serving(app) as base:
        yield calls, base


def test_the_retention_settings_and_their_defaults() -> None:
    assert Retention.from_settings(Settings.from_env({})) == Retention(4.0, 90.0, 30.0, 30.0)
    env = {
        "EVENTS_RETENTION_DAYS": "7",
        "HANDOFF_WAIT_EXPIRY_HOURS": "0.5",
        "TICKET_RETENTION_DAYS": "60",
        "RATING_ID_RETENTION_DAYS": "14",
    }
    privacy = Settings.from_env(env).privacy
    assert (privacy.events_retention_days, privacy.handoff_wait_expiry_hours) == (7.0, 0.5)
    assert (privacy.ticket_retention_days, privacy.rating_id_retention_days) == (60.0, 14.0)


async def test_the_event_stream_keeps_no_event_past_the_retention_period(redis: Redis) -> None:
    now_ms = int(time.time() * 1000)
    for age_days in (40, 31, 2):  # what the broker wrote earlier, at those ages
        await redis.xadd(
            "civic:events", {"event": json.dumps({"age": age_days})}, id=f"{now_ms - age_days * DAY * 1000}-0"
        )
    broker = RedisStreamBroker(
        Redis(port=redis.connection_pool.connection_kwargs["port"], db=DB), retention_seconds=30 * DAY
    )
    broker.publish({"event": "user", "sender_id": "rest-new", "text": "hello"})
    await broker.flush()
    await broker.close()
    kept = [json.loads(fields["event"]) for _, fields in await redis.xrange("civic:events")]
    assert kept == [{"age": 2}, {"event": "user", "sender_id": "rest-new", "text": "hello"}]


async def test_a_wait_past_the_expiry_ends_and_the_citizen_is_offered_to_leave_a_message(
    redis: Redis, rasa_calls: tuple[list[dict[str, Any]], str]
) -> None:
    calls, rasa_url = rasa_calls
    store, now = QueueStore(redis), time.time()
    for cid, joined in (("web-long", now - 5 * HOUR), ("web-recent", now - 1 * HOUR)):
        await store.enqueue(
            cid, channel="socketio", reason="frustrated", summary={}, history=[], seeded_until=0, now=joined
        )
    async with aiohttp.ClientSession() as session:
        service = HandoffService(store, RasaClient(session, rasa_url, "token"), ROOT / "data/handoff",
                                 retention=Retention(wait_expiry_hours=4))  # fmt: skip
        await service.sweep(now)
    long, recent = await store.get("web-long"), await store.get("web-recent")
    assert long is not None and (long.status, long.closed_how) == ("closed", WAIT_EXPIRED)
    assert recent is not None and recent.status == "waiting"
    assert [e.conversation_id for e in await store.queue()] == ["web-recent"]
    assert await redis.get("handoff:pending_reason:web-long") == "frustrated"  # the ticket keeps the reason
    about_long = [c for c in calls if "/web-long/" in c["path"]]
    slots = [
        e for c in about_long if isinstance(c["body"], list) for e in c["body"] if e.get("event") == "slot"
    ]
    assert {"event": "slot", "name": WAITING_SLOT, "value": False} in [
        {k: e[k] for k in ("event", "name", "value")} for e in slots
    ]
    assert about_long[-1]["body"] == {"name": WAIT_EXPIRED_INTENT, "entities": {}}
    assert not [c for c in calls if "/web-recent/" in c["path"]]


async def test_tickets_are_removed_after_the_retention_period(redis: Redis) -> None:
    store, now = QueueStore(redis), time.time()
    await store.add_ticket(
        "sms-old",
        channel="twilio",
        summary={},
        text="my bin at 4 Tern Pl",
        contact="555-010-1111",
        now=now - 91 * DAY,
    )
    await store.add_ticket(
        "sms-new", channel="twilio", summary={}, text="streetlight", contact="", now=now - 89 * DAY
    )
    await store.enqueue(
        "web-waiting",
        channel="socketio",
        reason="requested",
        summary={},
        history=[],
        seeded_until=0,
        now=now - 100 * DAY,
    )
    assert await store.expire_tickets(now - 90 * DAY) == 1
    assert await store.get("sms-old") is None
    assert not await redis.exists("handoff:messages:sms-old")
    assert {e.conversation_id for e in await store.queue()} == {"sms-new", "web-waiting"}
    assert await store.expire_tickets(now - 90 * DAY) == 0


async def test_rating_comments_lose_the_conversation_id_after_the_retention_period(redis: Redis) -> None:
    store = QueueStore(redis)
    await store.add_rating("web-older", "dana", "requested", 2, comment="took too long")
    await asyncio.sleep(0.05)
    cutoff = time.time()
    await asyncio.sleep(0.05)
    await store.add_rating("web-newer", "dana", "requested", 5, comment="great")
    assert await store.deidentify_comments(cutoff) == 1
    comments = [json.loads(raw) for raw in await redis.lrange("handoff:rating:comments", 0, -1)]
    newer, older = comments
    assert "conversation_id" not in older and (older["rating"], older["comment"]) == (2, "took too long")
    assert newer["conversation_id"] == "web-newer"
    assert (await store.ratings())["agents"]["dana"]["count"] == 2  # the counts are kept
    assert await store.deidentify_comments(cutoff) == 0
