"""Conversations live in Redis: they survive a restart of Rasa; the API needs its token."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request

import pytest
import redis
from rasa.core.tracker_store import RedisTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, UserUttered
from stack_support import RestClient, sender_id, stack_settings

from bot.identity import IdentityKey
from bot.stack import Stack

pytestmark = pytest.mark.stack


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_http_api_requires_the_token(stack):
    base = f"http://127.0.0.1:{stack.settings.rasa.port}"
    assert get(f"{base}/status")[0] == 401
    assert get(f"{base}/status?token=wrong")[0] == 401
    assert get(f"{base}/conversations/someone/tracker")[0] == 401
    assert get(f"{base}/status?token={stack.settings.rasa.token}")[0] == 200


def test_trackers_are_in_redis(stack, rest: RestClient):
    user = sender_id("redis")
    rest.say(user, "hi")
    target = stack.redis
    assert target is not None
    client = redis.Redis(host=target.host, port=target.port, db=target.db, password=target.password or None)
    conversation = rest.conversation_id(user)
    assert conversation.startswith("rest-") and user not in conversation
    assert any(client.scan_iter(match=f"civic*{conversation}"))
    assert not any(client.scan_iter(match=f"*{user}*")), "the sender's own id must be in no key"


def test_conversation_survives_a_restart_of_rasa(tmp_path, model_path):
    settings = stack_settings(tmp_path)
    with Stack(settings) as first:
        user, rest = sender_id("restart"), RestClient.of(first)
        rest.say(user, "when is city hall open")
        rasa = next(s for s in first.services if s.name == "rasa")
        rasa.stop()
        first.services.remove(rasa)
        first._start(first._rasa(), 180)  # same Redis, a brand-new Rasa process
        base = f"http://127.0.0.1:{settings.rasa.port}"
        conversation = rest.conversation_id(user)
        status, body = get(f"{base}/conversations/{conversation}/tracker?token={settings.rasa.token}")
        assert status == 200
        texts = [e.get("text") for e in json.loads(body)["events"] if e.get("event") == "user"]
        assert texts == ["when is city hall open"]
        reply = rest.say(user, "thanks")
        assert "welcome" in reply.lower()


def test_a_conversation_the_circuit_breaker_muted_answers_again(stack, rest: RestClient):
    # Stored as Rasa left it before the turn guard: a decline ten times and no action_listen,
    # after which Rasa tripped its circuit breaker on every message, "hello" included.
    user, target = sender_id("muted"), stack.redis
    store = RedisTrackerStore(
        Domain.empty(), host=target.host, port=target.port, db=target.db,
        password=target.password or None, key_prefix="civic",
    )  # fmt: skip
    tracker = store.init_tracker(IdentityKey.from_settings(stack.settings).conversation_id("rest", user))
    for event in [
        ActionExecuted("action_session_start"),
        SessionStarted(),
        ActionExecuted("action_listen"),
        UserUttered("ok 300 river street", {"name": "inform", "confidence": 0.9}),
        *[e for _ in range(10) for e in (ActionExecuted("utter_out_of_scope"), BotUttered("Sorry"))],
    ]:
        tracker.update(event)
    asyncio.run(store.save(tracker))

    assert "automated assistant" in rest.say(user, "hello")
