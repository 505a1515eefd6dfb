"""The queue in a real Redis: atomic claims, exactly-once transcripts, positions and estimates."""

from __future__ import annotations

import asyncio
import time

import pytest
from handoff_support import queue_one
from redis.asyncio import Redis

from bot.handoff.config import QueuePace, load_pace
from bot.handoff.store import QueueStore


async def test_claim_is_atomic_under_concurrent_agents(store: QueueStore) -> None:
    for round_ in range(20):
        cid = f"race-{round_}"
        await queue_one(store, cid)
        dana, lee = await asyncio.gather(store.claim(cid, "Dana"), store.claim(cid, "Lee"))
        winners = [o for o in (dana, lee) if o.ok]
        losers = [o for o in (dana, lee) if not o.ok]
        assert len(winners) == 1 and len(losers) == 1
        entry = await store.get(cid)
        assert entry is not None and entry.status == "claimed"
        assert losers[0].result == "taken" and losers[0].holder == entry.agent


async def test_enqueue_twice_keeps_one_entry_and_its_place(store: QueueStore) -> None:
    await queue_one(store, "first")
    await queue_one(store, "second")
    assert (
        await store.enqueue(
            "first", channel="socketio", reason="frustration", summary={}, history=[], seeded_until=0
        )
        is False
    )
    assert [e.conversation_id for e in await store.queue()] == ["first", "second"]
    assert await store.position("second") == 2
    await store.claim("first", "Dana")
    assert await store.position("second") == 1


async def test_relayed_message_recorded_once_and_only_while_queued(store: QueueStore) -> None:
    assert not await store.record("nobody", "citizen", "hello", 10.0, dedupe="1-0")
    await queue_one(store, "c1", seeded_until=100.0)
    assert not await store.record("c1", "citizen", "already seeded", 99.0, dedupe="1-1", after_seed=True)
    assert await store.record("c1", "citizen", "<b>hi</b> & bye", 101.0, dedupe="1-2", after_seed=True)
    assert not await store.record("c1", "citizen", "<b>hi</b> & bye", 101.0, dedupe="1-2", after_seed=True)
    assert [m["text"] for m in await store.messages("c1")] == ["<b>hi</b> & bye"]


async def test_release_keeps_place_and_close_removes(store: QueueStore) -> None:
    await queue_one(store, "a")
    await queue_one(store, "b")
    await store.claim("a", "Dana")
    assert (await store.release("a", "Lee")).result == "taken"
    assert (await store.release("a", "Dana")).ok
    assert await store.position("a") == 1
    await store.claim("a", "Dana")
    assert (await store.close("a", "Dana")).ok
    assert [e.conversation_id for e in await store.queue()] == ["b"]
    closed = await store.get("a")
    assert closed is not None and closed.status == "closed" and closed.agent == "Dana"
    assert (await store.claim("a", "Lee")).result == "closed"


async def _queue_at(store: QueueStore, cid: str, at: float) -> None:
    await store.enqueue(cid, channel="x", reason="requested", summary={}, history=[], seeded_until=0, now=at)


async def test_the_estimate_is_the_measured_pace_of_recent_claims(redis: Redis) -> None:
    store = QueueStore(redis, pace=QueuePace(recent_chats=3, recent_hours=2, starting_pace_minutes=4))
    assert await store.wait_minutes(1, now=1000.0) == 4  # nothing measured yet: the starting pace
    assert await store.wait_minutes(3, now=1000.0) == 12
    # three chats queued at once; agents take them 2, 4 and 6 minutes in: one every 2 minutes
    for cid in ("a", "b", "c"):
        await _queue_at(store, cid, 1000.0)
    for minutes, cid in ((2, "a"), (4, "b"), (6, "c")):
        await store.claim(cid, "Dana", now=1000.0 + minutes * 60)
    assert await store.pace_seconds(now=1400.0) == 120.0
    assert await store.wait_minutes(1, now=1400.0) == 2
    assert await store.wait_minutes(3, now=1400.0) == 6
    # an idle hour with nobody waiting is not slowness: a chat taken 30 s after it came is fast
    await _queue_at(store, "d", 5000.0)
    await store.claim("d", "Lee", now=5030.0)
    assert await store.pace_seconds(now=5030.0) == (120 + 120 + 30) / 3  # the 3 most recent claims
    # claims older than `recent_hours` no longer count
    assert await store.pace_seconds(now=1360.0 + 2 * 3600 + 1) == 30.0
    assert await store.wait_minutes(1, now=20_000.0) == 4


async def test_an_abandoned_chat_stops_counting_until_the_citizen_writes_again(redis: Redis) -> None:
    store = QueueStore(redis, pace=QueuePace(abandoned_after_minutes=10, starting_pace_minutes=5))
    now = time.time()
    await _queue_at(store, "gone", now - 15 * 60)  # nothing from the citizen for 15 minutes
    await _queue_at(store, "here", now - 5 * 60)
    assert await store.waiting_count(now) == 1
    assert await store.position("here", now) == 1
    assert await store.position("gone", now) == 1  # their own place, had they stayed
    assert await store.wait_minutes(await store.position("here", now) or 0, now) == 5
    # still listed for agents, who may take it
    assert [e.conversation_id for e in await store.queue()] == ["gone", "here"]
    await store.record("gone", "citizen", "still there?", now, dedupe="1-0")
    assert await store.waiting_count(now) == 2
    assert await store.position("here", now) == 2


async def test_a_chat_taken_after_it_was_abandoned_does_not_count_in_the_pace(redis: Redis) -> None:
    store = QueueStore(redis, pace=QueuePace(abandoned_after_minutes=10, starting_pace_minutes=5))
    await _queue_at(store, "old", 1000.0)
    await store.claim("old", "Dana", now=1000.0 + 3 * 3600)
    assert await store.pace_seconds(now=1000.0 + 3 * 3600) == 300.0


async def test_leaving_closes_a_waiting_chat_but_never_one_an_agent_has(store: QueueStore) -> None:
    await queue_one(store, "a")
    await queue_one(store, "b")
    await queue_one(store, "c")
    assert await store.leave("a") is True
    assert await store.leave("a") is False
    entry = await store.get("a")
    assert entry is not None and (entry.status, entry.closed_how) == ("closed", "left")
    assert [e.conversation_id for e in await store.queue()] == ["b", "c"]
    assert await store.position("c") == 2
    await store.claim("b", "Dana")
    assert await store.leave("b") is False  # the agent's claim won
    assert (await store.get("b")).status == "claimed"  # type: ignore[union-attr]
    assert await store.leave("nobody") is False


async def test_ratings_per_agent_and_reason(store: QueueStore) -> None:
    await store.add_rating("c1", "Dana", "requested", 4, "")
    await store.add_rating("c2", "Dana", "frustration", 2, "slow")
    ratings = await store.ratings()
    assert ratings["agents"]["Dana"] == {"count": 2, "sum": 6, "average": 3.0}
    assert ratings["reasons"]["frustration"]["sum"] == 2


async def test_tickets_are_listed_and_a_second_message_appends(store: QueueStore) -> None:
    summary = {"reason": "requested"}
    await store.add_ticket("t1", channel="telegram", summary=summary, text="pothole", contact="a@b.example")
    await store.add_ticket("t1", channel="telegram", summary=summary, text="still there", contact="")
    [entry] = await store.queue()
    public = entry.public()
    assert public["status"] == "ticket"
    assert public["ticket"] == {"message": "pothole\n\nstill there", "contact": "a@b.example"}


def test_the_queue_settings_come_from_yaml_and_a_bad_value_is_named(tmp_path) -> None:
    assert load_pace(tmp_path) == QueuePace()  # no file: the defaults
    (tmp_path / "queue.yml").write_text("abandoned_after_minutes: 45\nrecent_chats: 5\n")
    assert load_pace(tmp_path) == QueuePace(recent_chats=5, abandoned_after_minutes=45)
    (tmp_path / "queue.yml").write_text("starting_pace_minutes: soon\n")
    with pytest.raises(ValueError, match="starting_pace_minutes must be a positive number"):
        load_pace(tmp_path)
