"""The carrier keywords in the web chat (socket.io) and on REST: answered by the channel, never by Rasa."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest
import redis.asyncio as aioredis
import socketio_support
from channel_support import conversation
from web_channel_support import served

from bot.channels.rest import CivicRestInput
from bot.channels.socketio import CivicSocketIOInput
from bot.subscriptions.store import STOPPED, SubscriberStore

TOKEN = "rest-token-for-the-tests-0123456789"


class Page(socketio_support.Page):
    confirm_seconds = 10.0

    async def hears(self, count: int) -> list[dict[str, Any]]:
        for _ in range(100):
            if len(self.heard) >= count:
                return self.heard
            await asyncio.sleep(0.05)
        pytest.fail(f"the page heard {self.heard}, not {count} messages")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TRUSTED_PROXIES", "CHAT_MAX_MESSAGE_CHARS", "REST_CHANNEL_TOKEN"):
        monkeypatch.delenv(name, raising=False)


async def test_stop_and_help_in_the_web_chat_are_chat(
    redis_creds: dict[str, str], db: aioredis.Redis
) -> None:
    """No broadcast can reach a web chat, so it has nothing to stop: "stop" and "help" go to the
    assistant (which leaves a form, or lists what it can do), and the citizen is never told they
    were "unsubscribed"."""
    settings = {
        "user_message_evt": "user_uttered",
        "bot_message_evt": "bot_uttered",
        "session_persistence": True,
    }
    async with served(CivicSocketIOInput.from_credentials({**redis_creds, **settings})) as chat:
        page = Page(chat.base_url)
        try:
            session_id = await page.open(None)
            cid = conversation("socketio", session_id)
            await page.say("help")
            await page.hears(1)
            await page.say("STOP")
            await page.hears(2)
        finally:
            await page.close()
    assert [m.text for m in chat.agent.received] == ["help", "STOP"]
    assert await SubscriberStore(db).get(cid) is None


async def test_stop_on_rest_is_answered_by_the_channel_for_a_subscriber(
    redis_creds: dict[str, str], db: aioredis.Redis
) -> None:
    cid = conversation("rest", "partner-42")
    await SubscriberStore(db).subscribe(cid, ["water"], ["all"], "Please confirm: water alerts")
    async with served(CivicRestInput.from_credentials({**redis_creds, "token": TOKEN})) as rest:
        async with aiohttp.ClientSession() as session:
            async with session.post(
                f"{rest.base_url}/webhooks/rest/webhook",
                json={"sender": "partner-42", "message": "Stop"},
                headers={"Authorization": f"Bearer {TOKEN}"},
            ) as response:
                assert response.status == 200
                [reply] = await response.json()
    assert reply["recipient_id"] == cid and "won't get any more messages" in reply["text"]
    assert rest.agent.received == []
    assert [c.get("keyword") for c in await SubscriberStore(db).consent_log(cid)] == [None, "STOP"]
    assert (await SubscriberStore(db).get(cid)).status == STOPPED
