"""A Redis outage never starts a conversation over: the citizen is asked to resend, then goes on.

The real stack (Redis, Rasa with the trained model, the action server) and a citizen halfway
through the report form over REST. Redis is made unreachable (SIGSTOP: connections hang, calls
time out), then restarted (its append-only file brings the data back). Each time the message sent
meanwhile gets the apology (503, Retry-After), and once Redis answers the same message carries the
form on from where it was: the address given before is in the confirmation, the conversation
never restarted, and every message the citizen sent is stored once.
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
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
