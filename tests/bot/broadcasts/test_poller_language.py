"""Relayed alerts in each subscriber's language: the poller words a relay in every language the agency
offers (the feed's Spanish when it carries it, else the English with the Spanish note), and the
broadcaster sends each subscriber the one they subscribed in, with the texts file's wording in it.

A local NWS-style feed, a real Redis, the real Twilio and Telegram connectors' outputs sending to a
local stand-in for their APIs (`channel_support.FakePlatform`).
"""

from __future__ import annotations

import asyncio
import hashlib
import sys
import time
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "channels"))
from channel_support import IDENTITY_SECRET, FakePlatform, served_platform
from server_support import serving

from bot.broadcasts.delivery import delivery_report
from bot.broadcasts.model import Broadcast
from bot.broadcasts.poller import AlertsPoller, alert_version
from bot.broadcasts.worker import Broadcaster, load_texts
from bot.channels.base import PlatformOutput
from bot.channels.store import conversation_key
from bot.channels.telegram import TelegramBotInput
from bot.channels.twilio import TwilioSmsInput
from bot.clients.alerts import Alert, AlertText
from bot.identity import IdentityKey
from bot.settings import BroadcastSettings, Settings
from bot.subscriptions.store import SubscriberStore

ROOT = Path(__file__).resolve().parents[3]
DB = 9
NOW = datetime(2026, 11, 25, 15, 0, tzinfo=timezone.utc)  # 10:00 in Harbor City
ONLY_IN_ENGLISH = "Esta alerta solo está disponible en inglés."
TWILIO_PATH = "/2010-04-01/Accounts/AC123/Messages.json"
TELEGRAM_PATH = "/bot123:abc/sendMessage"
UNLIMITED = BroadcastSettings(
    twilio_rate_per_sec=0, telegram_rate_per_sec=0, meta_rate_per_sec=0, whatsapp_rate_per_sec=0
)
SPANISH_PARAMETERS = {
    "event_es": ["Aviso de inundación"],
    "headline_es": ["Aviso de inundación para Riverside y Old Town"],
    "description_es": ["El río Harbor se desbordó."],
    "instruction_es": ["Vaya a un terreno más alto ahora."],
}


@pytest.fixture(autouse=True)
def at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # the catalog, the texts and the agency's facts are read from data/


@pytest.fixture
async def redis(redis_server: int) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis(port=redis_server, db=DB)
    await client.flushdb()
    yield client
    await client.close(close_connection_pool=True)


def alert(ident: str, **fields: Any) -> dict[str, Any]:
    return {
        "id": ident,
        "areaDesc": "Riverside; Old Town",
        "sent": (NOW - timedelta(hours=1)).isoformat(),
        "effective": (NOW - timedelta(hours=1)).isoformat(),
        "expires": (NOW + timedelta(hours=12)).isoformat(),
        "status": "Actual",
        "messageType": "Alert",
        "severity": "Severe",
        "urgency": "Immediate",
        "event": "Flood Warning",
        "headline": "Flood Warning for Riverside and Old Town",
        "description": "The Harbor River is over its banks.",
        "instruction": "Move to higher ground now.",
        **fields,
    }


@pytest.fixture
async def feed_url() -> AsyncIterator[str]:
    alerts = [
        alert("flood-es", parameters=SPANISH_PARAMETERS),
        alert("storm-en", event="Severe Thunderstorm Warning", headline="Severe Thunderstorm Warning"),
    ]

    async def serve(request: web.Request) -> web.Response:
        features = [{"id": a["id"], "type": "Feature", "geometry": None, "properties": a} for a in alerts]
        return web.json_response({"type": "FeatureCollection", "features": features})

    app = web.Application()
    app.router.add_get("/alerts.geojson", serve)
    async with serving(app) as base:
        yield f"{base}/alerts.geojson"


async def relayed(redis: aioredis.Redis, feed_url: str) -> dict[str, Broadcast]:
    poller = AlertsPoller(redis, Settings.from_env({"ALERTS_URL": feed_url}), clock=NOW.timestamp)
    try:
        return {b.alert_id: b for b in await poller.poll_once()}
    finally:
        await poller.close()


async def test_a_relay_is_worded_in_spanish_from_the_feed_s_spanish(
    redis: aioredis.Redis, feed_url: str
) -> None:
    flood = (await relayed(redis, feed_url))["flood-es"]
    assert flood.text.startswith("Flood Warning for Riverside and Old Town\nArea: Riverside; Old Town\n")
    assert "Esta alerta" not in flood.text and "Aviso" not in flood.text  # the English as it always read
    spanish = flood.in_language("es")
    assert spanish.title == "Aviso de inundación"
    assert spanish.text.splitlines()[:3] == [
        "Aviso de inundación para Riverside y Old Town",
        "Zona: Riverside; Old Town",
        "Vaya a un terreno más alto ahora.",
    ]
    assert spanish.text.splitlines()[3].startswith("Vigente hasta el mié")  # Wednesday, in Spanish
    assert ".." not in spanish.text  # a Spanish time ends with "p. m." already
    assert spanish.text.endswith("Detalles: https://harborcity.example/alerts")
    assert spanish.sms_text() == (
        "Aviso de inundación para Riverside y Old Town\nDetalles: https://harborcity.example/alerts"
    )


async def test_an_english_only_alert_goes_to_spanish_subscribers_with_the_note(
    redis: aioredis.Redis, feed_url: str
) -> None:
    storm = (await relayed(redis, feed_url))["storm-en"].in_language("es")
    assert storm.text.splitlines()[:3] == [
        "Severe Thunderstorm Warning",
        ONLY_IN_ENGLISH,
        "Zona: Riverside; Old Town",
    ]
    assert "Move to higher ground now." in storm.text  # the feed's English instruction
    assert storm.sms_text().splitlines()[1] == ONLY_IN_ENGLISH
    assert storm.in_language("vi") == storm  # a language the relay is not worded in: as it is


def test_an_english_only_alert_keeps_the_version_it_always_had() -> None:
    """No alert is sent again because languages arrived; a new Spanish text is a new version."""
    english = Alert("a", "E", "H", "D", "I", "Severe", "Immediate", "Downtown", None, None)
    parts = ["Alert", "E", "H", "D", "I", "Severe", "Downtown"]
    assert alert_version(english) == hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:16]
    spanish = Alert(**{**english.__dict__, "texts": {"es": AlertText("E", "Hola")}})
    changed = Alert(**{**english.__dict__, "texts": {"es": AlertText("E", "Hola de nuevo")}})
    assert len({alert_version(english), alert_version(spanish), alert_version(changed)}) == 3


async def finished(redis: aioredis.Redis, broadcast_id: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (await delivery_report(redis, broadcast_id))["done"]:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"not done after {timeout}s: {await delivery_report(redis, broadcast_id)}")


def connectors(platform: FakePlatform, port: int) -> list[Any]:
    common = {
        "identity_secret": IDENTITY_SECRET,
        "redis_host": "127.0.0.1",
        "redis_port": str(port),
        "redis_db": str(DB),
        "api_url": platform.base_url,
        "retry_backoff": "0.05",
    }
    twilio = {"account_sid": "AC123", "auth_token": "t", "twilio_number": "+15550001111", **common}
    return [
        TwilioSmsInput.from_credentials({**twilio, "public_base_url": "https://civic.example"}),
        TelegramBotInput.from_credentials(
            {"access_token": "123:abc", "secret_token": "s", "send_interval": "0", **common}
        ),
    ]


async def subscriber(redis: aioredis.Redis, channel: str, address: str, language: str | None) -> None:
    cid = IdentityKey(IDENTITY_SECRET).conversation_id(channel, address)
    await redis.set(conversation_key(channel, "address", cid), address)
    await SubscriberStore(redis).subscribe(cid, ["emergencies"], ["riverside"], "wording", language=language)


async def test_each_subscriber_gets_the_relay_in_the_language_they_subscribed_in(
    redis: aioredis.Redis, redis_server: int, feed_url: str
) -> None:
    await subscriber(redis, "telegram", "7001", "es")
    await subscriber(redis, "twilio", "+15552000001", "es")
    await subscriber(redis, "telegram", "7002", None)  # subscribed before languages: English
    sent = await relayed(redis, feed_url)
    async with served_platform(FakePlatform()) as platform:
        found = connectors(platform, redis_server)
        outputs: dict[str, PlatformOutput] = {c.name(): c.get_output_channel() for c in found}
        broadcaster = Broadcaster(redis, UNLIMITED, outputs, load_texts())
        broadcaster.start()
        try:
            for broadcast in sent.values():
                await finished(redis, broadcast.id)
        finally:
            await broadcaster.stop()
            for connector in found:
                await connector.sender.close()
                await connector.store.close()
    telegram = {
        str(h.json["chat_id"]): h.json["text"]
        for h in platform.on(TELEGRAM_PATH)
        if "Riverside y" in h.json["text"] or "Riverside and" in h.json["text"]
    }
    assert telegram["7001"].startswith(
        "Aviso de inundación\n\nAviso de inundación para Riverside y Old Town\n"
    )
    assert telegram["7001"].endswith("\n\nMás información: https://harborcity.example/alerts")
    assert telegram["7002"].startswith("Flood Warning\n\nFlood Warning for Riverside and Old Town\n")
    assert telegram["7002"].endswith("\n\nMore: https://harborcity.example/alerts")
    # the two alerts go out at once, in either order; one of them (only) ends with the opt-out line
    opt_out = "\n\nResponda ALTO (o STOP) para no recibir más mensajes."
    texts = [h.form["Body"] for h in platform.on(TWILIO_PATH) if h.form["To"] == "+15552000001"]
    assert len(texts) == 2 and sum(t.endswith(opt_out) for t in texts) == 1, texts
    [sms] = [t.removesuffix(opt_out) for t in texts if "inundación" in t]
    assert sms == "Aviso de inundación para Riverside y Old Town\nDetalles: https://harborcity.example/alerts"
