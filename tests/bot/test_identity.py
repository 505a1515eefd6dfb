"""Conversation ids carry no personal data, and only the server can issue a web chat session id."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from bot.channels.offered import OfferedPayloads, button_payloads
from bot.identity import IdentityKey, channel_of
from bot.settings import Settings, SettingsError
from bot.stack import with_identity_secret

SECRET = "a-test-secret-of-enough-length"


def test_a_phone_number_never_appears_in_its_conversation_id() -> None:
    key = IdentityKey(SECRET)
    conversation = key.conversation_id("twilio", "+15551234567")
    assert "5551234567" not in conversation
    assert conversation.startswith("twilio-")
    assert channel_of(conversation) == "twilio"


def test_the_same_user_on_another_channel_is_another_conversation() -> None:
    key = IdentityKey(SECRET)
    assert key.conversation_id("rest", "+15551234567") != key.conversation_id("twilio", "+15551234567")
    assert key.conversation_id("twilio", "+15551234567") == key.conversation_id("twilio", "+15551234567")


def test_another_server_secret_gives_other_ids() -> None:
    ids = {IdentityKey(secret).conversation_id("twilio", "+1555") for secret in (SECRET, SECRET + "x")}
    assert len(ids) == 2


def test_only_issued_session_ids_are_valid() -> None:
    key = IdentityKey(SECRET)
    issued = key.issue_session()
    assert key.valid_session(issued)
    assert channel_of(issued) == "web"
    forged = issued[:-1] + ("0" if issued[-1] != "0" else "1")
    assert not key.valid_session(forged)
    assert not key.valid_session("web-" + "0" * 32 + "." + "0" * 32)
    assert not IdentityKey(SECRET + "x").valid_session(issued)
    assert not key.valid_session("any-id-a-client-picks")
    assert not key.valid_session(None)


def test_a_short_secret_is_refused_with_the_variable_named() -> None:
    with pytest.raises(SettingsError, match="IDENTITY_SECRET"):
        IdentityKey("short")


def test_the_generated_identity_secret_outlives_a_run(tmp_path: Path) -> None:
    first = with_identity_secret(Settings(), tmp_path).security.identity_secret
    second = with_identity_secret(Settings(), tmp_path).security.identity_secret
    assert first == second and len(first) >= 32
    assert (tmp_path / "secrets" / "identity_secret").stat().st_mode & 0o077 == 0


def test_only_offered_payloads_reach_rasa_as_intents(redis_server: int) -> None:
    async def scenario() -> tuple[str, str, str]:
        client = aioredis.Redis(port=redis_server, decode_responses=True)
        try:
            offered = OfferedPayloads(client)
            menu = {"text": "Pick one", "buttons": [{"title": "Alerts", "payload": "/ask_alerts"}]}
            await offered.remember("web-a", button_payloads(menu))
            return (
                await offered.citizen_text("web-a", "/ask_alerts"),
                await offered.citizen_text("web-a", '/feedback{"value":"down"}'),
                await offered.citizen_text("web-b", "/ask_alerts"),
            )
        finally:
            await client.close()

    tapped, forged, elsewhere = asyncio.run(scenario())
    assert tapped == "/ask_alerts"
    assert forged == 'feedback{"value":"down"}'
    assert elsewhere == "ask_alerts"
