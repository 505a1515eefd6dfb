"""What a follow-up refers to: the latest answer of the session, found in the conversation's events."""

from __future__ import annotations

from typing import Any

from actions.follow_up import last_subject


def user(text: str, key: str = "") -> dict[str, Any]:
    selector = {"faq": {"response": {"intent_response_key": key}}} if key else {}
    return {
        "event": "user",
        "text": text,
        "parse_data": {"intent": {"name": "x"}, "response_selector": selector},
    }


def action(name: str) -> dict[str, Any]:
    return {"event": "action", "name": name}


def test_the_latest_answer_and_the_message_it_answered():
    events = [
        user("is city hall open today"), action("action_check_facility_hours"), action("action_listen"),
        user("my car was towed", "faq/towed_vehicle"), action("utter_faq"), action("action_listen"),
        user("how much is it?"),
    ]  # fmt: skip
    name, asked = last_subject(events)
    assert name == "utter_faq" and asked["text"] == "my car was towed"
    assert asked["response_selector"]["faq"]["response"]["intent_response_key"] == "faq/towed_vehicle"


def test_a_follow_up_of_a_follow_up_still_refers_to_the_lookup():
    events = [
        user("any alerts"), action("action_check_alerts"), action("action_listen"),
        user("what about Riverside?"), action("action_follow_up"), action("action_listen"),
        user("and Old Town?"),
    ]  # fmt: skip
    assert last_subject(events)[0] == "action_check_alerts"


def test_nothing_before_or_only_an_earlier_session_is_no_subject():
    assert last_subject([user("what about tomorrow?")]) is None
    earlier = [user("any alerts"), action("action_check_alerts"), {"event": "session_started"}]
    assert last_subject([*earlier, user("and tomorrow?")]) is None


def test_declines_and_greetings_are_not_subjects():
    events = [
        user("hi"),
        action("utter_greet"),
        user("sushi?"),
        action("utter_out_of_scope"),
        user("how much?"),
    ]
    assert last_subject(events) is None
