"""The subscription flow in Spanish, with the real domain, real Redis (DB 6) and the demo agency: the
topics and areas a Spanish message names, the confirmation and its buttons in Spanish (and that
wording recorded as the consent), the subscriber's language recorded for the broadcasts, the SMS
opt-in code in Spanish, and "stop alerts" answered in Spanish."""

from __future__ import annotations

import json
from typing import Any

import pytest
import redis
import redis.asyncio as aioredis
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.subscriptions import (
    AskSubArea,
    AskSubConfirm,
    AskSubPhone,
    AskSubTopics,
    SubscribeAlerts,
    UnsubscribeAlerts,
    ValidateSubscriptionForm,
)
from bot.broadcasts.delivery import direct_key
from bot.subscriptions.store import STOPPED, SubscriberStore

DB = 6
SECRET = "subscription-tests-identity-secret"
SPANISH = {"language": "es"}
SMS_CID = "twilio-" + "e" * 32
WEB = "socketio-" + "c" * 32


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
    sender: str, channel: str, text: str, intent: str = "inform", slots: dict[str, Any] | None = None
) -> Tracker:
    message = {"text": text, "intent": {"name": intent, "confidence": 1.0}, "entities": []}
    events = [{"event": "user", "text": text, "parse_data": message, "input_channel": channel}]
    return Tracker(
        sender,
        SPANISH | (slots or {}),
        message,
        events,
        False,
        None,
        {"name": "subscription_form"},
        "action_listen",
    )


async def run(
    action: Action, track: Tracker, domain: dict[str, Any]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, track, domain)
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}, dispatcher.messages


async def test_a_spanish_subscription_is_confirmed_recorded_and_kept_in_spanish(
    lookups: Any, domain_dict: dict[str, Any], db: aioredis.Redis
) -> None:
    first = tracker(SMS_CID, "twilio", "mándeme avisos de inundación en el centro", "subscribe_alerts")
    slots, _ = await run(ValidateSubscriptionForm(), first, domain_dict)
    assert slots["sub_topics"] == ["emergencies"] and slots["sub_area"] == "downtown"  # no accents needed
    state = {k: v for k, v in slots.items() if k != "requested_slot"} | {"requested_slot": "sub_confirm"}
    _, shown = await run(AskSubConfirm(), tracker(SMS_CID, "twilio", "", slots=state), domain_dict)
    [confirm] = shown
    assert confirm["text"].startswith(
        "Confirme, por favor: Harbor City Alerts sobre Emergencias para Downtown."
    )
    assert confirm["text"].endswith("Responda ALTO (o STOP) para darse de baja.")
    assert [b["title"] for b in confirm["buttons"]] == ["Sí, suscribirme", "No, gracias"]
    _, told = await run(
        SubscribeAlerts(), tracker(SMS_CID, "twilio", "", slots=state | {"sub_confirm": "yes"}), domain_dict
    )
    assert told[0]["text"] == (
        "Su suscripción a Harbor City Alerts está lista: Emergencias para Downtown. "
        "Responda ALTO (o STOP) para darse de baja."
    )
    subscriber = await SubscriberStore(db).get(SMS_CID)
    assert subscriber is not None and subscriber.language == "es"  # broadcasts go out in Spanish
    [consent] = await SubscriberStore(db).consent_log(SMS_CID)
    assert consent["wording"] == confirm["text"] and consent["language"] == "es"

    _, stopped = await run(
        UnsubscribeAlerts(), tracker(SMS_CID, "twilio", "ya no quiero alertas"), domain_dict
    )
    assert stopped[0]["text"].startswith("Se canceló su suscripción a Harbor City Alerts")
    after = await SubscriberStore(db).get(SMS_CID)
    assert after is not None and after.status == STOPPED and after.language == "es"


async def test_the_choice_buttons_are_in_spanish(lookups: Any, domain_dict: dict[str, Any]) -> None:
    _, topics = await run(AskSubTopics(), tracker(SMS_CID, "twilio", ""), domain_dict)
    titles = [b["title"] for b in topics[-1]["buttons"]]
    assert titles[:2] == ["Emergencias", "Agua"] and titles[-1] == "Todos los temas"
    _, areas = await run(AskSubArea(), tracker(SMS_CID, "twilio", ""), domain_dict)
    assert [b["title"] for b in areas[0]["buttons"]][:2] == ["Toda la ciudad", "Downtown"]  # names kept


async def test_the_opt_in_code_is_texted_in_spanish(
    lookups: Any, domain_dict: dict[str, Any], db: aioredis.Redis
) -> None:
    state = {"sub_via": "sms", "sub_topics": ["water"], "sub_area": "all", "requested_slot": "sub_phone"}
    _, shown = await run(AskSubPhone(), tracker(WEB, "socketio", "", slots=state), domain_dict)
    assert shown[0]["text"].startswith(
        "Confirme, por favor: Harbor City Alerts sobre Agua para toda la ciudad."
    )
    await run(
        ValidateSubscriptionForm(), tracker(WEB, "socketio", "(555) 010-1234", slots=state), domain_dict
    )
    [queued] = [json.loads(item) for item in await db.lrange(direct_key("twilio"), 0, -1)]
    assert queued["text"][6:].startswith(" es su código de Harbor City Alerts. Es válido por")
