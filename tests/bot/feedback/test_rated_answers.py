"""What a rated answer carries, the files that word and select the rating, and the tracked link."""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa.shared.core.domain import Domain

from actions import facilities
from bot.content.generate import BUTTON_TITLE_LIMIT
from bot.feedback.answers import (
    feedback_buttons,
    feedback_payload,
    is_feedback_payload,
    new_answer_id,
    parse_feedback_payload,
)
from bot.feedback.links import tracked_link, with_tracked_source
from bot.feedback.texts import FeedbackFileError, load_rated, load_texts, parse_rated, parse_texts

ROOT = Path(__file__).resolve().parents[3]
DOMAIN_FILES = [ROOT / "domain.yml", *sorted((ROOT / "data" / "responses").glob("*.yml"))]


@pytest.fixture(autouse=True)
def at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def test_a_tap_payload_names_the_answer_and_the_value_and_nothing_else() -> None:
    answer = new_answer_id()
    assert feedback_payload(answer, "down") == '/feedback{"answer":"' + answer + '","value":"down"}'
    assert parse_feedback_payload(feedback_payload(answer, "up")) == (answer, "up")
    assert new_answer_id() != answer and len(answer) == 12
    for forged in (
        '/feedback{"answer":"' + answer + '","value":"maybe"}',
        '/feedback{"answer":"+15550100","value":"up"}',
        '/feedback{"value":"up"}',
        "/feedback",
        '/request_human{"answer":"' + answer + '","value":"up"}',
        "thumbs up",
    ):
        assert not is_feedback_payload(forged), forged


def test_the_buttons_are_worded_by_staff_and_fit_every_platform() -> None:
    texts = load_texts()
    buttons = feedback_buttons("0a1b2c3d4e5f", texts.buttons)
    assert [b["title"] for b in buttons] == ["👍 Yes", "👎 No"]
    assert [parse_feedback_payload(b["payload"]) for b in buttons] == [
        ("0a1b2c3d4e5f", "up"),
        ("0a1b2c3d4e5f", "down"),
    ]
    assert texts.accessible == {"up": "This answered my question", "down": "This did not help"}
    assert texts.sms_prompt == "Was this helpful? Reply Y or N"
    assert all(len(title) <= BUTTON_TITLE_LIMIT for title in texts.buttons.values())


def test_a_wording_file_without_a_title_is_refused_naming_it() -> None:
    with pytest.raises(FeedbackFileError, match=r"messages.yml: buttons needs a text for each of up, down"):
        parse_texts({"buttons": {"up": "Yes"}, "accessible": {}, "sms_prompt": "?"}, Path("messages.yml"))


def test_rated_lookups_are_answers_in_the_domain_never_questions_or_failures() -> None:
    rated = load_rated()
    responses = Domain.load([str(f) for f in DOMAIN_FILES]).responses
    assert set(rated.values()) == {
        "facility_hours",
        "collection_day",
        "request_status",
        "service_status",
        "alerts",
    }
    assert not [r for r in rated if r not in responses], "listed but not a response"
    assert not [r for r in rated if r.endswith(("_unavailable", "_unknown", "_invalid")) or "_ask_" in r]
    assert rated["utter_collection_day"] == "collection_day" and "utter_facility_which" not in rated
    every_facility_answer = {*facilities.RESPONSES.values(), *facilities.DAY_RESPONSES.values()}
    assert every_facility_answer <= {r for r, lookup in rated.items() if lookup == "facility_hours"}


def test_a_response_listed_under_two_lookups_is_refused() -> None:
    raw = {"lookups": {"alerts": ["utter_alerts"], "other": ["utter_alerts"]}}
    with pytest.raises(FeedbackFileError, match="utter_alerts is listed under alerts and other"):
        parse_rated(raw, Path("rated.yml"))


def test_the_tracked_link_names_only_the_entry_and_the_variant() -> None:
    link = tracked_link("https://chat.harborcity.example/", "pothole", "friendly")
    assert link == "https://chat.harborcity.example/webhooks/links/go/pothole/friendly"


def test_only_the_source_address_itself_is_replaced() -> None:
    text = "Contest online.\nMore: https://h.example/parking-tickets. See https://h.example/parking-tickets/contest"
    replaced = with_tracked_source(text, "https://h.example/parking-tickets", "L")
    assert replaced == "Contest online.\nMore: L. See https://h.example/parking-tickets/contest"
    assert with_tracked_source(text, "", "L") == text
