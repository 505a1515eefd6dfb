"""The lock store lets one turn of a conversation run at a time, on one replica or many.

Against a real Redis: turns are tasks that hold the lock (`async with store.lock(id)`) and record
when they run; two "replicas" are two lock stores with clients of their own on the same Redis.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from redis.asyncio import Redis
from stack_support import empty_redis_db

from bot.lock_store import CivicRedisLockStore
from bot.stack import free_port
from bot.tracker_store import StoreUnavailable

DB = 3


@pytest.fixture
async def redis(redis_server: int) -> AsyncIterator[Redis]:
    async with empty_redis_db(redis_server, DB) as client:
        yield client


def lock_store(redis_server: int, lifetime: float = 20.0) -> CivicRedisLockStore:
    """A replica's lock store: a client of its own."""
    return CivicRedisLockStore(
        client=Redis(port=redis_server, db=DB, socket_timeout=2), key_prefix="civic", lifetime=lifetime
    )


class Turns:
    """Records each turn's start and end, and how many ran at once."""

    def __init__(self) -> None:
        self.running = 0
        self.most_at_once = 0
        self.order: list[str] = []

    async def run(self, store: CivicRedisLockStore, conversation: str, name: str, seconds: float) -> None:
        async with store.lock(conversation):
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
            self.order.append(name)
            await asyncio.sleep(seconds)
            self.running -= 1


async def test_turns_of_one_conversation_never_overlap_and_keep_their_order(
    redis: Redis, redis_server: int
) -> None:
    store, turns = lock_store(redis_server), Turns()
    tasks = []
    for i in range(8):
        tasks.append(asyncio.create_task(turns.run(store, "rest-a", f"m{i}", 0.3)))
        # they arrive in this order: far enough apart that each has taken its place in the queue
        # (a new Redis connection per waiting turn) before the next, on a busy machine too
        await asyncio.sleep(0.1)
    await asyncio.gather(*tasks)
    assert turns.most_at_once == 1
    assert turns.order == [f"m{i}" for i in range(8)]
    assert not await redis.exists("civic:lock:rest-a")  # nothing left once the last turn ends
    await store.close()


async def test_two_replicas_never_run_one_conversations_turns_at_once(
    redis: Redis, redis_server: int
) -> None:
    replicas, turns = [lock_store(redis_server), lock_store(redis_server)], Turns()
    other = Turns()
    tasks = [turns.run(replicas[i % 2], "rest-b", f"m{i}", 0.01) for i in range(20)] + [
        other.run(replicas[i % 2], "rest-c", f"m{i}", 0.01) for i in range(20)
    ]
    started = time.monotonic()
    await asyncio.gather(*tasks)
    assert turns.most_at_once == 1 and other.most_at_once == 1
    assert sorted(turns.order) == sorted(f"m{i}" for i in range(20))
    # the two conversations ran side by side, and no waiter slept a whole second
    assert time.monotonic() - started < 2.0
    for store in replicas:
        await store.close()


async def test_tickets_are_issued_atomically_by_many_replicas(redis: Redis, redis_server: int) -> None:
    replicas = [lock_store(redis_server) for _ in range(4)]
    issued = await asyncio.gather(*(replicas[i % 4].enter("rest-d", f"t{i}") for i in range(200)))
    tickets = [ticket for ticket, _ in issued]
    assert sorted(tickets) == list(range(1, 201))
    assert sorted(ahead for _, ahead in issued) == list(range(200))  # one holder, a queue behind it
    # a call sent again (its answer was lost) gets the ticket it was issued, not a second one
    assert await replicas[1].enter("rest-d", "t7") == (issued[7][0], issued[7][0] - 1)
    for store in replicas:
        await store.close()


async def test_a_slow_turn_keeps_the_lock_past_its_lifetime(redis: Redis, redis_server: int) -> None:
    store, turns = lock_store(redis_server, lifetime=0.4), Turns()
    slow = asyncio.create_task(turns.run(store, "rest-e", "slow action", 1.5))
    await asyncio.sleep(0.05)
    await turns.run(lock_store(redis_server, lifetime=0.4), "rest-e", "next message", 0)
    await slow
    assert turns.order == ["slow action", "next message"] and turns.most_at_once == 1


async def test_a_lock_of_a_process_that_died_expires(redis: Redis, redis_server: int) -> None:
    dead = lock_store(redis_server, lifetime=0.5)
    await dead.enter("rest-f", "dead")  # holds the lock, then is never renewed nor released
    started = time.monotonic()
    async with lock_store(redis_server, lifetime=0.5).lock("rest-f"):
        waited = time.monotonic() - started
    assert 0.3 < waited < 2.0


async def test_a_waiting_message_is_woken_promptly(redis: Redis, redis_server: int) -> None:
    store, other_replica = lock_store(redis_server), lock_store(redis_server)
    released: dict[str, float] = {}

    async def hold(name: str, replica: CivicRedisLockStore) -> None:
        async with replica.lock("rest-g"):
            await asyncio.sleep(0.3)
        released[name] = time.monotonic()

    async def wait_then_note(replica: CivicRedisLockStore) -> float:
        async with replica.lock("rest-g"):
            return time.monotonic()

    holder = asyncio.create_task(hold("same", store))
    await asyncio.sleep(0.05)
    same_replica = await wait_then_note(store)
    await holder
    assert same_replica - released["same"] < 0.05  # woken by the release, not by a poll

    holder = asyncio.create_task(hold("other", store))
    await asyncio.sleep(0.05)
    across = await wait_then_note(other_replica)
    await holder
    assert across - released["other"] < 0.3  # polled with a backoff capped at 0.2 s, not Rasa's 1 s
    await store.close()
    await other_replica.close()


async def test_without_redis_a_turn_fails_closed(redis_server: int) -> None:
    store = CivicRedisLockStore(client=Redis(port=free_port(), socket_connect_timeout=1), key_prefix="civic")
    ran: list[Any] = []
    with pytest.raises(StoreUnavailable):
        async with store.lock("rest-h"):
            ran.append(True)
    assert not ran
