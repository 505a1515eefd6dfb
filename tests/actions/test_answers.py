"""Answers a live alert overrides: the alert leads, the contradicted answer is never said."""

from __future__ import annotations

from typing import Any

from lookup_support import render, run_action
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity
from rasa_sdk import Tracker

from actions.answers import ActionGiveLiveAnswer, overrides

ANSWER = ActionGiveLiveAnswer()
TAP_WATER = "faq/tap_water_unsafe"
BOIL_WATER_ID = "HC-OEM-0143"  # in bot/demo_agency/data/alerts.json, in effect at the test clock


def answered(domain: Domain, text: str, key: str) -> Tracker:
    """The tracker Rasa sends after the NLU routed `text` to `faq_live` with `key` selected."""
    parse: dict[str, Any] = {
        "text": text,
        "intent": {"name": "faq_live", "confidence": 0.9},
        "entities": [],
        "response_selector": {"faq": {"response": {"intent_response_key": key, "confidence": 0.9}}},
    }
    events = [ActionExecuted("action_listen"), UserUttered(text, parse["intent"], [], parse_data=parse)]
    tracker = DialogueStateTracker.from_events("citizen-1", events, slots=domain.slots)
    return Tracker.from_dict(tracker.current_state(EventVerbosity.AFTER_RESTART))


async def test_the_tap_water_rumor_names_the_boil_water_notice() -> None:
    assert "boil water notice" in overrides()[TAP_WATER]


async def test_an_alert_in_effect_leads_and_the_contradicted_answer_is_dropped(lookups, domain):
    reply = await run_action(
        ANSWER, answered(domain, "do I need to boil my water downtown?", TAP_WATER), domain
    )
    assert reply.responses == ["utter_answer_overridden_by_alert"]
    assert "Boil Water Notice for Downtown" in reply.text
    assert "no boil-water notice is in effect" not in reply.text
    assert "harborcity.example/alerts" in reply.text


async def test_without_the_event_in_effect_the_answer_is_given(demo, lookups, domain):
    await demo.admin(f"alerts/{BOIL_WATER_ID}/cancel")
    reply = await run_action(ANSWER, answered(domain, "is the tap water safe", TAP_WATER), domain)
    assert reply.responses == [f"utter_{TAP_WATER}"]
    assert "drinking-water standards" in reply.text


async def test_alerts_down_gives_the_answer_and_where_to_check(demo, lookups, domain):
    await demo.stop()
    reply = await run_action(ANSWER, answered(domain, "is the tap water safe", TAP_WATER), domain)
    assert reply.responses == [f"utter_{TAP_WATER}", "utter_answer_alerts_unchecked"]
    assert "harborcity.example/alerts" in reply.text


async def test_an_answer_no_alert_overrides_is_said_as_it_is(lookups, domain):
    reply = await run_action(
        ANSWER, answered(domain, "when is city hall open", "faq/city_hall_hours"), domain
    )
    assert reply.texts == await render(domain, [{"response": "utter_faq/city_hall_hours"}])
