"""The pinned notice as a banner in the web chat, in headless Chromium against the real stack: shown
with its link, escaped, announced once, axe clean, leading the greeting, and gone once unpinned."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import asdict
from typing import Any

import pytest
import redis
from a11y_support import assert_no_wcag_violations
from playwright.sync_api import Page, expect

from bot.broadcasts.notice import NOTICE_KEY, Notice
from bot.stack import Stack

pytestmark = pytest.mark.stack

LAUNCHER = "Chat with Harbor City's assistant"
TIMEOUT = 30_000
NOTICE = 'Boil water in Downtown <img src=x onerror="window.__pwned=1"> until Friday.'
LINK = "https://harborcity.example/alerts/boil-water"


@pytest.fixture
def page(browser: Any) -> Iterator[Page]:
    """A fresh profile per test, polling the notice every second (the page's default is a minute)."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.add_init_script("window.CivicChat = { noticePollSeconds: 1 };")
    errors: list[str] = []
    tab = context.new_page()
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    yield tab
    context.close()
    assert errors == [], f"JavaScript errors on the page: {errors}"


@pytest.fixture
def notices(stack: Stack) -> Iterator[redis.Redis]:
    """The stack's Redis, where the console's `POST /api/notice` pins it (`NoticeStore.pin`'s format)."""
    client = redis.Redis.from_url(stack.settings.redis.url)
    client.delete(NOTICE_KEY)
    yield client
    client.delete(NOTICE_KEY)
    client.close()


def pin(client: redis.Redis, text: str, link: str, seconds: float = 3600) -> None:
    now = time.time()
    notice = Notice(text, link, now + seconds, "erin", now)
    client.set(NOTICE_KEY, json.dumps(asdict(notice)), px=int(seconds * 1000))


COUNT_ANNOUNCEMENTS = """() => {
    const live = document.querySelector('.civic-chat__panel [aria-live="polite"].civic-chat__sr');
    window.__announced = 0;
    new MutationObserver(() => { window.__announced += 1; })
        .observe(live, {childList: true, characterData: true, subtree: true});
}"""


def test_the_pinned_notice_is_a_banner_above_the_messages(
    page: Page, stack: Stack, notices: redis.Redis
) -> None:
    pin(notices, NOTICE, LINK)
    page.goto(f"http://127.0.0.1:{stack.settings.demo.port}/")
    page.get_by_role("button", name=LAUNCHER).click()
    dialog = page.get_by_role("dialog", name="Harbor City assistant")
    banner = dialog.get_by_role("region", name="Notice from the city")
    expect(banner).to_be_visible(timeout=TIMEOUT)
    # Markup in the notice is shown as text, never run.
    expect(banner).to_contain_text('<img src=x onerror="window.__pwned=1">')
    assert banner.locator("img").count() == 0
    assert page.evaluate("window.__pwned") is None
    link = banner.get_by_role("link", name="Details about this notice")
    expect(link).to_have_attribute("href", LINK)
    # Above the messages.
    banner_box, log_box = banner.bounding_box(), dialog.get_by_role("log").bounding_box()
    assert banner_box is not None and log_box is not None and banner_box["y"] < log_box["y"]

    # Announced once, politely; the polls that follow (every second here) say nothing more.
    live = dialog.locator('.civic-chat__sr[aria-live="polite"]')
    expect(live).to_have_text(f"Notice from the city: {NOTICE}")
    page.evaluate(COUNT_ANNOUNCEMENTS)
    page.wait_for_timeout(2500)
    assert page.evaluate("window.__announced") == 0
    assert_no_wcag_violations(page, "the chat with a pinned notice")

    # The greeting leads with it too (Rasa's response generator, no retraining).
    box = page.get_by_role("textbox", name="Your message")
    box.fill("hello")
    box.press("Enter")
    expect(dialog.get_by_role("log")).to_contain_text(f"Notice: {NOTICE} {LINK}", timeout=TIMEOUT)

    # Unpinned (DELETE /api/notice): the banner goes at the next poll.
    notices.delete(NOTICE_KEY)
    expect(banner).to_be_hidden(timeout=10_000)
    expect(page.locator(".civic-chat__banner")).to_be_hidden()


def test_the_banner_goes_at_the_notice_expiry(page: Page, stack: Stack, notices: redis.Redis) -> None:
    pin(notices, "Road closed on Main Street for the parade.", LINK, seconds=4)
    page.goto(f"http://127.0.0.1:{stack.settings.demo.port}/")
    page.get_by_role("button", name=LAUNCHER).click()
    banner = page.get_by_role("region", name="Notice from the city")
    expect(banner).to_be_visible(timeout=TIMEOUT)
    expect(banner).to_be_hidden(timeout=10_000)
