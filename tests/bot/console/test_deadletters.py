"""Failed platform messages at /deadletters: editors see each with its error and retry it (once,
with the form's CSRF token, audited); agents cannot see the page."""

from __future__ import annotations

import json
import time

from console_support import MakeConsole, api_sign_in, audit_actions
from redis.asyncio import Redis

from bot.channels.intake import DeadLetter, DeadLetters

STREAM = "civic:intake:v1:telegram:3"
LETTER = DeadLetter(
    id="telegram.3.1700000000000-0",
    channel="telegram",
    stream=STREAM,
    conversation="telegram-5a1e2217023aa7436110401bf8b35699",
    error="ConnectionError: Redis read timed out",
    attempts=5,
    failed_at=time.time(),
    fields={
        "event": json.dumps({"sender_id": "42", "kind": "text", "text": "pothole on Elm"}),
        "conversation": "telegram-5a1e2217023aa7436110401bf8b35699",
        "seen": "",
    },
)


async def test_an_editor_sees_a_failed_message_and_retries_it_once(
    make_console: MakeConsole, redis: Redis
) -> None:
    await DeadLetters(redis).add(LETTER)
    console = await make_console()
    csrf = (await (await api_sign_in(console, "erin")).json())["csrf_token"]
    page = await (await console.get("/deadletters")).text()
    assert "pothole on Elm" in page and "ConnectionError: Redis read timed out" in page
    assert 'href="/deadletters"' in page  # in the editors' nav

    url = f"/deadletters/{LETTER.id}/retry"
    assert (await console.post(url, data={}, allow_redirects=False)).status == 403  # no CSRF token
    done = await console.post(url, data={"csrf_token": csrf}, allow_redirects=False)
    assert done.status == 303 and done.headers["Location"] == "/deadletters?done=retried"
    again = await console.post(url, data={"csrf_token": csrf}, allow_redirects=False)
    assert again.headers["Location"] == "/deadletters?done=gone"

    [(_, fields)] = await redis.xrange(STREAM)
    assert fields == LETTER.fields
    assert await DeadLetters(redis).all() == []
    assert "No failed messages." in await (await console.get("/deadletters")).text()
    [entry] = await audit_actions(redis, "intake_retry")
    assert (entry["actor"], entry["target"]) == ("erin", LETTER.conversation)


async def test_agents_cannot_see_failed_messages(make_console: MakeConsole, redis: Redis) -> None:
    await DeadLetters(redis).add(LETTER)
    console = await make_console()
    await api_sign_in(console, "dana")
    response = await console.get("/deadletters")
    assert response.status == 403
    assert "pothole" not in await response.text()
    assert 'href="/deadletters"' not in await (await console.get("/audit")).text()


async def test_the_page_shows_what_was_asked_not_who_asked_it(
    make_console: MakeConsole, redis: Redis
) -> None:
    said = "pothole at my door, call 555-867-5309 or mail jo.reyes@example.org"
    event = json.loads(LETTER.fields["event"]) | {"text": said}
    letter = DeadLetter(**(LETTER.__dict__ | {"fields": {**LETTER.fields, "event": json.dumps(event)}}))
    await DeadLetters(redis).add(letter)
    console = await make_console()
    await api_sign_in(console, "erin")
    page = await (await console.get("/deadletters")).text()
    assert "pothole at my door" in page
    assert "555-867-5309" not in page and "jo.reyes@example.org" not in page
    assert (await DeadLetters(redis).get(letter.id)) == letter  # the retry still sends what was said
