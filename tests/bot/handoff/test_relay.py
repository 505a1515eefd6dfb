"""Rasa's events through the broker's stream into the queue: in order, once, across console restarts."""

from __future__ import annotations

import asyncio
import json
import time

from handoff_support import queue_one
from polling_support import wait_until_async
from redis.asyncio import Redis
from redis.exceptions import ResponseError

from bot.background import Background
from bot.events import STREAM
from bot.events.broker import RETRY_SECONDS, RedisStreamBroker
from bot.handoff.relay import CONSUMER, GROUP, consume_events
from bot.handoff.store import QueueStore

BLOCK_MS = 100  # the relays here block this long per read of the stream
RELAY_RETRY_SECONDS = 1.0  # consume_events' pause after a Redis error (e.g. a lost consumer group)
# Until a relay has read and acknowledged what the stream holds (a dozen entries): milliseconds of
# work plus a blocked read; 50 reads' worth is the margin for two cores busy with the rest of the suite.
CATCH_UP_SECONDS = 50 * BLOCK_MS / 1000
# After Redis lost the group: the failed read, the pause, a new group and a read, three times over.
RECOVER_SECONDS = 3 * (RELAY_RETRY_SECONDS + CATCH_UP_SECONDS)
CONNECT_TIMEOUT = 0.2  # the broker's connect timeout when nothing listens


def user(cid: str, text: str, ts: float) -> dict:
    return {"sender_id": cid, "event": "user", "text": text, "timestamp": ts, "input_channel": "socketio"}


async def group_state(redis: Redis) -> dict[str, str]:
    """The relay group's last delivered id and pending count, and the stream's last id; {} if no group."""
    try:
        groups = {g["name"]: g for g in await redis.xinfo_groups(STREAM)}
    except ResponseError:  # no stream yet
        return {}
    if GROUP not in groups:
        return {}
    last = await redis.xrevrange(STREAM, count=1)
    return {
        "delivered": groups[GROUP]["last-delivered-id"],
        "pending": str(groups[GROUP]["pending"]),
        "last": last[0][0] if last else "0-0",
    }


async def caught_up(redis: Redis) -> bool:
    """True once the relay's group was handed the stream's last entry and acknowledged every entry."""
    state = await group_state(redis)
    return bool(state) and state["delivered"] == state["last"] and state["pending"] == "0"


async def run_relay(redis: Redis, store: QueueStore) -> None:
    """One console lifetime: consume until the relay has caught up with the stream, then stop (as a
    restart would). Fails if it has not caught up within CATCH_UP_SECONDS."""
    background = Background()
    background.start(consume_events(redis, store, background, block_ms=BLOCK_MS), "handoff relay")
    try:
        await wait_until_async(
            lambda: caught_up(redis),
            CATCH_UP_SECONDS,
            "the relay did not read and acknowledge the whole stream",
        )
    finally:
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
    broker = RedisStreamBroker(Redis(port=1, socket_connect_timeout=CONNECT_TIMEOUT))  # nothing on port 1
    broker.publish(user("c1", "hello", 1.0))  # must not raise
    # The writer's first XADD fails within the connect timeout (then it waits RETRY_SECONDS to retry);
    # three rounds of that is the margin.
    await wait_until_async(
        lambda: broker._failing, 3 * (CONNECT_TIMEOUT + RETRY_SECONDS), "the broker never tried to write"
    )
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
    background.start(consume_events(redis, store, background, block_ms=BLOCK_MS), "handoff relay")
    try:
        # the relay is reading: its group exists (it made it) and was handed all there is
        await wait_until_async(lambda: caught_up(redis), CATCH_UP_SECONDS, "the relay did not start reading")
        await redis.flushdb()  # a Redis restarted without its data: the group is gone
        await queue_one(store, "c1", seeded_until=0.0)
        await redis.xadd(STREAM, {"event": json.dumps(user("c1", "still there?", time.time()))})
        recorded = await wait_until_async(
            lambda: store.messages("c1"),
            RECOVER_SECONDS,
            "the relay recorded nothing after the group was lost",
        )
        assert [m["text"] for m in recorded] == ["still there?"]
    finally:
        await background.stop()


async def test_what_a_dead_console_left_pending_is_relayed_by_the_next(
    redis: Redis, store: QueueStore
) -> None:
    """Two consoles never share a consumer name; entries a killed one had read but not acknowledged
    are claimed by a live one once idle (here after 0.2 s instead of a minute)."""
    await queue_one(store, "c1")
    now = time.time()
    await redis.xgroup_create(STREAM, GROUP, id="0", mkstream=True)
    for i in range(3):
        await redis.xadd(STREAM, {"event": json.dumps(user("c1", f"left pending {i}", now + i))})
    # a console read them and was killed before acknowledging (another process: another name)
    read = await redis.xreadgroup(GROUP, "console-deadhost-1-abc123", {STREAM: ">"})
    assert len(read[0][1]) == 3 and CONSUMER != "console-deadhost-1-abc123"
    await asyncio.sleep(0.3)
    background = Background()
    background.start(consume_events(redis, store, background, block_ms=BLOCK_MS, claim_idle_ms=200), "relay")
    try:
        await wait_until_async(
            lambda: caught_up(redis), CATCH_UP_SECONDS, "the pending entries were not claimed"
        )
    finally:
        await background.stop()
    said = [m["text"] for m in await store.messages("c1") if m["sender"] == "citizen"]
    assert said == [f"left pending {i}" for i in range(3)]
