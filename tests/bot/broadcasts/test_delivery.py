"""Broadcast delivery as citizens and staff notice it: who gets a message, once, on which platform.

Real Redis (db 8), the real connectors' output channels sending to a local stand-in for each
platform's API (`channel_support.FakePlatform`), and the broadcaster's workers in this process.
The worker killed mid-fan-out is in tests/reliability/test_broadcast_faults.py.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
import redis
import redis.asyncio as aioredis
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "channels"))
from channel_support import IDENTITY_SECRET, Answer, FakePlatform, Hit, sanic_serving, served_platform

from bot.broadcasts.delivery import (
    cancel_delivery,
    delivery_reasons,
    delivery_report,
    send_direct,
    start_delivery,
)
from bot.broadcasts.model import SENDING, SENT, Broadcast, BroadcastStore, new_id
from bot.broadcasts.received import last_received
from bot.broadcasts.worker import Broadcaster, load_texts
from bot.channels.base import PlatformOutput
from bot.channels.facebook import MessengerInput
from bot.channels.instagram import InstagramInput
from bot.channels.meta import SIGNATURE_HEADER
from bot.channels.meta import signature as meta_signature
from bot.channels.store import conversation_key
from bot.channels.telegram import TelegramBotInput
from bot.channels.twilio import SIGNATURE_HEADER as TWILIO_HEADER
from bot.channels.twilio import TwilioSmsInput
from bot.channels.twilio import signature as twilio_signature
from bot.channels.whatsapp import WhatsAppInput
from bot.identity import IdentityKey
from bot.settings import BroadcastSettings
from bot.subscriptions.store import INACTIVE, SubscriberStore

DB = 8
ALL_CHANNELS = ("twilio", "telegram", "whatsapp", "facebook", "instagram")
TWILIO_PATH = "/2010-04-01/Accounts/AC123/Messages.json"
TELEGRAM_PATH = "/bot123:abc/sendMessage"
WHATSAPP_PATH = "/555/messages"
META_PATH = "/me/messages"
UNLIMITED = BroadcastSettings(
    twilio_rate_per_sec=0, telegram_rate_per_sec=0, meta_rate_per_sec=0, whatsapp_rate_per_sec=0
)


@dataclass
class HeldPlatform(FakePlatform):
    """A FakePlatform that can hold the answer to its n-th request until released."""

    hold_at: int = 0
    released: asyncio.Event | None = None
    arrived: asyncio.Event | None = None

    async def handle(self, request: web.Request) -> web.Response:
        if self.hold_at and len(self.hits) + 1 == self.hold_at:
            assert self.released is not None and self.arrived is not None
            body = await request.read()
            self.hits.append(
                Hit(request.method, request.path, {}, dict(request.headers), body, time.monotonic())
            )
            self.arrived.set()
            await self.released.wait()
            return web.json_response({"ok": True, "result": {"message_id": 1}, "sid": "SMheld"})
        return await super().handle(request)


@pytest.fixture
def redis_port(redis_server: int) -> Iterator[int]:
    client = redis.Redis(port=redis_server, db=DB)
    client.flushdb()
    client.close()
    yield redis_server


@pytest.fixture
async def platform() -> AsyncIterator[HeldPlatform]:
    async with served_platform(HeldPlatform(released=asyncio.Event(), arrived=asyncio.Event())) as fake:
        yield fake
        assert fake.released is not None
        fake.released.set()


@pytest.fixture
async def client(redis_port: int) -> AsyncIterator[aioredis.Redis]:
    found = aioredis.Redis(port=redis_port, db=DB)
    yield found
    await found.close(close_connection_pool=True)


def connectors(platform: FakePlatform, port: int) -> list[Any]:
    common = {
        "identity_secret": IDENTITY_SECRET,
        "redis_host": "127.0.0.1",
        "redis_port": str(port),
        "redis_db": str(DB),
        "api_url": platform.base_url,
        "retry_backoff": "0.05",
    }
    return [
        TwilioSmsInput.from_credentials(
            {
                "account_sid": "AC123",
                "auth_token": "twilio-auth-token",
                "twilio_number": "+15550001111",
                "public_base_url": "https://civic.example",
                **common,
            }
        ),
        TelegramBotInput.from_credentials(
            {"access_token": "123:abc", "secret_token": "tg-secret", "send_interval": "0", **common}
        ),
        WhatsAppInput.from_credentials(
            {
                "verify_token": "v",
                "app_secret": "wa-secret",
                "access_token": "t",
                "phone_number_id": "555",
                **common,
            }
        ),
        MessengerInput.from_credentials(
            {"verify": "v", "secret": "fb-secret", "page-access-token": "t", **common}
        ),
        InstagramInput.from_credentials(
            {"verify_token": "v", "app_secret": "ig-secret", "access_token": "t", **common}
        ),
    ]


ADDRESSES = {
    "twilio": "+1555200{:04d}",
    "telegram": "9000{:04d}",
    "whatsapp": "1555300{:04d}",
    "facebook": "psid{:04d}",
    "instagram": "igsid{:04d}",
}


async def subscribe(
    client: aioredis.Redis,
    channel: str,
    count: int,
    *,
    window: bool = True,
    topic: str = "water",
    language: str | None = None,
    first: int = 0,
) -> list[str]:
    """`count` subscribers on `channel` (addresses from number `first` on) whose addresses the
    channel knows, subscribed in `language` (English when None); their conversation ids."""
    store, identity, found = SubscriberStore(client), IdentityKey(IDENTITY_SECRET), []
    for number in range(first, first + count):
        address = ADDRESSES[channel].format(number)
        cid = identity.conversation_id(channel, address)
        await client.set(conversation_key(channel, "address", cid), address)
        if window:
            await client.set(conversation_key(channel, "window", cid), "1", ex=3600)
        await store.subscribe(cid, [topic], ["all"], "Sign me up? Reply YES.", language=language)
        found.append(cid)
    return found


async def new_broadcast(
    client: aioredis.Redis, channels: tuple[str, ...] = ALL_CHANNELS, **extra: Any
) -> Broadcast:
    values: dict[str, Any] = {
        "id": new_id(),
        "title": "Boil water notice",
        "text": "Boil tap water for one minute before drinking.",
        "topic": "water",
        "areas": ("all",),
        "channels": channels,
        "author": "editor",
        "short_text": "Harbor City: boil tap water before drinking.",
        "status": SENDING,
    }
    return await BroadcastStore(client).add(Broadcast(**(values | extra)))


@asynccontextmanager
async def running(
    client: aioredis.Redis, found: list[Any], settings: BroadcastSettings = UNLIMITED
) -> AsyncIterator[Broadcaster]:
    outputs: dict[str, PlatformOutput] = {c.name(): c.get_output_channel() for c in found}
    broadcaster = Broadcaster(
        client,
        settings,
        outputs,
        load_texts(),
        status_callback="https://civic.example/webhooks/twilio/status",
    )
    broadcaster.start()
    try:
        yield broadcaster
    finally:
        await broadcaster.stop()
        for connector in found:
            await connector.sender.close()
            await connector.store.close()


async def finished(client: aioredis.Redis, broadcast_id: str, timeout: float = 20.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        report = await delivery_report(client, broadcast_id)
        if report["done"]:
            return report
        await asyncio.sleep(0.05)
    raise AssertionError(f"not done after {timeout}s: {await delivery_report(client, broadcast_id)}")


async def marked_sent(client: aioredis.Redis, broadcast_id: str, timeout: float = 20.0) -> Broadcast | None:
    """The stored broadcast once the worker has marked it sent (or as it is when `timeout` passes)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        stored = await BroadcastStore(client).get(broadcast_id)
        if stored is not None and stored.status == SENT:
            return stored
        await asyncio.sleep(0.05)
    return await BroadcastStore(client).get(broadcast_id)


def recipients(platform: FakePlatform, channel: str) -> list[str]:
    """Who the platform was asked to message, in order."""
    if channel == "twilio":
        return [h.form["To"] for h in platform.on(TWILIO_PATH)]
    if channel == "telegram":
        return [str(h.json["chat_id"]) for h in platform.on(TELEGRAM_PATH)]
    if channel == "whatsapp":
        return [h.json["to"] for h in platform.on(WHATSAPP_PATH)]
    prefix = ADDRESSES[channel][:2]
    return [
        h.json["recipient"]["id"]
        for h in platform.on(META_PATH)
        if h.json["recipient"]["id"].startswith(prefix)
    ]


def addresses(channel: str, count: int) -> list[str]:
    return [ADDRESSES[channel].format(n) for n in range(count)]


# --- fan-out ---------------------------------------------------------------------------------------


async def test_every_subscriber_on_every_channel_gets_the_broadcast_once(
    platform: HeldPlatform, client: aioredis.Redis, redis_port: int
) -> None:
    subscribers = {channel: await subscribe(client, channel, 3) for channel in ALL_CHANNELS}
    await subscribe(client, "telegram", 2, topic="roads_snow")  # another topic: not in the audience
    broadcast = await new_broadcast(client)
    counts = await start_delivery(client, broadcast)
    assert counts == {"twilio": 3, "telegram": 3, "whatsapp": 3, "messenger": 3, "instagram": 3, "total": 15}
    assert await start_delivery(client, broadcast) == counts  # a second call changes nothing

    async with running(client, connectors(platform, redis_port)):
        report = await finished(client, broadcast.id)
        # the worker marks the broadcast sent just after the last recipient settles (finish_if_done):
        # wait for it while the worker still runs
        stored = await marked_sent(client, broadcast.id)

    for channel in ALL_CHANNELS:
        assert sorted(recipients(platform, channel)) == addresses(channel, 3), channel
    assert report["counts"] == {"queued": 0, "sent": 15, "delivered": 0, "failed": 0, "skipped": 0}
    assert report["by_channel"]["messenger"]["sent"] == 3
    telegram = platform.on(TELEGRAM_PATH)[0].json["text"]
    assert telegram == "Boil water notice\n\nBoil tap water for one minute before drinking."
    sms = platform.on(TWILIO_PATH)[0].form
    assert sms["Body"] == "Harbor City: boil tap water before drinking.\n\nReply STOP to opt out."
    assert sms["StatusCallback"] == "https://civic.example/webhooks/twilio/status"
    assert stored is not None and stored.status == SENT and stored.finished_at > 0
    assert await last_received(client, subscribers["whatsapp"][0]) == broadcast.id


async def test_the_sms_opt_out_line_ends_only_a_subscribers_first_broadcast(
    platform: HeldPlatform, client: aioredis.Redis, redis_port: int
) -> None:
    await subscribe(client, "twilio", 1)
    first, second = await new_broadcast(client, ("twilio",)), await new_broadcast(client, ("twilio",))
    async with running(client, connectors(platform, redis_port)):
        await start_delivery(client, first)
        await finished(client, first.id)
        await start_delivery(client, second)
        await finished(client, second.id)
    bodies = [h.form["Body"] for h in platform.on(TWILIO_PATH)]
    assert bodies[0].endswith("Reply STOP to opt out.")
    assert bodies[1] == "Harbor City: boil tap water before drinking."


async def test_two_broadcasts_at_once_carry_the_opt_out_line_once(
    platform: HeldPlatform, client: aioredis.Redis, redis_port: int
) -> None:
    await subscribe(client, "twilio", 1)
    first, second = await new_broadcast(client, ("twilio",)), await new_broadcast(client, ("twilio",))
    await start_delivery(client, first)
    await start_delivery(client, second)
    async with running(client, connectors(platform, redis_port)):
        await finished(client, first.id)
        await finished(client, second.id)
    bodies = [h.form["Body"] for h in platform.on(TWILIO_PATH)]
    assert len(bodies) == 2 and sum(b.endswith("Reply STOP to opt out.") for b in bodies) == 1, bodies


async def test_the_shared_rate_limit_paces_the_sends(
    platform: HeldPlatform, client: aioredis.Redis, redis_port: int
) -> None:
    await subscribe(client, "twilio", 9)
    broadcast = await new_broadcast(client, ("twilio",))
    await start_delivery(client, broadcast)
    settings = BroadcastSettings(twilio_rate_per_sec=4.0)
    async with running(client, connectors(platform, redis_port), settings):
        await finished(client, broadcast.id)
    hits = platform.on(TWILIO_PATH)
    assert len(hits) == 9
    assert hits[-1].at - hits[0].at >= 1.1  # a burst of 4, then 5 more at 4 a second


# --- platform rules --------------------------------------------------------------------------------


async def test_messenger_and_instagram_outside_the_24_hour_window_are_skipped_never_sent(
    platform: HeldPlatform, client: aioredis.Redis, redis_port: int
) -> None:
    await subscribe(client, "facebook", 2, window=False)
    await subscribe(client, "instagram", 1, window=False)
    broadcast = await new_broadcast(client, ("facebook", "instagram"))
    await start_delivery(client, broadcast)
    async with running(client, connectors(platform, redis_port)):
        report = await finished(client, broadcast.id)
    assert platform.on(META_PATH) == []
    assert report["counts"]["skipped"] == 3 and report["counts"]["sent"] == 0
    assert await delivery_reasons(client, broadcast.id) == {"skipped:outside_24h_window": 3}


async def test_whatsapp_outside_the_window_uses_the_approved_template(
    platform: HeldPlatform, client: aioredis.Redis, redis_port: int
) -> None:
    await subscribe(client, "whatsapp", 1, window=False)
    broadcast = await new_broadcast(client, ("whatsapp",), text="Boil water.\nFor 48 hours.")
    await start_delivery(client, broadcast)
    settings = BroadcastSettings(whatsapp_alert_template="city_alert", whatsapp_template_lang="es_MX")
    async with running(client, connectors(platform, redis_port), settings):
        report = await finished(client, broadcast.id)
    [hit] = platform.on(WHATSAPP_PATH)
    assert hit.json["type"] == "template"
    assert hit.json["template"] == {
        "name": "city_alert",
        "language": {"code": "es_MX"},
        "components": [
            {
                "type": "body",
                "parameters": [
                    {"type": "text", "text": "Boil water notice"},
                    {"type": "text", "text": "Boil water. For 48 hours."},
                ],
            }
        ],
    }
    assert report["counts"]["sent"] == 1


async def test_whatsapp_outside_the_window_without_a_template_is_skipped(
    platform: HeldPlatform, client: aioredis.Redis, redis_port: int
) -> None:
    await subscribe(client, "whatsapp", 1, window=False)
    await subscribe(client, "telegram", 1)
    broadcast = await new_broadcast(client, ("whatsapp", "telegram"))
    await start_delivery(client, broadcast)
    async with running(client, connectors(platform, redis_port)):
        report = await finished(client, broadcast.id)
    assert platform.on(WHATSAPP_PATH) == []
    assert report["by_channel"]["whatsapp"]["skipped"] == 1 and report["by_channel"]["telegram"]["sent"] == 1
    assert await delivery_reasons(client, broadcast.id) == {"skipped:no_template": 1}


SPANISH = {
    "title": "Aviso de hervir el agua",
    "text": "Hierva el agua del grifo durante un minuto antes de beberla.",
    "short_text": "Harbor City: hierva el agua antes de beberla.",
}


async def test_each_subscriber_gets_a_staff_broadcast_in_the_language_they_subscribed_in(
    platform: HeldPlatform, client: aioredis.Redis, redis_port: int
) -> None:
    await subscribe(client, "telegram", 1)
    await subscribe(client, "telegram", 1, language="es", first=1)
    await subscribe(client, "twilio", 1, language="es")
    broadcast = await new_broadcast(client, ("telegram", "twilio"), translations={"es": SPANISH})
    await start_delivery(client, broadcast)
    async with running(client, connectors(platform, redis_port)):
        await finished(client, broadcast.id)
    by_chat = {str(h.json["chat_id"]): h.json["text"] for h in platform.on(TELEGRAM_PATH)}
    assert by_chat[addresses("telegram", 1)[0]].startswith("Boil water notice\n\nBoil tap water")
    assert by_chat[ADDRESSES["telegram"].format(1)].startswith(
        "Aviso de hervir el agua\n\nHierva el agua del grifo durante un minuto antes de beberla."
    )
    [sms] = platform.on(TWILIO_PATH)
    assert sms.form["Body"].startswith("Harbor City: hierva el agua antes de beberla.\n\n")


async def whatsapp_template_sent(
    platform: HeldPlatform, client: aioredis.Redis, redis_port: int, settings: BroadcastSettings
) -> dict[str, tuple[str, str]]:
    """A broadcast worded in Spanish to an English and a Spanish reader outside the window: per
    address, the template's language and its first parameter (the title)."""
    await subscribe(client, "whatsapp", 1, window=False)
    await subscribe(client, "whatsapp", 1, window=False, language="es", first=1)
    broadcast = await new_broadcast(client, ("whatsapp",), translations={"es": SPANISH})
    await start_delivery(client, broadcast)
    async with running(client, connectors(platform, redis_port), settings):
        await finished(client, broadcast.id)
    return {
        hit.json["to"]: (
            hit.json["template"]["language"]["code"],
            hit.json["template"]["components"][0]["parameters"][0]["text"],
        )
        for hit in platform.on(WHATSAPP_PATH)
    }


async def test_a_whatsapp_template_goes_in_the_reader_s_language_where_it_is_approved_in_it(
    platform: HeldPlatform, client: aioredis.Redis, redis_port: int
) -> None:
    settings = BroadcastSettings(
        whatsapp_alert_template="city_alert", whatsapp_template_langs={"es": "es_MX"}
    )
    sent = await whatsapp_template_sent(platform, client, redis_port, settings)
    assert sent == {
        ADDRESSES["whatsapp"].format(0): ("en_US", "Boil water notice"),
        ADDRESSES["whatsapp"].format(1): ("es_MX", "Aviso de hervir el agua"),
    }


async def test_a_whatsapp_template_not_approved_in_the_reader_s_language_goes_in_english(
    platform: HeldPlatform, client: aioredis.Redis, redis_port: int
) -> None:
    settings = BroadcastSettings(whatsapp_alert_template="city_alert")
    sent = await whatsapp_template_sent(platform, client, redis_port, settings)
    assert set(sent.values()) == {("en_US", "Boil water notice")}


# --- refusals and retries --------------------------------------------------------------------------


async def test_a_429_is_retried_after_the_platforms_retry_after(
    platform: HeldPlatform, client: aioredis.Redis, redis_port: int
) -> None:
    await subscribe(client, "telegram", 1)
    platform.answer(
        TELEGRAM_PATH,
        Answer(
            429, {"ok": False, "error_code": 429, "description": "Too Many Requests"}, {"Retry-After": "1"}
        ),
        Answer(200, {"ok": True, "result": {"message_id": 7}}),
    )
    broadcast = await new_broadcast(client, ("telegram",))
    await start_delivery(client, broadcast)
    async with running(client, connectors(platform, redis_port)):
        report = await finished(client, broadcast.id)
    first, second = platform.on(TELEGRAM_PATH)
    assert second.at - first.at >= 1.0
    assert report["counts"]["sent"] == 1


async def test_a_blocked_telegram_user_and_a_carrier_opt_out_become_inactive_and_count_failed(
    platform: HeldPlatform, client: aioredis.Redis, redis_port: int
) -> None:
    [blocked] = await subscribe(client, "telegram", 1)
    [opted_out] = await subscribe(client, "twilio", 1)
    platform.answer(
        TELEGRAM_PATH,
        Answer(
            403, {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"}
        ),
    )
    platform.answer(
        TWILIO_PATH,
        Answer(400, {"code": 21610, "message": "Attempt to send to unsubscribed recipient", "status": 400}),
    )
    broadcast = await new_broadcast(client, ("telegram", "twilio"))
    await start_delivery(client, broadcast)
    async with running(client, connectors(platform, redis_port)):
        report = await finished(client, broadcast.id)
    assert len(platform.on(TELEGRAM_PATH)) == 1  # never retried
    assert report["counts"]["failed"] == 2 and report["counts"]["sent"] == 0
    store = SubscriberStore(client)
    for cid in (blocked, opted_out):
        found = await store.get(cid)
        assert found is not None and found.status == INACTIVE
    assert await delivery_reasons(client, broadcast.id) == {
        "failed:blocked": 1,
        "failed:unsubscribed_at_carrier": 1,
    }
    # an inactive subscriber is in no later audience
    assert (await start_delivery(client, await new_broadcast(client)))["total"] == 0


async def test_a_citizen_who_sent_stop_after_the_snapshot_gets_nothing(
    platform: HeldPlatform, client: aioredis.Redis, redis_port: int
) -> None:
    _, second = await subscribe(client, "telegram", 2)
    broadcast = await new_broadcast(client, ("telegram",))
    assert (await start_delivery(client, broadcast))["total"] == 2
    await SubscriberStore(client).stop(second, "You will get no more alerts.", keyword="STOP")
    async with running(client, connectors(platform, redis_port)):
        report = await finished(client, broadcast.id)
    assert recipients(platform, "telegram") == [addresses("telegram", 1)[0]]
    assert report["counts"]["sent"] == 1 and report["counts"]["skipped"] == 1
    assert await delivery_reasons(client, broadcast.id) == {"skipped:stopped": 1}


async def test_cancel_sends_nothing_that_was_still_queued(
    platform: HeldPlatform, client: aioredis.Redis, redis_port: int
) -> None:
    await subscribe(client, "telegram", 10)
    broadcast = await new_broadcast(client, ("telegram",))
    await start_delivery(client, broadcast)
    platform.hold_at = 3  # the third send is under way when staff cancel
    settings = BroadcastSettings(telegram_rate_per_sec=0, workers_per_channel=1)
    assert platform.arrived is not None and platform.released is not None
    async with running(client, connectors(platform, redis_port), settings):
        await asyncio.wait_for(platform.arrived.wait(), 10)
        await cancel_delivery(client, broadcast.id)
        platform.released.set()
        report = await finished(client, broadcast.id)
        await asyncio.sleep(0.5)
    assert len(platform.on(TELEGRAM_PATH)) == 3
    assert report["counts"] == {"queued": 0, "sent": 3, "delivered": 0, "failed": 0, "skipped": 7}
    assert await delivery_reasons(client, broadcast.id) == {"skipped:cancelled": 7}


async def test_a_direct_push_goes_out_through_the_same_channel_and_no_report(
    platform: HeldPlatform, client: aioredis.Redis, redis_port: int
) -> None:
    [cid] = await subscribe(client, "twilio", 1)
    await send_direct(client, cid, "Your code is 123456.", "sms_code")
    async with running(client, connectors(platform, redis_port)):
        for _ in range(200):
            if platform.on(TWILIO_PATH):
                break
            await asyncio.sleep(0.05)
    [hit] = platform.on(TWILIO_PATH)
    assert hit.form["Body"] == "Your code is 123456." and hit.form["To"] == addresses("twilio", 1)[0]


# --- receipts --------------------------------------------------------------------------------------

STATUS_URL = "https://civic.example/webhooks/twilio/status"


async def post(url: str, body: bytes, headers: dict[str, str]) -> int:
    async with aiohttp.ClientSession() as session, session.post(url, data=body, headers=headers) as answer:
        return answer.status


def twilio_callback(params: dict[str, str], signed: bool = True) -> tuple[bytes, dict[str, str]]:
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if signed:
        headers[TWILIO_HEADER] = twilio_signature("twilio-auth-token", STATUS_URL, sorted(params.items()))
    return urlencode(params).encode(), headers


async def test_a_signed_twilio_status_callback_counts_delivered_once(
    platform: HeldPlatform, client: aioredis.Redis, redis_port: int
) -> None:
    [cid] = await subscribe(client, "twilio", 1)
    platform.answer(TWILIO_PATH, Answer(201, {"sid": "SM0001", "status": "queued"}))
    broadcast = await new_broadcast(client, ("twilio",))
    await start_delivery(client, broadcast)
    found = connectors(platform, redis_port)
    async with running(client, found):
        await finished(client, broadcast.id)
    [twilio] = [c for c in connectors(platform, redis_port) if c.name() == "twilio"]
    async with sanic_serving(twilio) as (base, _):
        url = f"{base}/webhooks/twilio/status"
        delivered = {"MessageSid": "SM0001", "MessageStatus": "delivered", "AccountSid": "AC123"}
        assert await post(url, *twilio_callback(delivered, signed=False)) == 403
        assert (await delivery_report(client, broadcast.id))["counts"]["delivered"] == 0
        assert await post(url, *twilio_callback(delivered)) == 200
        assert await post(url, *twilio_callback(delivered)) == 200  # Twilio retries: counted once
        unknown = {"MessageSid": "SM9999", "MessageStatus": "delivered"}  # a chat reply's receipt
        assert await post(url, *twilio_callback(unknown)) == 200
        report = await delivery_report(client, broadcast.id)
        assert report["counts"]["delivered"] == 1 and report["by_channel"]["twilio"]["delivered"] == 1
        opted_out = {"MessageSid": "SM0001", "MessageStatus": "undelivered", "ErrorCode": "21610"}
        assert await post(url, *twilio_callback(opted_out)) == 200
    subscriber = await SubscriberStore(client).get(cid)
    assert subscriber is not None and subscriber.status == INACTIVE


def whatsapp_statuses(*statuses: dict[str, object]) -> bytes:
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"phone_number_id": "555"},
        "statuses": list(statuses),
    }
    change = {"field": "messages", "value": value}
    return json.dumps(
        {"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [change]}]}
    ).encode()


async def test_whatsapp_statuses_count_delivered_once(
    platform: HeldPlatform, client: aioredis.Redis, redis_port: int
) -> None:
    await subscribe(client, "whatsapp", 1)
    platform.answer(WHATSAPP_PATH, Answer(200, {"messages": [{"id": "wamid.B1"}]}))
    broadcast = await new_broadcast(client, ("whatsapp",))
    await start_delivery(client, broadcast)
    async with running(client, connectors(platform, redis_port)):
        await finished(client, broadcast.id)
    [whatsapp] = [c for c in connectors(platform, redis_port) if c.name() == "whatsapp"]
    async with sanic_serving(whatsapp) as (base, _):
        url = f"{base}/webhooks/whatsapp/webhook"
        body = whatsapp_statuses(
            {"id": "wamid.B1", "status": "delivered", "recipient_id": "15553000000"},
            {"id": "wamid.B1", "status": "read", "recipient_id": "15553000000"},
        )
        assert await post(url, body, {"Content-Type": "application/json"}) == 403  # unsigned
        assert (await delivery_report(client, broadcast.id))["counts"]["delivered"] == 0
        signed = {"Content-Type": "application/json", SIGNATURE_HEADER: meta_signature("wa-secret", body)}
        assert await post(url, body, signed) == 200
        assert await post(url, body, signed) == 200
    assert (await delivery_report(client, broadcast.id))["counts"]["delivered"] == 1
