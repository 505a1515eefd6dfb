"""Texts read outside Rasa's NLG get the agency's facts too: canned replies, messages, action lines."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.content.agency import UnknownFactError
from bot.handoff.texts import canned_replies, count_text, text, wait_words

ROOT = Path(__file__).resolve().parents[3]
DATA_DIR = Path("data/handoff")


@pytest.fixture(autouse=True)
def at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def test_the_shipped_canned_replies_come_out_expanded_and_correct() -> None:
    replies = {reply["title"]: reply["text"] for reply in canned_replies(DATA_DIR)}
    assert replies["311 by phone"] == (
        "You can also reach 311 by phone: call 311 (555-010-3110 from outside the city), "
        "Monday to Saturday 7 am to 7 pm."
    )
    assert not [t for t in replies.values() if "{" in t]


def test_a_canned_reply_with_an_unknown_fact_is_shown_as_written(tmp_path: Path) -> None:
    replies = [{"title": "Hours", "text": "{agency.hours_311}"}, {"text": "Call {agency.phone_411}."}]
    (tmp_path / "canned_replies.yml").write_text(
        yaml.safe_dump({"canned_replies": replies}), encoding="utf-8"
    )
    assert canned_replies(tmp_path) == [
        {"title": "Hours", "text": "Monday to Saturday 7 am to 7 pm"},
        {"title": "Call {agency.phone_411}.", "text": "Call {agency.phone_411}."},
    ]
    assert canned_replies(tmp_path / "nowhere") == []


def test_console_messages_get_the_facts_and_their_values() -> None:
    assert (
        text(DATA_DIR, "agent_joined", agent="Dana")
        == "Dana from the City of Harbor City has joined the chat."
    )
    said = text(DATA_DIR, "wait_grew", position=2, **wait_words(DATA_DIR, 2, 5))
    assert said == "Thanks for waiting. You are number 2 in line; it may now take about 5 minutes."


def test_counts_take_the_singular_or_the_plural_as_the_number_needs() -> None:
    assert wait_words(DATA_DIR, 1, 1) == {"ahead": "nobody ahead of you", "wait": "about 1 minute"}
    assert wait_words(DATA_DIR, 2, 2) == {"ahead": "1 person ahead of you", "wait": "about 2 minutes"}
    assert wait_words(DATA_DIR, 4, 12) == {"ahead": "3 people ahead of you", "wait": "about 12 minutes"}


def test_a_count_without_zero_uses_other_and_a_missing_form_is_named(tmp_path: Path) -> None:
    (tmp_path / "messages.yml").write_text("counts:\n  wait:\n    one: '{n} min'\n    other: '{n} mins'\n")
    assert count_text(tmp_path, "wait", 0) == "0 mins"
    (tmp_path / "messages.yml").write_text("counts:\n  wait:\n    other: '{n} mins'\n")
    with pytest.raises(KeyError, match=r"counts\.wait has no 'one' form"):
        count_text(tmp_path, "wait", 1)
    with pytest.raises(KeyError, match=r"no counts\.ahead"):
        count_text(tmp_path, "ahead", 1)


def test_a_console_message_with_an_unknown_fact_fails(tmp_path: Path) -> None:
    (tmp_path / "messages.yml").write_text('agent_joined: "{agent}, {agency.nmae}"\n', encoding="utf-8")
    with pytest.raises(UnknownFactError, match=r"\{agency.nmae\}"):
        text(tmp_path, "agent_joined", agent="Dana")


def test_action_fragments_get_the_facts() -> None:
    """The domain Rasa sends the action server still has placeholders; ``fragment`` fills them."""
    from actions.common import fragment  # the action server's module, imported only here

    domain = {"responses": {"utter_part_more": [{"text": "More: {agency.web_trash} {note}"}]}}
    assert fragment(domain, "utter_part_more", note="(bins)") == "More: harborcity.example/trash (bins)"
