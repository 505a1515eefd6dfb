"""A Spanish conversation in the queue (real Redis, the console's aiohttp app, a stand-in Rasa): the
console's notices in Spanish, the language on the queue and the page (escaped), the agent's pick of
another language, canned replies per language, and the relay following a switch of language."""

from __future__ import annotations

import html
import time
from typing import Any

from aiohttp.test_utils import TestClient
from handoff_support import bearer
from redis.asyncio import Redis

from bot.handoff.keys import SERVICE
from bot.handoff.relay import relay_event
from bot.handoff.store import QueueStore

XSS = "<img src=x onerror=alert(1)>"
JOINED_ES = "Dana, de la Ciudad de Harbor City, se unió al chat."
JOINED_EN = "Dana from the City of Harbor City has joined the chat."


async def queue_in(store: QueueStore, cid: str, language: str, seeded_until: float = 0.0) -> None:
    """Queue `cid` the way `action_start_handoff` does, in the conversation's `language`."""
    await store.enqueue(
        cid,
        channel="socketio",
        reason="requested",
        summary={"reason": "requested", "facts": {"language": language}},
        history=[],
        seeded_until=seeded_until,
        language=language,
    )


async def signed_in(console: TestClient) -> None:
    """Dana's session cookie on the client, as the pages need (they are not for API tokens)."""
    resp = await console.post("/api/login", json={"name": "Dana", "password": "dana-password"})
    assert resp.status == 200, await resp.text()


def notices(fake_rasa: tuple[Any, str], cid: str) -> list[str]:
    rasa, _ = fake_rasa
    return [c["body"]["text"] for c in rasa.messages() if c["path"] == f"/conversations/{cid}/tracker/events"]


async def test_an_agent_joining_a_spanish_conversation_is_announced_in_spanish(
    console: TestClient, store: QueueStore, agents: dict, fake_rasa: tuple
) -> None:
    await queue_in(store, "es-1", "es")
    await queue_in(store, "en-1", "en")
    headers = bearer(agents["Dana"])
    queue = await (await console.get("/api/queue", headers=headers)).json()
    assert [(e["language"], e["language_name"], e["reply_language"]) for e in queue] == [
        ("es", "Español", "es"),
        ("en", "English", "en"),
    ]
    for cid in ("es-1", "en-1"):
        assert (await console.post(f"/api/conversations/{cid}/claim", headers=headers)).status == 200
    assert notices(fake_rasa, "es-1") == [JOINED_ES]
    assert notices(fake_rasa, "en-1") == [JOINED_EN]  # English exactly as before
    view = await (await console.get("/api/conversations/es-1", headers=headers)).json()
    assert [(m["sender"], m["text"]) for m in view["messages"]] == [("bot", JOINED_ES)]


async def test_the_wait_grew_notice_is_in_each_conversations_language(
    console: TestClient, store: QueueStore, fake_rasa: tuple
) -> None:
    await queue_in(store, "en-first", "en")
    await queue_in(store, "es-second", "es")
    assert console.app is not None
    await console.app[SERVICE].sweep()
    # nothing measured yet: five minutes per place in line (data/handoff/queue.yml)
    assert notices(fake_rasa, "en-first") == [
        "Thanks for waiting. You are number 1 in line; it may now take about 5 minutes."
    ]
    assert notices(fake_rasa, "es-second") == [
        "Gracias por esperar. Usted es el número 2 en la fila; ahora la espera puede ser de "
        "aproximadamente 10 minutos."
    ]
    assert (await store.get("es-second")).told_wait == 10  # type: ignore[union-attr]


async def test_an_agent_may_pick_another_language_for_the_notices_and_canned_replies(
    console: TestClient, store: QueueStore, agents: dict, fake_rasa: tuple
) -> None:
    await queue_in(store, "es-2", "es")
    headers = bearer(agents["Lee"])  # any agent: it changes the wording, not who holds the chat
    resp = await console.post("/api/conversations/es-2/language", json={"language": "en"}, headers=headers)
    assert resp.status == 200
    assert await resp.json() == {
        "conversation_id": "es-2",
        "language": "es",  # still the citizen's: the badge shows it
        "language_name": "Español",
        "reply_language": "en",
        "reply_language_name": "English",
    }
    assert (await console.post("/api/conversations/es-2/claim", headers=bearer(agents["Dana"]))).status == 200
    assert notices(fake_rasa, "es-2") == [JOINED_EN]
    for body, status in [
        ({"language": "fr"}, 400),
        ({"language": XSS}, 400),
        ({}, 400),
        ({"language": 1}, 400),
    ]:
        resp = await console.post("/api/conversations/es-2/language", json=body, headers=headers)
        assert resp.status == status, body
        assert XSS not in (await resp.json())["error"]
    missing = await console.post("/api/conversations/nope/language", json={"language": "es"}, headers=headers)
    assert missing.status == 404
    assert (await console.post("/api/conversations/es-2/close", headers=bearer(agents["Dana"]))).status == 200
    closed = await console.post("/api/conversations/es-2/language", json={"language": "es"}, headers=headers)
    assert closed.status == 409


async def test_canned_replies_come_in_the_language_asked(console: TestClient, agents: dict) -> None:
    headers = bearer(agents["Dana"])
    spanish = await (await console.get("/api/canned_replies?language=es", headers=headers)).json()
    assert spanish["language"] == "es"
    greeting = next(r for r in spanish["replies"] if r["title"] == "Greeting")
    assert greeting["text"] == "Hola, gracias por esperar. ¿En qué puedo ayudarle hoy?"
    english = await (await console.get("/api/canned_replies", headers=headers)).json()
    assert english["language"] == "en"
    assert [r["title"] for r in english["replies"]] == [r["title"] for r in spanish["replies"]]
    assert (await console.get("/api/canned_replies?language=fr", headers=headers)).status == 400
    assert (await console.get("/api/canned_replies?language=es")).status == 401


async def test_the_pages_show_the_language_and_offer_the_conversations_canned_replies(
    console: TestClient, store: QueueStore
) -> None:
    await queue_in(store, "es-3", "es")
    await signed_in(console)
    queue = await (await console.get("/")).text()
    row = queue[queue.index('data-conversation="es-3"') :]
    assert '<span class="language-badge" lang="es">Español</span>' in row[: row.index("</tr>")]
    page = await (await console.get("/conversations/es-3")).text()
    assert '<span class="language-badge" id="conversation-language" lang="es">Español</span>' in page
    assert '<option value="es" lang="es" selected>Español</option>' in page
    assert '<option value="en" lang="en">English</option>' in page
    # the canned replies are rendered for the agent who holds the chat
    await store.claim("es-3", "Dana")
    page = await (await console.get("/conversations/es-3")).text()
    assert 'value="Hola, gracias por esperar. ¿En qué puedo ayudarle hoy?">Greeting</option>' in page
    assert "Hello, thanks for waiting" not in page


async def test_a_language_the_citizen_made_up_is_escaped_on_both_pages(
    console: TestClient, store: QueueStore, agents: dict, fake_rasa: tuple
) -> None:
    """The language comes from the conversation's slot, which a message's entities can set."""
    await queue_in(store, "odd", XSS)
    await signed_in(console)
    escaped = html.escape(XSS)
    badges = {
        "/": f'<span class="language-badge">{escaped}</span>',
        "/conversations/odd": f'<span class="language-badge" id="conversation-language">{escaped}</span>',
    }
    for path, badge in badges.items():
        page = await (await console.get(path)).text()
        assert XSS not in page, path
        assert badge in page, path  # escaped, and not marked as a language (no lang attribute)
    # the console speaks English to it, and the API returns the value exactly as kept
    assert (await console.post("/api/conversations/odd/claim", headers=bearer(agents["Dana"]))).status == 200
    assert notices(fake_rasa, "odd") == [JOINED_EN]
    view = await (await console.get("/api/conversations/odd", headers=bearer(agents["Dana"]))).json()
    assert (view["language"], view["language_name"]) == (XSS, XSS)


async def test_the_relay_follows_the_citizen_switching_language(store: QueueStore, redis: Redis) -> None:
    now = time.time()
    await queue_in(store, "switch", "es", seeded_until=now)
    slot = {"sender_id": "switch", "event": "slot", "name": "language"}
    # a change the action had already seen when it queued the chat is not applied again
    assert not await relay_event(store, "1-0", {**slot, "value": "en", "timestamp": now - 5})
    assert (await store.get("switch")).language == "es"  # type: ignore[union-attr]
    assert await relay_event(store, "2-0", {**slot, "value": "en", "timestamp": now + 5})
    assert (await store.get("switch")).language == "en"  # type: ignore[union-attr]
    assert not await relay_event(store, "3-0", {**slot, "value": None, "timestamp": now + 6})
    await relay_event(store, "4-0", {**slot, "value": "es", "timestamp": now + 7})
    assert await relay_event(store, "5-0", {**slot, "value": "zz", "timestamp": now + 8})
    assert (await store.get("switch")).language == "en"  # type: ignore[union-attr]  # not offered
    changes = [fields["event"] for _, fields in await redis.xrange(store.changes_key)]
    assert any('"type": "language"' in change and '"language": "es"' in change for change in changes)
    # a closed chat, or one never queued, is left alone
    assert not await relay_event(
        store, "6-0", {**slot, "sender_id": "nobody", "value": "en", "timestamp": now}
    )
    assert await store.get("nobody") is None


async def test_a_ticket_keeps_the_language_and_an_older_entry_reads_as_english(
    store: QueueStore, redis: Redis
) -> None:
    summary = {"reason": "requested"}
    await store.add_ticket(
        "t-es", channel="telegram", summary=summary, text="bache", contact="", language="es"
    )
    [ticket] = await store.queue()
    assert (ticket.public()["language"], ticket.public()["status"]) == ("es", "ticket")
    await queue_in(store, "before", "es")
    await redis.hdel(store.key("entry", "before"), "language")  # queued before languages were kept
    assert (await store.get("before")).speaks == "en"  # type: ignore[union-attr]
