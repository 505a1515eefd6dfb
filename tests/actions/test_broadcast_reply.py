"""A citizen who received a broadcast and replies to it is answered from it, or offered a person.

Real Redis (DB 9), a local alerts feed, the real domain; the broadcast is stored and marked received
the way the delivery worker does it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis
from lookup_support import START
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity
from rasa_sdk import Tracker
from rasa_sdk.events import FollowupAction
from rasa_sdk.executor import CollectingDispatcher

from actions.alerts import ActionCheckAlerts
from actions.broadcast_reply import ActionReplyToBroadcast
from actions.resources import Resources, close_resources, open_resources
from bot.agency_config import AgencyConfig
from bot.broadcasts.model import ALERT, SENDING, Broadcast, BroadcastStore
from bot.broadcasts.received import remember_received
from bot.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DOMAIN_FILES = [ROOT / "domain.yml", *sorted((ROOT / "data" / "responses").glob("*.yml"))]
CITIZEN = "telegram-5f2a9c"
NOW = START  # 10:00 in Harbor City; the alerts feed (conftest.py) has its flood warning
FLOOD_TEXT = "Flood Warning for Riverside and Old Town\nMove to higher ground now."
LINK = "https://harborcity.example/alerts/flood"


@pytest.fixture(autouse=True)
def at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


@pytest.fixture(scope="module")
def real_domain() -> Domain:
    return Domain.load([str(p) for p in DOMAIN_FILES])


@pytest.fixture
async def resources(db9: aioredis.Redis, db9_url: str, feed_url: str) -> AsyncIterator[Resources]:
    settings = Settings.from_env({"REDIS_URL": db9_url, "ALERTS_URL": feed_url})
    opened = await open_resources(AgencyConfig.from_settings(settings), settings=settings, clock=lambda: NOW)
    yield opened
    await close_resources()


async def received(redis: aioredis.Redis, **fields: Any) -> Broadcast:
    values: dict[str, Any] = {
        "id": "b-0123456789ab",
        "title": "Flood Warning",
        "text": FLOOD_TEXT,
        "topic": "emergencies",
        "areas": ("riverside", "old_town"),
        "channels": ("telegram",),
        "author": "alerts feed",
        "link": LINK,
        "status": SENDING,
        "created": (NOW - timedelta(hours=1)).timestamp(),
        "sent_at": (NOW - timedelta(hours=1)).timestamp(),
        "kind": ALERT,
        "alert_id": "flood-9",
    }
    values.update(fields)
    broadcast = await BroadcastStore(redis).add(Broadcast(**values))
    await remember_received(redis, CITIZEN, broadcast.id)
    return broadcast


def tracker(domain: Domain, text: str, intent: str) -> Tracker:
    events = [ActionExecuted(ACTION_LISTEN_NAME), UserUttered(text, {"name": intent, "confidence": 1.0})]
    state = DialogueStateTracker.from_events(CITIZEN, events, slots=domain.slots)
    return Tracker.from_dict(state.current_state(EventVerbosity.AFTER_RESTART))


async def reply(domain: Domain, text: str, intent: str = "out_of_scope") -> tuple[list[dict[str, Any]], Any]:
    replies = intent in ("out_of_scope", "ask_about_broadcast")
    action = ActionReplyToBroadcast() if replies else ActionCheckAlerts()
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker(domain, text, intent), domain.as_dict())
    return dispatcher.messages, events


def texts(messages: list[dict[str, Any]]) -> str:
    return "\n".join(str(m.get("text") or "") for m in messages)


async def test_is_my_street_affected_names_the_areas_and_the_district_asked_about(
    resources: Resources, db9: aioredis.Redis, real_domain: Domain
) -> None:
    await received(db9)
    messages, events = await reply(real_domain, "Is my street affected? I live in Old Town", "ask_alerts")
    said = texts(messages)
    assert "The message you received on Wed 25 Nov, 9 am was about Riverside and Old Town." in said
    assert "Yes: Old Town is one of them." in said
    assert f"Details and updates: {LINK}" in said
    assert events == []
    messages, _ = await reply(real_domain, "is the east side affected?")
    assert "Eastside is not one of them." in texts(messages)


async def test_a_street_it_cannot_place_gets_the_link_and_a_person(
    resources: Resources, db9: aioredis.Redis, real_domain: Domain
) -> None:
    await received(db9)
    messages, events = await reply(real_domain, "is my street affected?")
    assert "about Riverside and Old Town" in texts(messages)
    assert LINK in texts(messages)
    assert messages[-1]["buttons"] == [{"title": "Talk to a person", "payload": "/request_human"}]
    assert events == []  # answered: no decline


async def test_how_long_comes_from_the_feed_and_what_to_do_from_the_message(
    resources: Resources, db9: aioredis.Redis, real_domain: Domain
) -> None:
    await received(db9)
    messages, _ = await reply(real_domain, "how long will it last?")
    assert "It is in effect until Wed 25 Nov, 6 pm." in texts(messages)
    assert not any(m.get("buttons") for m in messages)
    messages, _ = await reply(real_domain, "what should I do?")
    assert f"said:\n{FLOOD_TEXT}" in texts(messages)


async def test_what_a_staff_broadcast_does_not_say_is_not_guessed(
    resources: Resources, db9: aioredis.Redis, real_domain: Domain
) -> None:
    await received(db9, kind="staff", alert_id="", areas=("all",), author="erin")
    messages, _ = await reply(real_domain, "how long will it last?")
    assert "does not say that" in texts(messages)
    assert messages[-1]["buttons"] == [{"title": "Talk to a person", "payload": "/request_human"}]
    messages, _ = await reply(real_domain, "is my street affected?")
    assert "was about the whole city." in texts(messages)


async def test_without_a_recent_broadcast_the_decline_and_the_alerts_answer_are_as_before(
    resources: Resources, db9: aioredis.Redis, real_domain: Domain
) -> None:
    messages, events = await reply(real_domain, "how long will it last?")
    assert messages == [] and events == [FollowupAction("utter_out_of_scope")]
    # Received four days ago: a new question, not a reply.
    await received(db9, sent_at=(NOW - timedelta(days=4)).timestamp())
    messages, events = await reply(real_domain, "what should I do?")
    assert messages == [] and events == [FollowupAction("utter_out_of_scope")]
    # A question that is no reply ("any alerts?") gets the alerts answer even right after a broadcast.
    await received(db9)
    messages, _ = await reply(real_domain, "any alerts?", "ask_alerts")
    assert [m.get("response") for m in messages] == ["utter_alerts"]
    messages, events = await reply(real_domain, "what's a good banana bread recipe")
    assert messages == [] and events == [FollowupAction("utter_out_of_scope")]


async def test_a_question_the_nlu_took_for_one_about_a_broadcast_is_answered_from_it(
    resources: Resources, db9: aioredis.Redis, real_domain: Domain
) -> None:
    """No reply phrase needed once the NLU says so: a district named is "is it affected?", anything
    else is answered with what the message said; with nothing received, the alerts in effect."""
    messages, events = await reply(real_domain, "does the alert cover Riverside", "ask_about_broadcast")
    assert messages == [] and events == [FollowupAction("action_check_alerts")]
    await received(db9)
    messages, events = await reply(real_domain, "does the alert cover Riverside", "ask_about_broadcast")
    assert "Yes: Riverside is one of them." in texts(messages) and events == []
    messages, _ = await reply(real_domain, "i just got your text", "ask_about_broadcast")
    assert FLOOD_TEXT in texts(messages)
