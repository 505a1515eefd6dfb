"""The queue and conversation pages without Rasa: live updates, escaping, keyboard use, axe, roles."""

from __future__ import annotations

from typing import Any

from a11y_support import assert_no_wcag_violations
from console_support import Console, in_thread, sign_in
from playwright.sync_api import expect
from redis.asyncio import Redis as AsyncRedis

from bot.handoff.store import QueueStore

XSS = "<img src=x onerror=alert(1)>"


def watch_dialogs(page: Any) -> list[str]:
    """Any alert() the page opens (an XSS payload that ran) ends up here."""
    opened: list[str] = []

    def on_dialog(dialog: Any) -> None:
        opened.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    return opened


def test_queue_shows_new_chats_live_with_citizen_text_as_text(fresh, page):
    dialogs = watch_dialogs(page)
    fresh.enqueue("chat-early", summary={"reason": "requested", "last_messages": ["hello", XSS]})
    sign_in(page, fresh.url, "dana")
    row = page.locator('tr[data-conversation="chat-early"]')
    expect(row.locator("td.summary")).to_contain_text(XSS)  # server-rendered
    # A chat queued while the page is open appears without a reload.
    fresh.enqueue("chat-live", channel="telegram", summary={"last_messages": [XSS + " live"]})
    live = page.locator('tr[data-conversation="chat-live"]')
    expect(live.get_by_role("button", name="Claim chat chat-live")).to_be_visible()
    expect(live).to_contain_text("telegram")
    expect(live.locator("td.summary")).to_contain_text(XSS + " live")  # rendered by the script
    expect(page.locator("#announcer")).to_have_text("New chat in the queue.")
    assert page.locator("main img").count() == 0
    assert dialogs == []


def test_transcript_shows_citizen_messages_live_and_as_text(fresh, page):
    dialogs = watch_dialogs(page)
    history = [{"sender": "citizen", "text": XSS, "timestamp": "2026-11-26T10:00:00.000Z"}]
    fresh.enqueue("chat-xss", history=history)
    sign_in(page, fresh.url, "dana")
    page.goto(f"{fresh.url}/conversations/chat-xss")
    transcript = page.get_by_role("log")
    expect(transcript.locator("li").first).to_contain_text(XSS)
    fresh.citizen_says("chat-xss", "<script>alert(2)</script> are you there?")
    expect(transcript.locator("li")).to_have_count(2)
    expect(transcript.locator("li").last).to_contain_text("<script>alert(2)</script> are you there?")
    expect(page.locator("#announcer")).to_contain_text("are you there?")
    assert transcript.locator("img, script").count() == 0
    assert dialogs == []
    expect(page.get_by_role("button", name="Claim this chat")).to_be_visible()


def test_an_unknown_conversation_is_404(fresh, page):
    sign_in(page, fresh.url, "dana")
    response = page.goto(f"{fresh.url}/conversations/no-such-chat")
    assert response is not None and response.status == 404


def test_skip_link_is_the_first_stop_and_focus_is_visible(fresh, page):
    sign_in(page, fresh.url, "dana")
    expect(page.get_by_role("heading", name="Queue")).to_be_visible()
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    outline = skip.evaluate("e => getComputedStyle(e).outlineStyle")
    assert outline != "none"
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()


def test_every_console_page_passes_the_wcag_rules(fresh, page):
    """Each page in each state that shows other controls: sign-in (and its error), an empty and a full
    queue, a conversation waiting and claimed, the not-allowed page and an editor-only page."""
    page.goto(f"{fresh.url}/login")
    assert_no_wcag_violations(page, "the sign-in page")
    sign_in(page, fresh.url, "dana", "not-her-password")
    expect(page.get_by_role("alert")).to_have_text("Wrong name or password.")
    assert_no_wcag_violations(page, "the sign-in page after a wrong password")
    sign_in(page, fresh.url, "dana")
    expect(page.get_by_text("No chats are waiting.")).to_be_visible()
    assert_no_wcag_violations(page, "the empty queue")
    history = [{"sender": "citizen", "text": "I need a person", "timestamp": "2026-11-26T10:00:00.000Z"}]
    fresh.enqueue("chat-axe", summary={"reason": "requested", "address": "12 Harbor St"}, history=history)
    expect(page.locator('tr[data-conversation="chat-axe"]')).to_be_visible()
    assert_no_wcag_violations(page, "the queue with a chat")
    page.goto(f"{fresh.url}/conversations/chat-axe")
    expect(page.get_by_role("log")).to_contain_text("I need a person")
    assert_no_wcag_violations(page, "a waiting conversation")
    # This console has no Rasa to pause the chat, so the claim is refused, and the page says so.
    page.get_by_role("button", name="Claim this chat").click()
    expect(page.get_by_role("alert")).to_have_text("Rasa did not answer; try again")
    assert_no_wcag_violations(page, "a conversation whose claim failed")
    claim_in_store(fresh, "chat-axe", "dana")
    page.reload()
    expect(page.get_by_label("Reply to the citizen")).to_be_visible()
    assert_no_wcag_violations(page, "a claimed conversation")
    page.goto(f"{fresh.url}/")
    expect(page.locator('tr[data-conversation="chat-axe"]')).to_contain_text("claimed (dana)")
    assert_no_wcag_violations(page, "the queue with a claimed chat")
    page.goto(f"{fresh.url}/editors-only")
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
    assert_no_wcag_violations(page, "the not-allowed page")
    page.context.clear_cookies()
    sign_in(page, fresh.url, "erin")
    page.get_by_role("navigation").get_by_role("link", name="Editors only").click()
    expect(page.get_by_role("heading", name="Editors only")).to_be_visible()
    assert_no_wcag_violations(page, "an editor-only page")


def test_an_editor_page_is_only_for_editors(fresh, page):
    sign_in(page, fresh.url, "dana")
    expect(page.get_by_role("navigation")).not_to_contain_text("Editors only")
    response = page.goto(f"{fresh.url}/editors-only")
    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
    page.context.clear_cookies()
    sign_in(page, fresh.url, "erin")
    page.get_by_role("navigation").get_by_role("link", name="Editors only").click()
    expect(page.get_by_role("heading", name="Editors only")).to_be_visible()


def claim_in_store(console: Console, conversation_id: str, agent: str) -> None:
    """Claim as the console's service would once Rasa has paused the chat (this console has no Rasa)."""

    async def run() -> None:
        client = AsyncRedis.from_url(console.redis_url, decode_responses=True)
        try:
            assert (await QueueStore(client).claim(conversation_id, agent)).ok
        finally:
            await client.close()

    in_thread(run)
