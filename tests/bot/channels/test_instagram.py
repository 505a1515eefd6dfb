"""Instagram messaging: signed webhooks shaped like Meta's documented Instagram `messaging` events."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

import pytest
from channel_support import FakePlatform, conversation, first, mounted
from rasa.core.channels.channel import UserMessage

from bot.channels.base import ChannelConfigError
from bot.channels.instagram import InstagramInput

SECRET = "instagram-app-secret"
VERIFY = "instagram-verify-token"
TOKEN = "IGQVJ-instagram-token"
IG_ID = "17841405822304914"
IGSID = "1254459154682919"
SEND = "/v18.0/me/messages"
NOTICE = "Sorry, I can only read text messages. Please type your question."


def connector(platform: FakePlatform, redis_creds: dict[str, str]) -> InstagramInput:
    return InstagramInput.from_credentials(
        {
            "verify_token": VERIFY,
            "app_secret": SECRET,
            "access_token": TOKEN,
            "api_url": f"{platform.base_url}/v18.0",
            **redis_creds,
        }
    )


def signed(payload: Any) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(payload).encode()
    signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    return body, {"Content-Type": "application/json", "X-Hub-Signature-256": signature}


def instagram(*events: dict[str, Any]) -> dict[str, Any]:
    return {
        "object": "instagram",
        "entry": [{"id": IG_ID, "time": int(time.time() * 1000), "messaging": list(events)}],
    }


def event(**content: Any) -> dict[str, Any]:
    return {
        "sender": {"id": IGSID},
        "recipient": {"id": IG_ID},
        "timestamp": int(time.time() * 1000),
        **content,
    }


async def test_name_and_handshake(platform: FakePlatform, redis_creds: dict[str, str]) -> None:
    channel = connector(platform, redis_creds)
    assert channel.name() == "instagram"
    async with mounted(channel) as harness:
        assert harness.webhook.endswith("/webhooks/instagram/webhook")
        params = {"hub.mode": "subscribe", "hub.verify_token": VERIFY, "hub.challenge": "987654321"}
        assert await harness.get(params=params) == (200, "987654321")
        assert (await harness.get(params={**params, "hub.verify_token": "nope"}))[0] == 403


async def test_text_message_and_reply(platform: FakePlatform, redis_creds: dict[str, str]) -> None:
    async with mounted(connector(platform, redis_creds)) as harness:
        status, _ = await harness.post(
            *signed(instagram(event(message={"mid": "aWdfZAG1f", "text": "Is city hall open?"})))
        )
        assert status == 200
        [message] = harness.received
        assert (message.text, message.sender_id, message.input_channel) == (
            "Is city hall open?",
            conversation("instagram", IGSID),
            "instagram",
        )
    [hit] = platform.on(SEND)
    assert hit.headers["Authorization"] == f"Bearer {TOKEN}"
    assert hit.json == {
        "recipient": {"id": IGSID},
        "message": {"text": first("You said: Is city hall open?")},
    }


async def test_unsigned_is_refused(platform: FakePlatform, redis_creds: dict[str, str]) -> None:
    body = json.dumps(instagram(event(message={"mid": "m1", "text": "hi"}))).encode()
    async with mounted(connector(platform, redis_creds)) as harness:
        assert (await harness.post(body, {"Content-Type": "application/json"}))[0] == 403
        # a Messenger-signed body is not an Instagram one
        other = "sha256=" + hmac.new(b"messenger-app-secret", body, hashlib.sha256).hexdigest()
        assert (await harness.post(body, {"X-Hub-Signature-256": other}))[0] == 403
        assert harness.received == []


async def test_quick_replies_postbacks_and_what_is_ignored(
    platform: FakePlatform, redis_creds: dict[str, str]
) -> None:
    events = instagram(
        event(
            message={
                "mid": "m1",
                "text": "Parking",
                "quick_reply": {"payload": '/explore_topic{"topic":"parking"}'},
            }
        ),
        event(postback={"mid": "m2", "title": "What can you do?", "payload": "/ask_capabilities"}),
        event(read={"mid": "m_ours"}),
        event(reaction={"mid": "m_ours", "action": "react", "reaction": "love", "emoji": "\u2764\ufe0f"}),
        {
            "sender": {"id": IG_ID},
            "recipient": {"id": IGSID},
            "timestamp": 1,
            "message": {"mid": "m3", "text": "hi", "is_echo": True},
        },
        event(message={"mid": "m4", "is_deleted": True}),
    )

    def bot(message: UserMessage) -> list[dict[str, Any]]:
        buttons = [{"title": "Parking", "payload": '/explore_topic{"topic":"parking"}'}]
        return [{"text": "Pick a topic:", "buttons": buttons}] if message.text == "menu" else []

    async with mounted(connector(platform, redis_creds), bot) as harness:
        await harness.post(*signed(instagram(event(message={"mid": "m0", "text": "menu"}))))
        await harness.post(*signed(events))
        # the quick reply was offered; an ice breaker is the account's own button: its payload is text
        assert [m.text for m in harness.received] == [
            "menu",
            '/explore_topic{"topic":"parking"}',
            "ask_capabilities",
        ]


async def test_media_and_unsupported_get_the_notice(
    platform: FakePlatform, redis_creds: dict[str, str]
) -> None:
    events = instagram(
        event(
            message={
                "mid": "m1",
                "attachments": [
                    {
                        "type": "image",
                        "payload": {"url": "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=1"},
                    }
                ],
            }
        ),
        event(
            message={
                "mid": "m2",
                "attachments": [{"type": "share", "payload": {"url": "https://www.instagram.com/p/abc/"}}],
            }
        ),
        event(message={"mid": "m3", "is_unsupported": True}),
    )
    async with mounted(connector(platform, redis_creds)) as harness:
        await harness.post(*signed(events))
        assert harness.received == []
    assert [h.json["message"]["text"] for h in platform.on(SEND)] == [first(NOTICE), NOTICE, NOTICE]


async def test_buttons_become_quick_replies_and_texts_split_at_1000(
    platform: FakePlatform, redis_creds: dict[str, str]
) -> None:
    answer = "Parking downtown is metered from 8 am to 6 pm. " * 30

    def bot(message: UserMessage) -> list[dict[str, Any]]:
        return [
            {"text": answer},
            {"text": "Anything else?", "buttons": [{"title": "Yes, something else", "payload": "/affirm"}]},
        ]

    async with mounted(connector(platform, redis_creds), bot) as harness:
        await harness.post(*signed(instagram(event(message={"mid": "m1", "text": "parking"}))))
    messages = [h.json["message"] for h in platform.on(SEND)]
    assert [len(m["text"]) <= 1000 for m in messages] == [True] * len(messages)
    assert len(messages) == 3
    assert messages[-1] == {
        "text": "Anything else?",
        "quick_replies": [{"content_type": "text", "title": "Yes, something else", "payload": "/affirm"}],
    }


async def test_duplicates_once(platform: FakePlatform, redis_creds: dict[str, str]) -> None:
    delivery = signed(instagram(event(message={"mid": "m_same", "text": "hello"})))
    async with mounted(connector(platform, redis_creds)) as harness:
        await harness.post(*delivery)
        await harness.post(*delivery)
        assert len(harness.received) == 1
    assert len(platform.on(SEND)) == 1


def test_credentials_are_required(redis_creds: dict[str, str]) -> None:
    with pytest.raises(ChannelConfigError, match="access_token"):
        InstagramInput.from_credentials({"verify_token": VERIFY, "app_secret": SECRET})
    without_identity = {k: v for k, v in redis_creds.items() if k != "identity_secret"}
    credentials = {"verify_token": VERIFY, "app_secret": SECRET, "access_token": TOKEN}
    with pytest.raises(ChannelConfigError, match="identity_secret"):
        InstagramInput.from_credentials({**credentials, **without_identity})
    with pytest.raises(ChannelConfigError, match="IDENTITY_SECRET of at least 16"):
        InstagramInput.from_credentials({**credentials, **redis_creds, "identity_secret": "short"})
