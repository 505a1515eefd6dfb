"""A tap on the rating buttons, through Rasa's own actions and NLG and our action server over HTTP.

The test plays the dialogue policy (data/rules/feedback.yml: the tap runs `action_feedback`); the
answer, its buttons, the parse of the tapped payload and the bot events are Rasa's own.
"""

from __future__ import annotations

from typing import Any

from lookup_support import Conversation, entity
from rasa.core.actions.action import ActionRetrieveResponse
from rasa.nlu.classifiers.regex_message_handler import RegexMessageHandler
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.nlu.training_data.message import Message

from bot.feedback.answers import parse_feedback_payload

ANSWER = "faq/city_hall_hours"


def ask(chat: Conversation, text: str = "when is city hall open", answer: str = ANSWER) -> None:
    """A question whose answer the response selector picked, as the NLU hands it to the policy."""
    selected = {"response": {"utter_action": f"utter_{answer}", "intent_response_key": answer}, "ranking": []}
    intent = {"name": "faq", "confidence": 1.0}
    parse = {"intent": intent, "response_selector": {"faq": selected}, "text": text}
    chat.tracker.update(ActionExecuted("action_listen"), chat.domain)
    chat.tracker.update(UserUttered(text, intent, [], parse_data=parse), chat.domain)


def tap(chat: Conversation, payload: str) -> None:
    """The citizen presses a button: Rasa reads "/intent{entities}" without the NLU model."""
    (parsed,) = RegexMessageHandler().process([Message(data={"text": payload})], chat.domain)
    data = parsed.as_dict()
    chat.tracker.update(ActionExecuted("action_listen"), chat.domain)
    chat.tracker.update(UserUttered(payload, data["intent"], data["entities"], parse_data=data), chat.domain)


def last_bot(chat: Conversation) -> BotUttered:
    return [e for e in chat.tracker.events if isinstance(e, BotUttered)][-1]


async def rated_answer(chat: Conversation) -> dict[str, Any]:
    """Rasa's retrieval action `utter_faq` answers (the trained domain has it; this one has its responses)."""
    ask(chat)
    events = await ActionRetrieveResponse("utter_faq").run(chat.channel, chat.nlg, chat.tracker, chat.domain)
    for event in [ActionExecuted("utter_faq"), *events]:
        chat.tracker.update(event, chat.domain)
    assert last_bot(chat).text.startswith("City Hall, 100 Main Street, is open Monday to Friday")
    return dict(last_bot(chat).metadata["rating"])


def payload(chat: Conversation, value: str) -> str:
    (button,) = [b for b in chat.buttons() if (parse_feedback_payload(b["payload"]) or ("", ""))[1] == value]
    return str(button["payload"])


async def test_did_not_help_asks_what_they_were_looking_for_and_offers_a_person(
    domain: Any, action_endpoint: str
) -> None:
    chat = Conversation(domain, action_endpoint)
    rating = await rated_answer(chat)
    tap(chat, payload(chat, "down"))
    assert await chat.run("action_feedback") == ["Sorry. What were you looking for?"]
    assert chat.buttons() == [{"title": "Talk to a person", "payload": "/request_human"}]
    asked = last_bot(chat).metadata
    assert asked["utter_action"] == "utter_feedback_ask_detail", "what the inbox recorder looks for"
    assert asked["feedback_for"] == {"answer": rating["answer"], "entry": "city_hall_hours"}


async def test_helpful_is_thanked_and_nothing_is_asked(domain: Any, action_endpoint: str) -> None:
    chat = Conversation(domain, action_endpoint)
    await rated_answer(chat)
    tap(chat, payload(chat, "up"))
    assert await chat.run("action_feedback") == ["Thanks for letting us know!"]
    assert chat.buttons() == [] and "feedback_for" not in last_bot(chat).metadata


async def test_a_tap_on_an_answer_of_an_earlier_session_still_asks(domain: Any, action_endpoint: str) -> None:
    chat = Conversation(domain, action_endpoint)
    tap(chat, '/feedback{"answer":"0a1b2c3d4e5f","value":"down"}')
    assert await chat.run("action_feedback") == ["Sorry. What were you looking for?"]
    assert last_bot(chat).metadata["feedback_for"] == {"answer": "0a1b2c3d4e5f", "entry": ""}


async def test_a_tap_while_a_report_is_being_taken_is_not_its_description(conversation: Conversation) -> None:
    """The form leaves the tap to the feedback rule, then asks its question again."""
    text = "I want to report a pothole on 12 Elm St"
    conversation.user(text, "report_problem", entities=[entity("address", "12 Elm St", text)])
    assert await conversation.run("report_issue_form")
    assert conversation.slot("requested_slot") == "description"
    tap(conversation, '/feedback{"answer":"0a1b2c3d4e5f","value":"up"}')
    assert await conversation.run("report_issue_form") is None, "rejected: the rules answer the tap"
    assert conversation.slot("description") is None
    assert await conversation.run("action_feedback") == ["Thanks for letting us know!"]
    asked = await conversation.run("report_issue_form")
    assert asked == ["Tell me a bit about it (for example: how big, which lane, any danger)."]
