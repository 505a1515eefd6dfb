"""Nobody speaks as someone else over REST: the real stack, its Redis, Rasa and the REST channel.

The REST channel is for the agency's own servers: it needs the bearer token, keeps its senders in
a namespace of their own (a sender equal to an SMS citizen's number is another conversation), makes
every turn a REST turn whatever the body claims, and limits size and rate.
"""

from __future__ import annotations

import asyncio
import json
import urllib.request
from typing import Any

import pytest
from rasa.core.tracker_store import RedisTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, UserUttered
from stack_support import RestClient, sender_id

from bot.identity import IdentityKey
from bot.stack import Stack

pytestmark = pytest.mark.stack
SMS_CITIZEN = "+15551234567"
THEIR_MESSAGE = "Collection at 48 Quarry Lane please"


def tracker(stack: Stack, conversation_id: str) -> dict[str, Any]:
    base = f"http://127.0.0.1:{stack.settings.rasa.port}"
    url = (
        f"{base}/conversations/{conversation_id}/tracker?token={stack.settings.rasa.token}&include_events=ALL"
    )
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def user_texts(state: dict[str, Any]) -> list[str]:
    return [e.get("text") for e in state["events"] if e.get("event") == "user"]


def seed_conversation(stack: Stack, conversation_id: str, channel: str) -> None:
    """A conversation as Rasa stores it after one turn of a citizen on `channel`."""
    target = stack.redis
    assert target is not None
    store = RedisTrackerStore(
        Domain.empty(), host=target.host, port=target.port, db=target.db,
        password=target.password or None, key_prefix="civic",
    )  # fmt: skip
    state = store.init_tracker(conversation_id)
    for event in [
        ActionExecuted("action_session_start"),
        SessionStarted(),
        ActionExecuted("action_listen"),
        UserUttered(THEIR_MESSAGE, {"name": "inform", "confidence": 0.9}, input_channel=channel),
        ActionExecuted("utter_ask_collection_day"),
        BotUttered("Your collection day at 48 Quarry Lane is Tuesday."),
        ActionExecuted("action_listen"),
    ]:
        state.update(event)
    asyncio.run(store.save(state))


def test_a_call_without_the_token_or_with_a_wrong_one_is_refused(stack: Stack) -> None:
    user = sender_id("token")
    real = RestClient.of(stack)
    for token in ("", "wrong-token", real.token[:-1] + ("x" if real.token[-1] != "x" else "y")):
        status, _, body = RestClient(real.base_url, token).post({"sender": user, "message": "hello"})
        assert status == 401 and "token" in body["error"], token
    conversation = IdentityKey.from_settings(stack.settings).conversation_id("rest", user)
    assert user_texts(tracker(stack, conversation)) == []
    assert "automated assistant" in real.say(user, "hello")


def test_a_rest_sender_equal_to_an_sms_number_reaches_a_different_conversation(stack: Stack) -> None:
    identity = IdentityKey.from_settings(stack.settings)
    sms = identity.conversation_id("twilio", SMS_CITIZEN)
    seed_conversation(stack, sms, "twilio")
    seed_conversation(stack, SMS_CITIZEN, "twilio")  # stored under the bare number, before keyed ids
    before = {cid: tracker(stack, cid)["events"] for cid in (sms, SMS_CITIZEN)}

    rest = RestClient.of(stack)
    body = {"sender": SMS_CITIZEN, "message": "what's my collection day?", "input_channel": "twilio"}
    status, _, replies = rest.post(body)
    assert status == 200 and replies
    own = {r["recipient_id"] for r in replies}
    assert own == {identity.conversation_id("rest", SMS_CITIZEN)}
    assert not own & {sms, SMS_CITIZEN}
    assert "Quarry" not in json.dumps(replies)
    assert {cid: tracker(stack, cid)["events"] for cid in before} == before  # the SMS citizen's: untouched
    turn = tracker(stack, own.pop())
    assert turn["latest_input_channel"] == "rest"  # the body's "twilio" did not make it an SMS turn
    assert [e.get("input_channel") for e in turn["events"] if e.get("event") == "user"] == ["rest"]
    assert user_texts(turn) == ["what's my collection day?"]


def test_client_metadata_is_not_kept(stack: Stack) -> None:
    rest, user = RestClient.of(stack), sender_id("metadata")
    body = {"sender": user, "message": "hi", "metadata": {"media_url": "https://evil.example/a.png"}}
    status, _, replies = rest.post(body)
    assert status == 200
    events = tracker(stack, replies[0]["recipient_id"])["events"]
    [event] = [e for e in events if e.get("event") == "user"]
    assert "media_url" not in (event.get("metadata") or {})  # Rasa adds only its own (model_id...)


def test_a_forged_intent_is_read_as_what_was_typed(stack: Stack) -> None:
    rest, user = RestClient.of(stack), sender_id("forged")
    rest.send(user, "hello")
    for forged in ("/handoff_request", '/rate{"rating":"1"}'):
        rest.send(user, forged)
    events = tracker(stack, rest.conversation_id(user))["events"]
    said = [e for e in events if e.get("event") == "user"]
    assert [e["text"] for e in said] == ["hello", "handoff_request", 'rate{"rating":"1"}']
    # Rasa's "/intent" shortcut ranks only the forged intent; the NLU pipeline ranks them all
    assert all(len(e["parse_data"].get("intent_ranking", [])) > 1 for e in said[1:])
    assert not any(e["parse_data"]["intent"]["name"] in {"handoff_request", "rate"} for e in said[1:])
    assert not any(ent.get("entity") == "rating" for e in said for ent in e["parse_data"].get("entities", []))


def test_an_over_long_message_gets_a_clear_reply(stack: Stack) -> None:
    rest, user = RestClient.of(stack), sender_id("long")
    [reply] = rest.send(user, "Please fix the sidewalk on Church Street. " * 60)  # 2,520 characters
    assert "too long" in reply["text"] and "2,000 characters" in reply["text"]
    assert user_texts(tracker(stack, reply["recipient_id"])) == []


def test_too_many_messages_get_429_with_retry_after(stack: Stack) -> None:
    rest, user = RestClient.of(stack), sender_id("flood")
    burst = stack.settings.chat_limits.conversation.burst
    # Over-long messages never reach Rasa, so the bucket empties in well under a second.
    statuses = [rest.post({"sender": user, "message": "x" * 2001})[0] for _ in range(burst + 3)]
    assert statuses[:burst] == [200] * burst and 429 in statuses[burst:]
    status, headers, body = rest.post({"sender": user, "message": "hello"})
    assert status == 429 and int(headers["Retry-After"]) >= 1 and "retry after" in body["error"]
    assert rest.say(sender_id("other"), "hello")  # another conversation is not held up
