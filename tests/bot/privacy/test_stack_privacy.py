"""The privacy lifecycle on the real stack (`make run`'s code), every channel switched on, Rasa at DEBUG.

- Logs: a phone number, an email and a Luhn-valid card number sent through REST, socket.io, SMS,
  WhatsApp, Messenger, Instagram and Telegram appear in no service's log file afterwards (nor do the
  SMS and WhatsApp citizens' own numbers).
- Erasure from the chat: "delete my data", "yes" on socket.io, then nothing in Redis names the
  conversation; writing again starts from scratch.
- Erasure and access from the command line for an SMS citizen after a real conversation.
- A wait for a person past HANDOFF_WAIT_EXPIRY_HOURS ends: the citizen is told and asked for a message.

The platforms' APIs are one local aiohttp server that records every call (what a platform would
receive); the webhooks are signed as each platform signs them.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import redis
import socketio
from aiohttp import web
from polling_support import wait_until
from socketio_support import WebSession, chat
from stack_support import ROOT, RestClient, serve_app, stack_settings

from bot.channels.twilio import signature as twilio_signature
from bot.identity import IdentityKey
from bot.stack import Stack, free_port

pytestmark = pytest.mark.stack

PHONE, EMAIL, CARD = "555-867-5309", "maria.lopez@example.com", "4111 1111 1111 1111"
TEXT = f"my number is {PHONE}, email {EMAIL}, card {CARD}"
# Everything that must not be in a log: the three, their digits, and the platform ids of citizens.
SMS_CITIZEN, WA_CITIZEN, SMS_ERASED = "+15551234567", "16505551234", "+15557654321"
NEVER_LOGGED = (PHONE, "5558675309", EMAIL, CARD, "4111111111111111", SMS_CITIZEN, WA_CITIZEN, SMS_ERASED)

TWILIO_SID, TWILIO_TOKEN, TWILIO_NUMBER = "AC" + "1" * 32, "twilio-auth-token-0123456789", "+15550001111"
META_SECRET, META_TOKEN, WA_PHONE_ID = "meta-app-secret-0123", "EAAG-meta-token", "106540352242922"
TELEGRAM_TOKEN, TELEGRAM_SECRET, TELEGRAM_CHAT = (
    "7012345678:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw",
    "tg-secret_01",
    2222222,
)
TWILIO_SEND = f"/2010-04-01/Accounts/{TWILIO_SID}/Messages.json"
TURN_SECONDS = 90.0  # a reply through Rasa at DEBUG on two busy cores


@dataclass
class Platforms:
    """Stands in for Twilio's, Meta's and Telegram's APIs: records each call, answers 200."""

    base_url: str = ""
    calls: list[tuple[str, bytes]] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        self.calls.append((request.path, await request.read()))
        if "Messages.json" in request.path:
            return web.json_response({"sid": "SM" + "0" * 32, "status": "queued"}, status=201)
        if "/bot" in request.path:
            return web.json_response({"ok": True, "result": {"message_id": 1}})
        return web.json_response({"recipient_id": "x", "message_id": "m.1", "messages": [{"id": "wamid.1"}]})

    def count(self, path: str) -> int:
        return sum(1 for called, _ in self.calls if called.endswith(path))


@pytest.fixture(scope="module")
def platforms() -> Iterator[Platforms]:
    fake, port = Platforms(), free_port()

    async def health(_: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    def make() -> web.Application:
        app = web.Application()
        app.router.add_get("/health", health)
        app.router.add_route("*", "/{tail:.*}", fake.handle)
        return app

    with serve_app(make, port):
        fake.base_url = f"http://127.0.0.1:{port}"
        yield fake


@pytest.fixture(scope="module")
def pstack(
    platforms: Platforms, tmp_path_factory: pytest.TempPathFactory, model_path: Path
) -> Iterator[Stack]:
    env = {
        "TWILIO_ACCOUNT_SID": TWILIO_SID, "TWILIO_AUTH_TOKEN": TWILIO_TOKEN, "TWILIO_NUMBER": TWILIO_NUMBER,
        "TWILIO_API_URL": platforms.base_url,
        "WHATSAPP_VERIFY_TOKEN": "wa-verify", "WHATSAPP_APP_SECRET": META_SECRET,
        "WHATSAPP_ACCESS_TOKEN": META_TOKEN, "WHATSAPP_PHONE_NUMBER_ID": WA_PHONE_ID,
        "MESSENGER_VERIFY_TOKEN": "fb-verify", "MESSENGER_APP_SECRET": META_SECRET,
        "MESSENGER_PAGE_ACCESS_TOKEN": META_TOKEN,
        "INSTAGRAM_VERIFY_TOKEN": "ig-verify", "INSTAGRAM_APP_SECRET": META_SECRET,
        "INSTAGRAM_ACCESS_TOKEN": META_TOKEN,
        "META_GRAPH_URL": f"{platforms.base_url}/v18.0",
        "TELEGRAM_TOKEN": TELEGRAM_TOKEN, "TELEGRAM_SECRET_TOKEN": TELEGRAM_SECRET,
        "TELEGRAM_API_URL": platforms.base_url,
        "LOG_LEVEL": "DEBUG",
        "HANDOFF_WAIT_EXPIRY_HOURS": "0.003",  # about 11 seconds
    }  # fmt: skip
    settings = stack_settings(tmp_path_factory.mktemp("var"), **env)
    stack = Stack(settings, root=ROOT, extra_env=env)
    assert set(stack.channels.enabled) == {"twilio", "whatsapp", "facebook", "instagram", "telegram"}
    with stack:
        yield stack


def rasa_url(stack: Stack, path: str) -> str:
    return f"http://127.0.0.1:{stack.settings.rasa.port}{path}"


def post(url: str, body: bytes, headers: dict[str, str]) -> int:
    import urllib.error
    import urllib.request

    request = urllib.request.Request(url, data=body, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as failed:
        return int(failed.code)


def meta_signed(payload: Any) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(payload).encode()
    signature = "sha256=" + hmac.new(META_SECRET.encode(), body, hashlib.sha256).hexdigest()
    return body, {"Content-Type": "application/json", "X-Hub-Signature-256": signature}


def send_sms(stack: Stack, sender: str, text: str, sid: str) -> None:
    url = rasa_url(stack, "/webhooks/twilio/webhook")
    params = {"MessageSid": sid, "SmsSid": sid, "AccountSid": TWILIO_SID, "From": sender, "To": TWILIO_NUMBER,
              "Body": text, "NumMedia": "0"}  # fmt: skip
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Twilio-Signature": twilio_signature(TWILIO_TOKEN, url, list(params.items())),
    }
    assert post(url, urlencode(params).encode(), headers) == 200


def send_whatsapp(stack: Stack, text: str, wamid: str) -> None:
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550783881", "phone_number_id": WA_PHONE_ID},
        "contacts": [{"profile": {"name": "Sheena"}, "wa_id": WA_CITIZEN}],
        "messages": [{"from": WA_CITIZEN, "id": wamid, "timestamp": str(int(time.time())), "type": "text",
                      "text": {"body": text}}],
    }  # fmt: skip
    payload = {"object": "whatsapp_business_account",
               "entry": [{"id": "1022", "changes": [{"value": value, "field": "messages"}]}]}  # fmt: skip
    assert post(rasa_url(stack, "/webhooks/whatsapp/webhook"), *meta_signed(payload)) == 200


def send_meta(stack: Stack, channel: str, text: str, mid: str) -> None:
    kind, page, user = ("page", "109624567212345", "6811452458923456") if channel == "facebook" else (
        "instagram", "17841405822304914", "1254459154682919")  # fmt: skip
    event = {"sender": {"id": user}, "recipient": {"id": page}, "timestamp": int(time.time() * 1000),
             "message": {"mid": mid, "text": text}}  # fmt: skip
    payload = {"object": kind, "entry": [{"id": page, "time": int(time.time() * 1000), "messaging": [event]}]}
    assert post(rasa_url(stack, f"/webhooks/{channel}/webhook"), *meta_signed(payload)) == 200


def send_telegram(stack: Stack, text: str, update_id: int) -> None:
    user = {"id": TELEGRAM_CHAT, "is_bot": False, "first_name": "Sheena", "language_code": "en"}
    message = {"message_id": update_id, "from": user, "chat": {"id": TELEGRAM_CHAT, "type": "private"},
               "date": int(time.time()), "text": text}  # fmt: skip
    headers = {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}
    body = json.dumps({"update_id": update_id, "message": message}).encode()
    assert post(rasa_url(stack, "/webhooks/telegram/webhook"), body, headers) == 200


def answered(platforms: Platforms, path: str, before: int) -> None:
    wait_until(lambda: platforms.count(path) > before, TURN_SECONDS, f"no reply was sent to {path}")


def logs(stack: Stack) -> dict[str, str]:
    return {path.name: path.read_text(errors="replace") for path in sorted((stack.var / "log").glob("*"))}


def test_personal_data_sent_through_every_channel_is_in_no_log_file(
    pstack: Stack, platforms: Platforms
) -> None:
    replies = RestClient.of(pstack).send("privacy-log-test", TEXT)
    assert replies
    assert asyncio.run(chat(WebSession.of(pstack), TEXT, timeout=TURN_SECONDS))
    for send, path in (
        (lambda: send_sms(pstack, SMS_CITIZEN, TEXT, "SM" + "a" * 32), TWILIO_SEND),
        (lambda: send_whatsapp(pstack, TEXT, "wamid.privacy-1"), f"/v18.0/{WA_PHONE_ID}/messages"),
        (lambda: send_meta(pstack, "facebook", TEXT, "m_privacy_fb"), "/v18.0/me/messages"),
        (lambda: send_meta(pstack, "instagram", TEXT, "m_privacy_ig"), "/v18.0/me/messages"),
        (lambda: send_telegram(pstack, TEXT, 7001), f"/bot{TELEGRAM_TOKEN}/sendMessage"),
    ):
        before = platforms.count(path)
        send()
        answered(platforms, path, before)
    time.sleep(2.0)  # the console's relay and recorder read the turns meanwhile
    found = logs(pstack)
    assert {"rasa.log", "actions.log", "handoff.log", "demo_agency.log"} <= set(found)
    assert "debug" in found["rasa.log"].lower()  # Rasa logged at DEBUG, where it writes what citizens say
    leaks = {(name, secret) for name, text in found.items() for secret in NEVER_LOGGED if secret in text}
    assert not leaks
    assert "[email]" in found["rasa.log"] and "[card]" in found["rasa.log"]  # logged, and redacted


def everything(client: redis.Redis) -> str:
    """Every key name and every value, entry, element, member and field in Redis, as one text."""
    parts: list[str] = []
    for key in client.scan_iter(count=500):
        if key.startswith("civic:model:"):  # the model files every replica pulls: bytes, no citizen data
            continue
        kind = client.type(key)
        parts.append(key)
        if kind == "string":
            parts.append(client.get(key) or "")
        elif kind == "hash":
            parts.append(json.dumps(client.hgetall(key)))
        elif kind == "list":
            parts += client.lrange(key, 0, -1)
        elif kind in ("set", "zset"):
            parts += sorted(client.smembers(key)) if kind == "set" else client.zrange(key, 0, -1)
        elif kind == "stream":
            parts += [json.dumps(fields) for _, fields in client.xrange(key)]
    return "\n".join(parts)


def redis_of(stack: Stack) -> redis.Redis:
    assert stack.redis is not None
    return redis.Redis.from_url(stack.redis.url, decode_responses=True)


async def say_and_hear(
    session: WebSession, text: str, expect: str, timeout: float = TURN_SECONDS
) -> list[str]:
    """Send one message on the session's room and collect what reaches it until a reply contains `expect`
    (the console's messages too: the connection stays open meanwhile)."""
    client = socketio.AsyncClient(reconnection=False)
    heard: list[str] = []
    done = asyncio.Event()

    @client.on("session_confirm")
    async def _confirm(data: Any) -> None:
        session.session_id = str(data)
        await client.emit("user_uttered", {"message": text, "session_id": session.session_id})

    @client.on("bot_uttered")
    async def _reply(data: dict[str, Any]) -> None:
        heard.append(str(data.get("text") or ""))
        if expect in heard[-1]:
            done.set()

    await client.connect(session.url, socketio_path="/socket.io")
    try:
        await client.emit("session_request", {"session_id": session.session_id})
        await asyncio.wait_for(done.wait(), timeout)
    finally:
        await client.disconnect()
    return heard


def test_delete_my_data_in_the_web_chat_leaves_nothing_in_redis(pstack: Stack) -> None:
    session = WebSession.of(pstack)
    asyncio.run(chat(session, "when is trash pickup at 300 River Street", timeout=TURN_SECONDS))
    cid = session.conversation_id
    client = redis_of(pstack)
    assert cid in everything(client)
    heard = asyncio.run(say_and_hear(session, "delete my data", "Erase this conversation now?"))
    assert any("can't be undone" in text for text in heard)
    asyncio.run(say_and_hear(session, "yes", "being erased"))
    wait_until(lambda: cid not in everything(client), 60.0, "the conversation was not erased from Redis")
    time.sleep(3.0)
    assert cid not in everything(client)  # and nothing came back once the turn was over
    asyncio.run(say_and_hear(session, "hello", "automated assistant"))
    tracker = json.loads(client.get(f"civic:tracker:{cid}") or "{}")
    assert "300 River Street" not in json.dumps(tracker)  # a fresh conversation
    client.close()


def test_an_sms_citizen_is_exported_then_erased_from_the_command_line(
    pstack: Stack, platforms: Platforms
) -> None:
    before = platforms.count(TWILIO_SEND)
    send_sms(pstack, SMS_ERASED, "when is trash pickup at 48 Quarry Lane", "SM" + "b" * 32)
    answered(platforms, TWILIO_SEND, before)
    cid = IdentityKey.from_settings(pstack.settings).conversation_id("twilio", SMS_ERASED)
    other = IdentityKey.from_settings(pstack.settings).conversation_id("twilio", SMS_CITIZEN)
    client = redis_of(pstack)
    wait_until(lambda: client.exists(f"civic:tracker:{cid}"), TURN_SECONDS, "the SMS turn was not saved")
    assert pstack.redis is not None
    env = {
        **os.environ,
        "REDIS_URL": pstack.redis.url,
        "IDENTITY_SECRET": pstack.settings.security.identity_secret,
    }
    out = pstack.var / "export.json"

    def privacy(*args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "bot", "privacy", *args], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=120, check=True)  # fmt: skip
        return done.stdout

    privacy("export", "--channel", "twilio", "--user", SMS_ERASED, "--out", str(out))
    document = json.loads(out.read_text())
    assert {"tracker", "events", "channel"} <= set(document["counts"])
    assert "48 Quarry Lane" in json.dumps(document) and other not in json.dumps(document)
    printed = privacy("erase", "--channel", "twilio", "--user", SMS_ERASED)
    assert "tracker 1" in printed
    remaining = everything(client)
    assert cid not in remaining and SMS_ERASED not in remaining
    assert client.exists(f"civic:tracker:{other}")  # the other SMS citizen keeps their conversation
    assert "nothing held" in privacy("erase", "--channel", "twilio", "--user", SMS_ERASED)
    client.close()


def test_a_wait_for_a_person_past_the_expiry_ends_with_an_offer_to_leave_a_message(pstack: Stack) -> None:
    session = WebSession.of(pstack)
    # queued, then (about 11 s later, at the console's next 15-second sweep) told and asked for a message
    heard = asyncio.run(
        say_and_hear(session, "I want to talk to a real person", "What would you like", 120.0)
    )
    assert any("in line" in text for text in heard)
    assert any("nobody from 311 could join" in text for text in heard)
