"""Clarification: the action decides with the real domain and real content titles."""

from __future__ import annotations

from pathlib import Path

from rasa.shared.core.domain import Domain
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.clarify import ActionPrepareClarification, clarification_mode
from actions.suggestions import consecutive_misunderstandings, content_titles, leans_out_of_scope, suggestions

ROOT = Path(__file__).resolve().parents[2]


def user(intent: str) -> dict:
    return {"event": "user", "parse_data": {"intent": {"name": intent}}}


def selector(*keys_and_confidences: tuple[str, float]) -> dict:
    ranking = [{"intent_response_key": k, "confidence": c} for k, c in keys_and_confidences]
    return {"response_selector": {"default": {"ranking": ranking}}}


def test_counts_only_the_latest_run_of_fallbacks_in_this_session():
    events = [user("nlu_fallback"), {"event": "session_started"}, user("greet"), user("nlu_fallback")]
    assert consecutive_misunderstandings(events) == 1
    events += [{"event": "bot"}, user("nlu_fallback")]
    assert consecutive_misunderstandings(events) == 2
    assert consecutive_misunderstandings([user("nlu_fallback"), user("faq")]) == 0


def test_suggestions_are_the_two_likeliest_answers_by_their_published_question():
    titles = content_titles()
    parse = selector(("faq/pothole", 0.4), ("faq/streetlight", 0.35), ("faq/graffiti", 0.3))
    assert suggestions(parse, titles) == [titles["faq/pothole"], titles["faq/streetlight"]]
    assert suggestions(selector(("faq/pothole", 0.15)), titles) == []


def test_a_message_leaning_out_of_scope_is_declined_not_clarified():
    parse = {"intent_ranking": [{"name": "nlu_fallback"}, {"name": "out_of_scope"}, {"name": "faq"}]}
    assert leans_out_of_scope(parse)
    assert not leans_out_of_scope({"intent_ranking": [{"name": "nlu_fallback"}, {"name": "faq"}]})


def test_modes():
    assert clarification_mode(1, ["a", "b"]) == "two"
    assert clarification_mode(1, ["a"]) == "one"
    assert clarification_mode(1, []) == "none"
    assert clarification_mode(2, ["a", "b"]) == "give_up"


async def test_action_sets_the_slots_the_domain_response_needs():
    domain = Domain.load(str(ROOT / "domain.yml"))
    assert {"clarification", "option_1", "option_2"} <= {slot.name for slot in domain.slots}
    latest = {"intent": {"name": "nlu_fallback"}, **selector(("faq/pothole", 0.5), ("faq/graffiti", 0.3))}
    tracker = Tracker("c1", {}, latest, [user("greet"), {**user("nlu_fallback"), **{"parse_data": latest}}],
                      False, None, {}, "action_listen")  # fmt: skip
    events = await ActionPrepareClarification().run(CollectingDispatcher(), tracker, domain.as_dict())
    values = {e["name"]: e["value"] for e in events}
    assert values["clarification"] == "two"
    assert values["option_1"] == content_titles()["faq/pothole"]
