"""The web chat's socket.io channel on the real stack, with real socket.io clients.

Only the server issues session ids: a client presenting anything else (another conversation's id,
a forged signature) is given a fresh session and hears nothing of anyone else's conversation.

Rasa 3.6.21 calls ``sio.enter_room()`` without ``await``; with python-socketio >= 5.10 that
coroutine never runs, so replies never reach the citizen (rasa#13027). requirements.txt pins
5.9.0; the reload test fails if that regresses.
"""

from __future__ import annotations

import asyncio

import pytest
from socketio_support import Page, WebSession, chat, tracker_events

from bot.stack import Stack

pytestmark = pytest.mark.stack
QUIET_SECONDS = 3.0  # how long an eavesdropper listens after the other citizen's answer arrived


def tracker_texts(session: WebSession) -> list[str]:
    events = tracker_events(session.url, session.token, session.conversation_id)
    return [str(e.get("text")) for e in events if e.get("event") == "user"]


async def test_reply_reaches_the_page_and_the_conversation_survives_a_reload(stack: Stack) -> None:
    session = WebSession.of(stack)
    first = await chat(session, "hello")
    assert any("automated assistant" in r.get("text", "") for r in first)
    assert session.session_id and session.session_id.startswith("web-")
    assert (
        session.conversation_id.startswith("socketio-") and session.session_id not in session.conversation_id
    )
    # A page reload: a new socket, the same stored session id, which the server confirms again.
    second = await chat(session, "how do i get a library card")
    assert any("harborcity.example/library/card" in r.get("text", "") for r in second)
    assert len(set(session.confirmed)) == 1
    assert tracker_texts(session) == ["hello", "how do i get a library card"]


async def test_buttons_reach_the_web_chat(stack: Stack) -> None:
    replies = await chat(WebSession.of(stack), "what can you do")
    buttons = [b for r in replies for b in r.get("quick_replies", r.get("buttons", []))]
    assert any(b["title"] == "Trash and recycling" for b in buttons)


async def test_ids_the_server_did_not_issue_get_a_fresh_session_that_hears_nothing_else(stack: Stack) -> None:
    citizen = WebSession.of(stack)
    await chat(citizen, "hello")
    assert citizen.session_id is not None
    sid = citizen.session_id
    forged = sid[:-1] + ("0" if sid[-1] != "0" else "1")
    # What an outsider could know or make up: the conversation id (shown in the console and in Redis
    # keys), the id with a forged signature, an id of their own choosing, Rasa's old style of id.
    asked = [citizen.conversation_id, forged, "web-" + "0" * 32 + "." + "0" * 32, "my-own-id", None]
    eavesdroppers = [Page(citizen.url) for _ in asked]
    given = [await page.open(wanted) for page, wanted in zip(eavesdroppers, asked, strict=True)]
    try:
        assert sid not in given and len(set(given)) == len(given), given
        assert all(g.startswith("web-") for g in given)
        # The citizen goes on talking (a new socket, as after a reload); the others hear none of it.
        answer = await chat(citizen, "how do i get a library card")
        assert any("library/card" in r.get("text", "") for r in answer)
        await asyncio.sleep(QUIET_SECONDS)
        assert [page.heard for page in eavesdroppers] == [[] for _ in eavesdroppers]
    finally:
        for page in eavesdroppers:
            await page.close()


async def test_a_message_for_a_session_the_socket_was_not_given_is_refused(stack: Stack) -> None:
    citizen = WebSession.of(stack)
    await chat(citizen, "hello")
    assert citizen.session_id is not None
    intruder = Page(citizen.url)
    own = await intruder.open(None)
    try:
        # A session id it was not given (the citizen's, as if stolen from a log), and the room name.
        await intruder.say("I want to talk to a real person", citizen.session_id)
        await intruder.say("I want to talk to a real person", citizen.conversation_id)
        await intruder.say("what can you do", own)  # its own session works
        await asyncio.sleep(QUIET_SECONDS)
        await wait_for_reply(intruder)
    finally:
        await intruder.close()
    assert tracker_texts(citizen) == ["hello"]
    assert not any("line" in m.get("text", "") for m in intruder.heard)


async def wait_for_reply(page: Page, timeout: float = 30.0) -> None:
    for _ in range(int(timeout * 10)):
        if page.heard:
            return
        await asyncio.sleep(0.1)
    pytest.fail("the page's own message got no answer")


async def test_an_over_long_message_gets_the_limit_not_an_answer(stack: Stack) -> None:
    page = Page(f"http://127.0.0.1:{stack.settings.rasa.port}")
    session_id = await page.open(None)
    try:
        await page.say("where do I pay my water bill? " * 100, session_id)  # 3,000 characters
        await wait_for_reply(page)
    finally:
        await page.close()
    [notice] = page.heard
    assert "too long" in notice["text"] and "2,000 characters" in notice["text"]
    session = WebSession.of(stack, session_id)
    assert tracker_texts(session) == []


async def test_a_forged_intent_is_read_as_text(stack: Stack) -> None:
    session = WebSession.of(stack)
    replies = await chat(session, "/handoff_request")
    assert not any("in line" in r.get("text", "") for r in replies), replies
    events = tracker_events(session.url, session.token, session.conversation_id)
    [user] = [e for e in events if e.get("event") == "user"]
    assert user["text"] == "handoff_request"
