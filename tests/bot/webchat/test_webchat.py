"""The web chat page in headless Chromium: the demo agency's home page talking to the real Rasa.

Most tests use the session's `stack` (Redis, demo agency, action server, Rasa): the page at `/`
on the demo agency, the widget connecting to Rasa's socket.io across origins (port 8000 -> 5005
in `make run`). What real Rasa cannot be made to do on demand (send markup in its text, drop the
connection, go silent) is tested against `StubRasa`, a small Engine.IO v4 / Socket.IO v5 server
speaking the same protocol as Rasa's channel, serving the same widget files.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import threading
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from a11y_support import assert_no_wcag_violations
from aiohttp import web
from playwright.sync_api import Page, expect
from polling_support import wait_until
from socketio_support import conversation_of

from bot import webchat
from bot.identity import IdentityKey
from bot.stack import Stack, free_port

pytestmark = pytest.mark.stack

LAUNCHER = "Chat with Harbor City's assistant"
NEW_CHAT = "New chat (start a new conversation)"  # the accessible name contains the visible "New chat"
TIMEOUT = 30_000  # ms: the first answers of a fresh Rasa can take a few seconds on 2 cores
# The widget retries a lost connection after 0.5 s, 1 s, 2 s... (+/- 25 %, civic-chat.js `retry`), so
# its third try comes within (0.5 + 1 + 2) * 1.25 s; twice that is the margin.
RETRY_WITHIN_SECONDS = 2 * (0.5 + 1 + 2) * 1.25


@pytest.fixture(scope="module")
def home_url(stack: Stack) -> str:
    return f"http://127.0.0.1:{stack.settings.demo.port}/"


@pytest.fixture
def page(browser: Any) -> Iterator[Page]:
    """A fresh browser profile per test: its own localStorage, so its own conversation."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    errors: list[str] = []
    tab = context.new_page()
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    yield tab
    context.close()
    assert errors == [], f"JavaScript errors on the page: {errors}"


def log(page: Page) -> Any:
    return page.get_by_role("log")


def tab_to(page: Page, name: str, limit: int = 60) -> None:
    """Press Tab until the control with this accessible name has the focus, as a keyboard user does."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement?.getAttribute('aria-label')") == name:
            return
    pytest.fail(f"{name!r} is not reachable with Tab")


def ask(page: Page, text: str) -> None:
    box = page.get_by_role("textbox", name="Your message")
    box.fill(text)
    box.press("Enter")


STORED_SESSION = """() => {
    const key = Object.keys(localStorage).find(k => k.startsWith('civic-chat:') && !k.endsWith(':open'));
    return key ? JSON.parse(localStorage.getItem(key)).sessionId : null;
}"""


def stored_session(page: Page) -> str:
    return page.evaluate(STORED_SESSION)


def tracker_user_texts(stack: Stack, session_id: str) -> list[str]:
    """What the citizen said in the conversation of a web chat session (kept under a hash of its id)."""
    base = f"http://127.0.0.1:{stack.settings.rasa.port}"
    conversation_id = conversation_of(stack, session_id)
    url = f"{base}/conversations/{conversation_id}/tracker?token={stack.settings.rasa.token}"
    with urllib.request.urlopen(url, timeout=10) as response:
        events = json.loads(response.read())["events"]
    return [e.get("text") for e in events if e.get("event") == "user"]


# --- against the real stack ---------------------------------------------------------------------


def test_the_home_page_is_an_agency_page_with_the_widget(page: Page, home_url: str, stack: Stack) -> None:
    response = page.goto(home_url)
    assert response is not None and response.ok
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome to Harbor City")
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()
    expect(page.get_by_role("link", name="Report a problem to 311")).to_be_visible()
    expect(page.get_by_role("contentinfo")).to_contain_text("100 Main Street")
    # Served by the project (no CDN), and only Rasa's origin may be reached by the page's scripts.
    scripts = page.eval_on_selector_all("script[src], link[href]", "els => els.map(e => e.src || e.href)")
    assert all(url.startswith((home_url, "data:")) for url in scripts), scripts
    policy = response.headers["content-security-policy"]
    assert f"connect-src 'self' ws://127.0.0.1:{stack.settings.rasa.port}" in policy
    launcher = page.get_by_role("button", name=LAUNCHER)
    expect(launcher).to_have_attribute("aria-expanded", "false")


def test_keyboard_chat_with_buttons(page: Page, home_url: str) -> None:
    page.goto(home_url)
    tab_to(page, LAUNCHER)
    page.keyboard.press("Enter")
    launcher = page.get_by_role("button", name=LAUNCHER)
    expect(launcher).to_have_attribute("aria-expanded", "true")
    expect(page.get_by_role("dialog", name="Harbor City assistant")).to_be_visible()
    box = page.get_by_role("textbox", name="Your message")
    expect(box).to_be_focused()

    page.keyboard.type("what can you do?")
    page.keyboard.press("Enter")
    expect(log(page)).to_contain_text("what can you do?")
    trash = page.get_by_role("button", name="Trash and recycling")
    expect(trash).to_be_visible(timeout=TIMEOUT)
    expect(log(page)).to_contain_text("Pick one, or just type your question")

    # Quick replies are real buttons: reachable with Shift+Tab from the text box, pressed with Space.
    for _ in range(20):
        if page.evaluate("document.activeElement.textContent") == "Trash and recycling":
            break
        page.keyboard.press("Shift+Tab")
    expect(trash).to_be_focused()
    page.keyboard.press("Space")
    expect(log(page)).to_contain_text("what I can tell you about Trash and recycling", timeout=TIMEOUT)

    page.get_by_role("button", name="What can I put in the blue recycling bin?").click()
    expect(log(page)).to_contain_text("Blue bin: paper, flattened cardboard", timeout=TIMEOUT)
    source = log(page).get_by_role("link", name="https://www.harborcity.example/recycling")
    expect(source).to_have_attribute("href", "https://www.harborcity.example/recycling")

    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog", name="Harbor City assistant")).to_be_hidden()
    expect(launcher).to_be_focused()
    expect(launcher).to_have_attribute("aria-expanded", "false")


def test_a_reload_continues_the_same_conversation(page: Page, home_url: str, stack: Stack) -> None:
    page.goto(home_url)
    page.get_by_role("button", name=LAUNCHER).click()
    ask(page, "hello")
    expect(log(page)).to_contain_text("automated assistant", timeout=TIMEOUT)
    session_id = stored_session(page)
    assert IdentityKey.from_settings(stack.settings).valid_session(session_id)  # issued by the server

    page.reload()
    # The panel is still open, the conversation is still there, and it carries on in the same session.
    expect(page.get_by_role("dialog", name="Harbor City assistant")).to_be_visible()
    expect(log(page)).to_contain_text("hello")
    expect(log(page)).to_contain_text("automated assistant")
    ask(page, "how do i get a library card")
    link = log(page).get_by_role("link", name="https://www.harborcity.example/library/card")
    expect(link).to_be_visible(timeout=TIMEOUT)
    assert stored_session(page) == session_id
    assert tracker_user_texts(stack, session_id) == ["hello", "how do i get a library card"]

    new_chat = page.get_by_role("button", name=NEW_CHAT, exact=True)
    expect(new_chat).to_have_text("New chat")
    new_chat.click()
    expect(log(page)).not_to_contain_text("hello")
    # A new session (a shared computer): the old one is forgotten, a new id is confirmed by Rasa.
    changed = f"id => {{ const s = ({STORED_SESSION})(); return s && s !== id; }}"
    page.wait_for_function(changed, arg=session_id)


PRIVACY_URL = "https://harborcity.example/privacy"  # https:// + web_privacy in data/agency.yml


def test_the_privacy_notice_comes_before_the_first_message(page: Page, home_url: str) -> None:
    page.goto(home_url)
    page.get_by_role("button", name=LAUNCHER).click()
    dialog = page.get_by_role("dialog", name="Harbor City assistant")
    notice = dialog.locator(".civic-chat__privacy")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("Your messages are kept to answer you")
    link = notice.get_by_role("link", name="How we use your data")
    expect(link).to_have_attribute("href", PRIVACY_URL)
    box = page.get_by_role("textbox", name="Your message")
    expect(box).to_have_accessible_description(re.compile("Your messages are kept to answer you"))
    assert_no_wcag_violations(page, "the chat with its privacy notice")
    # Its link is reached with the keyboard (Shift+Tab from the message box, past the empty log).
    box.focus()
    for _ in range(3):
        page.keyboard.press("Shift+Tab")
        if page.evaluate("document.activeElement.textContent") == "How we use your data":
            break
    expect(link).to_be_focused()

    ask(page, "hello")
    expect(log(page)).to_contain_text("automated assistant", timeout=TIMEOUT)
    expect(notice).to_be_hidden()
    expect(box).not_to_have_accessible_description(re.compile("Your messages are kept"))


def test_a_stored_session_the_server_did_not_issue_starts_afresh(
    page: Page, home_url: str, stack: Stack
) -> None:
    """A page saved before server-issued ids (or an id made up in the console) cannot resume anyone."""
    key = f"civic-chat:http://127.0.0.1:{stack.settings.rasa.port}"
    saved = {
        "sessionId": "1c8d1f0e9a2b4c5d",
        "messages": [{"from": "user", "text": "my old question"}],
        "queue": [],
    }
    page.add_init_script(f"localStorage.setItem({json.dumps(key)}, {json.dumps(json.dumps(saved))})")
    page.goto(home_url)
    page.get_by_role("button", name=LAUNCHER).click()
    changed = "() => { const s = (" + STORED_SESSION + ")(); return s && s.startsWith('web-'); }"
    page.wait_for_function(changed)
    expect(log(page)).not_to_contain_text("my old question")
    ask(page, "hello")
    expect(log(page)).to_contain_text("automated assistant", timeout=TIMEOUT)
    assert tracker_user_texts(stack, stored_session(page)) == ["hello"]


def test_a_phone_sized_screen(browser: Any, home_url: str) -> None:
    context = browser.new_context(viewport={"width": 375, "height": 667}, is_mobile=True, has_touch=True)
    try:
        page = context.new_page()
        page.goto(home_url)
        page.get_by_role("button", name=LAUNCHER).tap()
        dialog = page.get_by_role("dialog", name="Harbor City assistant")
        expect(dialog).to_be_visible()
        assert dialog.bounding_box() == {"x": 0, "y": 0, "width": 375, "height": 667}
        ask(page, "what can you do?")
        parks = page.get_by_role("button", name="Parks, pools and libraries")
        expect(parks).to_be_visible(timeout=TIMEOUT)
        for control in (parks, page.get_by_role("button", name="Send message"), page.get_by_role("textbox")):
            box = control.bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 375, box
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        parks.tap()
        expect(log(page)).to_contain_text("Here is what I can tell you about Parks", timeout=TIMEOUT)
        page.get_by_role("button", name="Close chat").tap()
        expect(dialog).to_be_hidden()
        expect(page.get_by_role("button", name=LAUNCHER)).to_be_visible()
    finally:
        context.close()


def test_the_page_and_the_chat_pass_the_wcag_rules(page: Page, home_url: str) -> None:
    page.goto(home_url)
    expect(page.get_by_role("button", name=LAUNCHER)).to_be_visible()
    assert_no_wcag_violations(page, "the home page, chat closed")
    page.get_by_role("button", name=LAUNCHER).click()
    expect(page.get_by_role("dialog", name="Harbor City assistant")).to_be_visible()
    assert_no_wcag_violations(page, "the chat, open and empty")
    ask(page, "what can you do?")
    expect(page.get_by_role("button", name="Trash and recycling")).to_be_visible(timeout=TIMEOUT)
    assert_no_wcag_violations(page, "the chat with an answer and its buttons")


def test_what_a_citizen_types_is_shown_as_text(page: Page, home_url: str) -> None:
    page.goto(home_url)
    page.get_by_role("button", name=LAUNCHER).click()
    typed = '<img src=x onerror="window.__pwned = 1"><b>bold</b>'
    ask(page, typed)
    expect(log(page).locator(".civic-chat__msg--user").last).to_contain_text(typed)
    expect(log(page)).to_contain_text("Assistant:", timeout=TIMEOUT)  # the bot's answer to it came
    assert log(page).locator("img, b").count() == 0
    assert page.evaluate("window.__pwned") is None


# --- against a stand-in socket.io server ------------------------------------------------------


class StubRasa:
    """Engine.IO v4 / Socket.IO v5 over WebSocket, answering like Rasa's socketio channel.

    Serves a bare page with the widget on the same origin; records what the widget sends
    (pongs, connect packets, session requests, messages) and can drop every connection.
    """

    def __init__(self) -> None:
        self.port = free_port()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.replies: dict[str, list[dict[str, Any]]] = {}
        self.reply_delay = 0.0
        self.accepting = True
        self.refused = 0  # connection attempts turned away while not accepting
        self.pongs = 0
        self.connects: list[str] = []
        self.session_requests: list[Any] = []
        self.messages: list[dict[str, Any]] = []
        self.sockets: set[web.WebSocketResponse] = set()
        self.runner: web.AppRunner | None = None
        self.tasks: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def call(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(10)

    def start(self) -> None:
        self.thread.start()
        self.call(self._start())

    def stop(self) -> None:
        """Close the sockets and the server, then end the loop's thread; fails if it still runs after 10 s."""
        self.call(self._stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)  # the loop has nothing left to run: it stops at once
        assert not self.thread.is_alive(), "the stand-in socket.io server's loop did not stop"

    def drop(self) -> None:
        """Close every socket and refuse new ones, as a restarting Rasa would."""
        self.accepting = False
        self.call(self._close_all())

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_get("/", self._page)
        app.router.add_get("/socket.io/", self._socket)
        webchat.add_routes(app)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()

    async def _stop(self) -> None:
        await self._close_all()
        assert self.runner is not None
        await self.runner.cleanup()

    async def _close_all(self) -> None:
        for ws in list(self.sockets):
            await ws.close()

    async def _page(self, request: web.Request) -> web.Response:
        html = (
            '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Widget harness</title>'
            f'<script src="/webchat/civic-chat.js" data-socket-url="{self.url}" defer></script>'
            "</head><body><main><h1>Widget harness</h1></main></body></html>"
        )
        return web.Response(text=html, content_type="text/html")

    async def _socket(self, request: web.Request) -> web.StreamResponse:
        if not self.accepting:
            self.refused += 1
            raise web.HTTPServiceUnavailable()
        if (request.query.get("EIO"), request.query.get("transport")) != ("4", "websocket"):
            raise web.HTTPBadRequest()
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.sockets.add(ws)
        handshake = {"sid": secrets.token_hex(8), "upgrades": [], "pingInterval": 200, "pingTimeout": 1000}
        await ws.send_str("0" + json.dumps(handshake))
        pinger = asyncio.create_task(self._ping(ws))
        try:
            async for frame in ws:
                await self._receive(ws, frame.data)
        finally:
            pinger.cancel()
            self.sockets.discard(ws)
        return ws

    async def _ping(self, ws: web.WebSocketResponse) -> None:
        while not ws.closed:
            await asyncio.sleep(0.2)
            await ws.send_str("2")

    async def _receive(self, ws: web.WebSocketResponse, packet: str) -> None:
        if packet == "3":
            self.pongs += 1
        elif packet.startswith("40"):
            self.connects.append(packet[2:])
            await ws.send_str("40" + json.dumps({"sid": secrets.token_hex(8)}))
        elif packet.startswith("42"):
            name, data = json.loads(packet[2:])
            if name == "session_request":
                self.session_requests.append(data.get("session_id"))
                session_id = data.get("session_id") or f"stub-{secrets.token_hex(4)}"
                await ws.send_str("42" + json.dumps(["session_confirm", session_id]))
            elif name == "user_uttered":
                self.messages.append(data)
                self.tasks.add(asyncio.create_task(self._answer(ws, data["message"])))

    async def _answer(self, ws: web.WebSocketResponse, text: str) -> None:
        await asyncio.sleep(self.reply_delay)
        for reply in self.replies.get(text, [{"text": f"You said: {text}"}]):
            await ws.send_str("42" + json.dumps(["bot_uttered", reply]))


MAP = "https://www.harborcity.example/map.png"


@pytest.fixture
def stub() -> Iterator[StubRasa]:
    server = StubRasa()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def stub_page(browser: Any, stub: StubRasa) -> Iterator[Page]:
    context = browser.new_context()
    tab = context.new_page()
    tab.goto(stub.url)
    tab.get_by_role("button", name=LAUNCHER).click()
    yield tab
    context.close()


def test_bot_markup_is_text_and_only_web_links_are_links(stub: StubRasa, stub_page: Page) -> None:
    page = stub_page
    stub.replies["show me"] = [
        {
            "text": 'Hi <img src=x onerror="window.__pwned = 1"> read https://www.harborcity.example/a, '
            'not javascript:alert(1) <a href="javascript:alert(2)">x</a>',
            "quick_replies": [{"content_type": "text", "title": "<b>Yes</b>", "payload": "/affirm"}],
        },
        {"attachment": {"type": "image", "payload": {"src": "javascript:alert(3)"}}},
        {"attachment": {"type": "image", "payload": {"src": MAP}}},
    ]
    ask(page, "show me")
    expect(log(page)).to_contain_text('Hi <img src=x onerror="window.__pwned = 1"> read')
    expect(log(page)).to_contain_text('<a href="javascript:alert(2)">x</a>')
    links = log(page).get_by_role("link")
    expect(links).to_have_count(1)
    expect(links).to_have_attribute("href", "https://www.harborcity.example/a")
    expect(log(page).get_by_role("img")).to_have_attribute("src", MAP)  # the javascript: one was dropped
    assert log(page).locator("img").count() == 1 and log(page).locator("b").count() == 0
    assert page.evaluate("window.__pwned") is None

    page.get_by_role("button", name="<b>Yes</b>").click()
    expect(log(page).locator(".civic-chat__msg--user").last).to_have_text("You: <b>Yes</b>")
    page.wait_for_function("() => document.querySelectorAll('.civic-chat__msg--user').length === 2")
    assert [m["message"] for m in stub.messages] == ["show me", "/affirm"]
    assert stub.messages[0]["session_id"] and stub.messages[0]["session_id"] == stub.messages[1]["session_id"]


def test_heartbeat_typing_reconnect_and_no_lost_message(stub: StubRasa, stub_page: Page) -> None:
    page = stub_page
    status = page.get_by_role("status")
    stub.reply_delay = 1.5
    ask(page, "first")
    typing = page.get_by_text("The assistant is typing")
    expect(typing).to_be_visible()
    expect(log(page)).to_contain_text("You said: first", timeout=5000)
    expect(typing).to_be_hidden()
    assert stub.pongs >= 2  # answered the server's pings (200 ms apart)
    session_id = stub.messages[0]["session_id"]

    stub.drop()
    expect(status).to_contain_text("Reconnecting")
    refused = stub.refused
    ask(page, "are you there?")  # typed while offline: shown, kept, sent when the link is back
    expect(log(page)).to_contain_text("(waiting to send)")
    # The widget has tried to reconnect since (and was turned away): the message is still only queued.
    wait_until(lambda: stub.refused > refused, RETRY_WITHIN_SECONDS, "the widget did not try to reconnect")
    assert [m["message"] for m in stub.messages] == ["first"]

    stub.accepting = True
    stub.reply_delay = 0
    expect(log(page)).to_contain_text("You said: are you there?", timeout=15_000)
    expect(status).to_have_text("")
    expect(log(page)).not_to_contain_text("(waiting to send)")
    assert [m["message"] for m in stub.messages] == ["first", "are you there?"]
    assert stub.messages[1]["session_id"] == session_id  # the same conversation after the reconnect
    assert stub.session_requests[-1] == session_id


def test_a_jwt_from_the_embedding_page_is_sent_when_connecting(browser: Any, stub: StubRasa) -> None:
    context = browser.new_context()
    try:
        page = context.new_page()
        page.add_init_script("window.CivicChat = {token: 'Bearer eyJ.test.token'}")
        page.goto(stub.url)
        page.get_by_role("button", name=LAUNCHER).click()
        ask(page, "hi")
        expect(log(page)).to_contain_text("You said: hi", timeout=5000)
        assert json.loads(stub.connects[0]) == {"token": "Bearer eyJ.test.token"}
    finally:
        context.close()


def test_the_page_connects_where_rasa_public_url_says() -> None:
    """Behind a proxy the browser reaches Rasa at RASA_PUBLIC_URL; page and policy follow it."""
    from bot.demo_agency.home import render_home, security_headers
    from bot.settings import Settings

    settings = Settings.from_env({"RASA_PUBLIC_URL": "https://chat.harborcity.example/"})
    assert settings.rasa.browser_url == "https://chat.harborcity.example"
    assert Settings.from_env({"RASA_PORT": "5999"}).rasa.browser_url == "http://127.0.0.1:5999"
    html = render_home(settings.rasa.browser_url)
    assert 'data-socket-url="https://chat.harborcity.example"' in html
    policy = security_headers(settings.rasa.browser_url)["Content-Security-Policy"]
    assert "connect-src 'self' wss://chat.harborcity.example;" in policy
    with pytest.raises(ValueError, match="RASA_PUBLIC_URL"):
        Settings.from_env({"RASA_PUBLIC_URL": "chat.harborcity.example"})


# --- messages over the length limit -----------------------------------------------------------

LIMIT = 1000  # civic-chat.js DEFAULT_MAX_LENGTH
LETTER = (
    "Dear Harbor City, I am writing about the state of the sidewalk outside 9 Church Street, where the "
    "slabs have lifted and my neighbour tripped last week. "
)


def letter(length: int) -> str:
    """A pasted letter of exactly `length` characters (no space at either end)."""
    return (LETTER * (length // len(LETTER) + 1))[: length - 1] + "."


def notice(page: Page) -> Any:
    return page.locator("#civic-chat-notice")


def test_a_pasted_message_over_the_limit_is_kept_and_not_sent_until_it_fits(
    stub: StubRasa, stub_page: Page
) -> None:
    page = stub_page
    box = page.get_by_role("textbox", name="Your message")
    text = letter(LIMIT + 234)
    assert len(text) == 1234
    box.focus()
    page.keyboard.insert_text(text)  # as a paste does: one insertion, no key presses

    # Nothing is cut: the whole text stays in the box, and a live notice says by how much it is over.
    assert box.input_value() == text
    expect(notice(page)).to_have_text(
        "Your message is too long to send: 1,234 characters, and the limit is 1,000. "
        "Please shorten it by 234 characters. Your text is still in the box."
    )
    expect(notice(page)).to_have_attribute("aria-live", "polite")
    expect(box).to_have_attribute("aria-invalid", "true")
    expect(box).to_have_accessible_description(re.compile("shorten it by 234 characters"))
    send = page.get_by_role("button", name="Send message")
    expect(send).to_have_attribute("aria-disabled", "true")
    assert_no_wcag_violations(page, "the chat with a message over the limit")

    # Enter and the Send button are both refused: nothing is sent, nothing is lost.
    box.press("Enter")
    # The refused send empties the notice and says it again 50 ms later, which moves the button:
    # a forced click (no wait for the layout to settle) must aim where it is once the notice is back.
    expect(notice(page)).to_contain_text("234 characters")
    send.click(force=True)  # aria-disabled, but a pointer can still press it
    assert box.input_value() == text
    expect(box).to_be_focused()
    expect(notice(page)).to_contain_text("234 characters")
    assert stub.messages == [] and log(page).locator(".civic-chat__msg--user").count() == 0

    # One character over: the singular.
    box.fill(letter(LIMIT + 1))
    expect(notice(page)).to_contain_text(
        "1,001 characters, and the limit is 1,000. Please shorten it by 1 character."
    )

    # Shortened to exactly the limit: the notice goes, the count says none are left, and it is sent whole.
    box.fill(letter(LIMIT))
    expect(notice(page)).to_have_text("")
    expect(page.locator("#civic-chat-count")).to_have_text("0 characters left")
    expect(box).to_have_attribute("aria-invalid", "false")
    expect(send).to_have_attribute("aria-disabled", "false")
    box.press("Enter")
    expect(log(page)).to_contain_text("You said: Dear Harbor City", timeout=5000)
    assert [len(m["message"]) for m in stub.messages] == [LIMIT]
    assert box.input_value() == ""
    expect(page.locator("#civic-chat-count")).to_have_text("")


def test_the_limit_is_a_page_setting_and_shift_enter_starts_a_line(browser: Any, stub: StubRasa) -> None:
    context = browser.new_context()
    try:
        page = context.new_page()
        page.add_init_script("window.CivicChat = {maxLength: 12}")
        page.goto(stub.url)
        page.get_by_role("button", name=LAUNCHER).click()
        box = page.get_by_role("textbox", name="Your message")
        box.press_sequentially("one line")
        expect(page.locator("#civic-chat-count")).to_have_text("4 characters left")
        box.press("Shift+Enter")
        box.press_sequentially("tw")
        expect(page.locator("#civic-chat-count")).to_have_text("1 character left")
        box.press_sequentially("o!")
        over = "13 characters, and the limit is 12. Please shorten it by 1 character."
        expect(notice(page)).to_contain_text(over)
        box.press("Backspace")
        expect(notice(page)).to_have_text("")
        box.press("Enter")
        expect(log(page)).to_contain_text("You said: one line\ntwo", timeout=5000)
        assert [m["message"] for m in stub.messages] == ["one line\ntwo"]
    finally:
        context.close()
