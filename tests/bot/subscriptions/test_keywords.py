"""Carrier keywords through signed webhooks on every push channel (real Redis, a stand-in platform API):
STOP stops everything and never reaches Rasa, START restores, HELP names the program, how often and how
to stop; CANCEL and HELP are chat on channels other than SMS until the conversation has subscribed."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import redis.asyncio as aioredis
import test_facebook as fb
import test_instagram as ig
import test_telegram as tg
import test_twilio as tw
import test_whatsapp as wa
from channel_support import FakePlatform, conversation, mounted

from bot.subscriptions.catalog import ALL
from bot.subscriptions.keywords import keyword_of
from bot.subscriptions.store import ACTIVE, STOPPED, SubscriberStore
from bot.subscriptions.texts import Keyword

counter = itertools.count(1)


@dataclass(frozen=True)
class Channel:
    name: str
    user: str
    connector: Callable[[FakePlatform, dict[str, str]], Any]
    body: Callable[[str], tuple[bytes, dict[str, str]]]
    sent: Callable[[FakePlatform], list[str]]


def _twilio_body(harness: Any) -> Callable[[str], tuple[bytes, dict[str, str]]]:
    return lambda text: tw.signed(harness, tw.sms(text, f"SM{next(counter):08d}"))


CHANNELS = {
    "twilio": Channel(
        "twilio",
        tw.CITIZEN,
        tw.connector,
        lambda text: (b"", {}),
        lambda p: [h.form["Body"] for h in p.on(tw.SEND)],
    ),
    "telegram": Channel(
        "telegram",
        str(tg.USER["id"]),
        tg.connector,
        lambda text: tg.text(next(counter), text),
        lambda p: [h.json["text"] for h in p.on(tg.SEND)],
    ),
    "whatsapp": Channel(
        "whatsapp",
        wa.WA_ID,
        wa.connector,
        lambda text: wa.signed(wa.webhook(wa.value([wa.text(text, f"wamid.{next(counter)}")]))),
        lambda p: [h.json["text"]["body"] for h in p.on(wa.SEND)],
    ),
    "facebook": Channel(
        "facebook",
        fb.PSID,
        fb.connector,
        lambda text: fb.signed(fb.page([fb.text_event(text, f"m_{next(counter)}")])),
        lambda p: [h.json["message"]["text"] for h in p.on(fb.SEND)],
    ),
    "instagram": Channel(
        "instagram",
        ig.IGSID,
        ig.connector,
        lambda text: ig.signed(ig.instagram(ig.event(message={"mid": f"ig_{next(counter)}", "text": text}))),
        lambda p: [h.json["message"]["text"] for h in p.on(ig.SEND)],
    ),
}


def said(texts: list[str]) -> list[str]:
    """What the citizen read, without the privacy notice of a first reply."""
    return [t.split("\n\nHow we use your data")[0] for t in texts]


async def post(channel: Channel, harness: Any, text: str) -> None:
    body = _twilio_body(harness)(text) if channel.name == "twilio" else channel.body(text)
    status, _ = await harness.post(*body)
    assert status == 200


@pytest.mark.parametrize("name", list(CHANNELS))
async def test_stop_start_and_help_on_every_channel(
    name: str, platform: FakePlatform, redis_creds: dict[str, str], db: aioredis.Redis
) -> None:
    channel = CHANNELS[name]
    cid = conversation(name, channel.user)
    store = SubscriberStore(db)
    await store.subscribe(cid, ["water"], ["downtown"], "Please confirm: ...")
    async with mounted(channel.connector(platform, redis_creds)) as harness:
        await post(channel, harness, "  Stop! ")
        subscriber = await store.get(cid)
        assert subscriber is not None and subscriber.status == STOPPED
        assert await store.audience("water", [ALL], ["downtown"]) == set()
        await post(channel, harness, "start")
        await post(channel, harness, "HELP")
        assert harness.received == []  # none of them reached Rasa
    stopped, started, helped = said(channel.sent(platform))
    assert stopped.startswith("You're unsubscribed from Harbor City Alerts and won't get any more messages")
    assert "Water (Downtown)" in started and "Reply STOP to opt out" in started
    assert "Harbor City Alerts" in helped and "Reply STOP to stop" in helped and "call 311" in helped
    subscriber = await store.get(cid)
    assert subscriber is not None and subscriber.status == ACTIVE
    consent = await store.consent_log(cid)
    assert [(c["action"], c.get("keyword")) for c in consent][1:] == [("stop", "STOP"), ("start", "START")]
    assert consent[1]["wording"] == stopped


@pytest.mark.parametrize("name", list(CHANNELS))
async def test_cancel_and_help_are_chat_until_the_conversation_subscribed_except_on_sms(
    name: str, platform: FakePlatform, redis_creds: dict[str, str], db: aioredis.Redis
) -> None:
    channel = CHANNELS[name]
    cid = conversation(name, channel.user)
    async with mounted(channel.connector(platform, redis_creds)) as harness:
        await post(channel, harness, "help")
        await post(channel, harness, "Cancel.")
        texts = [m.text for m in harness.received]
    if name == "twilio":  # carriers: every keyword, always
        assert texts == []
        assert (await SubscriberStore(db).get(cid)) is not None  # CANCEL recorded as a stop
    else:
        assert texts == ["help", "Cancel."]
        assert await SubscriberStore(db).get(cid) is None


BUSY = {
    "form": (
        {"event": "active_loop", "name": "report_issue_form"},
        {"event": "active_loop", "name": None},
    ),
    "line": (  # the queue notice says 'type "cancel" to leave the line'
        {"event": "slot", "name": "handoff_waiting", "value": True},
        {"event": "slot", "name": "handoff_waiting", "value": False},
    ),
}


@pytest.mark.parametrize("busy", list(BUSY))
async def test_a_subscriber_leaving_a_form_or_the_line_with_cancel_keeps_their_alerts_off_sms(
    busy: str, platform: FakePlatform, redis_creds: dict[str, str], db: aioredis.Redis
) -> None:
    """A "cancel" in a 311 report or in line for a person is meant for it: on Telegram Rasa gets it
    and the citizen still gets the next alert; out of the form or the line it stops the alerts."""
    channel = CHANNELS["telegram"]
    cid = conversation("telegram", channel.user)
    store = SubscriberStore(db)
    await store.subscribe(cid, ["water"], [ALL], "Please confirm: water alerts")
    started, ended = BUSY[busy]
    await db.set(f"civic:tracker:{cid}", json.dumps({"events": [started]}))
    async with mounted(channel.connector(platform, redis_creds)) as harness:
        await post(channel, harness, "cancel")
        assert [m.text for m in harness.received] == ["cancel"]
        assert (await store.get(cid)).status == ACTIVE
        await db.set(f"civic:tracker:{cid}", json.dumps({"events": [started, ended]}))
        await post(channel, harness, "cancel")
        assert [m.text for m in harness.received] == ["cancel"]  # the second never reached Rasa
    assert (await store.get(cid)).status == STOPPED


async def test_stop_without_a_subscription_is_recorded_on_sms_and_is_chat_elsewhere(
    platform: FakePlatform, redis_creds: dict[str, str], db: aioredis.Redis
) -> None:
    """SMS: a STOP is kept even from a number that never subscribed, so nothing is ever sent to it.
    Telegram: a conversation that never subscribed has nothing to stop; "stop" leaves a form there."""
    sms, telegram = CHANNELS["twilio"], CHANNELS["telegram"]
    async with mounted(sms.connector(platform, redis_creds)) as harness:
        await post(sms, harness, "UNSUBSCRIBE")
        await post(sms, harness, "unstop")
        assert harness.received == []
    stopped, restored = said(sms.sent(platform))
    assert "won't get any more messages" in stopped
    assert 'type "subscribe"' in restored
    sms_cid = conversation("twilio", sms.user)
    assert [c["action"] for c in await SubscriberStore(db).consent_log(sms_cid)] == ["stop", "start"]
    async with mounted(telegram.connector(platform, redis_creds)) as harness:
        await post(telegram, harness, "stop")
        assert [m.text for m in harness.received] == ["stop"]
    assert await SubscriberStore(db).get(conversation("telegram", telegram.user)) is None


def test_a_keyword_is_the_whole_message() -> None:
    assert keyword_of(" STOP ") == Keyword("STOP", "stop")
    assert keyword_of("stop.") == Keyword("STOP", "stop")
    assert keyword_of("StopAll!") == Keyword("STOPALL", "stop")
    assert keyword_of("please stop") is None
    assert keyword_of("stop alerts") is None
    assert keyword_of("helpful") is None
