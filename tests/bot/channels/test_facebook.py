"""Messenger: signed webhooks shaped like Meta's documented `messaging` events; a stand-in Graph API."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from typing import Any

import pytest
from channel_support import PRIVACY, Answer, FakePlatform, conversation, first, mounted
from rasa.core.channels.channel import UserMessage

from bot.channels.base import ChannelConfigError
from bot.channels.facebook import MessengerInput
from bot.stack import free_port

SECRET = "messenger-app-secret"
VERIFY = "messenger-verify-token"
TOKEN = "EAAGm0PX4ZCpsBA-page-token"
PAGE_ID = "109624567212345"
PSID = "6811452458923456"
SEND = "/v18.0/me/messages"
NOTICE = "Sorry, I can only read text messages. Please type your question."


def connector(platform: FakePlatform, redis_creds: dict[str, str], **extra: str) -> MessengerInput:
    credentials = {
        "verify": VERIFY,
        "secret": SECRET,
        "page-access-token": TOKEN,
        "api_url": f"{platform.base_url}/v18.0",
        "retry_backoff": "0.01",
        **redis_creds,
        **extra,
    }
    return MessengerInput.from_credentials(credentials)


def now_ms() -> int:
    return int(time.time() * 1000)


def signed(payload: Any, secret: str = SECRET) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(payload).encode()
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return body, {"Content-Type": "application/json", "X-Hub-Signature-256": signature}


def page(*entries: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "object": "page",
        "entry": [{"id": PAGE_ID, "time": now_ms(), "messaging": events} for events in entries],
    }


def text_event(text: str, mid: str, sender: str = PSID, timestamp: int | None = None) -> dict[str, Any]:
    return {
        "sender": {"id": sender},
        "recipient": {"id": PAGE_ID},
        "timestamp": timestamp or now_ms(),
        "message": {"mid": mid, "text": text},
    }


def quick_reply_event(title: str, payload: str, mid: str) -> dict[str, Any]:
    return {
        "sender": {"id": PSID},
        "recipient": {"id": PAGE_ID},
        "timestamp": now_ms(),
        "message": {"mid": mid, "text": title, "quick_reply": {"payload": payload}},
    }


def postback_event(title: str, payload: str, mid: str) -> dict[str, Any]:
    return {
        "sender": {"id": PSID},
        "recipient": {"id": PAGE_ID},
        "timestamp": now_ms(),
        "postback": {"title": title, "payload": payload, "mid": mid},
    }


def attachment_event(attachment: dict[str, Any], mid: str) -> dict[str, Any]:
    return {
        "sender": {"id": PSID},
        "recipient": {"id": PAGE_ID},
        "timestamp": now_ms(),
        "message": {"mid": mid, "attachments": [attachment]},
    }


DELIVERY = {
    "sender": {"id": PSID},
    "recipient": {"id": PAGE_ID},
    "delivery": {"mids": ["mid.1458668856218:ed81099e15d3f4f233"], "watermark": 1458668856253},
}
READ = {
    "sender": {"id": PSID},
    "recipient": {"id": PAGE_ID},
    "timestamp": 1458668856463,
    "read": {"watermark": 1458668856253},
}
REACTION = {
    "sender": {"id": PSID},
    "recipient": {"id": PAGE_ID},
    "timestamp": 1458668856463,
    "reaction": {"reaction": "love", "emoji": "\u2764\ufe0f", "action": "react", "mid": "m_earlier"},
}
ECHO = {
    "sender": {"id": PAGE_ID},
    "recipient": {"id": PSID},
    "timestamp": 1457764197627,
    "message": {"is_echo": True, "app_id": 1517776481860111, "mid": "m_echo", "text": "You said: hi"},
}


def sent_texts(platform: FakePlatform) -> list[str]:
    return [hit.json["message"].get("text", "") for hit in platform.on(SEND)]


async def test_name_and_webhook_path(platform: FakePlatform, redis_creds: dict[str, str]) -> None:
    channel = connector(platform, redis_creds)
    assert channel.name() == "facebook"
    async with mounted(channel) as harness:
        assert harness.webhook.endswith("/webhooks/facebook/webhook")
        status, text = await harness.get("/")
        assert (status, json.loads(text)) == (200, {"status": "ok"})


async def test_verification_handshake_echoes_the_challenge(
    platform: FakePlatform, redis_creds: dict[str, str]
) -> None:
    async with mounted(connector(platform, redis_creds)) as harness:
        params = {"hub.mode": "subscribe", "hub.verify_token": VERIFY, "hub.challenge": "1158201444"}
        assert await harness.get(params=params) == (200, "1158201444")
        assert (await harness.get(params={**params, "hub.verify_token": "guess"}))[0] == 403
        assert (await harness.get(params={**params, "hub.mode": "unsubscribe"}))[0] == 403
        assert (await harness.get(params={"hub.challenge": "1"}))[0] == 403


async def test_a_text_message_reaches_rasa_and_the_reply_goes_to_the_send_api(
    platform: FakePlatform, redis_creds: dict[str, str]
) -> None:
    async with mounted(connector(platform, redis_creds)) as harness:
        status, text = await harness.post(*signed(page([text_event("When is trash day?", "m_1")])))
        assert (status, text) == (200, "EVENT_RECEIVED")
        [message] = harness.received
        assert (message.text, message.sender_id, message.input_channel) == (
            "When is trash day?",
            conversation("facebook", PSID),  # the page-scoped id is never a tracker key
            "facebook",
        )
        assert message.message_id == "m_1"
        assert message.output_channel.name() == "facebook"
    [hit] = platform.hits
    assert (hit.method, hit.path) == ("POST", SEND)
    assert hit.headers["Authorization"] == f"Bearer {TOKEN}"
    assert hit.json == {
        "recipient": {"id": PSID},
        "messaging_type": "RESPONSE",
        "message": {"text": first("You said: When is trash day?")},
    }


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Hub-Signature-256": "sha256=" + "0" * 64},
        {"X-Hub-Signature-256": "sha256=not-hex"},
        {"X-Hub-Signature-256": "sha256=\u00e9"},
        # Rasa's connector accepts the old SHA-1 header; we don't.
        {"X-Hub-Signature": "sha1=" + hmac.new(SECRET.encode(), b"{}", hashlib.sha1).hexdigest()},
    ],
)
async def test_unsigned_or_wrongly_signed_posts_are_refused(
    platform: FakePlatform, redis_creds: dict[str, str], headers: dict[str, str]
) -> None:
    body = json.dumps(page([text_event("hi", "m_forged")])).encode()
    async with mounted(connector(platform, redis_creds)) as harness:
        status, _ = await harness.post(body, {"Content-Type": "application/json", **headers})
        assert status == 403
        assert harness.received == []
    assert platform.hits == []


async def test_a_body_signed_with_another_secret_is_refused(
    platform: FakePlatform, redis_creds: dict[str, str]
) -> None:
    async with mounted(connector(platform, redis_creds)) as harness:
        status, _ = await harness.post(*signed(page([text_event("hi", "m_1")]), secret="other-app"))
        assert status == 403
        assert harness.received == []


async def test_every_event_of_a_batch_is_handled_in_order(
    platform: FakePlatform, redis_creds: dict[str, str]
) -> None:
    other = "7022541234567890"
    batch = page(
        [text_event("first", "m_1"), DELIVERY, postback_event("Get Started", "/greet", "m_2")],
        [READ, text_event("third", "m_3", sender=other), REACTION, ECHO],
    )
    async with mounted(connector(platform, redis_creds)) as harness:
        status, _ = await harness.post(*signed(batch))
        assert status == 200
        # in order within a conversation (two conversations are answered side by side)
        received = [(m.text, m.sender_id) for m in harness.received]
        # "Get Started" is the Page's own button, not one a reply offered: its payload is read as text
        assert [text for text, who in received if who == conversation("facebook", PSID)] == ["first", "greet"]
        assert [text for text, who in received if who == conversation("facebook", other)] == ["third"]
    sent = [(h.json["recipient"]["id"], h.json["message"]["text"]) for h in platform.on(SEND)]
    assert [text for who, text in sent if who == PSID] == [first("You said: first"), "You said: greet"]
    assert [text for who, text in sent if who == other] == [first("You said: third")]


async def test_receipts_reactions_and_echoes_alone_are_acknowledged_and_ignored(
    platform: FakePlatform, redis_creds: dict[str, str]
) -> None:
    async with mounted(connector(platform, redis_creds)) as harness:
        assert (await harness.post(*signed(page([DELIVERY, READ, REACTION, ECHO]))))[0] == 200
        assert (await harness.post(*signed({"object": "page", "entry": [{"id": PAGE_ID, "changes": []}]})))[
            0
        ] == 200
        assert (await harness.post(*signed({"object": "user", "entry": "not a list"})))[0] == 200
        assert (await harness.post(*signed({"object": "page", "entry": [{"messaging": [{"sender": 5}]}]})))[
            0
        ] == 200
        assert harness.received == []
    assert platform.hits == []


async def test_a_quick_reply_or_postback_gives_rasa_its_payload_when_it_was_offered(
    platform: FakePlatform, redis_creds: dict[str, str]
) -> None:
    menu = [
        {"title": "Trash and recycling", "payload": '/explore_topic{"topic":"trash_recycling"}'},
        {"title": "Parking", "payload": '/explore_topic{"topic":"parking"}'},
        {"title": "Start over", "payload": "/restart"},
    ]

    def bot(message: UserMessage) -> list[dict[str, Any]]:
        return [{"text": "Pick a topic:", "buttons": menu}] if message.text == "menu" else []

    events = [
        quick_reply_event("Trash and recycling", '/explore_topic{"topic":"trash_recycling"}', "m_1"),
        postback_event("Parking", '/explore_topic{"topic":"parking"}', "m_2"),
        quick_reply_event("Start over", "/restart", "m_3"),  # a payload we sent: trusted
        text_event("/restart", "m_4"),  # typed: a citizen cannot trigger intents by typing
        quick_reply_event("Bad", '/feedback{"value":"down"}', "m_5"),  # never offered: text
    ]
    async with mounted(connector(platform, redis_creds), bot) as harness:
        await harness.post(*signed(page([text_event("menu", "m_0")])))
        await harness.post(*signed(page(events)))
        assert [m.text for m in harness.received] == [
            "menu",
            '/explore_topic{"topic":"trash_recycling"}',
            '/explore_topic{"topic":"parking"}',
            "/restart",
            "restart",
            'feedback{"value":"down"}',
        ]


async def test_buttons_become_at_most_13_quick_replies_with_titles_of_20_characters(
    platform: FakePlatform, redis_creds: dict[str, str]
) -> None:
    buttons = [{"title": "Food, housing and crisis help", "payload": '/explore_topic{"topic":"assistance"}'}]
    buttons += [{"title": f"Topic {n}", "payload": f'/explore_topic{{"topic":"t{n}"}}'} for n in range(1, 15)]

    def menu(message: UserMessage) -> list[dict[str, Any]]:
        return [{"text": "Pick a topic or just type your question:", "buttons": buttons}]

    async with mounted(connector(platform, redis_creds), menu) as harness:
        await harness.post(*signed(page([text_event("menu", "m_1")])))
    [hit] = platform.on(SEND)
    message = hit.json["message"]
    assert message["text"] == first("Pick a topic or just type your question:")
    assert len(message["quick_replies"]) == 13
    assert message["quick_replies"][0] == {
        "content_type": "text",
        "title": "Food, housing and c…",
        "payload": '/explore_topic{"topic":"assistance"}',
    }
    assert all(len(q["title"]) <= 20 for q in message["quick_replies"])
    assert message["quick_replies"][-1]["title"] == "Topic 12"


async def test_a_shared_location_arrives_as_metadata(
    platform: FakePlatform, redis_creds: dict[str, str]
) -> None:
    pin = {
        "type": "location",
        "title": "Pin's Location",
        "url": "https://l.facebook.com/l.php?u=https%3A%2F%2Fwww.bing.com%2Fmaps",
        "payload": {"coordinates": {"lat": 41.30412, "long": -72.92471}},
    }
    async with mounted(connector(platform, redis_creds)) as harness:
        await harness.post(*signed(page([attachment_event(pin, "m_1")])))
        [message] = harness.received
        assert message.text == "41.30412, -72.92471"
        assert message.metadata == {"location": {"lat": 41.30412, "long": -72.92471}}


async def test_media_without_text_gets_the_text_only_notice(
    platform: FakePlatform, redis_creds: dict[str, str]
) -> None:
    image = {"type": "image", "payload": {"url": "https://scontent.xx.fbcdn.net/v/t1.15752-9/photo.jpg"}}
    audio = {"type": "audio", "payload": {"url": "https://cdn.fbsbx.com/v/t59.3654-21/audioclip.mp4"}}
    sticker = {
        "sender": {"id": PSID},
        "recipient": {"id": PAGE_ID},
        "timestamp": now_ms(),
        "message": {
            "mid": "m_3",
            "sticker_id": 369239263222822,
            "attachments": [
                {
                    "type": "image",
                    "payload": {
                        "url": "https://scontent.xx.fbcdn.net/like.png",
                        "sticker_id": 369239263222822,
                    },
                }
            ],
        },
    }
    async with mounted(connector(platform, redis_creds)) as harness:
        await harness.post(
            *signed(page([attachment_event(image, "m_1"), attachment_event(audio, "m_2"), sticker]))
        )
        assert harness.received == []
    assert sent_texts(platform) == [first(NOTICE), NOTICE, NOTICE]


async def test_an_image_with_text_is_passed_on_with_its_url(
    platform: FakePlatform, redis_creds: dict[str, str]
) -> None:
    event = attachment_event(
        {"type": "image", "payload": {"url": "https://scontent.xx.fbcdn.net/pothole.jpg"}}, "m_1"
    )
    event["message"]["text"] = "Pothole on Elm St"
    async with mounted(connector(platform, redis_creds)) as harness:
        await harness.post(*signed(page([event])))
        [message] = harness.received
        assert message.text == "Pothole on Elm St"
        assert message.metadata == {"media_url": "https://scontent.xx.fbcdn.net/pothole.jpg"}


async def test_a_redelivered_message_is_answered_once(
    platform: FakePlatform, redis_creds: dict[str, str]
) -> None:
    delivery = signed(page([text_event("Is the pool open?", "m_dup")]))
    async with mounted(connector(platform, redis_creds)) as harness:
        assert (await harness.post(*delivery))[0] == 200
        assert (await harness.post(*delivery))[0] == 200
        assert [m.text for m in harness.received] == ["Is the pool open?"]
    assert len(platform.on(SEND)) == 1


async def test_duplicates_are_remembered_across_restarts(
    platform: FakePlatform, redis_creds: dict[str, str]
) -> None:
    delivery = signed(page([text_event("hello", "m_restart")]))
    async with mounted(connector(platform, redis_creds)) as harness:
        await harness.post(*delivery)
    async with mounted(connector(platform, redis_creds)) as harness:
        assert (await harness.post(*delivery))[0] == 200
        assert harness.received == []


@pytest.mark.parametrize("body", [b"{not json", b"\xff\xfe", b"[1, 2]", b'"page"', b""])
async def test_malformed_json_is_a_400(
    platform: FakePlatform, redis_creds: dict[str, str], body: bytes
) -> None:
    signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    async with mounted(connector(platform, redis_creds)) as harness:
        status, text = await harness.post(body, {"X-Hub-Signature-256": signature})
        assert status == 400
        assert "error" in json.loads(text)


async def test_a_body_over_the_cap_is_a_413(platform: FakePlatform, redis_creds: dict[str, str]) -> None:
    big = page([text_event("x" * 70_000, "m_big")])
    async with mounted(connector(platform, redis_creds)) as harness:
        status, text = await harness.post(*signed(big))
        assert status == 413
        assert json.loads(text) == {"error": "request body too large: the limit is 65536 bytes"}

        async def chunks() -> Any:  # no Content-Length: the stream itself is counted
            for _ in range(20):
                yield b" " * 4096

        status, _ = await harness.post(chunks(), {"X-Hub-Signature-256": "sha256=00"})
        assert status == 413
        assert harness.received == []


async def test_a_long_answer_is_split_at_sentences_and_links_stay_whole(
    platform: FakePlatform, redis_creds: dict[str, str]
) -> None:
    link = "https://www.harborcity.example/recycling?utm_source=assistant&section=blue-bin"
    sentence = "Blue bin: paper, flattened cardboard, plastic bottles and tubs marked #1, #2 and #5. "
    answer = sentence * 22 + f"More: {link} and more. " + sentence * 5

    def long_bot(message: UserMessage) -> list[dict[str, Any]]:
        return [{"text": answer}]

    async with mounted(connector(platform, redis_creds), long_bot) as harness:
        await harness.post(*signed(page([text_event("recycling", "m_1")])))
    parts = sent_texts(platform)
    assert len(parts) == 2
    assert all(len(p) <= 2000 for p in parts)
    assert parts[0].endswith(".") and parts[1].endswith("\n\n" + PRIVACY)
    assert sum(link in p for p in parts) == 1
    assert " ".join(parts) == first(answer.strip())


async def test_no_reply_outside_the_24_hour_window(
    platform: FakePlatform, redis_creds: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    old = now_ms() - 25 * 3600 * 1000
    async with mounted(connector(platform, redis_creds)) as harness:
        with caplog.at_level(logging.WARNING, logger="bot.channels.meta"):
            await harness.post(*signed(page([text_event("late delivery", "m_old", timestamp=old)])))
        assert [m.text for m in harness.received] == ["late delivery"]
        assert platform.hits == []
        assert "outside the messaging window" in caplog.text
        assert PSID not in caplog.text  # logs carry a hash, never the id


async def test_an_outgoing_call_is_retried_on_429_and_5xx(
    platform: FakePlatform, redis_creds: dict[str, str]
) -> None:
    platform.answer(
        SEND,
        Answer(
            429,
            {"error": {"message": "(#4) Application request limit reached", "code": 4}},
            {"Retry-After": "0.2"},
        ),
        Answer(503, {"error": {"message": "Service temporarily unavailable", "code": 2}}),
        Answer(200, {"recipient_id": PSID, "message_id": "m_reply"}),
    )
    async with mounted(connector(platform, redis_creds)) as harness:
        await harness.post(*signed(page([text_event("hi", "m_1")])))
    hits = platform.on(SEND)
    assert len(hits) == 3
    assert hits[1].at - hits[0].at >= 0.2  # Retry-After honoured
    assert hits[0].json == hits[2].json


async def test_a_client_error_is_not_retried_and_never_reaches_the_webhook(
    platform: FakePlatform, redis_creds: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    platform.answer(SEND, Answer(400, {"error": {"message": "(#100) No matching user found", "code": 100}}))
    async with mounted(connector(platform, redis_creds)) as harness:
        with caplog.at_level(logging.WARNING):
            status, _ = await harness.post(*signed(page([text_event("hi", "m_1")])))
        assert status == 200
    assert len(platform.on(SEND)) == 1
    assert "No matching user found" in caplog.text


async def test_retries_are_bounded(platform: FakePlatform, redis_creds: dict[str, str]) -> None:
    platform.answer(SEND, Answer(500, {"error": {"message": "An unexpected error has occurred.", "code": 2}}))
    async with mounted(connector(platform, redis_creds, retry_attempts="3")) as harness:
        await harness.post(*signed(page([text_event("hi", "m_1")])))
    assert len(platform.on(SEND)) == 3


def test_missing_secrets_stop_rasa_at_start_up(redis_creds: dict[str, str]) -> None:
    with pytest.raises(ChannelConfigError, match="secret"):
        MessengerInput.from_credentials({"verify": VERIFY, "secret": "", "page-access-token": TOKEN})
    with pytest.raises(Exception, match="credentials"):
        MessengerInput.from_credentials(None)


async def test_a_parser_failure_is_acknowledged_not_a_500(
    platform: FakePlatform,
    redis_creds: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    channel = connector(platform, redis_creds)

    def broken(entry: dict[str, Any]) -> list[Any]:
        raise KeyError("unforeseen")

    monkeypatch.setattr(channel, "entry_events", broken)
    async with mounted(channel) as harness:
        with caplog.at_level(logging.ERROR):
            assert (await harness.post(*signed(page([text_event("hi", "m_1")]))))[0] == 200
        assert harness.received == []
    assert "could not read a signed webhook body" in caplog.text


async def test_with_redis_down_a_delivery_is_refused_so_the_platform_delivers_it_again(
    platform: FakePlatform, redis_creds: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    down = {**redis_creds, "redis_port": str(free_port())}
    async with mounted(connector(platform, down)) as harness:
        with caplog.at_level(logging.WARNING, logger="bot.channels.base"):
            status, _ = await harness.post(*signed(page([text_event("hello", "m_1")])))
        assert status == 503  # not acknowledged: nothing we could not store is lost
        assert harness.received == []
    assert sent_texts(platform) == []
    assert "Redis unavailable" in caplog.text


async def test_an_unreachable_platform_is_retried_then_logged(
    redis_creds: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    channel = MessengerInput.from_credentials(
        {
            "verify": VERIFY,
            "secret": SECRET,
            "page-access-token": TOKEN,
            "api_url": f"http://127.0.0.1:{free_port()}/v18.0",
            "retry_backoff": "0.01",
            **redis_creds,
        }
    )
    async with mounted(channel) as harness:
        with caplog.at_level(logging.WARNING):
            assert (await harness.post(*signed(page([text_event("hello", "m_1")]))))[0] == 200
        assert [m.text for m in harness.received] == ["hello"]
    assert "was not delivered" in caplog.text and "no connection" in caplog.text
