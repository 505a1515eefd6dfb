"""Telegram: updates shaped like the Bot API's `Update` object, with the webhook secret token header."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from typing import Any

import pytest
from channel_support import Answer, FakePlatform, conversation, first, mounted
from rasa.core.channels.channel import UserMessage

from bot.channels.base import ChannelConfigError
from bot.channels.telegram import TelegramBotInput

TOKEN = "7012345678:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
SECRET = "harbor-city-telegram-secret_01"
CHAT = 1111111
SEND = f"/bot{TOKEN}/sendMessage"
NOTICE = "Sorry, I can only read text messages. Please type your question."
USER = {"id": CHAT, "is_bot": False, "first_name": "Sheena", "username": "sheena", "language_code": "en"}
PRIVATE = {"id": CHAT, "first_name": "Sheena", "username": "sheena", "type": "private"}


def connector(platform: FakePlatform, redis_creds: dict[str, str], **extra: str) -> TelegramBotInput:
    return TelegramBotInput.from_credentials(
        {
            "access_token": TOKEN,
            "verify": "HarborCityBot",
            "secret_token": SECRET,
            "api_url": platform.base_url,
            "send_interval": "0",
            "retry_backoff": "0.01",
            **redis_creds,
            **extra,
        }
    )


def update(update_id: int, **content: Any) -> tuple[bytes, dict[str, str]]:
    body = json.dumps({"update_id": update_id, **content}).encode()
    return body, {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": SECRET}


def message(message_id: int, chat: dict[str, Any] | None = None, **content: Any) -> dict[str, Any]:
    return {
        "message_id": message_id,
        "from": USER,
        "chat": chat or PRIVATE,
        "date": int(time.time()),
        **content,
    }


def text(update_id: int, body: str, **extra: Any) -> tuple[bytes, dict[str, str]]:
    return update(update_id, message=message(update_id, text=body, **extra))


def sent(platform: FakePlatform) -> list[dict[str, Any]]:
    return [hit.json for hit in platform.on(SEND)]


async def test_a_message_and_the_reply(platform: FakePlatform, redis_creds: dict[str, str]) -> None:
    channel = connector(platform, redis_creds)
    assert channel.name() == "telegram"
    async with mounted(channel) as harness:
        assert harness.webhook.endswith("/webhooks/telegram/webhook")
        assert (await harness.post(*text(10000, "Where do I pay a parking ticket?")))[0] == 200
        [received] = harness.received
        assert (received.text, received.sender_id, received.input_channel) == (
            "Where do I pay a parking ticket?",
            conversation("telegram", CHAT),
            "telegram",
        )
    assert platform.on(f"/bot{TOKEN}/setWebhook") == []  # no PUBLIC_BASE_URL: nothing registered
    assert sent(platform) == [{"chat_id": CHAT, "text": first("You said: Where do I pay a parking ticket?")}]


@pytest.mark.parametrize("header", [None, "", "wrong-secret", SECRET + "x", "\u00e9"])
async def test_updates_without_the_secret_token_are_refused(
    platform: FakePlatform, redis_creds: dict[str, str], header: str | None
) -> None:
    body, headers = text(10001, "hi")
    if header is None:
        del headers["X-Telegram-Bot-Api-Secret-Token"]
    else:
        headers["X-Telegram-Bot-Api-Secret-Token"] = header
    async with mounted(connector(platform, redis_creds)) as harness:
        assert (await harness.post(body, headers))[0] == 403
        assert harness.received == []
    assert platform.hits == []


async def test_the_webhook_is_registered_at_start_up(
    platform: FakePlatform, redis_creds: dict[str, str]
) -> None:
    channel = connector(platform, redis_creds, public_base_url="https://assistant.harborcity.example")
    async with mounted(channel):
        pass
    [hit] = platform.on(f"/bot{TOKEN}/setWebhook")
    assert hit.json == {
        "url": "https://assistant.harborcity.example/webhooks/telegram/webhook",
        "secret_token": SECRET,
        "allowed_updates": ["message", "callback_query"],
    }


async def test_a_failed_registration_does_not_stop_the_server(
    platform: FakePlatform, redis_creds: dict[str, str]
) -> None:
    platform.answer(
        f"/bot{TOKEN}/setWebhook",
        Answer(
            400,
            {
                "ok": False,
                "error_code": 400,
                "description": "Bad Request: bad webhook: HTTPS url must be provided",
            },
        ),
    )
    async with mounted(
        connector(platform, redis_creds, public_base_url="http://insecure.example")
    ) as harness:
        assert (await harness.post(*text(1, "hi")))[0] == 200
        assert len(harness.received) == 1


async def test_commands_buttons_and_locations(platform: FakePlatform, redis_creds: dict[str, str]) -> None:
    def tap(update_id: int, data: str) -> dict[str, Any]:
        return {
            "id": f"4382bfdwdsb323b2d{update_id}",
            "from": USER,
            "message": message(5, text="Pick a topic", reply_markup={"inline_keyboard": []}),
            "chat_instance": "-8817263829172",
            "data": data,
        }

    def menu(received: UserMessage) -> list[dict[str, Any]]:
        if received.text != "/greet":
            return []
        buttons = [{"title": "Parking", "payload": '/explore_topic{"topic":"parking"}'}]
        return [{"text": "Pick a topic", "buttons": buttons}]

    entities = [{"offset": 0, "length": 6, "type": "bot_command"}]
    async with mounted(connector(platform, redis_creds), menu) as harness:
        await harness.post(*text(1, "/start", entities=entities))
        await harness.post(
            *text(2, "/help@HarborCityBot", entities=[{"offset": 0, "length": 19, "type": "bot_command"}])
        )
        await harness.post(*text(3, "/restart"))  # typed: no intent
        await harness.post(*update(4, callback_query=tap(4, '/explore_topic{"topic":"parking"}')))
        # callback data no button offered (a modified client): read as text, not as an intent
        await harness.post(*update(7, callback_query=tap(7, '/feedback{"value":"down"}')))
        await harness.post(
            *update(6, message=message(6, location={"latitude": 41.30412, "longitude": -72.92471}))
        )
        assert [(m.text, m.metadata) for m in harness.received] == [
            ("/greet", None),
            ("/ask_capabilities", None),
            ("restart", None),
            ('/explore_topic{"topic":"parking"}', None),
            ('feedback{"value":"down"}', None),
            ("41.30412, -72.92471", {"location": {"lat": 41.30412, "long": -72.92471}}),
        ]
    answered = platform.on(f"/bot{TOKEN}/answerCallbackQuery")
    assert [hit.json for hit in answered] == [
        {"callback_query_id": "4382bfdwdsb323b2d4"},
        {"callback_query_id": "4382bfdwdsb323b2d7"},
    ]


async def test_media_edits_groups_and_other_updates(
    platform: FakePlatform, redis_creds: dict[str, str]
) -> None:
    photo = [
        {
            "file_id": "AgACAgQAAxkBAAIBa2small",
            "file_unique_id": "AQADs",
            "file_size": 1234,
            "width": 90,
            "height": 67,
        },
        {
            "file_id": "AgACAgQAAxkBAAIBa2large",
            "file_unique_id": "AQADl",
            "file_size": 98765,
            "width": 1280,
            "height": 960,
        },
    ]
    group = {"id": -1001234567890, "title": "Neighbours", "type": "supergroup"}
    sticker = {
        "file_id": "CAACAgIAAxkBAAIBb",
        "file_unique_id": "AgADb",
        "type": "regular",
        "width": 512,
        "height": 512,
        "is_animated": False,
        "is_video": False,
    }
    async with mounted(connector(platform, redis_creds)) as harness:
        await harness.post(*update(1, message=message(1, photo=photo)))
        await harness.post(
            *update(2, message=message(2, photo=photo, caption="Graffiti on the library wall"))
        )
        await harness.post(*update(3, message=message(3, sticker=sticker)))
        await harness.post(
            *update(4, message=message(4, voice={"file_id": "v", "file_unique_id": "v", "duration": 3}))
        )
        await harness.post(*update(5, edited_message=message(5, text="edited", edit_date=int(time.time()))))
        await harness.post(*update(6, message=message(6, chat=group, text="hello group")))
        await harness.post(*update(7, my_chat_member={"chat": PRIVATE, "from": USER, "date": 1}))
        await harness.post(*update(8, message=message(8, new_chat_title="x")))
        assert [(m.text, m.metadata) for m in harness.received] == [
            ("Graffiti on the library wall", {"media_id": "AgACAgQAAxkBAAIBa2large"}),
        ]
    assert [s["text"] for s in sent(platform)] == [
        first(NOTICE),
        "You said: Graffiti on the library wall",
        NOTICE,
        NOTICE,
    ]


async def test_buttons_are_an_inline_keyboard_and_long_payloads_travel_as_tokens(
    platform: FakePlatform, redis_creds: dict[str, str]
) -> None:
    long_payload = "When is my trash picked up if the holiday falls on a Monday in the winter months?"
    assert len(long_payload.encode()) > 64

    def bot(received: UserMessage) -> list[dict[str, Any]]:
        if received.text != "trash":
            return []
        return [
            {
                "text": f'Did you mean "{long_payload}"?',
                "buttons": [
                    {"title": long_payload, "payload": long_payload},
                    {"title": "Something else", "payload": "/nlu_fallback"},
                ],
            }
        ]

    async with mounted(connector(platform, redis_creds), bot) as harness:
        await harness.post(*text(1, "trash"))
        [reply] = sent(platform)
        keyboard = reply["reply_markup"]["inline_keyboard"]
        token = keyboard[0][0]["callback_data"]
        assert reply == {
            "chat_id": CHAT,
            "text": first(f'Did you mean "{long_payload}"?'),
            "reply_markup": {
                "inline_keyboard": [
                    [{"text": long_payload, "callback_data": token}],
                    [{"text": "Something else", "callback_data": "/nlu_fallback"}],
                ]
            },
        }
        assert len(token.encode()) <= 64
        tap = {
            "id": "99",
            "from": USER,
            "message": message(2, text="..."),
            "chat_instance": "1",
            "data": token,
        }
        await harness.post(*update(3, callback_query=tap))
        assert harness.received[-1].text == long_payload


async def test_at_most_one_message_per_second_per_chat(
    platform: FakePlatform, redis_creds: dict[str, str]
) -> None:
    def chatty(_: UserMessage) -> list[dict[str, Any]]:
        return [{"text": "one"}, {"text": "two"}, {"text": "three"}]

    async with mounted(connector(platform, redis_creds, send_interval="0.3"), chatty) as harness:
        await harness.post(*text(1, "hi"))
    hits = platform.on(SEND)
    assert [h.json["text"] for h in hits] == [first("one"), "two", "three"]
    assert hits[1].at - hits[0].at >= 0.28
    assert hits[2].at - hits[1].at >= 0.28


async def test_two_replicas_share_one_chats_pace(platform: FakePlatform, redis_creds: dict[str, str]) -> None:
    """Two Rasa replicas answering one chat at once still send at most one message per interval."""

    def chatty(_: UserMessage) -> list[dict[str, Any]]:
        return [{"text": "one"}, {"text": "two"}]

    replica_a = connector(platform, redis_creds, send_interval="0.3")
    replica_b = connector(platform, redis_creds, send_interval="0.3")
    async with mounted(replica_a, chatty) as a, mounted(replica_b, chatty) as b:
        await asyncio.gather(a.post(*text(1, "hi")), b.post(*text(2, "hello")))
    times = sorted(hit.at for hit in platform.on(SEND))
    assert len(times) == 4
    assert all(later - earlier >= 0.28 for earlier, later in itertools.pairwise(times))


async def test_a_429_with_retry_after_in_the_body_is_honoured(
    platform: FakePlatform, redis_creds: dict[str, str]
) -> None:
    platform.answer(
        SEND,
        Answer(
            429,
            {
                "ok": False,
                "error_code": 429,
                "description": "Too Many Requests: retry after 1",
                "parameters": {"retry_after": 1},
            },
        ),
        Answer(200, {"ok": True, "result": {"message_id": 2}}),
    )
    async with mounted(connector(platform, redis_creds)) as harness:
        await harness.post(*text(1, "hi"))
    first, second = platform.on(SEND)
    assert second.at - first.at >= 1.0


async def test_duplicate_updates_once_and_malformed_bodies(
    platform: FakePlatform, redis_creds: dict[str, str]
) -> None:
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    async with mounted(connector(platform, redis_creds)) as harness:
        delivery = text(777, "hello")
        await harness.post(*delivery)
        await harness.post(*delivery)
        assert len(harness.received) == 1
        assert (await harness.post(b"{oops", headers))[0] == 400
        assert (await harness.post(b'{"message": {"text": "no update id"}}', headers))[0] == 200
        assert (await harness.post(b'{"update_id": 5, "message": "not an object"}', headers))[0] == 200
        status, reply = await harness.post(b"x" * 100_000, headers)
        assert status == 413 and "too large" in reply
        assert len(harness.received) == 1
    assert len(sent(platform)) == 1


def test_the_secret_token_must_be_what_telegram_accepts(redis_creds: dict[str, str]) -> None:
    with pytest.raises(ChannelConfigError, match="secret_token"):
        TelegramBotInput.from_credentials(
            {"access_token": TOKEN, "secret_token": "has spaces!", **redis_creds}
        )
    with pytest.raises(ChannelConfigError, match="secret_token"):
        TelegramBotInput.from_credentials({"access_token": TOKEN, **redis_creds})
