"""A Redis outage never starts a conversation over: the citizen is asked to resend, then goes on.

The real stack (Redis, Rasa with the trained model, the action server) and a citizen halfway
through the report form over REST. Redis is made unreachable (SIGSTOP: connections hang, calls
time out), then restarted (its append-only file brings the data back). Each time the message sent
meanwhile gets the apology (503, Retry-After), and once Redis answers the same message carries the
form on from where it was: the address given before is in the confirmation, the conversation
never restarted, and every message the citizen sent is stored once.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import redis.asyncio
from polling_support import wait_until
from stack_support import ROOT, RestClient, sender_id, stack_settings

from bot.channels.notices import ChannelNotices
from bot.identity import IdentityKey
from bot.stack import Service, Stack

pytestmark = pytest.mark.stack
APOLOGY = ChannelNotices.load().store_unavailable
LOCK_LIFETIME = 20.0  # endpoints.yml lock_store lifetime


@pytest.fixture(scope="module")
def outage_stack(tmp_path_factory: pytest.TempPathFactory, model_path: Path) -> Iterator[Stack]:
    # a stack of its own: its Redis is stopped and restarted here
    with Stack(stack_settings(tmp_path_factory.mktemp("outage")), root=ROOT) as running:
        yield running


def redis_service(stack: Stack) -> Service:
    return next(service for service in stack.services if service.name == "redis")


def stored_conversation(stack: Stack, conversation_id: str) -> list[dict[str, Any]]:
    target = stack.redis
    assert target is not None
    client = redis.Redis(host=target.host, port=target.port, db=target.db, password=target.password or None)
    with client:
        return json.loads(client.get(f"civic:tracker:{conversation_id}"))["events"]


def user_texts(events: list[dict[str, Any]]) -> list[str]:
    return [event["text"] for event in events if event.get("event") == "user"]


def said_while_down(rest: RestClient, user: str, text: str) -> None:
    status, headers, body = rest.post({"sender": user, "message": text})
    assert status == 503, body
    assert headers.get("Retry-After")
    assert [message["text"] for message in body] == [APOLOGY]


def test_unreachable_then_restarted_redis_loses_nothing_and_restarts_nothing(outage_stack: Stack) -> None:
    rest, user = RestClient.of(outage_stack), sender_id("outage")
    assert "where is it" in rest.say(user, "i want to report graffiti").lower()
    assert "tell me a bit" in rest.say(user, "9 Church Street").lower()

    service = redis_service(outage_stack)
    assert service.process is not None
    os.kill(service.process.pid, signal.SIGSTOP)  # unreachable: every call times out
    try:
        said_while_down(rest, user, "tags sprayed all over the side wall")
    finally:
        os.kill(service.process.pid, signal.SIGCONT)
    resent = time.monotonic()
    assert "email or phone" in rest.say(user, "tags sprayed all over the side wall").lower()
    # the lock ticket the timed-out call left behind was withdrawn: no wait for its expiry
    assert time.monotonic() - resent < LOCK_LIFETIME / 2

    service.stop()  # down: connections refused, then a fresh Redis from its append-only file
    said_while_down(rest, user, "skip")
    service.start(outage_stack.root)
    wait_until(service.ready, 30, "Redis did not start again")
    confirmation = rest.say(user, "skip")
    assert "Where: 9 Church Street" in confirmation
    assert "Details: tags sprayed all over the side wall" in confirmation

    conversation = IdentityKey.from_settings(outage_stack.settings).conversation_id("rest", user)
    events = stored_conversation(outage_stack, conversation)
    assert user_texts(events) == [
        "i want to report graffiti", "9 Church Street", "tags sprayed all over the side wall", "skip",
    ]  # fmt: skip
    starts = [e for e in events if e.get("event") == "action" and e.get("name") == "action_session_start"]
    assert len(starts) == 1, "the conversation was started over"


async def test_a_save_that_reaches_redis_after_the_citizen_was_told_to_resend_is_refused(
    tmp_path: Path,
) -> None:
    """Redis paused after the save was sent: the save times out (the citizen is asked to send
    again), and when Redis resumes it must not apply the save it still holds, or the resent message
    would be stored twice. The save's deadline is in Redis's clock; the turn's events go to the
    stream in the same script, or not at all. (Control: a save without a deadline lands late.)"""
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker
    from redis_process import redis_process

    from bot.events.broker import RedisStreamBroker, encode
    from bot.tracker_store import CivicRedisTrackerStore, StoreUnavailable

    with redis_process(tmp_path) as server:
        store = CivicRedisTrackerStore(
            Domain.empty(), host="127.0.0.1", port=server.port, socket_timeout=1.0, key_prefix="civic"
        )
        broker = RedisStreamBroker(
            redis.asyncio.Redis(host="127.0.0.1", port=server.port, socket_timeout=1.0)
        )
        store.event_broker = broker
        tracker = DialogueStateTracker("citizen", [])
        tracker.update(UserUttered("first message", timestamp=1.0))
        await store.save(tracker)
        tracker.update(UserUttered("sent while Redis was paused", timestamp=2.0))
        document = json.dumps(tracker.as_dialogue().as_dict())
        bodies = [encode({"sender_id": "citizen", **tracker.events[-1].as_dict()})]
        sync = redis.Redis(port=server.port)

        async def save_while_paused(deadline_ms: int) -> list[str]:
            server.pause()
            try:
                with pytest.raises(StoreUnavailable):
                    await store._save_turn("civic:tracker:citizen", document, 0, deadline_ms, broker, bodies)
            finally:
                await asyncio.sleep(0.5)  # the client gave up a while ago
                server.resume()
            wait_until(sync.ping, 10, "Redis did not resume")
            await asyncio.sleep(0.5)  # what Redis still held has run by now
            with sync.pipeline(transaction=True) as snapshot:  # both at one instant
                saved, entries = snapshot.get("civic:tracker:citizen").xrange("civic:events").execute()
            stored: list[str] = user_texts(json.loads(saved)["events"])
            streamed = [json.loads(body[b"event"]) for _, body in entries]
            assert [e["text"] for e in streamed if e["event"] == "user"] == stored
            return stored

        seconds, micros = sync.time()
        deadline = seconds * 1000 + micros // 1000 + int(store.save_window * 1000)
        assert await save_while_paused(deadline) == ["first message"]  # refused when it arrived late
        assert await save_while_paused(deadline + 3_600_000) == [
            "first message",
            "sent while Redis was paused",
        ]
        sync.close()
        await store.close()
        await broker.close()
