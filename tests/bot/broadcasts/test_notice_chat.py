"""The pinned notice leads the greeting (Rasa's response generator) and the alerts answer (the action),
from the next message on, read from a real Redis; a Redis that is down never costs the greeting."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis
from aiohttp import web
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from server_support import serving

from actions.alerts import ActionCheckAlerts
from actions.resources import Resources, close_resources, open_resources
from bot.agency_config import AgencyConfig
from bot.broadcasts.notice import NoticeStore
from bot.nlg import AgencyNaturalLanguageGenerator
from bot.settings import Settings
from bot.stack import free_port

ROOT = Path(__file__).resolve().parents[3]
DOMAIN_FILES = [ROOT / "domain.yml", *sorted((ROOT / "data" / "responses").glob("*.yml"))]
REDIS_DB = 9
GREETING = "Hi! I'm Harbor City's automated assistant."
NOTICE = "Boil water in Downtown until Friday: tap water is not safe to drink unboiled."
LINK = "https://harborcity.example/alerts/boil-water"


@pytest.fixture(autouse=True)
def at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load([str(p) for p in DOMAIN_FILES])


@pytest.fixture
def redis_url(redis_server: int) -> str:
    return f"redis://127.0.0.1:{redis_server}/{REDIS_DB}"


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(redis_url)
    await client.flushdb()
    yield client
    await client.close()


def tracker_for(text: str, intent: str, domain: Domain) -> DialogueStateTracker:
    events = [ActionExecuted(ACTION_LISTEN_NAME), UserUttered(text, {"name": intent, "confidence": 1.0})]
    return DialogueStateTracker.from_events("citizen-1", events, slots=domain.slots)


async def greet(nlg: AgencyNaturalLanguageGenerator, domain: Domain, channel: str) -> str:
    said = await nlg.generate("utter_greet", tracker_for("hello", "greet", domain), channel)
    assert said is not None
    return str(said["text"])


async def test_the_greeting_leads_with_the_pinned_notice_on_every_channel(
    redis: aioredis.Redis, domain: Domain
) -> None:
    nlg = AgencyNaturalLanguageGenerator(domain=domain, redis=redis)
    assert (await greet(nlg, domain, "socketio")).startswith(GREETING)

    await NoticeStore(redis).pin(NOTICE, LINK, time.time() + 3600, "erin")
    for channel in ("socketio", "twilio", "telegram", "whatsapp", "facebook", "rest"):
        text = await greet(nlg, domain, channel)
        assert text.startswith(f"Notice: {NOTICE} {LINK}\n\n{GREETING}"), (channel, text)
    # Other answers are left alone.
    goodbye = await nlg.generate("utter_goodbye", tracker_for("bye", "goodbye", domain), "twilio")
    assert goodbye is not None and "Notice" not in goodbye["text"]

    await NoticeStore(redis).clear()
    assert (await greet(nlg, domain, "twilio")).startswith(GREETING)


async def test_an_expired_notice_is_not_shown(redis: aioredis.Redis, domain: Domain) -> None:
    nlg = AgencyNaturalLanguageGenerator(domain=domain, redis=redis)
    pinned_in_the_past = NoticeStore(redis, clock=lambda: time.time() - 7200)
    await pinned_in_the_past.pin(NOTICE, LINK, time.time() + 0.2, "erin")
    assert "Notice" in await greet(nlg, domain, "twilio")
    await asyncio.sleep(0.3)
    assert (await greet(nlg, domain, "twilio")).startswith(GREETING)


async def test_redis_down_greets_without_the_notice(domain: Domain, caplog: pytest.LogCaptureFixture) -> None:
    dead = aioredis.Redis(port=free_port(), socket_connect_timeout=0.5, socket_timeout=0.5)
    nlg = AgencyNaturalLanguageGenerator(domain=domain, redis=dead)
    assert (await greet(nlg, domain, "twilio")).startswith(GREETING)
    assert "pinned notice was left out" in caplog.text
    await dead.close()


async def test_rasa_builds_it_from_redis_in_its_environment(
    redis: aioredis.Redis, redis_server: int, domain: Domain, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As Rasa runs it: no Redis handed in, REDIS_HOST/PORT/DB in the environment (endpoints.yml)."""
    monkeypatch.delenv("REDIS_URL", raising=False)
    for name, value in {"REDIS_HOST": "127.0.0.1", "REDIS_PORT": str(redis_server), "REDIS_DB": "9"}.items():
        monkeypatch.setenv(name, value)
    await NoticeStore(redis).pin(NOTICE, LINK, time.time() + 3600, "erin")
    nlg = AgencyNaturalLanguageGenerator(domain=domain)
    assert (await greet(nlg, domain, "telegram")).startswith(f"Notice: {NOTICE}")


# --- the alerts answer ---------------------------------------------------------------------------

NOW = datetime(2026, 11, 25, 15, 0, tzinfo=timezone.utc)


@pytest.fixture
async def feed_url() -> AsyncIterator[str]:
    async def serve(_: web.Request) -> web.Response:
        heat = {
            "id": "heat-1",
            "event": "Heat Advisory",
            "headline": "Heat Advisory for the Eastside",
            "severity": "Moderate",
            "urgency": "Expected",
            "areaDesc": "Eastside",
            "effective": (NOW - timedelta(hours=2)).isoformat(),
            "expires": (NOW + timedelta(hours=8)).isoformat(),
            "instruction": "Drink plenty of water.",
        }
        features = [{"id": "heat-1", "type": "Feature", "geometry": None, "properties": heat}]
        return web.json_response({"type": "FeatureCollection", "features": features})

    app = web.Application()
    app.router.add_get("/alerts.geojson", serve)
    async with serving(app) as base:
        yield f"{base}/alerts.geojson"


@pytest.fixture
async def resources(redis: aioredis.Redis, redis_url: str, feed_url: str) -> AsyncIterator[Resources]:
    settings = Settings.from_env({"REDIS_URL": redis_url, "ALERTS_URL": feed_url})
    opened = await open_resources(AgencyConfig.from_settings(settings), settings=settings, clock=lambda: NOW)
    yield opened
    await close_resources()


def sdk_tracker(domain: Domain, text: str, intent: str) -> Tracker:
    return Tracker.from_dict(tracker_for(text, intent, domain).current_state(EventVerbosity.AFTER_RESTART))


async def rendered(domain: Domain, messages: list[dict[str, Any]]) -> list[str]:
    """What the citizen reads: responses through the NLG of endpoints.yml, plain texts as they are."""
    nlg = AgencyNaturalLanguageGenerator(domain=domain)
    tracker = DialogueStateTracker.from_events("render", [], slots=domain.slots)
    texts = []
    for message in messages:
        if not message.get("response"):
            texts.append(str(message.get("text") or ""))
            continue
        values = {k: v for k, v in message.items() if k not in ("response", "template")}
        generated = await nlg.generate(message["response"], tracker, "rest", **values)
        assert generated is not None and "{" not in generated["text"], message
        texts.append(generated["text"])
    return texts


async def test_the_alerts_answer_leads_with_the_notice(
    resources: Resources, redis: aioredis.Redis, domain: Domain
) -> None:
    dispatcher = CollectingDispatcher()
    await ActionCheckAlerts().run(
        dispatcher, sdk_tracker(domain, "any alerts?", "ask_alerts"), domain.as_dict()
    )
    before = await rendered(domain, dispatcher.messages)
    assert "Notice" not in before[0] and "Heat Advisory for the Eastside" in before[0]

    await NoticeStore(redis).pin(NOTICE, LINK, time.time() + 3600, "erin")
    dispatcher = CollectingDispatcher()
    await ActionCheckAlerts().run(
        dispatcher, sdk_tracker(domain, "any alerts?", "ask_alerts"), domain.as_dict()
    )
    said = await rendered(domain, dispatcher.messages)
    assert said[0] == f"Notice: {NOTICE} {LINK}"
    assert "Heat Advisory for the Eastside" in said[1]
