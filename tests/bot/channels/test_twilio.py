"""SMS via Twilio: form posts shaped like Twilio's incoming-message webhook, signed as Twilio signs them."""

from __future__ import annotations

import base64
import logging
import time
from typing import Any
from urllib.parse import urlencode

import pytest
from channel_support import PRIVACY, Answer, FakePlatform, Harness, conversation, first, mounted
from rasa.core.channels.channel import UserMessage
from twilio.request_validator import RequestValidator

from bot.channels.twilio import TwilioSmsInput, signature, url_variants

ACCOUNT_SID = "AC3f1f4bbd5b8cd2a0a1c7e0b1d2e3f4a5"
AUTH_TOKEN = "twilio-auth-token-0123456789abcdef"
NUMBER = "+15550001111"
CITIZEN = "+15551234567"
SEND = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
NOTICE = "Sorry, I can only read text messages. Please type your question."
MENU = [
    {"title": "Trash and recycling", "payload": '/explore_topic{"topic":"trash_recycling"}'},
    {"title": "Parking and towing", "payload": '/explore_topic{"topic":"parking"}'},
    {"title": "Something else", "payload": "/nlu_fallback"},
]


def connector(platform: FakePlatform, redis_creds: dict[str, str], **extra: str) -> TwilioSmsInput:
    return TwilioSmsInput.from_credentials(
        {
            "account_sid": ACCOUNT_SID,
            "auth_token": AUTH_TOKEN,
            "twilio_number": NUMBER,
            "api_url": platform.base_url,
            **redis_creds,
            **extra,
        }
    )


def sms(body: str | None, sid: str, sender: str = CITIZEN, **extra: str) -> dict[str, str]:
    params = {
        "ToCountry": "US", "ToState": "CT", "SmsMessageSid": sid, "NumMedia": "0",
        "ToCity": "HARBOR CITY", "FromZip": "06510", "SmsSid": sid, "FromState": "CT",
        "SmsStatus": "received", "FromCity": "NEW HAVEN", "FromCountry": "US", "To": NUMBER,
        "ToZip": "06510", "NumSegments": "1", "MessageSid": sid, "AccountSid": ACCOUNT_SID,
        "From": sender, "ApiVersion": "2010-04-01",
    }  # fmt: skip
    if body is not None:
        params["Body"] = body
    params.update(extra)
    return params


def signed(harness: Harness, params: dict[str, str], url: str | None = None) -> tuple[bytes, dict[str, str]]:
    """What Twilio sends: the form, and the signature its own SDK computes for the URL it called."""
    url = url or harness.webhook
    return urlencode(params).encode(), {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Twilio-Signature": RequestValidator(AUTH_TOKEN).compute_signature(url, params),
        "I-Twilio-Idempotency-Token": "e1c3b0f8-6a1f-4f5c-9d7e-0b1a2c3d4e5f",
    }


def sent(platform: FakePlatform) -> list[dict[str, str]]:
    return [hit.form for hit in platform.on(SEND)]


def test_our_signature_is_twilios() -> None:
    params = {"Body": "hello", "From": CITIZEN, "To": NUMBER, "MessageSid": "SM1", "A": ""}
    url = "https://assistant.harborcity.example/webhooks/twilio/webhook?x=1"
    assert signature(AUTH_TOKEN, url, list(params.items())) == RequestValidator(AUTH_TOKEN).compute_signature(
        url, params
    )
    assert url_variants("https://a.example/x") == ["https://a.example/x", "https://a.example:443/x"]
    assert url_variants("http://127.0.0.1:5005/x") == ["http://127.0.0.1:5005/x"]


async def test_an_sms_reaches_rasa_and_the_reply_goes_to_the_messages_api(
    platform: FakePlatform, redis_creds: dict[str, str]
) -> None:
    channel = connector(platform, redis_creds)
    assert channel.name() == "twilio"
    async with mounted(channel) as harness:
        assert harness.webhook.endswith("/webhooks/twilio/webhook")
        status, text = await harness.post(*signed(harness, sms("When is trash day?", "SM0a1b2c3d")))
        assert status == 200
        assert text == '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
        [message] = harness.received
        assert (message.text, message.sender_id, message.input_channel) == (
            "When is trash day?",
            conversation("twilio", CITIZEN),  # never the phone number
            "twilio",
        )
        assert message.output_channel.name() == "twilio"  # so Rasa picks the SMS short answers
    [hit] = platform.on(SEND)
    assert (
        hit.headers["Authorization"]
        == "Basic " + base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
    )
    assert hit.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert hit.form == {"To": CITIZEN, "From": NUMBER, "Body": first("You said: When is trash day?")}


@pytest.mark.parametrize("signature_header", [None, "", "bm90IGEgc2lnbmF0dXJl", "\u00e9"])
async def test_unsigned_or_forged_requests_are_refused(
    platform: FakePlatform, redis_creds: dict[str, str], signature_header: str | None
) -> None:
    async with mounted(connector(platform, redis_creds)) as harness:
        body, headers = signed(harness, sms("hi", "SM1"))
        if signature_header is None:
            del headers["X-Twilio-Signature"]
        else:
            headers["X-Twilio-Signature"] = signature_header
        assert (await harness.post(body, headers))[0] == 403
        # signed, then tampered with
        body, headers = signed(harness, sms("hi", "SM2"))
        assert (await harness.post(body.replace(b"hi", b"yo"), headers))[0] == 403
        # signed for another URL
        body, headers = signed(
            harness, sms("hi", "SM3"), url="https://elsewhere.example/webhooks/twilio/webhook"
        )
        assert (await harness.post(body, headers))[0] == 403
        assert harness.received == []
    assert platform.hits == []


async def test_behind_a_proxy_the_public_url_is_what_twilio_signed(
    platform: FakePlatform, redis_creds: dict[str, str]
) -> None:
    public = "https://assistant.harborcity.example"
    async with mounted(connector(platform, redis_creds, public_base_url=public + "/")) as harness:
        params = sms("hello", "SM1")
        url = f"{public}/webhooks/twilio/webhook?channel=sms"
        assert (await harness.post(*signed(harness, params, url=url), query="channel=sms"))[0] == 200
        # the local URL is no longer accepted
        assert (await harness.post(*signed(harness, sms("hello", "SM2"))))[0] == 403
        assert [m.text for m in harness.received] == ["hello"]


async def test_numbered_options_and_a_digit_reply(
    platform: FakePlatform, redis_creds: dict[str, str]
) -> None:
    def bot(message: UserMessage) -> list[dict[str, Any]]:
        if message.text == "menu":
            return [{"text": "Pick a topic or just type your question:", "buttons": MENU}]
        return [{"text": f"got {message.text}"}]

    async with mounted(connector(platform, redis_creds), bot) as harness:
        await harness.post(*signed(harness, sms("menu", "SM1")))
        await harness.post(*signed(harness, sms(" 2 ", "SM2")))
        await harness.post(*signed(harness, sms("2", "SM3")))  # options answer one reply only
        assert [m.text for m in harness.received] == ["menu", '/explore_topic{"topic":"parking"}', "2"]
    assert sent(platform)[0] == {
        "To": CITIZEN,
        "From": NUMBER,
        "Body": first("Pick a topic or just type your question:") + "\n"
        "1. Trash and recycling\n2. Parking and towing\n3. Something else\n"
        "Reply with the number of your choice.",
    }


async def test_a_spanish_reply_ends_its_options_with_the_spanish_prompt(
    platform: FakePlatform, redis_creds: dict[str, str]
) -> None:
    def bot(_: UserMessage) -> list[dict[str, Any]]:
        return [{"text": "Elija un tema:", "buttons": MENU[:2], "language": "es"}]

    async with mounted(connector(platform, redis_creds), bot) as harness:
        await harness.post(*signed(harness, sms("menu", "SM1")))
    assert sent(platform)[0]["Body"] == (
        "Elija un tema:\n\nCómo usamos sus datos: https://harborcity.example/privacy\n"
        "1. Trash and recycling\n2. Parking and towing\nResponda con el número de su opción."
    )


async def test_a_digit_out_of_range_or_from_someone_else_stays_a_digit(
    platform: FakePlatform, redis_creds: dict[str, str]
) -> None:
    def bot(message: UserMessage) -> list[dict[str, Any]]:
        return [{"text": "Pick one:", "buttons": MENU}] if message.text == "menu" else []

    async with mounted(connector(platform, redis_creds), bot) as harness:
        await harness.post(*signed(harness, sms("menu", "SM1")))
        await harness.post(*signed(harness, sms("1", "SM2", sender="+15559998888")))
        await harness.post(*signed(harness, sms("7", "SM3")))
        assert [m.text for m in harness.received] == ["menu", "1", "7"]


async def test_status_callbacks_and_empty_messages_are_acknowledged(
    platform: FakePlatform, redis_creds: dict[str, str]
) -> None:
    status_callback = {
        "SmsSid": "SM9", "SmsStatus": "delivered", "MessageStatus": "delivered", "To": CITIZEN,
        "MessageSid": "SM9", "AccountSid": ACCOUNT_SID, "From": NUMBER, "ApiVersion": "2010-04-01",
    }  # fmt: skip
    async with mounted(connector(platform, redis_creds)) as harness:
        assert (await harness.post(*signed(harness, status_callback)))[0] == 200
        assert (await harness.post(*signed(harness, sms("", "SM10"))))[0] == 200
        assert (await harness.post(*signed(harness, sms(None, "SM11"))))[0] == 200
        assert harness.received == []
    assert platform.hits == []


async def test_mms_and_whatsapp_locations(platform: FakePlatform, redis_creds: dict[str, str]) -> None:
    photo = "https://api.twilio.com/2010-04-01/Accounts/AC3f/Messages/MM1/Media/ME1"
    whatsapp_citizen = f"whatsapp:{CITIZEN}"
    async with mounted(connector(platform, redis_creds)) as harness:
        await harness.post(
            *signed(harness, sms("", "MM1", NumMedia="1", MediaContentType0="image/jpeg", MediaUrl0=photo))
        )
        await harness.post(
            *signed(
                harness,
                sms("Pothole here", "MM2", NumMedia="1", MediaContentType0="image/jpeg", MediaUrl0=photo),
            )
        )
        location = sms(
            "", "SM3", sender=whatsapp_citizen, To=f"whatsapp:{NUMBER}", Latitude="41.30412",
            Longitude="-72.92471", Address="1 Harbor Plaza", Label="City Hall", ProfileName="Sheena",
            WaId="15551234567",
        )  # fmt: skip
        await harness.post(*signed(harness, location))
        assert [(m.text, m.sender_id, m.metadata) for m in harness.received] == [
            ("Pothole here", conversation("twilio", CITIZEN), {"media_url": photo}),
            (
                "41.30412, -72.92471",
                conversation("twilio", whatsapp_citizen),
                {"location": {"lat": 41.30412, "long": -72.92471}},
            ),
        ]
    assert sent(platform) == [
        {"To": CITIZEN, "From": NUMBER, "Body": first(NOTICE)},
        {"To": CITIZEN, "From": NUMBER, "Body": "You said: Pothole here"},
        {
            "To": whatsapp_citizen,
            "From": f"whatsapp:{NUMBER}",
            "Body": first("You said: 41.30412, -72.92471"),
        },
    ]


async def test_a_redelivered_message_sid_is_answered_once(
    platform: FakePlatform, redis_creds: dict[str, str]
) -> None:
    async with mounted(connector(platform, redis_creds)) as harness:
        delivery = signed(harness, sms("hello", "SMdup"))
        assert (await harness.post(*delivery))[0] == 200
        assert (await harness.post(*delivery))[0] == 200
        assert len(harness.received) == 1
    assert len(platform.on(SEND)) == 1


async def test_long_answers_are_split_into_1600_character_messages(
    platform: FakePlatform, redis_creds: dict[str, str]
) -> None:
    answer = "Household hazardous waste goes to the Eastside Recycling Depot on Saturdays. " * 38
    answer += "More: https://www.harborcity.example/hazardous-waste"

    async with mounted(connector(platform, redis_creds), lambda _: [{"text": answer}]) as harness:
        await harness.post(*signed(harness, sms("hazardous waste", "SM1")))
    bodies = [form["Body"] for form in sent(platform)]
    assert len(bodies) == 2
    assert all(len(b) <= 1600 for b in bodies)
    assert bodies[-1].endswith("More: https://www.harborcity.example/hazardous-waste\n\n" + PRIVACY)
    assert " ".join(bodies) == first(answer.strip())


async def test_a_messaging_service_sid_is_used_as_the_sender(
    platform: FakePlatform, redis_creds: dict[str, str]
) -> None:
    async with mounted(
        connector(platform, redis_creds, twilio_number="MG9752274e9e519418a7406176694466fa")
    ) as harness:
        await harness.post(*signed(harness, sms("hi", "SM1")))
    assert sent(platform) == [
        {
            "To": CITIZEN,
            "MessagingServiceSid": "MG9752274e9e519418a7406176694466fa",
            "Body": first("You said: hi"),
        }
    ]


async def test_twilio_errors_are_retried_then_logged(
    platform: FakePlatform, redis_creds: dict[str, str]
) -> None:
    platform.answer(
        SEND,
        Answer(503, {"code": 20500, "message": "Internal Server Error", "status": 503}),
        Answer(201, {"sid": "SMreply", "status": "queued"}),
    )
    async with mounted(connector(platform, redis_creds, retry_backoff="0.01")) as harness:
        started = time.monotonic()
        await harness.post(*signed(harness, sms("hi", "SM1")))
        assert time.monotonic() - started < 3
    assert len(platform.on(SEND)) == 2


async def test_malformed_and_oversized_bodies(platform: FakePlatform, redis_creds: dict[str, str]) -> None:
    async with mounted(connector(platform, redis_creds)) as harness:
        body, headers = signed(harness, {"Body": "x" * 70_000, "From": CITIZEN, "MessageSid": "SM1"})
        status, text = await harness.post(body, headers)
        assert (status, "too large" in text) == (413, True)
        # signed, but JSON instead of a form
        body, headers = signed(harness, {})
        assert (await harness.post(b"", {**headers, "Content-Type": "application/json"}))[0] == 400
        assert harness.received == []


async def test_an_error_quoting_the_number_is_logged_without_it(
    platform: FakePlatform, redis_creds: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    platform.answer(
        SEND, Answer(400, {"code": 21211, "message": f"Invalid 'To' Phone Number: {CITIZEN}", "status": 400})
    )
    async with mounted(connector(platform, redis_creds)) as harness:
        with caplog.at_level(logging.INFO):
            await harness.post(*signed(harness, sms("hi", "SM1")))
    assert "code 21211: Invalid 'To' Phone Number" in caplog.text
    assert "5551234567" not in caplog.text
