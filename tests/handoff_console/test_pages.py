"""The queue and conversation pages without Rasa: live updates, escaping, keyboard use, axe, roles."""

from __future__ import annotations

from typing import Any

from axe_playwright_python.sync_playwright import Axe
from console_testing import sign_in
from playwright.sync_api import expect

XSS = "<img src=x onerror=alert(1)>"


def watch_dialogs(page: Any) -> list[str]:
    """Any alert() the page opens (an XSS payload that ran) ends up here."""
    opened: list[str] = []

    def on_dialog(dialog: Any) -> None:
        opened.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    return opened


def serious_violations(page: Any) -> list[str]:
    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']]}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


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


def test_pages_have_no_serious_accessibility_violations(fresh, page):
    page.goto(f"{fresh.url}/login")
    assert serious_violations(page) == []
    history = [{"sender": "citizen", "text": "I need a person", "timestamp": "2026-11-26T10:00:00.000Z"}]
    fresh.enqueue("chat-axe", summary={"reason": "requested", "address": "12 Harbor St"}, history=history)
    sign_in(page, fresh.url, "dana")
    expect(page.locator('tr[data-conversation="chat-axe"]')).to_be_visible()
    assert serious_violations(page) == []
    page.goto(f"{fresh.url}/conversations/chat-axe")
    expect(page.get_by_role("log")).to_contain_text("I need a person")
    assert serious_violations(page) == []


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
