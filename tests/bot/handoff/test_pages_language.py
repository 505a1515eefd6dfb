"""The citizen's language in the console, in Chromium: the badge on rows the script renders (as text),
and the agent picking another language for the notices and canned replies."""

from __future__ import annotations

import time

from a11y_support import assert_no_wcag_violations
from console_support import Console, in_thread, sign_in
from playwright.sync_api import expect
from redis.asyncio import Redis as AsyncRedis

from bot.handoff.store import QueueStore

XSS = "<img src=x onerror=alert(1)>"


def enqueue_in(console: Console, conversation_id: str, language: str, claimed_by: str = "") -> None:
    """Queue a conversation in `language` as `action_start_handoff` does (and claim it, as the service
    would once Rasa paused it: this console has no Rasa)."""

    async def run() -> None:
        client = AsyncRedis.from_url(console.redis_url, decode_responses=True)
        try:
            store = QueueStore(client)
            await store.enqueue(
                conversation_id,
                channel="socketio",
                reason="requested",
                summary={"reason": "requested"},
                history=[],
                seeded_until=time.time(),
                language=language,
            )
            if claimed_by:
                assert (await store.claim(conversation_id, claimed_by)).ok
        finally:
            await client.close()

    in_thread(run)


def reply_language_in_store(console: Console, conversation_id: str) -> str:
    async def run() -> str:
        client = AsyncRedis.from_url(console.redis_url, decode_responses=True)
        try:
            entry = await QueueStore(client).get(conversation_id)
            return entry.reply_language if entry else ""
        finally:
            await client.close()

    return str(in_thread(run))


def test_the_queue_shows_each_chats_language_live_and_as_text(fresh, page):
    opened: list[str] = []
    page.on("dialog", lambda dialog: (opened.append(dialog.message), dialog.dismiss()))
    sign_in(page, fresh.url, "dana")
    expect(page.get_by_text("No chats are waiting.")).to_be_visible()
    enqueue_in(fresh, "live-es", "es")
    enqueue_in(fresh, "live-odd", XSS)
    badge = page.locator('tr[data-conversation="live-es"] .language-badge')  # rendered by the script
    expect(badge).to_have_text("Español")
    expect(badge).to_have_attribute("lang", "es")
    odd = page.locator('tr[data-conversation="live-odd"] .language-badge')
    expect(odd).to_have_text(XSS)
    assert odd.get_attribute("lang") is None
    assert page.locator("main img").count() == 0 and opened == []
    assert_no_wcag_violations(page, "the queue with the citizens' languages")


def test_the_agent_picks_another_language_and_the_canned_replies_follow(fresh, page):
    enqueue_in(fresh, "chat-es", "es", claimed_by="dana")
    sign_in(page, fresh.url, "dana")
    page.goto(f"{fresh.url}/conversations/chat-es")
    expect(page.locator("#conversation-language")).to_have_text("Español")
    picker = page.get_by_label("Language of notices and canned replies")
    expect(picker).to_have_value("es")
    canned = page.get_by_label("Canned reply")
    canned.select_option(label="Greeting")
    page.get_by_role("button", name="Insert").click()
    expect(page.get_by_label("Reply to the citizen")).to_have_value(
        "Hola, gracias por esperar. ¿En qué puedo ayudarle hoy?"
    )
    assert_no_wcag_violations(page, "a Spanish conversation")
    picker.select_option("en")
    expect(page.locator("#conversation-notice")).to_have_text(
        "Notices and canned replies are now in English."
    )
    expect(canned.locator("option", has_text="Greeting")).to_have_attribute(
        "value", "Hello, thanks for waiting. How can I help you today?"
    )
    assert reply_language_in_store(fresh, "chat-es") == "en"
    expect(page.locator("#conversation-language")).to_have_text("Español")  # still the citizen's
    page.reload()
    expect(page.get_by_label("Language of notices and canned replies")).to_have_value("en")
