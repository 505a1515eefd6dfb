"""The content studio end to end on the real stack: what an editor publishes through the console's
API is what the next citizen reads over REST within 5 seconds, from the same model; an invalid edit
is refused on its field and changes nothing a citizen sees; a rumor needs a second person; a revert
brings the earlier wording back just as fast.

The stack's console edits a copy of the content (`stack_support.project_copy`) and only queues
retrains, so the checkout and the running model are never touched.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from polling_support import wait_until
from stack_support import RestClient, sender_id

from bot.console.accounts import add_account, read_accounts
from bot.stack import Stack
from bot.studio.live import LIVE_KEY, VERSION_KEY

pytestmark = pytest.mark.stack

LIVE_SECONDS = 5.0  # the promise: published to the next citizen within 5 s
FAQ, FAQ_QUESTION = "city_hall_hours", "When is City Hall open?"
RUMOR, RUMOR_QUESTION = "library_card_fee", "is it true that you have to pay for a library card now"


class Studio:
    """The stack console's studio API as three people: two editors and an approver."""

    def __init__(self, stack: Stack) -> None:
        self.base = f"http://127.0.0.1:{stack.settings.handoff.port}"
        path = Path(stack.root / stack.settings.handoff.agents_file)
        suffix = len(read_accounts(path))
        self.erin = add_account(path, f"studio-erin-{suffix}", "editor", "studio-erin-password")
        self.ed = add_account(path, f"studio-ed-{suffix}", "editor", "studio-ed-password")
        self.ava = add_account(path, f"studio-ava-{suffix}", "approver", "studio-ava-password")

    def call(self, method: str, path: str, token: str, body: Any = None) -> tuple[int, Any]:
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        request = urllib.request.Request(f"{self.base}{path}", data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=60) as answer:
                return answer.status, json.loads(answer.read())
        except urllib.error.HTTPError as refused:
            return refused.code, json.loads(refused.read() or b"null")

    def entry(self, entry_id: str) -> dict[str, Any]:
        status, body = self.call("GET", f"/api/content/entries/{entry_id}", self.erin)
        assert status == 200, body
        return dict(body)


@pytest.fixture(scope="module")
def studio(stack: Stack) -> Iterator[Studio]:
    yield Studio(stack)
    client = redis.Redis.from_url(stack.settings.redis.url)
    try:  # other tests meet the model's own wording again
        with client.pipeline(transaction=True) as pipe:
            pipe.hdel(LIVE_KEY, f"utter_faq/{FAQ}", f"utter_faq/{RUMOR}")
            pipe.incr(VERSION_KEY)
            pipe.execute()
    finally:
        client.close()


def running_model(stack: Stack) -> str:
    token = urllib.parse.quote(stack.settings.rasa.token)
    url = f"http://127.0.0.1:{stack.settings.rasa.port}/status?token={token}"
    with urllib.request.urlopen(url, timeout=30) as answer:
        return str(json.loads(answer.read())["model_file"])


def citizen_reads(rest: RestClient, question: str, wanted: str) -> float:
    """Ask as new citizens until a reply contains `wanted` (at most LIVE_SECONDS); the seconds it took."""
    started = time.monotonic()

    def reads() -> bool:
        if wanted in rest.say(sender_id("studio"), question):
            return True
        time.sleep(0.25)
        return False

    wait_until(reads, LIVE_SECONDS, f"no citizen read {wanted!r} within {LIVE_SECONDS:.0f}s of publishing")
    return time.monotonic() - started


def test_an_edit_goes_live_is_checked_reviewed_and_reverted(
    stack: Stack, rest: RestClient, studio: Studio
) -> None:
    model = running_model(stack)
    original = studio.entry(FAQ)["entry"]["answer"]
    assert original in rest.say(sender_id("studio"), FAQ_QUESTION)

    # An editor corrects the opening hours: saved, published, read by the next citizen.
    corrected = original.replace("8 a.m.", "7:30 a.m.").replace("8 am", "7:30 am") + " (Corrected today.)"
    status, draft = studio.call("PUT", f"/api/content/entries/{FAQ}", studio.erin, {"answer": corrected})
    assert status == 200, draft
    status, published = studio.call(
        "POST", f"/api/content/entries/{FAQ}/publish", studio.erin, {"note": "storm hours"}
    )
    assert status == 200, published
    assert published["job"] is None, "a wording change needs no retrain"
    assert citizen_reads(rest, FAQ_QUESTION, corrected) <= LIVE_SECONDS
    assert running_model(stack) == model, "no training, no model swap"

    # An invalid edit is refused on its field and changes nothing a citizen reads.
    status, refused = studio.call(
        "PUT", f"/api/content/entries/{FAQ}", studio.erin, {"source": "harborcity.example/hours"}
    )
    assert status == 400
    assert {p["field"] for p in refused["problems"] if p["error"]} == {"source"}
    assert corrected in rest.say(sender_id("studio"), FAQ_QUESTION)

    # A rumor's new wording waits for a second person; its author can neither publish nor approve it.
    reworded = "No. Library cards are free for everyone who lives, works or studies in Harbor City."
    status, saved = studio.call("PUT", f"/api/content/entries/{RUMOR}", studio.erin, {"answer": reworded})
    assert status == 200 and saved["state"] == "awaiting_review", saved
    assert studio.call("POST", f"/api/content/entries/{RUMOR}/publish", studio.erin, {})[0] == 403
    assert studio.call("POST", f"/api/content/entries/{RUMOR}/approve", studio.erin, {})[0] == 403
    status, approved = studio.call("POST", f"/api/content/entries/{RUMOR}/approve", studio.ava, {})
    assert status == 200, approved
    citizen_reads(rest, RUMOR_QUESTION, reworded)

    # One click back: the first version (the wording the model was trained on) is live again.
    status, history = studio.call("GET", f"/api/content/entries/{FAQ}/history", studio.ed)
    assert status == 200 and [v["version"] for v in history["versions"]] == [1, 2]
    assert history["versions"][1]["changes"]["answer"] == [original, corrected]
    status, reverted = studio.call("POST", f"/api/content/entries/{FAQ}/revert", studio.ed, {"version": 1})
    assert status == 200, reverted
    assert citizen_reads(rest, FAQ_QUESTION, original) <= LIVE_SECONDS
    assert running_model(stack) == model
