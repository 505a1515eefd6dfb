"""The rating under a rated answer in the web chat (issue #18), in headless Chromium.

The page talks to `StubRasa` (test_webchat.py), which answers the question with exactly what our
socket.io output sends for a rated answer (`CivicSocketIOOutput`: the answer's own buttons as
quick replies, the two feedback options as `feedback`, built here by the same functions). What a
citizen notices: a question and two buttons named "This answered my question" / "This did not
help", usable with the keyboard, showing the choice (`aria-pressed`), changing it on a second tap
and sending nothing for the same one, staying when the conversation goes on and after a reload;
markup in the answer stays text; axe finds nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from a11y_support import assert_no_wcag_violations
from playwright.sync_api import Page, expect
from polling_support import wait_until
from test_webchat import LAUNCHER, StubRasa

from bot.channels.feedback import split_feedback, web_feedback
from bot.feedback.answers import DOWN, UP, feedback_buttons, feedback_payload, rating
from bot.feedback.texts import load_texts as feedback_texts

AID = "0a1b2c3d4e5f"
HELPFUL, NOT_HELPFUL = feedback_payload(AID, UP), feedback_payload(AID, DOWN)
QUESTION = "When is trash day?"
ANSWER = 'Once a week <img src=x onerror="window.__pwned = 1">: https://www.harborcity.example/trash'
UP_NAME, DOWN_NAME = "This answered my question", "This did not help"


def rated_reply() -> dict[str, Any]:
    """A rated answer as CivicSocketIOOutput emits it (its last paragraph, with the rating)."""
    own = [{"title": "Recycling", "payload": '/explore_topic{"topic":"trash_recycling"}'}]
    _, pair = split_feedback([*own, *feedback_buttons(AID, feedback_texts().buttons)])
    feedback = web_feedback(
        rating(AID, "trash_day", "faq"), pair, feedback_texts(), "Did this answer your question?"
    )
    quick = [{"content_type": "text", **b} for b in own]
    return {"text": ANSWER, "quick_replies": quick, "feedback": feedback}


@pytest.fixture(scope="module")
def stub() -> Iterator[StubRasa]:
    server = StubRasa()
    server.start()
    server.replies[QUESTION] = [rated_reply()]
    server.replies[NOT_HELPFUL] = [{"text": "Sorry. What were you looking for?"}]
    server.replies[HELPFUL] = [{"text": "Thanks for letting us know."}]
    yield server
    server.stop()


@pytest.fixture
def page(browser: Any, stub: StubRasa) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    errors: list[str] = []
    tab = context.new_page()
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.goto(stub.url)
    tab.get_by_role("button", name=LAUNCHER).click()
    yield tab
    context.close()
    assert errors == [], f"JavaScript errors on the page: {errors}"


def ask(page: Page, text: str) -> None:
    box = page.get_by_role("textbox", name="Your message")
    box.fill(text)
    box.press("Enter")


def focus_by_tab(page: Page, name: str, key: str = "Tab", limit: int = 40) -> None:
    """Press Tab (or Shift+Tab) until the control with this accessible name has the focus."""
    for _ in range(limit):
        page.keyboard.press(key)
        if page.evaluate("document.activeElement?.textContent.trim()") == name:
            return
    pytest.fail(f"{name!r} is not reachable with {key}")


def sent(stub: StubRasa) -> list[str]:
    return [m["message"] for m in stub.messages]


def test_a_rated_answer_is_rated_with_the_keyboard_and_keeps_its_rating(page: Page, stub: StubRasa) -> None:
    stub.messages.clear()
    ask(page, QUESTION)
    log = page.get_by_role("log")
    rating_group = log.get_by_role("group", name="Did this answer your question?")
    up = rating_group.get_by_role("button", name=UP_NAME, exact=True)
    down = rating_group.get_by_role("button", name=DOWN_NAME, exact=True)
    expect(up).to_have_attribute("aria-pressed", "false")
    expect(down).to_have_attribute("aria-pressed", "false")
    expect(log).to_contain_text('Once a week <img src=x onerror="window.__pwned = 1">')  # text, not markup
    assert log.locator("img").count() == 0 and page.evaluate("window.__pwned") is None
    own = log.get_by_role("group", name="Suggested replies").get_by_role("button", name="Recycling")
    expect(own).to_be_visible()
    assert_no_wcag_violations(page, "a rated answer")

    # "This did not help", from the keyboard: sent once, shown as chosen, and the assistant asks on.
    page.get_by_role("textbox", name="Your message").focus()
    focus_by_tab(page, DOWN_NAME, key="Shift+Tab")
    page.keyboard.press("Enter")
    expect(down).to_have_attribute("aria-pressed", "true")
    expect(up).to_have_attribute("aria-pressed", "false")
    expect(log).to_contain_text("Sorry. What were you looking for?")
    page.keyboard.press("Space")  # the same rating again: nothing is sent
    focus_by_tab(page, UP_NAME, key="Shift+Tab")
    page.keyboard.press("Space")  # a second tap on the other one changes the rating
    expect(up).to_have_attribute("aria-pressed", "true")
    expect(down).to_have_attribute("aria-pressed", "false")
    wait_until(lambda: len(stub.messages) >= 3, 10, lambda: f"the stub got {sent(stub)}")
    assert sent(stub) == [QUESTION, NOT_HELPFUL, HELPFUL]
    assert_no_wcag_violations(page, "a rating chosen")

    # The conversation goes on: the rating and the answer's own button stay, as chosen.
    ask(page, "and recycling?")
    expect(log).to_contain_text("You said: and recycling?")
    expect(up).to_have_attribute("aria-pressed", "true")
    expect(own).to_be_visible()
    page.reload()
    if not page.get_by_role("log").is_visible():
        page.get_by_role("button", name=LAUNCHER).click()
    again = page.get_by_role("log").get_by_role("group", name="Did this answer your question?")
    expect(again.get_by_role("button", name=UP_NAME, exact=True)).to_have_attribute("aria-pressed", "true")
    expect(again.get_by_role("button", name=DOWN_NAME, exact=True)).to_have_attribute("aria-pressed", "false")
    assert sent(stub) == [QUESTION, NOT_HELPFUL, HELPFUL, "and recycling?"]
