"""Issue #17 end to end on the real stack (`make run`'s code): a Telegram citizen subscribes in the chat,
an editor writes a water notice, a second editor approves it, the broadcaster delivers it on Telegram
(a local stand-in for the Bot API), the citizen's reply is answered from it, a pinned notice leads
the greeting, and after STOP the next broadcast never reaches them.

Every step goes in through the ways a person uses: signed Telegram webhooks for the citizen, the
console's JSON API with each editor's own token for staff.
"""

from __future__ import annotations

import json
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from stack_support import ROOT, stack_settings

from bot.console.accounts import add_account
from bot.stack import Stack

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "reliability"))
from load_support import TELEGRAM_SECRET, TELEGRAM_TOKEN, FakeTelegram

pytestmark = pytest.mark.stack

CHAT = 4_242_017
PASSWORD = "harbor-city-editor-pass-2026"
WAIT = 90.0


class Story:
    """The stack, the Telegram stand-in, and the two editors' tokens."""

    def __init__(self, stack: Stack, telegram: FakeTelegram, tokens: dict[str, str]) -> None:
        self.stack, self.telegram, self.tokens = stack, telegram, tokens
        self.updates = iter(range(880_000, 890_000))

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

    def broadcast(self, text: str) -> str:
        """Written by erin, approved by omar (erin alone is refused); returns its id once sent."""
        body = {"title": "Boil water", "text": text, "topic": "water", "areas": ["downtown"], "link": LINK}
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
    with FakeTelegram().serving() as telegram:
        env = {
            "TELEGRAM_TOKEN": TELEGRAM_TOKEN,
            "TELEGRAM_SECRET_TOKEN": TELEGRAM_SECRET,
            "TELEGRAM_API_URL": telegram.base_url,
            "HANDOFF_AGENTS_FILE": str(agents),
            "ALERTS_POLL_SECONDS": "0",  # the demo feed's alerts are not this story's
        }
        with Stack(stack_settings(var, **env), root=ROOT, extra_env=env) as stack:
            yield Story(stack, telegram, tokens)


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
