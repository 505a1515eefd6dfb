"""A rated answer on every platform (issue #18): what the citizen sees, and that a tap rates it.

The "bot" answers "When is trash day?" the way the NLG answers a FAQ (contract §1): the text, any
buttons of its own, then the two feedback buttons (`bot.feedback.answers.feedback_buttons`, titles
from data/feedback/messages.yml) and the `rating`. Each platform's stand-in API records what would
reach the citizen; a signed tap must come back to Rasa as the feedback payload, and only when it was
offered to this conversation. Redis DB 12.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis
import test_facebook as fb
import test_instagram as ig
import test_telegram as tg
import test_twilio as sms
import test_whatsapp as wa
from channel_support import IDENTITY_SECRET, FakePlatform, first, mounted
from rasa.core.channels.channel import UserMessage
from socketio_support import Page
from web_channel_support import Served, served

from bot.channels.feedback import yes_no
from bot.channels.socketio import CivicSocketIOInput
from bot.feedback.answers import DOWN, UP, feedback_buttons, feedback_payload, rating
from bot.feedback.texts import load_texts as feedback_texts

AID = "0a1b2c3d4e5f"
HELPFUL, NOT_HELPFUL = feedback_payload(AID, UP), feedback_payload(AID, DOWN)
FORGED = feedback_payload("ffffffffffff", UP)  # an answer this conversation never got
QUESTION = "When is trash day?"
ANSWER = "Trash is collected once a week on your street's day: https://www.harborcity.example/trash"
LONG = " ".join(["Bulk items go out the night before your pickup day, bagged or tied."] * 20)
OWN = [
    {"title": "Recycling", "payload": '/explore_topic{"topic":"trash_recycling"}'},
    {"title": "Talk to a person", "payload": "/request_human"},
]


def rated(text: str = ANSWER, own: list[dict[str, str]] | None = None) -> dict[str, Any]:
    titles = feedback_texts().buttons
    return {
        "text": text,
        "buttons": [*(own or []), *feedback_buttons(AID, titles)],
        "rating": rating(AID, "trash_day", "faq", topic="trash_recycling"),
    }


def answering(reply: dict[str, Any]) -> Any:
    """A bot that gives `reply` to the question and a plain line to "hi"; taps get no reply."""

    def bot(message: UserMessage) -> list[dict[str, Any]]:
        if message.text == QUESTION:
            return [dict(reply)]
        if message.text == "hi":
            return [{"text": "Hello!"}]
        return []

    return bot


@pytest.fixture
def creds(redis_server: int) -> dict[str, str]:
    client = redis.Redis(port=redis_server, db=12)
    client.flushdb()
    client.close()
    return {
        "redis_host": "127.0.0.1",
        "redis_port": str(redis_server),
        "redis_db": "12",
        "redis_password": "",
        "identity_secret": IDENTITY_SECRET,
    }


def test_the_titles_fit_every_platform_and_the_payloads_telegrams_64_bytes() -> None:
    titles = feedback_texts().buttons
    assert all(0 < len(title) <= 20 for title in titles.values())  # Meta and WhatsApp cut at 20
    assert len(NOT_HELPFUL.encode()) <= 64 and len(HELPFUL.encode()) <= 64


YES_NO = [("Y", UP), ("yes", UP), (" Yes! ", UP), ("y.", UP), ("N", DOWN), ("no", DOWN), ("NO!!", DOWN)]
NEITHER = [("yes please", None), ("2", None), ("", None), ("not", None), ("nyes", None)]


@pytest.mark.parametrize(("reply", "value"), [*YES_NO, *NEITHER])
def test_sms_replies_read_as_yes_or_no(reply: str, value: str | None) -> None:
    assert yes_no(reply) == value


async def test_messenger_shows_quick_replies_and_a_tap_rates(
    platform: FakePlatform, creds: dict[str, str]
) -> None:
    async with mounted(fb.connector(platform, creds), answering(rated())) as harness:
        await harness.post(*fb.signed(fb.page([fb.text_event(QUESTION, "m.1")])))
        [hit] = platform.on(fb.SEND)
        assert hit.json["message"] == {
            "text": first(ANSWER),
            "quick_replies": [
                {"content_type": "text", "title": "👍 Yes", "payload": HELPFUL},
                {"content_type": "text", "title": "👎 No", "payload": NOT_HELPFUL},
            ],
        }
        await harness.post(*fb.signed(fb.page([fb.quick_reply_event("👎 No", NOT_HELPFUL, "m.2")])))
        await harness.post(*fb.signed(fb.page([fb.quick_reply_event("👍 Yes", FORGED, "m.3")])))
    assert [m.text for m in harness.received] == [QUESTION, NOT_HELPFUL, FORGED.lstrip("/")]


async def test_messenger_keeps_the_feedback_pair_when_buttons_are_cut(
    platform: FakePlatform, creds: dict[str, str]
) -> None:
    many = [{"title": f"Option {n}", "payload": f'/choose{{"n":{n}}}'} for n in range(14)]
    async with mounted(fb.connector(platform, creds), answering(rated(own=many))) as harness:
        await harness.post(*fb.signed(fb.page([fb.text_event(QUESTION, "m.1")])))
    [hit] = platform.on(fb.SEND)
    replies = hit.json["message"]["quick_replies"]
    assert len(replies) == 13
    assert [r["title"] for r in replies[-3:]] == ["Option 10", "👍 Yes", "👎 No"]


async def test_instagram_shows_quick_replies_and_a_tap_rates(
    platform: FakePlatform, creds: dict[str, str]
) -> None:
    async with mounted(ig.connector(platform, creds), answering(rated(own=OWN[:1]))) as harness:
        await harness.post(*ig.signed(ig.instagram(ig.event(message={"mid": "ig.1", "text": QUESTION}))))
        [hit] = platform.on(ig.SEND)
        assert [(r["title"], r["payload"]) for r in hit.json["message"]["quick_replies"]] == [
            ("Recycling", OWN[0]["payload"]),
            ("👍 Yes", HELPFUL),
            ("👎 No", NOT_HELPFUL),
        ]
        tap = {"mid": "ig.2", "text": "👍 Yes", "quick_reply": {"payload": HELPFUL}}
        await harness.post(*ig.signed(ig.instagram(ig.event(message=tap))))
    assert harness.received[-1].text == HELPFUL


async def test_telegram_puts_the_pair_on_the_last_row_of_the_inline_keyboard(
    platform: FakePlatform, creds: dict[str, str]
) -> None:
    async with mounted(tg.connector(platform, creds), answering(rated(own=OWN))) as harness:
        await harness.post(*tg.text(1, QUESTION))
        [reply] = tg.sent(platform)
        assert reply["text"] == first(ANSWER)
        assert reply["reply_markup"]["inline_keyboard"] == [
            [{"text": "Recycling", "callback_data": OWN[0]["payload"]}],
            [{"text": "Talk to a person", "callback_data": "/request_human"}],
            [{"text": "👍 Yes", "callback_data": HELPFUL}, {"text": "👎 No", "callback_data": NOT_HELPFUL}],
        ]
        for update_id, data in ((2, NOT_HELPFUL), (3, FORGED)):
            tap = {"id": str(update_id), "from": tg.USER, "message": tg.message(1, text="…"), "data": data}
            await harness.post(*tg.update(update_id, callback_query={**tap, "chat_instance": "1"}))
    assert [m.text for m in harness.received] == [QUESTION, NOT_HELPFUL, FORGED.lstrip("/")]


def whatsapp_buttons(body: dict[str, Any]) -> tuple[str, list[tuple[str, str]]]:
    interactive = body["interactive"]
    assert interactive["type"] == "button"
    buttons = [(b["reply"]["title"], b["reply"]["id"]) for b in interactive["action"]["buttons"]]
    return interactive["body"]["text"], buttons


PAIR = [("👍 Yes", HELPFUL), ("👎 No", NOT_HELPFUL)]


async def test_whatsapp_a_short_answer_carries_the_two_reply_buttons(
    platform: FakePlatform, creds: dict[str, str]
) -> None:
    async with mounted(wa.connector(platform, creds), answering(rated())) as harness:
        await harness.post(*wa.signed(wa.webhook(wa.value([wa.text(QUESTION, "wamid.1")]))))
        [body] = wa.bodies(platform)
        assert whatsapp_buttons(body) == (first(ANSWER), PAIR)
        tap = {"type": "button_reply", "button_reply": {"id": NOT_HELPFUL, "title": "👎 No"}}
        await harness.post(
            *wa.signed(wa.webhook(wa.value([wa.message("interactive", "wamid.2", interactive=tap)])))
        )
    assert harness.received[-1].text == NOT_HELPFUL


@pytest.mark.parametrize("shape", ["own buttons", "long"])
async def test_whatsapp_asks_in_a_message_of_its_own_when_the_answer_cannot_carry_them(
    platform: FakePlatform, creds: dict[str, str], shape: str
) -> None:
    reply = rated(own=OWN) if shape == "own buttons" else rated(LONG)
    async with mounted(wa.connector(platform, creds), answering(reply)) as harness:
        await harness.post(*wa.signed(wa.webhook(wa.value([wa.text("hi", "wamid.0")]))))
        await harness.post(*wa.signed(wa.webhook(wa.value([wa.text(QUESTION, "wamid.1")]))))
    answer, question = wa.bodies(platform)[1:]
    if shape == "own buttons":  # the answer with its own two buttons, as unrated
        assert whatsapp_buttons(answer) == (ANSWER, [(b["title"], b["payload"]) for b in OWN])
    else:  # the whole text, plainly (over the 1024 characters of an interactive body)
        assert answer == {**answer, "type": "text", "text": {"preview_url": False, "body": LONG}}
    assert whatsapp_buttons(question) == ("Did this answer your question?", PAIR)


@pytest.fixture
def feedback_sms(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> bool:
    monkeypatch.setenv("FEEDBACK_SMS", "true" if request.param else "false")
    return bool(request.param)


@pytest.mark.parametrize("feedback_sms", [False], indirect=True)
async def test_sms_without_feedback_sms_sends_the_answer_as_if_unrated(
    platform: FakePlatform, creds: dict[str, str], feedback_sms: bool
) -> None:
    def bot(message: UserMessage) -> list[dict[str, Any]]:
        if message.text == "unrated":
            return [{"text": ANSWER, "buttons": OWN}]
        return answering(rated(own=OWN))(message)

    async with mounted(sms.connector(platform, creds), bot) as harness:
        await harness.post(*sms.signed(harness, sms.sms("hi", "SM1")))  # the privacy notice goes here
        await harness.post(*sms.signed(harness, sms.sms("unrated", "SM2")))
        await harness.post(*sms.signed(harness, sms.sms(QUESTION, "SM3")))
        await harness.post(*sms.signed(harness, sms.sms("Y", "SM4")))
    unrated, answer = [form["Body"] for form in sms.sent(platform)][1:]
    assert answer == unrated  # the same SMS, not one character (or segment) longer
    assert "Reply Y or N" not in answer
    assert harness.received[-1].text == "Y"  # no question was asked: plain text


@pytest.mark.parametrize("feedback_sms", [True], indirect=True)
async def test_sms_with_feedback_sms_asks_reply_y_or_n_for_the_next_message_only(
    platform: FakePlatform, creds: dict[str, str], feedback_sms: bool
) -> None:
    async with mounted(sms.connector(platform, creds), answering(rated(own=OWN))) as harness:
        await harness.post(*sms.signed(harness, sms.sms("hi", "SM1")))
        await harness.post(*sms.signed(harness, sms.sms(QUESTION, "SM2")))
        await harness.post(*sms.signed(harness, sms.sms(" Yes! ", "SM3")))  # rates the answer up
        await harness.post(*sms.signed(harness, sms.sms(QUESTION, "SM4")))
        await harness.post(*sms.signed(harness, sms.sms("2", "SM5")))  # the answer's own option 2
        await harness.post(*sms.signed(harness, sms.sms(QUESTION, "SM6")))
        await harness.post(*sms.signed(harness, sms.sms("hi", "SM7")))
        await harness.post(*sms.signed(harness, sms.sms("n", "SM8")))  # not right after the answer
    assert sms.sent(platform)[1]["Body"] == (
        f"{ANSWER}\n1. Recycling\n2. Talk to a person\nReply with the number of your choice.\n"
        "Was this helpful? Reply Y or N"
    )
    said = [m.text for m in harness.received]
    assert said == ["hi", QUESTION, HELPFUL, QUESTION, "/request_human", QUESTION, "hi", "n"]


@pytest.mark.parametrize("feedback_sms", [True], indirect=True)
async def test_sms_a_rated_answer_without_options_is_not_numbered(
    platform: FakePlatform, creds: dict[str, str], feedback_sms: bool
) -> None:
    async with mounted(sms.connector(platform, creds), answering(rated())) as harness:
        await harness.post(*sms.signed(harness, sms.sms("hi", "SM1")))
        await harness.post(*sms.signed(harness, sms.sms(QUESTION, "SM2")))
        await harness.post(*sms.signed(harness, sms.sms("1", "SM3")))
        await harness.post(*sms.signed(harness, sms.sms(QUESTION, "SM4")))
        await harness.post(*sms.signed(harness, sms.sms("N", "SM5")))
    assert sms.sent(platform)[1]["Body"] == f"{ANSWER}\nWas this helpful? Reply Y or N"
    assert [m.text for m in harness.received][2:] == ["1", QUESTION, NOT_HELPFUL]


# --- the web chat's socket.io channel ---------------------------------------------------------


@pytest.fixture
async def chat(creds: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Served]:
    for name in ("TRUSTED_PROXIES", "CHAT_MAX_MESSAGE_CHARS"):
        monkeypatch.delenv(name, raising=False)
    settings = {
        "user_message_evt": "user_uttered",
        "bot_message_evt": "bot_uttered",
        "session_persistence": True,
    }
    channel = CivicSocketIOInput.from_credentials({**creds, **settings})
    async with served(channel, answering(rated(f"First part.\n\n{ANSWER}", own=OWN[:1]))) as running:
        yield running


async def heard(page: Page, count: int) -> list[dict[str, Any]]:
    for _ in range(200):
        if len(page.heard) >= count:
            return page.heard
        await asyncio.sleep(0.02)
    pytest.fail(f"the page heard {page.heard}, not {count} messages")


async def test_the_web_chat_gets_the_rating_with_accessible_names_and_a_tap_rates(chat: Served) -> None:
    page = Page(chat.base_url)
    page.confirm_seconds = 10.0
    try:
        await page.open(None)
        await page.say(QUESTION)
        part, answer = await heard(page, 2)
        assert part == {"text": "First part.", "quick_replies": []}
        assert answer == {
            "text": ANSWER,
            "quick_replies": [{"content_type": "text", "title": "Recycling", "payload": OWN[0]["payload"]}],
            "feedback": {
                "answer": AID,
                "question": "Did this answer your question?",
                "options": [
                    {
                        "value": UP,
                        "title": "👍 Yes",
                        "label": "This answered my question",
                        "payload": HELPFUL,
                    },
                    {"value": DOWN, "title": "👎 No", "label": "This did not help", "payload": NOT_HELPFUL},
                ],
            },
        }
        await page.say(NOT_HELPFUL)
        await page.say(HELPFUL)  # a second tap changes the rating
        await page.say(FORGED)
        for _ in range(200):
            if len(chat.agent.received) >= 4:
                break
            await asyncio.sleep(0.02)
    finally:
        await page.close()
    assert [m.text for m in chat.agent.received] == [QUESTION, NOT_HELPFUL, HELPFUL, FORGED.lstrip("/")]
