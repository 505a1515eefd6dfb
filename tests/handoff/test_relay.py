"""Rasa's events through the broker's stream into the queue: in order, once, across console restarts."""

from __future__ import annotations

import asyncio
import json
import time

from handoff_support import queue_one
from redis.asyncio import Redis

from bot.background import Background
from bot.events import STREAM
from bot.events.broker import RedisStreamBroker
from bot.handoff.relay import GROUP, consume_events
from bot.handoff.store import QueueStore


def user(cid: str, text: str, ts: float) -> dict:
    return {"sender_id": cid, "event": "user", "text": text, "timestamp": ts, "input_channel": "socketio"}


async def run_relay(redis: Redis, store: QueueStore, until: float = 0.5) -> None:
    """One console lifetime: consume for `until` seconds, then stop (as a restart would)."""
    background = Background()
    background.start(consume_events(redis, store, background, block_ms=100), "handoff relay")
    await asyncio.sleep(until)
    await background.stop()


async def test_broker_writes_every_event_in_order(redis_server: int, redis: Redis) -> None:
    broker = RedisStreamBroker(Redis(port=redis_server))
    for i in range(50):
        broker.publish(user("c1", f"m{i}", 1000.0 + i))
    await broker.flush()
    entries = await redis.xrange(STREAM)
    assert [json.loads(f["event"])["text"] for _, f in entries] == [f"m{i}" for i in range(50)]
    await broker.close()


async def test_broker_never_breaks_rasa_when_redis_is_down() -> None:
    broker = RedisStreamBroker(Redis(port=1, socket_connect_timeout=0.2))  # nothing listens on port 1
    broker.publish(user("c1", "hello", 1.0))  # must not raise
    await asyncio.sleep(0.3)
    assert len(broker._backlog) == 1  # kept for when Redis is back
    broker._writer.cancel()  # type: ignore[union-attr]


async def test_relay_records_queued_conversations_only_in_order_once_across_restarts(
    redis_server: int, redis: Redis, store: QueueStore
) -> None:
    now = time.time()
    await queue_one(store, "queued", seeded_until=now)
    broker = RedisStreamBroker(Redis(port=redis_server))
    broker.publish(user("queued", "seeded already", now - 1))
    broker.publish(user("other", "not in the queue", now + 1))
    for i in range(5):
        broker.publish(user("queued", f"first life {i}", now + 1 + i))
    await broker.flush()
    await run_relay(redis, store)
    for i in range(5):
        broker.publish(user("queued", f"while down {i}", now + 10 + i))
    await broker.flush()
    # simulate a crash after reading but before acknowledging: re-deliver everything to the group
    await redis.xgroup_setid(STREAM, GROUP, "0")
    await run_relay(redis, store)
    texts = [m["text"] for m in await store.messages("queued")]
    assert texts == [f"first life {i}" for i in range(5)] + [f"while down {i}" for i in range(5)]
    assert await store.messages("other") == []
    # the entries stay in the stream for other readers (the review inbox)
    assert await redis.xlen(STREAM) == 12
    await broker.close()


async def test_agent_messages_relayed_back_are_not_duplicated(redis: Redis, store: QueueStore) -> None:
    await queue_one(store, "c1")
    await store.claim("c1", "Dana")
    await store.record("c1", "agent", "hello", time.time(), dedupe="msg-1", agent="Dana")
    event = {
        "sender_id": "c1",
        "event": "bot",
        "text": "hello",
        "timestamp": time.time(),
        "metadata": {"handoff": {"id": "msg-1", "role": "agent", "agent": "Dana"}},
    }
    await redis.xadd(STREAM, {"event": json.dumps(event)})
    await run_relay(redis, store)
    assert [m["sender"] for m in await store.messages("c1")] == ["agent"]


async def test_the_relay_carries_on_after_redis_lost_its_consumer_group(
    redis_server: int, redis: Redis, store: QueueStore
) -> None:
    background = Background()
    background.start(consume_events(redis, store, background, block_ms=100), "handoff relay")
    try:
        await asyncio.sleep(0.3)
        await redis.flushdb()  # a Redis restarted without its data: the group is gone
        await queue_one(store, "c1", seeded_until=0.0)
        await redis.xadd(STREAM, {"event": json.dumps(user("c1", "still there?", time.time()))})
        for _ in range(100):
            if await store.messages("c1"):
                break
            await asyncio.sleep(0.05)
        assert [m["text"] for m in await store.messages("c1")] == ["still there?"]
    finally:
        await background.stop()
