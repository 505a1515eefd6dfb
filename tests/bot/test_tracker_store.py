"""The Redis tracker store keeps, returns and publishes exactly what Rasa's own store does, and fails
closed where Rasa's fails open.

Both stores run side by side against the same real Redis (different key prefixes) through the
same conversation, saved turn by turn the way Rasa's processor does: retrieve, add events, save.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import redis
from rasa.core.agent import Agent
from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import RedisTrackerStore
from rasa.shared.core.constants import ACTION_LISTEN_NAME, ACTION_SESSION_START_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, Event, SessionStarted, SlotSet, UserUttered

from bot.stack import free_port
from bot.tracker_store import CivicRedisTrackerStore, StoreUnavailable, deserialise_events, last_session_start

DOMAIN = Domain.from_dict(
    {
        "intents": ["greet", "faq"],
        "slots": {"address": {"type": "text", "mappings": [{"type": "custom"}]}},
        "responses": {"utter_greet": [{"text": "Hi"}]},
    }
)


class RecordingBroker(EventBroker):
    """Keeps what the tracker store publishes."""

    def __init__(self) -> None:
        self.published: list[dict[str, Any]] = []

    def publish(self, event: dict[str, Any]) -> None:
        self.published.append(event)


def session(start: float, text: str, address: str | None) -> list[Event]:
    carried = [SlotSet("address", address, timestamp=start + 0.2)] if address else []
    return [
        ActionExecuted(ACTION_SESSION_START_NAME, timestamp=start),
        SessionStarted(timestamp=start + 0.1),
        *carried,
        ActionExecuted(ACTION_LISTEN_NAME, timestamp=start + 0.3),
        UserUttered(text, {"name": "greet", "confidence": 0.9}, timestamp=start + 1),
    ]


def turn(start: float, address: str) -> list[Event]:
    return [
        SlotSet("address", address, timestamp=start),
        BotUttered("Hi", timestamp=start + 0.1),
        ActionExecuted(ACTION_LISTEN_NAME, timestamp=start + 0.2),
        UserUttered("and bins?", {"name": "faq", "confidence": 0.8}, timestamp=start + 1),
    ]


# three sessions of two turns each; the second and third carry the address slot over
TURNS = [
    session(100, "hi", None), turn(110, "12 Elm St"),
    session(1000, "hello again", "12 Elm St"), turn(1010, "4 Oak Ave"),
    session(5000, "back", "4 Oak Ave"), turn(5010, "9 Pier Rd"),
]  # fmt: skip


@pytest.fixture
def stores(
    redis_server: int,
) -> tuple[RedisTrackerStore, RecordingBroker, RedisTrackerStore, RecordingBroker]:
    redis.Redis(port=redis_server).flushdb()
    ours, theirs = RecordingBroker(), RecordingBroker()
    options = {"domain": DOMAIN, "host": "127.0.0.1", "port": redis_server, "record_exp": 600}
    return (
        CivicRedisTrackerStore(event_broker=ours, key_prefix="ours", **options),
        ours,
        RedisTrackerStore(event_broker=theirs, key_prefix="rasa", **options),
        theirs,
    )


async def converse(store: RedisTrackerStore, sender: str) -> None:
    for events in TURNS:
        tracker = await store.retrieve(sender) or store.init_tracker(sender)
        for event in events:
            tracker.update(event)
        await store.save(tracker)


def dicts(events: Any) -> list[dict[str, Any]]:
    return [event.as_dict() for event in events]


async def test_same_stored_conversation_sessions_and_published_events(stores: Any) -> None:
    ours, our_broker, rasa, rasa_broker = stores
    await converse(ours, "citizen")
    await converse(rasa, "citizen")

    assert json.loads(await ours.client.get(ours.key_prefix + "citizen")) == json.loads(
        rasa.red.get(rasa.key_prefix + "citizen")
    )
    assert our_broker.published == rasa_broker.published
    assert len(our_broker.published) == sum(map(len, TURNS))

    latest, expected = await ours.retrieve("citizen"), await rasa.retrieve("citizen")
    assert dicts(latest.events) == dicts(expected.events)
    assert latest.events[0].action_name == ACTION_SESSION_START_NAME and len(latest.events) == 9
    assert latest.get_slot("address") == expected.get_slot("address") == "9 Pier Rd"

    full, expected_full = (
        await ours.retrieve_full_tracker("citizen"),
        await rasa.retrieve_full_tracker("citizen"),
    )
    assert dicts(full.events) == dicts(expected_full.events)
    assert await ours.client.ttl(ours.key_prefix + "citizen") > 500  # the configured expiry applies


async def test_a_save_after_the_conversation_changed_since_its_read_parses_what_is_stored(
    stores: Any, redis_server: int
) -> None:
    """The document a turn read is reused by its save only while the stored JSON is unchanged."""
    ours, _, rasa, _ = stores
    options = {"domain": DOMAIN, "host": "127.0.0.1", "port": redis_server, "record_exp": 600}
    other = CivicRedisTrackerStore(key_prefix="ours", **options)  # e.g. another replica
    await converse(ours, "citizen")
    await converse(rasa, "citizen")
    mine, theirs = await ours.retrieve("citizen"), await other.retrieve("citizen")
    expected = await rasa.retrieve("citizen")
    for tracker in (theirs, expected):
        tracker.update(BotUttered("from the other replica", timestamp=6000))
    await other.save(theirs)
    await rasa.save(expected)
    for tracker in (mine, expected):
        tracker.update(BotUttered("from this one", timestamp=6001))
    await ours.save(mine)  # what it read is stale: parsed again, merged as Rasa merges
    await rasa.save(expected)
    assert json.loads(await ours.client.get(ours.key_prefix + "citizen")) == json.loads(
        rasa.red.get(rasa.key_prefix + "citizen")
    )
    await other.close()


async def test_reads_what_rasa_stored_and_unknown_senders(stores: Any) -> None:
    ours, _, rasa, _ = stores
    await converse(rasa, "citizen")
    ours.key_prefix = rasa.key_prefix
    assert dicts((await ours.retrieve("citizen")).events) == dicts((await rasa.retrieve("citizen")).events)
    assert await ours.retrieve("nobody") is None


def test_events_deserialise_as_rasa_does() -> None:
    serialised = [event.as_dict() for events in TURNS for event in events]
    serialised += [
        {"event": "form", "name": "report_form", "timestamp": 2},
        {"timestamp": 3},
        {"event": "topic", "topic": "x"},
    ]
    from rasa.shared.core.events import deserialise_events as rasa_deserialise

    assert dicts(deserialise_events(serialised)) == dicts(rasa_deserialise(serialised))
    with pytest.raises(ValueError, match="Unknown event name"):
        deserialise_events([{"event": "no_such_event"}])


def test_last_session_start() -> None:
    events = [event for events in TURNS for event in events]
    assert last_session_start(events) == len(events) - 9
    assert last_session_start(events[:5]) == 0
    assert last_session_start([]) == 0


def tripped() -> list[Event]:
    """A turn Rasa's circuit breaker stopped: ten declines and no `action_listen` after them."""
    declines = [e for _ in range(10) for e in (ActionExecuted("utter_greet"), BotUttered("Sorry"))]
    return [*session(100, "ok 300 river street", None), *declines]


async def test_a_turn_the_circuit_breaker_stopped_is_ended_when_the_conversation_is_read(stores: Any) -> None:
    ours, _, rasa, _ = stores
    stored = rasa.init_tracker("muted")
    for event in tripped():
        stored.update(event)
    await rasa.save(stored)
    await ours.client.set(ours.key_prefix + "muted", rasa.red.get(rasa.key_prefix + "muted"))

    repaired = await ours.retrieve("muted")
    assert isinstance(repaired.events[-1], ActionExecuted)
    assert repaired.events[-1].action_name == ACTION_LISTEN_NAME
    assert dicts(list(repaired.events)[:-1]) == dicts((await rasa.retrieve("muted")).events)


async def test_a_paused_or_ordinary_conversation_is_read_unchanged(stores: Any) -> None:
    ours, _, rasa, _ = stores
    await converse(ours, "citizen")
    await converse(rasa, "citizen")
    assert dicts((await ours.retrieve("citizen")).events) == dicts((await rasa.retrieve("citizen")).events)


async def test_without_redis_the_turn_fails_and_no_conversation_is_started() -> None:
    # Rasa's Agent wraps every store in FailSafeTrackerStore, which reads an error as "no
    # conversation" (a fresh one is then started); ours reaches the turn unwrapped.
    store = CivicRedisTrackerStore(DOMAIN, host="127.0.0.1", port=free_port(), key_prefix="civic")
    agent = Agent(domain=DOMAIN, tracker_store=store)
    assert agent.tracker_store is store
    with pytest.raises(StoreUnavailable):
        await agent.tracker_store.get_or_create_tracker("rest-citizen")
    with pytest.raises(StoreUnavailable):
        await agent.tracker_store.save(store.init_tracker("rest-citizen"))
    rasa_store = RedisTrackerStore(DOMAIN, host="127.0.0.1", port=free_port())
    wrapped = Agent(domain=DOMAIN, tracker_store=rasa_store).tracker_store
    assert type(wrapped).__name__ == "FailSafeTrackerStore"  # Rasa's own stores are as before


@pytest.mark.parametrize(
    "stored",
    [
        '{"events": [{"event": "user", "text": "hi", "timesta',
        '{"events": [{"event": "no_such_event"}]}',
        "[1, 2]",
    ],
    ids=["cut short", "unknown event", "not a conversation"],
)
async def test_a_conversation_that_cannot_be_read_is_set_aside(stores: Any, stored: str) -> None:
    ours = stores[0]
    key = ours.key_prefix + "garbled"
    await ours.client.set(key, stored, ex=600)

    assert await ours.retrieve("garbled") is None  # Rasa starts a new one: the old one is kept aside
    aside = [k async for k in ours.client.scan_iter(match=ours.quarantine_prefix + "garbled:*")]
    assert len(aside) == 1
    assert await ours.client.get(aside[0]) == stored
    assert 0 < await ours.client.ttl(aside[0]) <= 600  # the retention of conversations still applies

    tracker = ours.init_tracker("garbled")
    tracker.update(UserUttered("hello", {"name": "greet", "confidence": 1.0}))
    await ours.save(tracker)
    assert await ours.client.get(aside[0]) == stored
    events = (await ours.retrieve("garbled")).events
    assert [e.text for e in events if isinstance(e, UserUttered)] == ["hello"]
