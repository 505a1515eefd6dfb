"""The JSON API over HTTP: auth, errors, claim conflicts, relay to Rasa, websocket events."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientTimeout
from aiohttp.test_utils import TestClient
from handoff_support import bearer, queue_one

from bot.console.accounts import add_account
from bot.handoff.store import QueueStore

XSS = "<img src=x onerror=alert(1)>"


async def test_unauthenticated_and_wrong_token_get_401(console: TestClient, store: QueueStore) -> None:
    await queue_one(store, "c1")
    for method, path in [
        ("GET", "/api/queue"),
        ("GET", "/api/conversations/c1"),
        ("POST", "/api/conversations/c1/claim"),
        ("POST", "/api/conversations/c1/messages"),
        ("POST", "/api/conversations/c1/close"),
        ("GET", "/api/ratings"),
        ("GET", "/api/events"),
    ]:
        for headers in ({}, bearer("not-a-token"), {"Authorization": "Basic ZGFuYTp4"}):
            resp = await console.request(method, path, headers=headers)
            assert resp.status == 401, (method, path, headers)
            assert "error" in await resp.json()
    assert (await store.get("c1")).status == "waiting"  # type: ignore[union-attr]


async def test_queue_lists_entries_with_summary(console: TestClient, store: QueueStore, agents: dict) -> None:
    await queue_one(store, "c1", summary={"reason": "requested", "facts": {"address": "12 Harbor Rd"}})
    resp = await console.get("/api/queue", headers=bearer(agents["Dana"]))
    assert resp.status == 200
    [item] = await resp.json()
    assert {k: item[k] for k in ("conversation_id", "channel", "reason", "status")} == {
        "conversation_id": "c1",
        "channel": "socketio",
        "reason": "requested",
        "status": "waiting",
    }
    assert item["summary"]["facts"]["address"] == "12 Harbor Rd"
    assert item["waiting_since"].endswith("Z")


async def test_unknown_conversation_is_404(console: TestClient, agents: dict) -> None:
    for method, path in [
        ("GET", "/api/conversations/nope"),
        ("POST", "/api/conversations/nope/claim"),
        ("POST", "/api/conversations/nope/release"),
        ("POST", "/api/conversations/nope/close"),
    ]:
        resp = await console.request(method, path, headers=bearer(agents["Dana"]))
        assert resp.status == 404, path
    resp = await console.post(
        "/api/conversations/nope/messages", json={"text": "hi"}, headers=bearer(agents["Dana"])
    )
    assert resp.status == 404


async def test_malformed_bodies_get_400_with_a_reason(
    console: TestClient, store: QueueStore, agents: dict
) -> None:
    await queue_one(store, "c1")
    headers = bearer(agents["Dana"])
    await console.post("/api/conversations/c1/claim", headers=headers)
    cases = [
        ("/api/conversations/c1/messages", b"not json"),
        ("/api/conversations/c1/messages", b"[1, 2]"),
        ("/api/conversations/c1/messages", b'{"text": ""}'),
        ("/api/conversations/c1/messages", b'{"text": 42}'),
        ("/api/conversations/c1/transfer", b"{}"),
        ("/api/conversations/c1/transfer", b'{"agent": "Nobody"}'),
    ]
    for path, body in cases:
        resp = await console.post(path, data=body, headers={**headers, "Content-Type": "application/json"})
        assert resp.status == 400, body
        assert (await resp.json())["error"]


async def test_two_agents_claim_one_wins_other_gets_409(
    console: TestClient, store: QueueStore, agents: dict, fake_rasa: tuple
) -> None:
    await queue_one(store, "c1")
    dana, lee = await asyncio.gather(
        console.post("/api/conversations/c1/claim", headers=bearer(agents["Dana"])),
        console.post("/api/conversations/c1/claim", headers=bearer(agents["Lee"])),
    )
    statuses = sorted([dana.status, lee.status])
    assert statuses == [200, 409]
    loser = dana if dana.status == 409 else lee
    winner_name = "Lee" if loser is dana else "Dana"
    assert winner_name in (await loser.json())["error"]
    # the citizen got one "has joined" notice, from the winner
    rasa, _ = fake_rasa
    notices = rasa.messages()
    assert len(notices) == 1 and winner_name in notices[0]["body"]["text"]
    assert notices[0]["query"]["output_channel"] == "latest"
    assert notices[0]["query"]["execute_side_effects"] == "true"


async def test_agent_message_goes_to_rasa_and_transcript_keeps_text_exactly(
    console: TestClient, store: QueueStore, agents: dict, fake_rasa: tuple
) -> None:
    await queue_one(store, "c 1/é")  # ids are URL-quoted
    await store.record("c 1/é", "citizen", XSS, 1e10, dedupe="9-0")
    headers = bearer(agents["Dana"])
    assert (await console.post("/api/conversations/c%201%2F%C3%A9/claim", headers=headers)).status == 200
    resp = await console.post(
        "/api/conversations/c%201%2F%C3%A9/messages", json={"text": XSS}, headers=headers
    )
    assert resp.status == 200
    rasa, _ = fake_rasa
    sent = rasa.calls[-1]
    assert sent["path"] == "/conversations/c 1/é/tracker/events"
    assert sent["body"]["event"] == "bot" and sent["body"]["text"] == XSS
    assert sent["query"]["token"] == "rasa-secret"
    view = await (await console.get("/api/conversations/c%201%2F%C3%A9", headers=headers)).json()
    assert view["status"] == "claimed" and view["agent"] == "Dana"
    assert [(m["sender"], m["text"]) for m in view["messages"]] == [
        ("citizen", XSS),
        ("bot", "Dana from the City of Harbor City has joined the chat."),
        ("agent", XSS),
    ]
    # only the holder may reply
    other = await console.post(
        "/api/conversations/c%201%2F%C3%A9/messages", json={"text": "x"}, headers=bearer(agents["Lee"])
    )
    assert other.status == 409


async def test_close_resumes_then_triggers_rating(
    console: TestClient, store: QueueStore, agents: dict, fake_rasa: tuple
) -> None:
    await queue_one(store, "c1")
    headers = bearer(agents["Dana"])
    await console.post("/api/conversations/c1/claim", headers=headers)
    assert (await console.post("/api/conversations/c1/close", headers=bearer(agents["Lee"]))).status == 409
    resp = await console.post("/api/conversations/c1/close", headers=headers)
    assert resp.status == 200 and (await resp.json())["status"] == "closed"
    rasa, _ = fake_rasa
    # action_listen after resume: the EXTERNAL_handoff_closed rule starts from it.
    assert rasa.calls[-2]["body"] == [{"event": "resume"}, {"event": "action", "name": "action_listen"}]
    assert rasa.calls[-1]["path"] == "/conversations/c1/trigger_intent"
    assert rasa.calls[-1]["body"]["name"] == "EXTERNAL_handoff_closed"
    assert (await (await console.get("/api/queue", headers=headers)).json()) == []


async def test_close_fails_cleanly_when_rasa_is_down(
    console: TestClient, store: QueueStore, agents: dict, fake_rasa: tuple
) -> None:
    await queue_one(store, "c1")
    headers = bearer(agents["Dana"])
    await console.post("/api/conversations/c1/claim", headers=headers)
    fake_rasa[0].fail = True
    resp = await console.post("/api/conversations/c1/close", headers=headers)
    assert resp.status == 502
    assert (await store.get("c1")).status == "claimed"  # type: ignore[union-attr]


async def test_a_claim_stands_when_rasa_cannot_deliver_the_notice(
    console: TestClient, store: QueueStore, agents: dict, fake_rasa: tuple
) -> None:
    await queue_one(store, "c1")
    fake_rasa[0].fail_messages = True
    resp = await console.post("/api/conversations/c1/claim", headers=bearer(agents["Dana"]))
    assert resp.status == 200
    assert (await store.get("c1")).agent == "Dana"  # type: ignore[union-attr]


async def test_a_claim_rasa_cannot_pause_is_undone_so_the_bot_never_talks_over_the_agent(
    console: TestClient, store: QueueStore, agents: dict, fake_rasa: tuple
) -> None:
    await queue_one(store, "c1")
    fake_rasa[0].fail = True
    resp = await console.post("/api/conversations/c1/claim", headers=bearer(agents["Dana"]))
    assert resp.status == 502
    entry = await store.get("c1")
    assert entry is not None and (entry.status, entry.agent) == ("waiting", "")
    assert await store.position("c1") == 1


async def test_claiming_pauses_the_bot_and_ends_any_form_releasing_puts_the_citizen_back_in_line(
    console: TestClient, store: QueueStore, agents: dict, fake_rasa: tuple
) -> None:
    """While waiting the bot still answers; only a claim pauses it (and the form the citizen was in)."""
    await queue_one(store, "c1")
    headers = bearer(agents["Dana"])
    assert (await console.post("/api/conversations/c1/claim", headers=headers)).status == 200
    rasa, _ = fake_rasa
    assert rasa.calls[0]["path"] == "/conversations/c1/tracker/events"
    assert rasa.calls[0]["body"] == [
        {"event": "active_loop", "name": None},
        {"event": "slot", "name": "requested_slot", "value": None},
        {"event": "slot", "name": "handoff_waiting", "value": False},
        {"event": "pause"},
    ]
    assert "joined" in rasa.calls[1]["body"]["text"]
    assert (await console.post("/api/conversations/c1/release", headers=headers)).status == 200
    assert rasa.calls[-1]["body"] == [
        {"event": "slot", "name": "handoff_waiting", "value": True},
        {"event": "resume"},
        {"event": "action", "name": "action_listen"},
    ]
    assert await store.position("c1") == 1


async def test_closing_a_waiting_chat_ends_the_citizens_form_before_the_rating(
    console: TestClient, store: QueueStore, agents: dict, fake_rasa: tuple
) -> None:
    await queue_one(store, "c1")
    assert (await console.post("/api/conversations/c1/close", headers=bearer(agents["Lee"]))).status == 200
    rasa, _ = fake_rasa
    assert [c["body"][-1] if isinstance(c["body"], list) else c["body"]["name"] for c in rasa.calls] == [
        {"event": "pause"},
        {"event": "action", "name": "action_listen"},
        "EXTERNAL_handoff_closed",
    ]


async def test_a_citizen_who_leaves_the_line_is_gone_from_the_agents_queue(
    console: TestClient, store: QueueStore, agents: dict
) -> None:
    headers = bearer(agents["Dana"])
    await queue_one(store, "stays")
    async with console.ws_connect("/api/events", headers=headers) as ws:
        assert (await ws.receive_json(timeout=5))["type"] == "hello"
        await queue_one(store, "leaves")
        assert (await ws.receive_json(timeout=5))["type"] == "queued"
        assert await store.leave("leaves") is True
        event = await ws.receive_json(timeout=5)
    assert (event["type"], event["conversation_id"], event["how"]) == ("closed", "leaves", "left")
    queue = await (await console.get("/api/queue", headers=headers)).json()
    assert [e["conversation_id"] for e in queue] == ["stays"]
    view = await (await console.get("/api/conversations/leaves", headers=headers)).json()
    assert view["status"] == "closed"
    claim = await console.post("/api/conversations/leaves/claim", headers=headers)
    assert claim.status == 409 and "closed" in (await claim.json())["error"]


async def test_release_and_transfer(console: TestClient, store: QueueStore, agents: dict) -> None:
    await queue_one(store, "c1")
    dana, lee = bearer(agents["Dana"]), bearer(agents["Lee"])
    await console.post("/api/conversations/c1/claim", headers=dana)
    resp = await console.post("/api/conversations/c1/transfer", json={"agent": "Lee"}, headers=dana)
    assert resp.status == 200 and (await resp.json())["agent"] == "Lee"
    assert (await console.post("/api/conversations/c1/release", headers=dana)).status == 409
    resp = await console.post("/api/conversations/c1/release", headers=lee)
    assert resp.status == 200 and (await resp.json())["status"] == "waiting"


async def test_websocket_pushes_queue_claim_and_messages(
    console: TestClient, store: QueueStore, agents: dict
) -> None:
    async with console.ws_connect("/api/events", headers=bearer(agents["Dana"])) as ws:
        assert (await ws.receive_json(timeout=5))["type"] == "hello"
        await queue_one(store, "c1")
        await store.record("c1", "citizen", XSS, 1e10, dedupe="5-0")
        await console.post("/api/conversations/c1/claim", headers=bearer(agents["Dana"]))
        seen = [await ws.receive_json(timeout=5) for _ in range(4)]
    kinds = [e["type"] for e in seen]
    assert kinds[:2] == ["queued", "message"] and "claimed" in kinds
    assert seen[1]["message"] == {
        "sender": "citizen",
        "text": XSS,
        "timestamp": seen[1]["message"]["timestamp"],
    }


async def test_an_account_added_while_running_works_at_once(
    console: TestClient, store: QueueStore, tmp_path: Path
) -> None:
    token = add_account(tmp_path / "agents.yml", "Newcomer", "agent", "new-password")
    resp = await console.get("/api/queue", headers=bearer(token))
    assert resp.status == 200


async def test_ratings_endpoint(console: TestClient, store: QueueStore, agents: dict) -> None:
    await store.add_rating("c1", "Dana", "requested", 5, "great")
    resp = await console.get("/api/ratings", headers=bearer(agents["Lee"]))
    assert resp.status == 200 and resp.content_type == "application/json"
    # the tallies per agent and per reason, and nothing else (no citizen comments, no conversation ids)
    one_five = {"count": 1, "sum": 5, "average": 5.0}
    assert await resp.json() == {"agents": {"Dana": one_five}, "reasons": {"requested": one_five}}


async def _claimed(console: TestClient, store: QueueStore, token: str, cid: str = "c1") -> None:
    await queue_one(store, cid)
    assert (await console.post(f"/api/conversations/{cid}/claim", headers=bearer(token))).status == 200


def _agent_texts(rasa: Any) -> list[str]:
    return [m["body"]["text"] for m in rasa.messages() if m["body"]["metadata"]["handoff"]["role"] == "agent"]


async def test_a_reply_retried_after_a_timeout_reaches_the_citizen_once(
    console: TestClient, store: QueueStore, agents: dict, fake_rasa: tuple
) -> None:
    rasa, _ = fake_rasa
    headers = bearer(agents["Dana"])
    await _claimed(console, store, agents["Dana"])
    rasa.delay = 1.5  # Rasa is slow: the console's request times out and it sends again
    body = {"text": "A crew is on its way.", "client_message_id": "reply-1"}
    with pytest.raises(asyncio.TimeoutError):
        await console.post(
            "/api/conversations/c1/messages", json=body, headers=headers, timeout=ClientTimeout(total=0.3)
        )
    retry = await console.post("/api/conversations/c1/messages", json=body, headers=headers)
    assert retry.status == 200  # answered once the first attempt got through
    rasa.delay = 0.0
    again = await console.post("/api/conversations/c1/messages", json=body, headers=headers)
    assert again.status == 200
    assert _agent_texts(rasa) == ["A crew is on its way."]
    view = await (await console.get("/api/conversations/c1", headers=headers)).json()
    assert [m["text"] for m in view["messages"] if m["sender"] == "agent"] == ["A crew is on its way."]
    # the same words as a new message (a new id) are a second reply
    body = {"text": "A crew is on its way.", "client_message_id": "reply-2"}
    assert (await console.post("/api/conversations/c1/messages", json=body, headers=headers)).status == 200
    assert len(_agent_texts(rasa)) == 2


async def test_concurrent_copies_of_a_reply_are_delivered_once(
    console: TestClient, store: QueueStore, agents: dict, fake_rasa: tuple
) -> None:
    rasa, _ = fake_rasa
    headers = bearer(agents["Dana"])
    await _claimed(console, store, agents["Dana"])
    rasa.delay = 0.3
    body = {"text": "Thanks for waiting.", "client_message_id": "reply-1"}
    answers = await asyncio.gather(
        *(console.post("/api/conversations/c1/messages", json=body, headers=headers) for _ in range(4))
    )
    assert [a.status for a in answers] == [200] * 4
    assert _agent_texts(rasa) == ["Thanks for waiting."]


async def test_a_retry_after_a_failed_attempt_asks_rasa_before_sending_again(
    console: TestClient, store: QueueStore, agents: dict, fake_rasa: tuple
) -> None:
    rasa, _ = fake_rasa
    headers = bearer(agents["Dana"])
    await _claimed(console, store, agents["Dana"])
    url = "/api/conversations/c1/messages"
    # Rasa stored the reply but the answer was lost: the retry finds it in the tracker, no second copy
    rasa.fail_after_storing = True
    stored = {"text": "Your ticket is 311-42.", "client_message_id": "reply-1"}
    assert (await console.post(url, json=stored, headers=headers)).status == 502
    rasa.fail_after_storing = False
    assert (await console.post(url, json=stored, headers=headers)).status == 200
    assert _agent_texts(rasa) == ["Your ticket is 311-42."]
    # Rasa refused the reply: the retry delivers it, once
    rasa.fail_messages = True
    refused = {"text": "Anything else?", "client_message_id": "reply-2"}
    assert (await console.post(url, json=refused, headers=headers)).status == 502
    rasa.fail_messages = False
    assert (await console.post(url, json=refused, headers=headers)).status == 200
    assert (await console.post(url, json=refused, headers=headers)).status == 200
    assert _agent_texts(rasa) == ["Your ticket is 311-42.", "Anything else?"]


async def test_a_malformed_client_message_id_is_400(
    console: TestClient, store: QueueStore, agents: dict
) -> None:
    await _claimed(console, store, agents["Dana"])
    for bad in (42, "has space", "x" * 65):
        resp = await console.post(
            "/api/conversations/c1/messages",
            json={"text": "hi", "client_message_id": bad},
            headers=bearer(agents["Dana"]),
        )
        assert resp.status == 400, bad
