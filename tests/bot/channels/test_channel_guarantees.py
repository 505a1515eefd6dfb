"""What every messaging channel guarantees a citizen, checked on all five with the same conversation.

- Their phone number or platform id is never a Redis key: Rasa gets a keyed conversation id, and
  the platform address is a value under it; replies still reach the right address.
- A message pushed later through the output channel (the console's agent replies and rating
  prompt go through Rasa's API with `output_channel=latest`, which calls `send_response` with
  the conversation id) reaches the right address; one for an unknown conversation goes nowhere.
- A message over 2,000 characters gets the "too long" notice and never reaches Rasa.
- A "/..." payload no button offered is read as text.
- The privacy notice comes with the first reply of each conversation, once.

Each channel's webhooks are signed and shaped as in its own test module; the platform is a
stand-in aiohttp server (`FakePlatform`), Redis is real.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pytest
import redis
import test_facebook as fb
import test_instagram as ig
import test_telegram as tg
import test_twilio as sms
import test_whatsapp as wa
from channel_support import PRIVACY, FakePlatform, Harness, conversation, first, mounted
from rasa.core.channels.channel import InputChannel, UserMessage
from twilio.request_validator import RequestValidator

from bot.channels.wording import load_texts

Request = tuple[bytes, dict[str, str]]
PARKING = '/explore_topic{"topic":"parking"}'
FORGED = '/feedback{"value":"down"}'
TOO_LONG = load_texts().too_long_for(2000)


@dataclass(frozen=True)
class Driver:
    """How to speak to one channel as its platform would, and read what it sent back."""

    channel: str
    user: str  # the platform's id of our citizen (a phone number on SMS and WhatsApp)
    other: str  # another citizen
    make: Callable[[FakePlatform, dict[str, str]], InputChannel]
    text: Callable[[Harness, str, int, str], Request]
    tap: Callable[[Harness, str, int, str], Request]  # a platform button carrying a payload
    sent: Callable[[FakePlatform], list[tuple[str, str]]]  # (address, text) of each message sent

    def pick(self, harness: Harness, payload: str, n: int, user: str) -> Request:
        """Choosing the first option offered: a tap, or on SMS the reply "1"."""
        if self.channel == "twilio":
            return self.text(harness, "1", n, user)
        return self.tap(harness, payload, n, user)


def _messaging(
    signed: Callable[[Any], Request], obj: str, user: str, n: int, message: dict[str, Any]
) -> Request:
    event = {
        "sender": {"id": user},
        "recipient": {"id": "17841405822304914"},
        "timestamp": int(time.time() * 1000),
        "message": {"mid": f"m_{n}", **message},
    }
    return signed({"object": obj, "entry": [{"id": "1", "time": 1, "messaging": [event]}]})


def _meta_sent(platform: FakePlatform) -> list[tuple[str, str]]:
    return [(h.json["recipient"]["id"], h.json["message"].get("text", "")) for h in platform.on(fb.SEND)]


def _whatsapp_sent(platform: FakePlatform) -> list[tuple[str, str]]:
    out = []
    for hit in platform.on(wa.SEND):
        body = hit.json
        text = body["text"]["body"] if body["type"] == "text" else body["interactive"]["body"]["text"]
        out.append((body["to"], text))
    return out


def _sms(harness: Harness, params: dict[str, str]) -> Request:
    return urlencode(params).encode(), {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Twilio-Signature": RequestValidator(sms.AUTH_TOKEN).compute_signature(harness.webhook, params),
    }


def _telegram_message(n: int, user: str, text: str) -> Request:
    chat = {"id": int(user), "first_name": "Sheena", "type": "private"}
    message = {
        "message_id": n,
        "from": {"id": int(user)},
        "chat": chat,
        "date": int(time.time()),
        "text": text,
    }
    return tg.update(n, message=message)


def _telegram_tap(n: int, user: str, data: str) -> Request:
    chat = {"id": int(user), "type": "private"}
    query = {
        "id": f"cb{n}",
        "from": {"id": int(user)},
        "message": {"message_id": 1, "chat": chat, "date": 1, "text": "..."},
        "chat_instance": "1",
        "data": data,
    }
    return tg.update(n, callback_query=query)


DRIVERS = [
    Driver(
        "facebook",
        fb.PSID,
        "7022541234567890",
        lambda p, c: fb.connector(p, c),
        lambda h, body, n, user: _messaging(fb.signed, "page", user, n, {"text": body}),
        lambda h, payload, n, user: _messaging(
            fb.signed, "page", user, n, {"text": "tap", "quick_reply": {"payload": payload}}
        ),
        _meta_sent,
    ),
    Driver(
        "instagram",
        ig.IGSID,
        "1254459154600000",
        lambda p, c: ig.connector(p, c),
        lambda h, body, n, user: _messaging(ig.signed, "instagram", user, n, {"text": body}),
        lambda h, payload, n, user: _messaging(
            ig.signed, "instagram", user, n, {"text": "tap", "quick_reply": {"payload": payload}}
        ),
        _meta_sent,
    ),
    Driver(
        "whatsapp",
        wa.WA_ID,
        "447700900123",
        lambda p, c: wa.connector(p, c),
        lambda h, body, n, user: wa.signed(wa.webhook(wa.value([wa.text(body, f"wamid.{n}", user)]))),
        lambda h, payload, n, user: wa.signed(
            wa.webhook(
                wa.value(
                    [
                        wa.message(
                            "interactive",
                            f"wamid.{n}",
                            user,
                            interactive={
                                "type": "button_reply",
                                "button_reply": {"id": payload, "title": "x"},
                            },
                        )
                    ]
                )
            )
        ),
        _whatsapp_sent,
    ),
    Driver(
        "twilio",
        sms.CITIZEN,
        "+15559998888",
        lambda p, c: sms.connector(p, c),
        lambda h, body, n, user: _sms(h, sms.sms(body, f"SM{n}", user)),
        # WhatsApp through Twilio: a quick reply's payload arrives as ButtonPayload
        lambda h, payload, n, user: _sms(h, sms.sms("tap", f"SM{n}", user, ButtonPayload=payload)),
        lambda platform: [(h.form["To"], h.form.get("Body", "")) for h in platform.on(sms.SEND)],
    ),
    Driver(
        "telegram",
        str(tg.CHAT),
        "2222222",
        lambda p, c: tg.connector(p, c),
        lambda h, body, n, user: _telegram_message(n, user, body),
        lambda h, payload, n, user: _telegram_tap(n, user, payload),
        lambda platform: [(str(h.json["chat_id"]), h.json["text"]) for h in platform.on(tg.SEND)],
    ),
]


@pytest.fixture(params=DRIVERS, ids=[d.channel for d in DRIVERS])
def driver(request: pytest.FixtureRequest) -> Driver:
    return request.param  # type: ignore[no-any-return]


def menu_bot(message: UserMessage) -> list[dict[str, Any]]:
    if message.text == "menu":
        return [{"text": "Pick a topic:", "buttons": [{"title": "Parking", "payload": PARKING}]}]
    return [{"text": f"You said: {message.text}"}]


def redis_client(redis_creds: dict[str, str]) -> redis.Redis:
    return redis.Redis(port=int(redis_creds["redis_port"]), decode_responses=True)


def digits(platform_id: str) -> str:
    return "".join(c for c in platform_id if c.isdigit())


async def test_no_platform_id_in_any_redis_key_and_replies_reach_the_citizen(
    driver: Driver, platform: FakePlatform, redis_creds: dict[str, str]
) -> None:
    async with mounted(driver.make(platform, redis_creds), menu_bot) as harness:
        await harness.post(*driver.text(harness, "menu", 1, driver.user))
        await harness.post(*driver.pick(harness, PARKING, 2, driver.user))
        await harness.post(*driver.text(harness, "My number is in my profile", 3, driver.user))
        await harness.post(*driver.text(harness, "hello", 4, driver.other))
        cid = conversation(driver.channel, driver.user)
        assert [(m.text, m.sender_id) for m in harness.received] == [
            ("menu", cid),
            (PARKING, cid),
            ("My number is in my profile", cid),
            ("hello", conversation(driver.channel, driver.other)),
        ]
    assert [address for address, _ in driver.sent(platform)] == [driver.user] * 3 + [driver.other]
    client = redis_client(redis_creds)
    keys = client.keys("*")
    assert keys  # the conversation did leave state behind
    for platform_id in (driver.user, driver.other):
        assert not [k for k in keys if digits(platform_id) in k], f"{platform_id} in a Redis key"
    assert client.get(f"civic:channel:v1:{driver.channel}:address:{cid}") == driver.user


async def test_a_message_pushed_later_reaches_the_citizen_and_its_buttons_count_as_offered(
    driver: Driver, platform: FakePlatform, redis_creds: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    rating = '/handoff_rating{"rating":5}'
    async with mounted(driver.make(platform, redis_creds), menu_bot) as harness:
        await harness.post(*driver.text(harness, "hello", 1, driver.user))
        cid = harness.received[0].sender_id
        # What Rasa's API does for the console (output_channel=latest): the channel's output,
        # addressed with the conversation id, outside any webhook
        output = harness.connector.get_output_channel()
        await output.send_response(cid, {"text": "Dana from the City: your new bin is on order."})
        buttons = [{"title": "Great", "payload": rating}]
        await output.send_response(cid, {"text": "How did we do?", "buttons": buttons})
        with caplog.at_level(logging.WARNING):
            await output.send_response(conversation(driver.channel, driver.other), {"text": "lost"})
        await harness.post(*driver.pick(harness, rating, 2, driver.user))
        assert harness.received[-1].text == rating
    sent = driver.sent(platform)
    assert [address for address, _ in sent] == [driver.user] * 4
    assert sent[1][1] == "Dana from the City: your new bin is on order."
    assert sent[2][1].startswith("How did we do?")
    assert "no platform address is known" in caplog.text
    assert digits(driver.other) not in caplog.text  # logs carry hashes only


async def test_a_message_over_2000_characters_gets_the_notice_and_never_reaches_rasa(
    driver: Driver, platform: FakePlatform, redis_creds: dict[str, str]
) -> None:
    async with mounted(driver.make(platform, redis_creds)) as harness:
        assert (await harness.post(*driver.text(harness, "x" * 2001, 1, driver.user)))[0] == 200
        assert (await harness.post(*driver.tap(harness, "/" + "y" * 2100, 2, driver.user)))[0] == 200
        assert harness.received == []
        longest = "a " * 999 + "b"
        assert (await harness.post(*driver.text(harness, longest, 3, driver.user)))[0] == 200
        assert [m.text for m in harness.received] == [longest]
    texts = [text for _, text in driver.sent(platform)]
    assert texts[:2] == [first(TOO_LONG), TOO_LONG]
    assert "2,000 characters" in TOO_LONG


async def test_a_payload_no_button_offered_is_read_as_text(
    driver: Driver, platform: FakePlatform, redis_creds: dict[str, str]
) -> None:
    def offers_feedback(message: UserMessage) -> list[dict[str, Any]]:
        if message.text == "rate":
            return [{"text": "Was this helpful?", "buttons": [{"title": "No", "payload": FORGED}]}]
        return []

    async with mounted(driver.make(platform, redis_creds), offers_feedback) as harness:
        await harness.post(*driver.tap(harness, FORGED, 1, driver.user))
        await harness.post(*driver.text(harness, "rate", 2, driver.user))
        await harness.post(*driver.tap(harness, FORGED, 3, driver.other))  # offered to someone else
        await harness.post(*driver.pick(harness, FORGED, 4, driver.user))
        assert [m.text for m in harness.received] == [
            'feedback{"value":"down"}',
            "rate",
            'feedback{"value":"down"}',
            FORGED,
        ]


async def test_the_privacy_notice_comes_once_with_each_conversations_first_reply(
    driver: Driver, platform: FakePlatform, redis_creds: dict[str, str]
) -> None:
    async with mounted(driver.make(platform, redis_creds)) as harness:
        for n in range(1, 4):
            await harness.post(*driver.text(harness, f"question {n}", n, driver.user))
        await harness.post(*driver.text(harness, "hi", 4, driver.other))
    async with mounted(driver.make(platform, redis_creds)) as harness:  # after a restart too
        await harness.post(*driver.text(harness, "question 4", 5, driver.user))
    assert driver.sent(platform) == [
        (driver.user, first("You said: question 1")),
        (driver.user, "You said: question 2"),
        (driver.user, "You said: question 3"),
        (driver.other, first("You said: hi")),
        (driver.user, "You said: question 4"),
    ]
    assert sum(text.count(PRIVACY) for _, text in driver.sent(platform)) == 2


def spanish_echo(message: UserMessage) -> list[dict[str, Any]]:
    """Rasa's replies in a Spanish conversation: the NLG stamps each with its language (bot/nlg.py)."""
    return [{"text": f"Dijo: {message.text}", "language": "es"}]


async def test_a_spanish_conversation_gets_the_connectors_own_words_in_spanish(
    driver: Driver, platform: FakePlatform, redis_creds: dict[str, str]
) -> None:
    spanish = load_texts(language="es")
    async with mounted(driver.make(platform, redis_creds), spanish_echo) as harness:
        await harness.post(*driver.text(harness, "hola", 1, driver.user))
        await harness.post(*driver.text(harness, "x" * 2001, 2, driver.user))  # never reaches Rasa
        await harness.post(*driver.text(harness, "x" * 2001, 3, driver.other))  # no reply so far
    assert driver.sent(platform) == [
        (driver.user, f"Dijo: hola\n\n{spanish.privacy_notice}"),
        (driver.user, spanish.too_long_for(2000)),
        (driver.other, first(TOO_LONG)),
    ]
    assert spanish.privacy_notice.startswith("Cómo usamos sus datos")
