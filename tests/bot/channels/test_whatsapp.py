"""WhatsApp Cloud API: signed webhooks shaped like Meta's documented `messages` payloads."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

import pytest
from channel_support import Answer, FakePlatform, conversation, first, mounted
from rasa.core.channels.channel import UserMessage

from bot.channels.whatsapp import WhatsAppInput

SECRET = "whatsapp-app-secret"
VERIFY = "whatsapp-verify-token"
TOKEN = "EAAJB-whatsapp-system-user-token"
WABA_ID = "102290129340398"
PHONE_NUMBER_ID = "106540352242922"
WA_ID = "16505551234"
SEND = f"/v18.0/{PHONE_NUMBER_ID}/messages"
NOTICE = "Sorry, I can only read text messages. Please type your question."
CLARIFY = 'Sorry, I\'m not sure I understood. Did you mean "When is my trash picked up?" or "Bulk pickup"?'
TOPICS = [
    ("Food, housing and crisis help", "assistance"),
    ("City Hall, 311 and elections", "city_hall"),
    ("Parking and towing", "parking"),
    ("Parks, pools and libraries", "parks_library"),
    ("Permits and licenses", "permits_licenses"),
    ("Rumor control", "rumors"),
    ("Safety and emergencies", "safety"),
    ("Streets and sidewalks", "streets"),
    ("Taxes and water", "taxes_water"),
    ("Trash and recycling", "trash_recycling"),
    ("Something else", "other"),
]


def connector(platform: FakePlatform, redis_creds: dict[str, str]) -> WhatsAppInput:
    return WhatsAppInput.from_credentials(
        {
            "verify_token": VERIFY,
            "app_secret": SECRET,
            "access_token": TOKEN,
            "phone_number_id": PHONE_NUMBER_ID,
            "api_url": f"{platform.base_url}/v18.0",
            "retry_backoff": "0.01",
            **redis_creds,
        }
    )


def signed(payload: Any) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(payload).encode()
    signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    return body, {"Content-Type": "application/json", "X-Hub-Signature-256": signature}


def value(
    messages: list[dict[str, Any]] | None = None,
    statuses: list[dict[str, Any]] | None = None,
    number: str = PHONE_NUMBER_ID,
) -> dict[str, Any]:
    content: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550783881", "phone_number_id": number},
    }
    if messages is not None:
        content["contacts"] = [{"profile": {"name": "Sheena Nelson"}, "wa_id": WA_ID}]
        content["messages"] = messages
    if statuses is not None:
        content["statuses"] = statuses
    return content


def webhook(*changes: dict[str, Any]) -> dict[str, Any]:
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": WABA_ID, "changes": [{"value": v, "field": "messages"} for v in changes]}],
    }


def message(kind: str, wamid: str, sender: str = WA_ID, **content: Any) -> dict[str, Any]:
    return {"from": sender, "id": wamid, "timestamp": str(int(time.time())), "type": kind, **content}


def text(body: str, wamid: str, sender: str = WA_ID) -> dict[str, Any]:
    return message("text", wamid, sender, text={"body": body})


STATUS = {
    "id": "wamid.HBgLMTY1MDUwNzY1MjAVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA",
    "status": "delivered",
    "timestamp": "1750263773",
    "recipient_id": WA_ID,
    "conversation": {"id": "6ceb9d929c0bd5d4a3f5ad66e1c1a0d8", "origin": {"type": "service"}},
    "pricing": {"billable": True, "pricing_model": "PMP", "category": "service"},
}


def bodies(platform: FakePlatform) -> list[dict[str, Any]]:
    return [hit.json for hit in platform.on(SEND)]


async def test_name_handshake_and_a_text(platform: FakePlatform, redis_creds: dict[str, str]) -> None:
    channel = connector(platform, redis_creds)
    assert channel.name() == "whatsapp"
    async with mounted(channel) as harness:
        assert harness.webhook.endswith("/webhooks/whatsapp/webhook")
        params = {"hub.mode": "subscribe", "hub.verify_token": VERIFY, "hub.challenge": "1505011234"}
        assert await harness.get(params=params) == (200, "1505011234")
        assert (await harness.get(params={**params, "hub.verify_token": "x"}))[0] == 403
        wamid = "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA="
        assert (await harness.post(*signed(webhook(value([text("Does the pool open today?", wamid)])))))[
            0
        ] == 200
        [received] = harness.received
        assert (received.text, received.sender_id, received.message_id) == (
            "Does the pool open today?",
            conversation("whatsapp", WA_ID),  # the phone number is never a tracker key
            wamid,
        )
    [hit] = platform.on(SEND)
    assert hit.headers["Authorization"] == f"Bearer {TOKEN}"
    assert hit.json == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": WA_ID,
        "type": "text",
        "text": {"preview_url": False, "body": first("You said: Does the pool open today?")},
    }


async def test_unsigned_and_forged_are_refused(platform: FakePlatform, redis_creds: dict[str, str]) -> None:
    body = json.dumps(webhook(value([text("hi", "wamid.1")]))).encode()
    async with mounted(connector(platform, redis_creds)) as harness:
        assert (await harness.post(body, {"Content-Type": "application/json"}))[0] == 403
        assert (await harness.post(body, {"X-Hub-Signature-256": "sha256=deadbeef"}))[0] == 403
        assert harness.received == []
    assert platform.hits == []


PARKING = '/explore_topic{"topic":"parking"}'


async def test_buttons_lists_locations_and_media(platform: FakePlatform, redis_creds: dict[str, str]) -> None:
    messages = [
        message(
            "interactive",
            "wamid.b1",
            context={"from": "15550783881", "id": "wamid.ours1"},
            interactive={"type": "button_reply", "button_reply": {"id": "/affirm", "title": "Yes"}},
        ),
        message(
            "interactive",
            "wamid.b2",
            context={"from": "15550783881", "id": "wamid.ours2"},
            interactive={
                "type": "list_reply",
                "list_reply": {"id": '/explore_topic{"topic":"parking"}', "title": "Parking and towing"},
            },
        ),
        message("button", "wamid.b3", button={"payload": "/greet", "text": "Hello"}),
        message(
            "location",
            "wamid.b4",
            location={
                "address": "1 Harbor Plaza",
                "latitude": 41.30412,
                "longitude": -72.92471,
                "name": "City Hall",
            },
        ),
        message(
            "image",
            "wamid.b5",
            image={
                "caption": "Broken streetlight",
                "mime_type": "image/jpeg",
                "sha256": "abc=",
                "id": "1003383421387256",
            },
        ),
    ]

    def bot(message: UserMessage) -> list[dict[str, Any]]:
        if message.text != "menu":
            return []
        buttons = [{"title": "Yes", "payload": "/affirm"}, {"title": "Parking", "payload": PARKING}]
        return [{"text": "Pick one:", "buttons": buttons}]

    async with mounted(connector(platform, redis_creds), bot) as harness:
        await harness.post(*signed(webhook(value([text("menu", "wamid.b0")]))))
        await harness.post(*signed(webhook(value(messages))))
        # the reply buttons were offered; a template's quick reply was not: its payload is text
        assert [(m.text, m.metadata) for m in harness.received] == [
            ("menu", None),
            ("/affirm", None),
            ('/explore_topic{"topic":"parking"}', None),
            ("greet", None),
            ("41.30412, -72.92471", {"location": {"lat": 41.30412, "long": -72.92471}}),
            ("Broken streetlight", {"media_id": "1003383421387256"}),
        ]


async def test_media_without_caption_gets_the_notice_and_receipts_are_ignored(
    platform: FakePlatform, redis_creds: dict[str, str]
) -> None:
    messages = [
        message("image", "wamid.m1", image={"mime_type": "image/jpeg", "sha256": "x=", "id": "1"}),
        message(
            "sticker",
            "wamid.m2",
            sticker={"mime_type": "image/webp", "sha256": "y=", "id": "2", "animated": False},
        ),
        message(
            "audio",
            "wamid.m3",
            audio={"mime_type": "audio/ogg; codecs=opus", "sha256": "z=", "id": "3", "voice": True},
        ),
        message("reaction", "wamid.m4", reaction={"message_id": "wamid.ours", "emoji": "\U0001f44d"}),
        message(
            "unsupported",
            "wamid.m5",
            errors=[{"code": 131051, "title": "Message type unknown", "message": "Message type unknown"}],
        ),
        message("text", "wamid.m6", text={"body": "   "}),
    ]
    async with mounted(connector(platform, redis_creds)) as harness:
        await harness.post(*signed(webhook(value(messages), value(statuses=[STATUS]))))
        assert (await harness.post(*signed(webhook(value(statuses=[STATUS])))))[0] == 200
        assert harness.received == []
    assert [b["text"]["body"] for b in bodies(platform)] == [first(NOTICE)] + [NOTICE] * 3


async def test_batches_are_handled_in_order_and_other_numbers_ignored(
    platform: FakePlatform, redis_creds: dict[str, str]
) -> None:
    payload = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": WABA_ID,
                "changes": [
                    {
                        "field": "messages",
                        "value": value([text("one", "wamid.1"), text("two", "wamid.2", "447700900123")]),
                    },
                    {
                        "field": "messages",
                        "value": value([text("not ours", "wamid.x")], number="999999999999999"),
                    },
                    {"field": "message_template_status_update", "value": {"event": "APPROVED"}},
                ],
            },
            {"id": WABA_ID, "changes": [{"field": "messages", "value": value([text("three", "wamid.3")])}]},
        ],
    }
    async with mounted(connector(platform, redis_creds)) as harness:
        await harness.post(*signed(payload))
        said = [(m.text, m.sender_id) for m in harness.received]
        # in order within each conversation (conversations run side by side: bot/channels/intake.py)
        ours, theirs = conversation("whatsapp", WA_ID), conversation("whatsapp", "447700900123")
        assert [text for text, who in said if who == ours] == ["one", "three"]
        assert [text for text, who in said if who == theirs] == ["two"]
        assert len(said) == 3


async def test_up_to_three_buttons_are_reply_buttons(
    platform: FakePlatform, redis_creds: dict[str, str]
) -> None:
    def clarify(_: UserMessage) -> list[dict[str, Any]]:
        return [
            {
                "text": CLARIFY,
                "buttons": [
                    {"title": "When is my trash picked up?", "payload": "When is my trash picked up?"},
                    {"title": "Bulk pickup", "payload": "Bulk pickup"},
                    {"title": "Something else", "payload": "/nlu_fallback"},
                ],
            }
        ]

    async with mounted(connector(platform, redis_creds), clarify) as harness:
        await harness.post(*signed(webhook(value([text("trash", "wamid.1")]))))
    [body] = bodies(platform)
    assert body == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": WA_ID,
        "type": "interactive",
        "interactive": {
            "type": "button",
            "body": {"text": first(CLARIFY)},
            "action": {
                "buttons": [
                    {
                        "type": "reply",
                        "reply": {"id": "When is my trash picked up?", "title": "When is my trash pi…"},
                    },
                    {"type": "reply", "reply": {"id": "Bulk pickup", "title": "Bulk pickup"}},
                    {"type": "reply", "reply": {"id": "/nlu_fallback", "title": "Something else"}},
                ]
            },
        },
    }


async def test_more_buttons_become_a_list_of_at_most_ten_rows(
    platform: FakePlatform, redis_creds: dict[str, str]
) -> None:
    def menu(_: UserMessage) -> list[dict[str, Any]]:
        buttons = [{"title": t, "payload": f'/explore_topic{{"topic":"{p}"}}'} for t, p in TOPICS]
        return [{"text": "Pick a topic or just type your question:", "buttons": buttons}]

    async with mounted(connector(platform, redis_creds), menu) as harness:
        await harness.post(*signed(webhook(value([text("menu", "wamid.1")]))))
    [body] = bodies(platform)
    interactive = body["interactive"]
    assert interactive["type"] == "list"
    assert interactive["body"] == {"text": first("Pick a topic or just type your question:")}
    assert interactive["action"]["button"] == "Options"
    [section] = interactive["action"]["sections"]
    assert len(section["rows"]) == 10
    assert section["rows"][0] == {
        "id": '/explore_topic{"topic":"assistance"}',
        "title": "Food, housing and crisi…",
        "description": "Food, housing and crisis help",
    }
    assert section["rows"][2] == {"id": '/explore_topic{"topic":"parking"}', "title": "Parking and towing"}
    assert all(len(r["title"]) <= 24 for r in section["rows"])


async def test_a_spanish_list_opens_with_the_spanish_label(
    platform: FakePlatform, redis_creds: dict[str, str]
) -> None:
    def menu(_: UserMessage) -> list[dict[str, Any]]:
        buttons = [{"title": t, "payload": f'/explore_topic{{"topic":"{p}"}}'} for t, p in TOPICS]
        return [{"text": "Elija un tema:", "buttons": buttons, "language": "es"}]

    async with mounted(connector(platform, redis_creds), menu) as harness:
        await harness.post(*signed(webhook(value([text("menu", "wamid.1")]))))
    [body] = bodies(platform)
    assert body["interactive"]["action"]["button"] == "Opciones"
    assert body["interactive"]["body"]["text"].endswith(
        "Cómo usamos sus datos: https://harborcity.example/privacy"
    )


async def test_a_long_text_with_buttons_keeps_the_interactive_body_under_1024(
    platform: FakePlatform, redis_creds: dict[str, str]
) -> None:
    long = (
        "Bulk items are collected on the first Monday of the month if you book by the Thursday before. " * 15
    )

    def bot(_: UserMessage) -> list[dict[str, Any]]:
        return [{"text": long, "buttons": [{"title": "Book a pickup", "payload": "/book"}]}]

    async with mounted(connector(platform, redis_creds), bot) as harness:
        await harness.post(*signed(webhook(value([text("bulk", "wamid.1")]))))
    sent = bodies(platform)
    assert [b["type"] for b in sent] == ["text", "interactive"]
    assert len(sent[1]["interactive"]["body"]["text"]) <= 1024
    assert sent[0]["text"]["body"] + " " + sent[1]["interactive"]["body"]["text"] == first(long.strip())


async def test_long_payloads_travel_as_tokens(platform: FakePlatform, redis_creds: dict[str, str]) -> None:
    payload = '/inform{"address": "' + "1200 Harbor Boulevard, Apartment 4B, " * 8 + '"}'

    def bot(message: UserMessage) -> list[dict[str, Any]]:
        if message.text == "begin":
            return [{"text": "Is this your address?", "buttons": [{"title": "Yes", "payload": payload}]}]
        return []

    async with mounted(connector(platform, redis_creds), bot) as harness:
        await harness.post(*signed(webhook(value([text("begin", "wamid.1")]))))
        [body] = bodies(platform)
        token = body["interactive"]["action"]["buttons"][0]["reply"]["id"]
        assert len(token) <= 256 and token != payload
        tap = message(
            "interactive",
            "wamid.2",
            interactive={"type": "button_reply", "button_reply": {"id": token, "title": "Yes"}},
        )
        await harness.post(*signed(webhook(value([tap]))))
        assert harness.received[-1].text == payload


async def test_rate_limited_sends_wait_and_retry(platform: FakePlatform, redis_creds: dict[str, str]) -> None:
    platform.answer(
        SEND,
        Answer(429, {"error": {"message": "(#130429) Rate limit hit", "code": 130429}}, {"Retry-After": "1"}),
        Answer(200, {"messaging_product": "whatsapp", "messages": [{"id": "wamid.reply"}]}),
    )
    async with mounted(connector(platform, redis_creds)) as harness:
        await harness.post(*signed(webhook(value([text("hi", "wamid.1")]))))
    first, second = platform.on(SEND)
    assert second.at - first.at >= 1.0
    assert first.json == second.json


async def test_a_retry_after_beyond_the_cap_gives_up(
    platform: FakePlatform, redis_creds: dict[str, str]
) -> None:
    platform.answer(
        SEND, Answer(429, {"error": {"message": "Rate limit hit", "code": 130429}}, {"Retry-After": "3600"})
    )
    async with mounted(connector(platform, redis_creds)) as harness:
        started = time.monotonic()
        await harness.post(*signed(webhook(value([text("hi", "wamid.1")]))))
        assert time.monotonic() - started < 5
    assert len(platform.on(SEND)) == 1


async def test_duplicates_are_answered_once(platform: FakePlatform, redis_creds: dict[str, str]) -> None:
    delivery = signed(webhook(value([text("hello", "wamid.same")])))
    async with mounted(connector(platform, redis_creds)) as harness:
        assert (await harness.post(*delivery))[0] == 200
        assert (await harness.post(*delivery))[0] == 200
        assert [m.text for m in harness.received] == ["hello"]
    assert len(platform.on(SEND)) == 1


async def test_no_free_form_reply_outside_the_customer_service_window(
    platform: FakePlatform, redis_creds: dict[str, str]
) -> None:
    late = message("text", "wamid.late", "447700900999", text={"body": "sent yesterday"})
    late["timestamp"] = str(int(time.time()) - 30 * 3600)
    async with mounted(connector(platform, redis_creds)) as harness:
        await harness.post(*signed(webhook(value([late]))))
        assert [m.text for m in harness.received] == ["sent yesterday"]
    assert platform.hits == []


@pytest.mark.parametrize("body", [b"{", b"null", b"[]"])
async def test_malformed_is_400(platform: FakePlatform, redis_creds: dict[str, str], body: bytes) -> None:
    signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    async with mounted(connector(platform, redis_creds)) as harness:
        assert (await harness.post(body, {"X-Hub-Signature-256": signature}))[0] == 400
