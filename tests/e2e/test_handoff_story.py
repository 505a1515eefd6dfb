"""The handoff story in real Chromium on the real stack: a citizen on the web chat asks for a person,
an agent signs in, sees the chat arrive, claims it with the keyboard, they talk both ways, the agent
closes it and the bot comes back asking for a rating. Plus two agents racing for one chat.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from console_support import PASSWORDS, sign_in
from playwright.sync_api import Page, expect
from socketio_support import conversation_of
from stack_support import ROOT, stack_settings

from bot.console.accounts import add_account, read_accounts
from bot.stack import Stack

pytestmark = pytest.mark.stack

LAUNCHER = "Chat with Harbor City's assistant"
TIMEOUT = 30_000  # ms: Rasa on two shared cores can take a few seconds per turn
STORED_SESSION = """() => {
    const key = Object.keys(localStorage).find(k => k.startsWith('civic-chat:') && !k.endsWith(':open'));
    return key ? JSON.parse(localStorage.getItem(key)).sessionId : null;
}"""


def _shared_stack_fits() -> bool:
    """The session's stack serves here when its settings put agents under its own var dir, hours 'always'."""
    probe = stack_settings(Path("/probe"))
    agents = Path("/") / probe.handoff.agents_file
    return probe.handoff.always_staffed and Path("/probe") in agents.parents


@pytest.fixture(scope="module")
def handoff_stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    """The session's stack if it fits (see above), else one of our own: never touches var/agents.yml."""
    if _shared_stack_fits():
        yield request.getfixturevalue("stack")
        return
    var = tmp_path_factory.mktemp("handoff-var")
    settings = stack_settings(var, HANDOFF_AGENTS_FILE=str(var / "agents.yml"), HANDOFF_HOURS="always")
    with Stack(settings, root=ROOT) as own:
        yield own


@pytest.fixture(scope="module")
def console_url(handoff_stack: Stack) -> str:
    """Accounts are added to the running console's file: it must pick them up without a restart."""
    path = Path(handoff_stack.root / handoff_stack.settings.handoff.agents_file)
    existing = read_accounts(path)
    for name in ("dana", "lee"):
        if name not in existing:
            add_account(path, name, "agent", PASSWORDS[name])
    return f"http://127.0.0.1:{handoff_stack.settings.handoff.port}"


@pytest.fixture(scope="module")
def home_url(handoff_stack: Stack) -> str:
    return f"http://127.0.0.1:{handoff_stack.settings.demo.port}/"


@pytest.fixture
def tabs(browser: Any) -> Iterator[Any]:
    """New pages, each in its own browser profile (own cookies, own web chat session)."""
    contexts: list[Any] = []

    def open_tab() -> Page:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        context.set_default_timeout(TIMEOUT)
        contexts.append(context)
        return context.new_page()

    yield open_tab
    for context in contexts:
        context.close()


def citizen_asks(page: Page, text: str) -> None:
    box = page.get_by_role("textbox", name="Your message")
    box.fill(text)
    box.press("Enter")


def start_chat(page: Page, home_url: str, stack: Stack) -> str:
    """Open the agency page's web chat and ask for a person; returns the conversation id (what the
    console shows: a keyed hash of the session id the page keeps, never the session id itself)."""
    page.goto(home_url)
    page.get_by_role("button", name=LAUNCHER).click()
    citizen_asks(page, "I want to talk to a real person")
    expect(page.get_by_role("log")).to_contain_text("in line", timeout=TIMEOUT)
    session_id = page.evaluate(STORED_SESSION)
    assert session_id
    return conversation_of(stack, session_id)


def tab_until(page: Page, test: str, what: str, limit: int = 40) -> None:
    """Press Tab until `test` (a JS expression on document.activeElement) holds, as a keyboard user does."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"(() => {{ const e = document.activeElement; return !!e && ({test}); }})()"):
            return
    pytest.fail(f"{what} is not reachable with Tab")


def test_citizen_and_agent_talk_and_the_bot_resumes(console_url, home_url, tabs, handoff_stack):
    agent = tabs()
    sign_in(agent, console_url, "dana")
    expect(agent.get_by_role("heading", name="Queue")).to_be_visible()

    citizen = tabs()
    conversation_id = start_chat(citizen, home_url, handoff_stack)
    citizen_log = citizen.get_by_role("log")

    # The chat appears in the open queue page by itself; claim it with the keyboard alone.
    claim_label = f"Claim chat {conversation_id}"
    expect(agent.get_by_role("button", name=claim_label)).to_be_visible()
    tab_until(agent, f"e.getAttribute('aria-label') === {claim_label!r}", "the Claim button")
    agent.keyboard.press("Enter")
    expect(agent).to_have_url(re.compile(r"/conversations/"))
    transcript = agent.get_by_role("log")
    expect(transcript).to_contain_text("I want to talk to a real person")
    expect(citizen_log).to_contain_text("dana from the City of Harbor City has joined the chat.")

    # Agent -> citizen, typed and sent from the keyboard.
    tab_until(agent, "e.id === 'reply-text'", "the reply box")
    agent.keyboard.type("Hello, this is Dana. How can I help?")
    agent.keyboard.press("Enter")
    expect(citizen_log).to_contain_text("Hello, this is Dana. How can I help?")

    # Citizen -> agent: shown live, as text, and the bot stays quiet.
    citizen_asks(citizen, "My bin was missed <b>twice</b> on Elm St")
    expect(transcript).to_contain_text("My bin was missed <b>twice</b> on Elm St")
    assert transcript.locator("b").count() == 0
    # The console shows the message once Rasa has finished its turn, so a bot reply to it would reach
    # the citizen before the agent's next reply: that reply is the signal, not a wait.
    reply_box = agent.locator("#reply-text")
    reply_box.fill("Thanks, I'll pass it on.")
    reply_box.press("Enter")
    messages = citizen_log.locator(".civic-chat__msg")
    expect(messages.last).to_contain_text("Thanks, I'll pass it on.")
    texts = messages.all_text_contents()
    assert "My bin was missed" in texts[-2], f"the bot spoke while a person has the chat: {texts[-3:]}"

    agent.get_by_role("button", name="Close and return to bot").click()
    expect(agent.locator("#conversation-notice")).to_have_text("Chat closed and handed back to the bot.")
    expect(citizen_log).to_contain_text("closed this chat, and I'm back")
    expect(citizen_log).to_contain_text("How did we do?")
    expect(citizen.get_by_role("button", name="5", exact=True)).to_be_visible()


def test_two_agents_claiming_one_chat_the_loser_is_told_who_has_it(
    console_url, home_url, tabs, handoff_stack
):
    conversation_id = start_chat(tabs(), home_url, handoff_stack)
    dana, lee = tabs(), tabs()
    # Lee's page gets no live updates (as if both clicked in the same instant), so his button stays.
    lee.route_web_socket("**/api/events", lambda socket: None)
    sign_in(lee, console_url, "lee")
    sign_in(dana, console_url, "dana")
    claim = f"Claim chat {conversation_id}"
    dana.get_by_role("button", name=claim).click()
    expect(dana).to_have_url(re.compile(r"/conversations/"))
    lee.get_by_role("button", name=claim).click()
    expect(lee.get_by_role("alert")).to_have_text(
        "dana is handling this conversation; lee cannot take it over."
    )
    assert lee.url == f"{console_url}/"
