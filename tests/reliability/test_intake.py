"""A webhook delivery we acknowledged is answered exactly once, even when Rasa is killed (`kill -9`)
right after the 200 and before it answered, then started again; the platform's redelivery of it
afterwards is not answered a second time.

The real stack with Telegram switched on (its API is a local aiohttp server recording every
`sendMessage`); Rasa is killed with SIGKILL by its process group, so nothing of it runs any
shutdown code, and a brand-new Rasa process (new consumer name) takes the intake over.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from server_support import serving
from stack_support import ROOT, stack_settings

from bot.stack import Stack

pytestmark = pytest.mark.stack

TOKEN = "7012345678:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
SECRET = "harbor-city-telegram-secret_01"
CHAT = 3333333
SEND = f"/bot{TOKEN}/sendMessage"


class Telegram:
    """Stands in for api.telegram.org: records the texts sent to each path, answers ok."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.base_url = ""

    async def handle(self, request: web.Request) -> web.Response:
        if request.path == SEND:
            self.sent.append(str((await request.json()).get("text", "")))
        return web.json_response({"ok": True, "result": True})


@pytest.fixture
async def telegram() -> AsyncIterator[Telegram]:
    fake = Telegram()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", fake.handle)
    async with serving(app) as base:
        fake.base_url = base
        yield fake


def update(update_id: int, text: str) -> bytes:
    user = {"id": CHAT, "is_bot": False, "first_name": "Sheena", "language_code": "en"}
    chat = {"id": CHAT, "first_name": "Sheena", "type": "private"}
    message = {"message_id": update_id, "from": user, "chat": chat, "date": int(time.time()), "text": text}
    return json.dumps({"update_id": update_id, "message": message}).encode()


async def test_a_delivery_acknowledged_before_a_kill_9_is_answered_once_after_the_restart(
    telegram: Telegram, tmp_path: Path
) -> None:
    env = {"TELEGRAM_TOKEN": TOKEN, "TELEGRAM_SECRET_TOKEN": SECRET, "TELEGRAM_API_URL": telegram.base_url}
    settings = stack_settings(tmp_path / "var", **env)
    stack = Stack(settings, root=ROOT, extra_env=env, supervise=False)  # the test restarts Rasa itself
    await asyncio.to_thread(stack.start)
    try:
        webhook = f"http://127.0.0.1:{settings.rasa.port}/webhooks/telegram/webhook"
        headers = {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": SECRET}
        delivery = update(7001, "when is city hall open")
        rasa = next(s for s in stack.services if s.name.startswith("rasa"))
        assert rasa.process is not None
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
            async with session.post(webhook, data=delivery, headers=headers) as response:
                assert response.status == 200
            os.killpg(rasa.process.pid, signal.SIGKILL)  # no shutdown code runs
            await asyncio.to_thread(rasa.process.wait)
            assert telegram.sent == [], "Rasa answered before it was killed: the test proves nothing"

            stack.services.remove(rasa)
            await asyncio.to_thread(stack._start, stack._rasa(0), 180)  # a brand-new process
            for _ in range(300):
                if telegram.sent:
                    break
                await asyncio.sleep(0.2)
            assert len(telegram.sent) == 1
            assert "City Hall" in telegram.sent[0] and "open Monday to Friday" in telegram.sent[0]

            async with session.post(webhook, data=delivery, headers=headers) as response:
                assert response.status == 200  # the platform's redelivery: acknowledged, not answered
            await asyncio.sleep(5)
        assert len(telegram.sent) == 1
    finally:
        await asyncio.to_thread(stack.stop)
