"""A channel switched on by its environment variables, through the real stack (`make run`'s code).

One stack start with Telegram's variables set: Rasa must load our hardened connector from the
generated var/credentials.yml, refuse an update without the secret token, and answer a signed one
through the Bot API, here a local aiohttp server standing in for api.telegram.org. The answer
carries the privacy notice; Rasa keeps the conversation under its keyed id (no Redis key names
the chat id); and a message the console pushes later through Rasa's API (`output_channel=latest`,
as agent replies and the rating prompt go) reaches the same chat.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import aiohttp
import pytest
import redis
import yaml
from channel_support import PRIVACY, FakePlatform
from stack_support import ROOT, stack_settings

from bot.channels.config import ChannelConfig
from bot.clients.rasa import RasaClient
from bot.identity import IdentityKey
from bot.settings import Settings
from bot.stack import Stack

pytestmark = pytest.mark.stack

TOKEN = "7012345678:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
SECRET = "harbor-city-telegram-secret_01"
CHAT = 2222222


async def arrived(platform: FakePlatform, path: str, count: int) -> None:
    for _ in range(300):
        if len(platform.on(path)) >= count:
            return
        await asyncio.sleep(0.2)


def update(update_id: int, text: str) -> bytes:
    user = {"id": CHAT, "is_bot": False, "first_name": "Sheena", "language_code": "en"}
    chat = {"id": CHAT, "first_name": "Sheena", "type": "private"}
    message = {"message_id": update_id, "from": user, "chat": chat, "date": int(time.time()), "text": text}
    return json.dumps({"update_id": update_id, "message": message}).encode()


async def test_telegram_on_the_running_stack(
    platform: FakePlatform, tmp_path: Path, model_path: Path
) -> None:
    env = {"TELEGRAM_TOKEN": TOKEN, "TELEGRAM_SECRET_TOKEN": SECRET, "TELEGRAM_API_URL": platform.base_url}
    assert ChannelConfig.from_settings(Settings.from_env(env)).enabled == ("telegram",)
    settings = stack_settings(tmp_path / "var", **env)
    stack = Stack(settings, root=ROOT, extra_env=env)
    assert stack.channels.enabled == ("telegram",)
    await asyncio.to_thread(stack.start)  # the loop keeps serving the stand-in API meanwhile
    try:
        credentials = yaml.safe_load((tmp_path / "var" / "credentials.yml").read_text())
        assert credentials["bot.channels.telegram.TelegramBotInput"]["access_token"] == "${TELEGRAM_TOKEN}"
        webhook = f"http://127.0.0.1:{settings.rasa.port}/webhooks/telegram/webhook"
        headers = {"Content-Type": "application/json"}
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
            async with session.post(webhook, data=update(5001, "hello"), headers=headers) as response:
                assert response.status == 403  # no secret token: Rasa's own connector would take it
            signed = {**headers, "X-Telegram-Bot-Api-Secret-Token": SECRET}
            async with session.post(webhook, data=update(5002, "hello"), headers=signed) as response:
                assert response.status == 200
            send = f"/bot{TOKEN}/sendMessage"
            await arrived(platform, send, 1)  # Rasa answers in the background after the 200
            [reply] = platform.on(send)
            assert reply.json["chat_id"] == CHAT
            assert "automated assistant" in reply.json["text"]
            assert reply.json["text"].endswith(PRIVACY)

            conversation = IdentityKey(stack.settings.security.identity_secret).conversation_id(
                "telegram", str(CHAT)
            )
            store = redis.Redis(host=stack.redis.host, port=stack.redis.port, db=stack.redis.db)
            keys = [key.decode() for key in store.keys("*")]
            store.close()
            assert f"civic:tracker:{conversation}" in keys
            assert not [key for key in keys if str(CHAT) in key]

            rasa = RasaClient(session, f"http://127.0.0.1:{settings.rasa.port}", stack.settings.rasa.token)
            await rasa.say(conversation, "Dana from the City: your new bin is on order.", {})
            await arrived(platform, send, 2)
        pushed = platform.on(send)[1].json
        assert pushed == {"chat_id": CHAT, "text": "Dana from the City: your new bin is on order."}
    finally:
        await asyncio.to_thread(stack.stop)
