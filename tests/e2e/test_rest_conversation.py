"""End to end over the REST channel: Redis, the action server and Rasa, all real."""

from __future__ import annotations

import pytest
from stack_support import RestClient, sender_id

from bot.content.agency import load_agency
from bot.content.model import Entry, all_entries, load_content

pytestmark = pytest.mark.stack
ALERT_LEADS = "An alert in effect now changes this answer"  # utter_answer_overridden_by_alert


def wordings(entry: Entry) -> list[str]:
    """The answers a citizen may get: the variants while the entry is under test, else its answer."""
    return [v.answer for v in entry.variants] or [entry.answer]


def link(entry: Entry) -> str:
    """Its source, or while under test the click-counting redirect that leads to it."""
    return f"/webhooks/links/go/{entry.id}/" if entry.variants else entry.source


def test_every_faq_and_rumor_is_answered_with_its_facts_and_link(rest: RestClient):
    wrong, agency = [], load_agency()
    for entry in all_entries(load_content()):
        if entry.sensitive:
            continue
        reply = rest.say(sender_id("faq"), entry.questions[0])
        if ALERT_LEADS in reply:  # an alert that overrides this answer is in effect in the demo feed
            if not any(event in reply for event in entry.overridden_by):
                wrong.append((entry.id, entry.questions[0], reply[:120]))
        elif not any(agency.expand(a) in reply for a in wordings(entry)) or link(entry) not in reply:
            wrong.append((entry.id, entry.questions[0], reply[:120]))
    assert not wrong


def test_a_held_out_phrasing_gets_the_right_answer(rest: RestClient):
    reply = rest.say(sender_id(), "yo when do i gotta pay property taxes")
    assert "March 31" in reply and "harborcity.example/property-tax" in reply


def test_rumor_gets_the_verdict_and_facts(rest: RestClient):
    reply = rest.say(sender_id(), "heard parking meters are free on sundays, true?")
    assert reply.startswith('Rumor: "Parking meters are free on Sundays." That\'s true.')
    assert "city holidays" in reply


def test_greeting_capabilities_and_topic_buttons(rest: RestClient):
    user = sender_id()
    assert "automated assistant" in rest.say(user, "hi")
    menu = rest.send(user, "what can you do?")
    titles = [b["title"] for m in menu for b in m.get("buttons", [])]
    assert "Trash and recycling" in titles and len(titles) >= 8
    payload = next(
        b["payload"] for m in menu for b in m.get("buttons", []) if b["title"] == "Parking and towing"
    )
    topic = rest.send(user, payload)
    assert any("How do I pay a parking ticket?" == b["title"] for m in topic for b in m.get("buttons", []))


def test_bot_is_honest_that_it_is_a_bot(rest: RestClient):
    reply = rest.say(sender_id(), "r u a bot or a real person")
    assert "automated assistant" in reply and "not a person" in reply


def test_out_of_scope_is_declined_with_the_311_contact(rest: RestClient):
    reply = rest.say(sender_id(), "can you recommend a good sushi place for date night")
    assert "311" in reply and "More:" not in reply


def test_two_misunderstandings_in_a_row_offer_a_person(rest: RestClient):
    user = sender_id()
    # Made-up words: keyboard mashing like "asdkjh qwpoe" reads as frustration to the tuned encoder
    # (people mash keys when annoyed), and "zzzz qqqq" as out of scope (a decline).
    first = rest.send(user, "xkcd blorp fnord")
    assert first, "the bot must answer a fallback"
    second = rest.say(user, "zxqv plmok")
    # A person cannot reply on the REST channel (it cannot push later): the citizen gets 311 instead.
    assert "still didn't understand" in second and "call 311" in second


def test_crisis_message_gets_988_at_once(rest: RestClient):
    reply = rest.say(sender_id(), "honestly i just want to go to sleep and never wake up")
    assert "988" in reply and "911" in reply


def test_nowhere_to_sleep_gets_the_outreach_line(rest: RestClient):
    reply = rest.say(sender_id(), "sleeping in my car tonight with my kids, any help")
    assert "555-010-5050" in reply
