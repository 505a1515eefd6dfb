"""The subscription flow's actions with the real domain, real Redis (DB 6) and the demo agency's collection
API: what the first message says is not asked again, the confirmation shown is the consent recorded,
the web chat's SMS double opt-in (right code, five wrong codes, an expired code), an address mapped to
its district, "my subscriptions", "unsubscribe from water" and "stop alerts"."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
import redis
import redis.asyncio as aioredis
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.subscriptions import (
    AskSubCode,
    AskSubConfirm,
    AskSubPhone,
    ListSubscriptions,
    SubscribeAlerts,
    UnsubscribeAlerts,
    ValidateSubscriptionForm,
)
from bot.broadcasts.delivery import direct_key
from bot.channels.store import conversation_key
from bot.identity import IdentityKey
from bot.subscriptions.optin import optin_key
from bot.subscriptions.store import STOPPED, SubscriberStore

DB = 6
SECRET = "subscription-tests-identity-secret"
WEB = "socketio-" + "c" * 32
SMS_CID = "twilio-" + "d" * 32
PHONE = "+15550101234"


@pytest.fixture
def redis_url(redis_server: int) -> str:
    """This module's Redis DB (6), emptied for each test (overrides the shared DB 0 of conftest)."""
    client = redis.Redis(port=redis_server, db=DB)
    client.flushdb()
    client.close()
    return f"redis://127.0.0.1:{redis_server}/{DB}"


@pytest.fixture(autouse=True)
def env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IDENTITY_SECRET", SECRET)
    monkeypatch.delenv("TELEGRAM_BOT_NAME", raising=False)
    monkeypatch.delenv("SMS_CODE_MINUTES", raising=False)


@pytest.fixture
async def db(redis_url: str) -> Any:
    client = aioredis.Redis.from_url(redis_url, decode_responses=True)
    yield client
    await client.close()


def tracker(
    sender: str,
    channel: str,
    text: str,
    intent: str = "inform",
    slots: dict[str, Any] | None = None,
    entities: list[dict[str, Any]] | None = None,
) -> Tracker:
    message = {"text": text, "intent": {"name": intent, "confidence": 1.0}, "entities": entities or []}
    events = [{"event": "user", "text": text, "parse_data": message, "input_channel": channel}]
    return Tracker(
        sender,
        dict(slots or {}),
        message,
        events,
        False,
        None,
        {"name": "subscription_form"},
        "action_listen",
    )


def button(value: str) -> list[dict[str, Any]]:
    return [{"entity": "sub_choice", "value": value}]


async def run(
    action: Action, track: Tracker, domain: dict[str, Any]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The slots the action set, and what the citizen was told."""
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, track, domain)
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}, dispatcher.messages


def said(messages: list[dict[str, Any]]) -> list[str]:
    return [m.get("text") or m.get("response") or "" for m in messages]


async def test_what_the_first_message_says_is_not_asked_and_the_shown_confirmation_is_the_consent(
    lookups: Any, domain_dict: dict[str, Any], db: aioredis.Redis
) -> None:
    cid = "twilio-" + "e" * 32
    first = tracker(cid, "twilio", "text me about water notices in Downtown", "subscribe_alerts")
    slots, _ = await run(ValidateSubscriptionForm(), first, domain_dict)
    assert slots["sub_topics"] == ["water"] and slots["sub_area"] == "downtown" and slots["sub_via"] == "here"
    assert slots["requested_slot"] == "sub_confirm"
    state = {k: v for k, v in slots.items() if k != "requested_slot"} | {"requested_slot": "sub_confirm"}
    _, shown = await run(AskSubConfirm(), tracker(cid, "twilio", "", slots=state), domain_dict)
    [confirm] = shown
    assert "Water" in confirm["text"] and "Downtown" in confirm["text"]
    assert confirm["text"].endswith("Reply STOP to opt out.")  # SMS
    assert [b["payload"] for b in confirm["buttons"]] == ["/affirm", "/deny"]
    slots, _ = await run(
        ValidateSubscriptionForm(), tracker(cid, "twilio", "/affirm", "affirm", state), domain_dict
    )
    assert slots["sub_confirm"] == "yes" and slots["requested_slot"] is None
    _, told = await run(SubscribeAlerts(), tracker(cid, "twilio", "", slots=state | slots), domain_dict)
    assert said(told)[0].startswith("You're subscribed to Harbor City Alerts: Water for Downtown.")
    [consent] = await SubscriberStore(db).consent_log(cid)
    assert consent["wording"] == confirm["text"] and consent["topics"] == ["water"]


async def test_topics_by_button_and_an_address_mapped_to_its_district(
    lookups: Any, domain_dict: dict[str, Any]
) -> None:
    cid = "telegram-" + "f" * 32
    slots, _ = await run(
        ValidateSubscriptionForm(), tracker(cid, "telegram", "subscribe", "subscribe_alerts"), domain_dict
    )
    assert slots["requested_slot"] == "sub_topics"
    state = {"sub_via": "here", "requested_slot": "sub_topics"}
    slots, _ = await run(
        ValidateSubscriptionForm(),
        tracker(cid, "telegram", '/inform{"sub_choice":"all"}', slots=state, entities=button("all")),
        domain_dict,
    )
    assert slots["sub_topics"] == ["emergencies", "water", "roads_snow", "trash_recycling", "public_meetings"]
    state |= {"sub_topics": slots["sub_topics"], "requested_slot": "sub_area"}
    slots, _ = await run(
        ValidateSubscriptionForm(), tracker(cid, "telegram", "12 Elm Street", slots=state), domain_dict
    )
    assert slots["sub_area"] == "downtown"
    slots, told = await run(
        ValidateSubscriptionForm(), tracker(cid, "telegram", "the moon", slots=state), domain_dict
    )
    assert slots["sub_area"] is None and said(told) == ["utter_sub_area_unknown"]


async def start_sms(domain_dict: dict[str, Any], db: aioredis.Redis) -> tuple[dict[str, Any], str]:
    """A web chat citizen chose SMS, water, the whole city, and typed their number: the code they got."""
    first = tracker(WEB, "socketio", "subscribe to water", "subscribe_alerts")
    slots, _ = await run(ValidateSubscriptionForm(), first, domain_dict)
    assert slots["sub_via"] == "sms" and slots["requested_slot"] == "sub_area"  # no Telegram bot set
    state = {"sub_via": "sms", "sub_topics": ["water"], "sub_area": "all", "requested_slot": "sub_phone"}
    _, shown = await run(AskSubPhone(), tracker(WEB, "socketio", "", slots=state), domain_dict)
    assert (
        shown[0]["text"].endswith("Reply STOP to opt out.") and shown[1]["response"] == "utter_ask_sub_phone"
    )
    slots, told = await run(
        ValidateSubscriptionForm(), tracker(WEB, "socketio", "not a number", slots=state), domain_dict
    )
    assert slots["sub_phone"] is None and said(told) == ["utter_sub_phone_invalid"]
    slots, _ = await run(
        ValidateSubscriptionForm(), tracker(WEB, "socketio", "(555) 010-1234", slots=state), domain_dict
    )
    sms_cid = IdentityKey(SECRET).conversation_id("twilio", PHONE)
    assert slots["sub_phone"] == sms_cid and slots["requested_slot"] == "sub_code"
    assert await db.get(conversation_key("twilio", "address", sms_cid)) == PHONE  # the broadcaster can send
    [queued] = [json.loads(item) for item in await db.lrange(direct_key("twilio"), 0, -1)]
    assert queued["cid"] == sms_cid and queued["kind"] == "sms_code"
    code = queued["text"][:6]
    assert code.isdigit() and code not in await db.hget(optin_key(WEB), "mac")  # kept only as an HMAC
    state |= {"sub_phone": sms_cid, "requested_slot": "sub_code"}
    _, asked = await run(AskSubCode(), tracker(WEB, "socketio", "", slots=state), domain_dict)
    assert asked[0]["last_digits"] == "34"
    return state, code


async def test_sms_double_opt_in_from_the_web_chat(
    lookups: Any, domain_dict: dict[str, Any], db: aioredis.Redis
) -> None:
    state, code = await start_sms(domain_dict, db)
    slots, _ = await run(
        ValidateSubscriptionForm(),
        tracker(WEB, "socketio", f"{code[:3]} {code[3:]}", slots=state),
        domain_dict,
    )
    assert slots["sub_code"] == "verified"
    _, told = await run(SubscribeAlerts(), tracker(WEB, "socketio", "", slots=state | slots), domain_dict)
    assert said(told)[0].endswith("Reply STOP to opt out.")
    sms_cid = state["sub_phone"]
    subscriber = await SubscriberStore(db).get(sms_cid)
    assert subscriber is not None and subscriber.pairs == ("water:all",)
    [consent] = await SubscriberStore(db).consent_log(sms_cid)
    assert consent["via"] == "socketio" and consent["wording"].endswith("Reply STOP to opt out.")
    assert await SubscriberStore(db).get(WEB) is None  # the web chat itself cannot be reached later
    assert await db.exists(optin_key(WEB)) == 0  # a code works once


async def test_five_wrong_codes_and_the_number_is_not_subscribed(
    lookups: Any, domain_dict: dict[str, Any], db: aioredis.Redis
) -> None:
    state, code = await start_sms(domain_dict, db)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for left in (4, 3, 2, 1):
        slots, told = await run(
            ValidateSubscriptionForm(), tracker(WEB, "socketio", wrong, slots=state), domain_dict
        )
        assert slots["sub_code"] is None and told[0]["tries_left"] == left
    slots, _ = await run(
        ValidateSubscriptionForm(), tracker(WEB, "socketio", wrong, slots=state), domain_dict
    )
    assert slots["sub_code"] == "failed"
    slots, _ = await run(ValidateSubscriptionForm(), tracker(WEB, "socketio", code, slots=state), domain_dict)
    assert slots["sub_code"] == "expired"  # the right code is no use any more
    _, told = await run(
        SubscribeAlerts(), tracker(WEB, "socketio", "", slots=state | {"sub_code": "failed"}), domain_dict
    )
    assert said(told) == ["utter_sub_code_failed"]
    assert await SubscriberStore(db).get(state["sub_phone"]) is None


async def test_an_expired_code_subscribes_nobody(
    lookups: Any, domain_dict: dict[str, Any], db: aioredis.Redis
) -> None:
    state, code = await start_sms(domain_dict, db)
    await db.pexpire(optin_key(WEB), 1)
    await asyncio.sleep(0.05)
    slots, _ = await run(ValidateSubscriptionForm(), tracker(WEB, "socketio", code, slots=state), domain_dict)
    assert slots["sub_code"] == "expired"
    assert await SubscriberStore(db).get(state["sub_phone"]) is None


async def test_list_unsubscribe_a_topic_and_stop_all(
    lookups: Any, domain_dict: dict[str, Any], db: aioredis.Redis
) -> None:
    cid = "whatsapp-" + "9" * 32
    store = SubscriberStore(db)
    _, told = await run(
        ListSubscriptions(), tracker(cid, "whatsapp", "my subscriptions", "list_subscriptions"), domain_dict
    )
    assert said(told) == ["utter_sub_none"]
    await store.subscribe(cid, ["water", "emergencies"], ["downtown", "eastside"], "Please confirm: ...")
    _, told = await run(
        ListSubscriptions(), tracker(cid, "whatsapp", "my subscriptions", "list_subscriptions"), domain_dict
    )
    assert told[0]["lines"] == "- Water: Downtown and Eastside\n- Emergencies: Downtown and Eastside"
    _, told = await run(
        UnsubscribeAlerts(),
        tracker(cid, "whatsapp", "unsubscribe from water", "unsubscribe_alerts"),
        domain_dict,
    )
    assert told[0]["response"] == "utter_sub_removed" and told[0]["topics"] == "Water"
    subscriber = await store.get(cid)
    assert subscriber is not None and subscriber.topics() == ["emergencies"]
    _, told = await run(
        UnsubscribeAlerts(), tracker(cid, "whatsapp", "stop alerts", "unsubscribe_alerts"), domain_dict
    )
    assert said(told)[0].startswith("You're unsubscribed from Harbor City Alerts")
    subscriber = await store.get(cid)
    assert subscriber is not None and subscriber.status == STOPPED


async def test_codes_are_limited_per_chat_and_per_number(
    lookups: Any, domain_dict: dict[str, Any], db: aioredis.Redis
) -> None:
    """Each code is a paid text to a number anyone may type: a chat gets 3 an hour, a number 3 a day."""
    state = {"sub_via": "sms", "sub_topics": ["water"], "sub_area": "all", "requested_slot": "sub_phone"}
    form = ValidateSubscriptionForm()
    for _ in range(3):
        slots, _ = await run(form, tracker(WEB, "socketio", "(555) 010-1234", slots=state), domain_dict)
        assert slots["sub_phone"] is not None
    slots, told = await run(form, tracker(WEB, "socketio", "(555) 010-9876", slots=state), domain_dict)
    assert slots["sub_phone"] is None and said(told) == ["utter_sub_too_many_codes"]
    other_chat = WEB + "-other"
    slots, told = await run(form, tracker(other_chat, "socketio", "(555) 010-1234", slots=state), domain_dict)
    assert slots["sub_phone"] is None and said(told) == ["utter_sub_too_many_codes"]  # the number had 3
    assert await db.llen(direct_key("twilio")) == 3  # nothing more was sent


async def test_the_web_chat_lists_and_stops_the_sms_subscription_it_confirmed(
    lookups: Any, domain_dict: dict[str, Any], db: aioredis.Redis
) -> None:
    """A web chat citizen who subscribed by SMS and says "stop alerts" in the web chat means the
    texts: the SMS subscription stops (no broadcast can reach the web chat itself)."""
    state, code = await start_sms(domain_dict, db)
    slots, _ = await run(ValidateSubscriptionForm(), tracker(WEB, "socketio", code, slots=state), domain_dict)
    assert slots["sub_code"] == "verified"
    _, told = await run(
        ListSubscriptions(), tracker(WEB, "socketio", "my subscriptions", "list_subscriptions"), domain_dict
    )
    assert told[0]["response"] == "utter_sub_list" and "Water" in told[0]["lines"]
    _, told = await run(
        UnsubscribeAlerts(), tracker(WEB, "socketio", "stop alerts", "unsubscribe_alerts"), domain_dict
    )
    assert said(told)[0].startswith("You're unsubscribed")
    subscriber = await SubscriberStore(db).get(state["sub_phone"])
    assert subscriber is not None and subscriber.status == STOPPED
    assert await SubscriberStore(db).get(WEB) is None
