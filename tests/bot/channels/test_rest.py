"""The REST channel: a bearer token, its own namespace of conversations, size and rate limits.

Mounted as `rasa run` mounts it, on a real Redis, with an agent standing in for Rasa that records
what reaches it and answers through the channel's output (`web_channel_support`).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from channel_support import conversation
from rasa.core.channels.channel import UserMessage
from web_channel_support import Served, served

from bot.channels.base import ChannelConfigError
from bot.channels.rest import CivicRestInput

TOKEN = "rest-token-for-the-tests-0123456789"
CITIZEN = "+15551234567"


@pytest.fixture
def credentials(redis_creds: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    for name in ("REST_CHANNEL_TOKEN", "TRUSTED_PROXIES", "REST_MAX_BODY_BYTES", "CHAT_MAX_MESSAGE_CHARS"):
        monkeypatch.delenv(name, raising=False)
    return {**redis_creds, "token": TOKEN}


@pytest.fixture
async def rest(credentials: dict[str, str]) -> AsyncIterator[Served]:
    async with served(CivicRestInput.from_credentials(credentials)) as running:
        yield running


async def post(
    served: Served, body: Any, token: str | None = TOKEN, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], Any]:
    sent = {"Content-Type": "application/json", **(headers or {})}
    if token is not None:
        sent["Authorization"] = f"Bearer {token}"
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    async with aiohttp.ClientSession() as session:
        async with session.post(
            f"{served.base_url}/webhooks/rest/webhook", data=data, headers=sent
        ) as answer:
            return answer.status, dict(answer.headers), await answer.json(content_type=None)


def texts(received: list[UserMessage]) -> list[str]:
    return [m.text or "" for m in received]


async def test_a_call_without_the_right_token_is_refused(rest: Served) -> None:
    message = {"sender": CITIZEN, "message": "hello"}
    for token, headers in (
        (None, {}),
        ("wrong-token", {}),
        (TOKEN[:-1], {}),
        (None, {"Authorization": TOKEN}),
    ):
        status, _, body = await post(rest, message, token=token, headers=headers)
        assert status == 401 and "token" in body["error"], (token, headers)
    assert rest.agent.received == []
    status, _, body = await post(rest, message)
    assert status == 200 and body[0]["text"] == "You said: hello"


def test_the_channel_will_not_start_without_a_token(credentials: dict[str, str]) -> None:
    with pytest.raises(ChannelConfigError, match="REST_CHANNEL_TOKEN"):
        CivicRestInput.from_credentials({**credentials, "token": ""})


async def test_a_rest_sender_has_its_own_conversation_whatever_the_body_says(rest: Served) -> None:
    body = {
        "sender": CITIZEN,
        "message": "collection day?",
        "input_channel": "twilio",
        "metadata": {"media_url": "https://evil.example/x.png", "location": {"lat": 1, "long": 2}},
    }
    status, _, replies = await post(rest, body)
    assert status == 200
    [message] = rest.agent.received
    own = conversation("rest", CITIZEN)
    assert message.sender_id == own != conversation("twilio", CITIZEN)
    assert CITIZEN not in own
    assert message.input_channel == "rest" and not message.metadata
    assert [r["recipient_id"] for r in replies] == [own]


async def test_an_over_long_message_gets_the_limit_and_never_reaches_the_assistant(rest: Served) -> None:
    status, _, replies = await post(rest, {"sender": CITIZEN, "message": "x" * 2001})
    assert status == 200
    [notice] = replies
    assert "too long" in notice["text"] and "2,000 characters" in notice["text"]
    assert notice["recipient_id"] == conversation("rest", CITIZEN)
    assert rest.agent.received == []
    status, _, replies = await post(rest, {"sender": CITIZEN, "message": "é" * 2000})  # characters, not bytes
    assert status == 200 and texts(rest.agent.received) == ["é" * 2000]


async def test_a_body_over_the_size_limit_is_refused(rest: Served) -> None:
    status, _, body = await post(rest, {"sender": CITIZEN, "message": "a" * (40 * 1024)})
    assert status == 413 and "too large" in body["error"]
    assert rest.agent.received == []


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"[1, 2]", {"message": "hi"}, {"sender": "", "message": "hi"}, {"sender": "a"}],
)
async def test_a_malformed_body_is_a_400(rest: Served, body: Any) -> None:
    status, _, answer = await post(rest, body)
    assert status == 400 and answer["error"]
    assert rest.agent.received == []


async def test_a_forged_intent_is_read_as_text_and_an_offered_button_as_its_payload(
    credentials: dict[str, str],
) -> None:
    def bot(message: UserMessage) -> list[dict[str, Any]]:
        return [{"text": "Shall I file it?", "buttons": [{"title": "Yes", "payload": "/affirm"}]}]

    async with served(CivicRestInput.from_credentials(credentials), bot) as rest:
        for text in ('/feedback{"value":"down"}', "/handoff_request", "  file it  ", "/affirm", "/deny"):
            status, _, _ = await post(rest, {"sender": CITIZEN, "message": text})
            assert status == 200
        assert texts(rest.agent.received) == [
            'feedback{"value":"down"}',  # offered nothing yet: typed text
            "handoff_request",
            "file it",
            "/affirm",  # the button the bot offered
            "deny",  # never offered
        ]
        # Another REST sender was offered nothing: the same payload is text there.
        await post(rest, {"sender": "someone-else", "message": "/affirm"})
        assert rest.agent.received[-1].text == "affirm"


async def test_too_many_messages_get_429_with_retry_after(
    credentials: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RATE_CONVERSATION_BURST", "3")
    monkeypatch.setenv("RATE_CONVERSATION_PER_MINUTE", "6")  # one every 10 s
    monkeypatch.setenv("RATE_REST_ADDRESS_BURST", "5")
    monkeypatch.setenv("RATE_REST_ADDRESS_PER_MINUTE", "6")
    async with served(CivicRestInput.from_credentials(credentials)) as rest:
        answers = [await post(rest, {"sender": CITIZEN, "message": f"m{i}"}) for i in range(4)]
        assert [status for status, _, _ in answers] == [200, 200, 200, 429]
        _, headers, body = answers[-1]
        assert 1 <= int(headers["Retry-After"]) <= 10 and "retry after" in body["error"]
        assert texts(rest.agent.received) == ["m0", "m1", "m2"]
        # Other senders from the same address: the address's bucket (5) runs out after two more.
        others = [await post(rest, {"sender": f"other-{i}", "message": "hi"}) for i in range(3)]
        assert [status for status, _, _ in others] == [200, 200, 429]
        # X-Forwarded-For from a peer that is not a trusted proxy changes nothing.
        forged = await post(
            rest, {"sender": "other-9", "message": "hi"}, headers={"X-Forwarded-For": "203.0.113.9"}
        )
        assert forged[0] == 429


async def test_behind_a_trusted_proxy_each_client_address_has_its_own_bucket(
    credentials: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRUSTED_PROXIES", "127.0.0.1")
    monkeypatch.setenv("RATE_REST_ADDRESS_BURST", "2")
    monkeypatch.setenv("RATE_REST_ADDRESS_PER_MINUTE", "1")
    async with served(CivicRestInput.from_credentials(credentials)) as rest:

        async def from_client(address: str, sender: str) -> int:
            via = {"X-Forwarded-For": f"198.51.100.7, {address}"}  # the left part is the client's to write
            return (await post(rest, {"sender": sender, "message": "hi"}, headers=via))[0]

        assert [await from_client("203.0.113.1", f"a{i}") for i in range(3)] == [200, 200, 429]
        assert await from_client("203.0.113.2", "b0") == 200
