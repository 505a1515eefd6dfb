"""The queue in a real Redis: atomic claims, exactly-once transcripts, positions and estimates."""

from __future__ import annotations

import asyncio

from handoff_support import queue_one

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


async def test_wait_estimate_uses_recent_waits_and_agents_online(store: QueueStore) -> None:
    assert await store.wait_minutes(1) == 5  # nothing measured yet: five minutes a place
    await store.enqueue(
        "w", channel="x", reason="requested", summary={}, history=[], seeded_until=0, now=1000.0
    )
    await store.claim("w", "Dana", now=1000.0 + 600)  # waited ten minutes
    assert await store.wait_minutes(2, now=2000.0) == 20
    await store.mark_online("Dana", now=2000.0)
    await store.mark_online("Lee", now=2000.0)
    assert await store.wait_minutes(2, now=2000.0) == 10


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
