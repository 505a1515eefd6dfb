"""Issue #17 end to end on the real stack (`make run`'s code): a Telegram citizen subscribes in the chat,
an editor writes a water notice, a second editor approves it, the broadcaster delivers it on Telegram
(a local stand-in for the Bot API), the citizen's reply is answered from it, a pinned notice leads
the greeting, and after STOP the next broadcast never reaches them. An SMS citizen (Twilio, a local
stand-in for its API) subscribes, gets the short text with "Reply STOP to opt out" on the first
broadcast only, the signed delivery receipt counts it delivered, and STOP / START work.

Every step goes in through the ways a person uses: signed Telegram and Twilio webhooks for the
citizens, the console's JSON API with each editor's own token for staff.
"""

from __future__ import annotations

import json
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from stack_support import ROOT, serve_app, stack_env

from bot.channels.twilio import signature
from bot.console.accounts import add_account
from bot.settings import Settings
from bot.stack import Stack, free_port

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "reliability"))
from load_support import TELEGRAM_SECRET, TELEGRAM_TOKEN, FakeTelegram

pytestmark = pytest.mark.stack

CHAT = 4_242_017
PHONE = "+15550107788"
TWILIO_SID, TWILIO_AUTH, TWILIO_NUMBER = "AC" + "7" * 32, "twilio-auth-token-for-tests-01", "+15550100000"
PASSWORD = "harbor-city-editor-pass-2026"
WAIT = 90.0


class FakeTwilio:
    """Twilio's Messages API: records each SMS (To, Body, StatusCallback), answers with a sid."""

    def __init__(self) -> None:
        self.port = free_port()
        self.sent: list[dict[str, str]] = []

    async def messages(self, request: web.Request) -> web.Response:
        form = dict(await request.post())
        self.sent.append({k: str(v) for k, v in form.items()})
        return web.json_response({"sid": f"SM{len(self.sent):032d}", "status": "queued"}, status=201)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/2010-04-01/Accounts/{sid}/Messages.json", self.messages)
        app.router.add_get("/health", lambda _: web.json_response({"status": "ok"}))  # serve_app waits for it
        return app

    def texts(self, to: str = PHONE) -> list[str]:
        return [m["Body"] for m in self.sent if m.get("To") == to]


class Story:
    """The stack, the Telegram stand-in, and the two editors' tokens."""

    def __init__(
        self, stack: Stack, telegram: FakeTelegram, twilio: FakeTwilio, tokens: dict[str, str]
    ) -> None:
        self.stack, self.telegram, self.twilio, self.tokens = stack, telegram, twilio, tokens
        self.updates = iter(range(880_000, 890_000))
        self.sms_ids = iter(range(1, 10_000))

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.stack.settings.rasa.ports[0]}"

    def post_signed_form(self, path: str, params: dict[str, str]) -> int:
        """A form POST signed as Twilio signs it (against PUBLIC_BASE_URL, here Rasa's own URL)."""
        body = urllib.parse.urlencode(params).encode()
        signed = signature(TWILIO_AUTH, f"{self.rasa_url}{path}", list(params.items()))
        headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signed}
        request = urllib.request.Request(f"{self.rasa_url}{path}", data=body, headers=headers)
        with urllib.request.urlopen(request, timeout=10) as answer:
            return int(answer.status)

    def text(self, body: str) -> list[str]:
        """An SMS from the citizen's phone; the replies it got."""
        before = len(self.twilio.texts())
        sid = f"SM{next(self.sms_ids):032x}"
        params = {
            "MessageSid": sid,
            "AccountSid": TWILIO_SID,
            "From": PHONE,
            "To": TWILIO_NUMBER,
            "Body": body,
        }
        assert self.post_signed_form("/webhooks/twilio/webhook", params) == 200
        wait_for(lambda: len(self.twilio.texts()) > before, f"no SMS reply to {body!r}")
        time.sleep(1.0)
        return self.twilio.texts()[before:]

    def say(self, text: str) -> list[str]:
        """Post `text` as the citizen (a signed webhook) and return the bot's new messages."""
        before = len(self.telegram.texts(CHAT))
        update_id = next(self.updates)
        chat = {"id": CHAT, "first_name": "Rosa", "type": "private"}
        sender = {"id": CHAT, "is_bot": False, "first_name": "Rosa", "language_code": "en"}
        message = {
            "message_id": update_id,
            "from": sender,
            "chat": chat,
            "date": int(time.time()),
            "text": text,
        }
        body = json.dumps({"update_id": update_id, "message": message}).encode()
        port = self.stack.settings.rasa.ports[0]
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/webhooks/telegram/webhook",
            data=body,
            headers={"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET},
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            assert answer.status == 200
        wait_for(lambda: len(self.telegram.texts(CHAT)) > before, f"no reply to {text!r}")
        time.sleep(1.0)  # a turn may send several messages
        return self.telegram.texts(CHAT)[before:]

    def api(self, method: str, path: str, editor: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
        url = f"http://127.0.0.1:{self.stack.settings.handoff.port}{path}"
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Authorization": f"Bearer {self.tokens[editor]}", "Content-Type": "application/json"}
        request = urllib.request.Request(url, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                raw = answer.read()
                return answer.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as refused:
            return refused.code, json.loads(refused.read() or b"null")

    def broadcast(self, text: str, **extra: Any) -> str:
        """Written by erin, approved by omar (erin alone is refused); returns its id once sent."""
        body = {"title": "Boil water", "text": text, "topic": "water", "areas": ["downtown"], "link": LINK}
        body |= extra
        status, created = self.api("POST", "/api/broadcasts", "erin", body)
        assert status == 201, created
        assert created["status"] == "pending_approval"
        status, refused = self.api("POST", f"/api/broadcasts/{created['id']}/approve", "erin")
        assert status == 403, refused
        status, approved = self.api("POST", f"/api/broadcasts/{created['id']}/approve", "omar")
        assert status == 200 and approved["status"] == "sending", approved
        wait_for(
            lambda: self.api("GET", f"/api/broadcasts/{created['id']}", "erin")[1]["status"] == "sent",
            "not sent",
        )
        return str(created["id"])


LINK = "https://www.harborcity.example/water/boil-notice"
NOTICE = "A boil-water notice is in effect in Downtown until further notice."


def wait_for(condition: Callable[[], bool], what: str, seconds: float = WAIT) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(what)


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory, model_path: Path) -> Iterator[Story]:
    var = tmp_path_factory.mktemp("broadcast-story")
    agents = var / "agents.yml"
    tokens = {name: add_account(agents, name, "editor", PASSWORD) for name in ("erin", "omar")}
    twilio = FakeTwilio()
    with FakeTelegram().serving() as telegram, serve_app(twilio.app, twilio.port):
        env = stack_env(var, HANDOFF_AGENTS_FILE=str(agents), ALERTS_POLL_SECONDS="0")  # no demo alerts
        channels = {
            "TELEGRAM_TOKEN": TELEGRAM_TOKEN,
            "TELEGRAM_SECRET_TOKEN": TELEGRAM_SECRET,
            "TELEGRAM_API_URL": telegram.base_url,
            "TWILIO_ACCOUNT_SID": TWILIO_SID,
            "TWILIO_AUTH_TOKEN": TWILIO_AUTH,
            "TWILIO_NUMBER": TWILIO_NUMBER,
            "TWILIO_API_URL": f"http://127.0.0.1:{twilio.port}",
            "PUBLIC_BASE_URL": f"http://127.0.0.1:{env['RASA_PORT']}",  # where Twilio's signatures point
        }
        env |= channels
        with Stack(Settings.from_env(env), root=ROOT, extra_env=channels) as stack:
            yield Story(stack, telegram, twilio, tokens)


def test_a_subscriber_gets_the_approved_notice_can_ask_about_it_and_stop(story: Story) -> None:
    confirm = story.say("text me about water notices in Downtown")
    assert any("Water" in m and "Downtown" in m for m in confirm), confirm
    done = story.say("yes")
    assert any("subscribed" in m.lower() for m in done), done
    assert "Water" in " ".join(story.say("my subscriptions"))

    first = story.broadcast("Boil your tap water for one minute before drinking it.")
    received = story.telegram.texts(CHAT)[-1]
    assert "Boil your tap water" in received and LINK in received
    status, report = story.api("GET", f"/api/broadcasts/{first}", "erin")
    assert report["counts"]["sent"] == 1 and report["by_channel"]["telegram"]["sent"] == 1

    answer = " ".join(story.say("is my street affected?"))
    assert "Downtown" in answer, answer

    status, pinned = story.api("POST", "/api/notice", "erin", {"text": NOTICE, "expires_in_minutes": 60})
    assert status == 201, pinned
    greeting = story.say("hi")
    assert NOTICE in greeting[0], greeting
    assert story.api("DELETE", "/api/notice", "omar")[0] == 204

    stopped = story.say("STOP")
    assert len(stopped) == 1 and "unsubscribed" in stopped[0].lower(), stopped
    before = len(story.telegram.texts(CHAT))
    second = story.broadcast("The boil-water notice is lifted.")
    status, report = story.api("GET", f"/api/broadcasts/{second}", "erin")
    assert report["counts"]["sent"] == 0 and report["audience"]["total"] == 0
    assert len(story.telegram.texts(CHAT)) == before  # nothing reached the citizen after STOP


def test_an_sms_subscriber_gets_the_short_text_the_opt_out_line_once_and_a_delivery_receipt(
    story: Story,
) -> None:
    confirm = story.text("sign me up for water alerts for the whole city")
    assert any("Reply STOP to opt out" in m for m in confirm), confirm  # the carriers' line, at consent
    assert any("subscribed" in m.lower() for m in story.text("yes"))

    short = "Boil water in Downtown until further notice."
    first = story.broadcast("A long explanation for the chat apps. " * 3, short_text=short)
    [received] = [m for m in story.twilio.sent if m["To"] == PHONE and m["Body"].startswith(short)]
    assert "Reply STOP to opt out" in received["Body"]
    assert received["StatusCallback"] == f"{story.rasa_url}/webhooks/twilio/status"
    sid = f"SM{len(story.twilio.sent):032d}"  # the stand-in numbers its answers
    assert story.twilio.sent[-1]["Body"] == received["Body"]
    receipt = {"MessageSid": sid, "MessageStatus": "delivered", "AccountSid": TWILIO_SID, "To": PHONE}
    assert story.post_signed_form("/webhooks/twilio/status", receipt) == 200
    assert story.post_signed_form("/webhooks/twilio/status", receipt) == 200  # Twilio retries: once
    wait_for(lambda: story.api("GET", f"/api/broadcasts/{first}", "erin")[1]["counts"]["delivered"] == 1, "")
    _, report = story.api("GET", f"/api/broadcasts/{first}", "erin")
    assert report["by_channel"]["twilio"] == {
        "queued": 0,
        "sent": 1,
        "delivered": 1,
        "failed": 0,
        "skipped": 0,
    }

    second = story.broadcast("Still boil your water.", short_text="Still boil your water.")
    [again] = [m for m in story.twilio.texts() if m.startswith("Still boil")]
    assert "Reply STOP" not in again  # the opt-out line comes with the first broadcast only
    assert story.api("GET", f"/api/broadcasts/{second}", "erin")[1]["counts"]["sent"] >= 1

    # by SMS "cancel" is a carrier opt-out word: a 311 report tells a subscriber to say "exit" instead
    form = " ".join(story.text("i want to report a problem"))
    assert 'say "exit"' in form and '"cancel"' not in form, form
    left = " ".join(story.text("exit"))
    assert "nothing was sent" in left, left
    assert "Water" in " ".join(story.text("my subscriptions"))  # still subscribed

    assert "unsubscribed" in story.text("Stop")[0].lower()
    assert "Water" in story.text("START")[0]
