"""One "replica" for test_replica_writes.py: turns of one conversation, each under the lock.

Run as a separate process (`python replica_worker.py PORT CONVERSATION NAME TURNS`): it waits for
the test's go signal in Redis, then runs its turns the way Rasa's processor does (lock, retrieve,
add the turn's events, save; the tracker store publishes them to the event stream).
"""

from __future__ import annotations

import asyncio
import sys

from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from redis.asyncio import Redis

from bot.events.broker import RedisStreamBroker
from bot.lock_store import CivicRedisLockStore
from bot.tracker_store import CivicRedisTrackerStore

GO = "test:go"  # a list the test pushes one item per worker onto


async def main(port: int, conversation: str, name: str, turns: int) -> None:
    broker = RedisStreamBroker(Redis(port=port))
    store = CivicRedisTrackerStore(
        Domain.empty(), host="127.0.0.1", port=port, key_prefix="civic", event_broker=broker
    )
    lock = CivicRedisLockStore(client=Redis(port=port), key_prefix="civic")
    await store.client.blpop([GO], timeout=60)  # both start together
    for i in range(turns):
        async with lock.lock(conversation):
            tracker = await store.retrieve(conversation) or store.init_tracker(conversation)
            tracker.update(UserUttered(f"{name} {i}", {"name": "greet", "confidence": 1.0}))
            await asyncio.sleep(0.002)  # the turn's work, during which the other replica's turn waits
            tracker.update(BotUttered(f"answer to {name} {i}"))
            tracker.update(ActionExecuted("action_listen"))
            await store.save(tracker)
    await broker.flush()
    await broker.close()
    await lock.close()
    await store.close()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])))
