"""The web chat in the citizen's language (issue #19), in headless Chromium.

The browser's language is the context's `locale` (`navigator.language`, `navigator.languages`). The
page talks to `StubRasa` (test_webchat.py), which records every `user_uttered` the widget sends, so
the tests see exactly when the widget tells the assistant its language: the payload
`/switch_language{"language":"es"}` before the first message of a new conversation in Spanish, and
at once when the citizen switches in a conversation under way. What a citizen notices: every text of
the widget in Spanish, `lang="es"` on it, axe finds nothing, and the header's language button
(keyboard operable, named in its own language) changes every text at once.

`language_switch` (bot/webchat/__init__.py) is what the socket.io channel lets through of that
payload: only the switch itself, to a language the agency offers.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from a11y_support import assert_no_wcag_violations
from aiohttp import web
from playwright.sync_api import BrowserContext, Page, expect
from polling_support import wait_until
from test_webchat import LAUNCHER, StubRasa

from bot.demo_agency import home
from bot.webchat import language_switch, switch_payload

LANZADOR = "Chat con el asistente de Harbor City"
TITULO = "Asistente de Harbor City"
TO_ENGLISH = "English (use the chat in English)"
TO_SPANISH = "Español (usar el chat en español)"
SWITCH_ES = '/switch_language{"language":"es"}'
SWITCH_EN = '/switch_language{"language":"en"}'
CONFIRM_ES = "Le respondo en español a partir de ahora."
CONFIRM_EN = "I'll answer in English from now on."


@pytest.fixture
def stub() -> Iterator[StubRasa]:
    server = StubRasa()
    server.start()
    server.replies[SWITCH_ES] = [{"text": CONFIRM_ES}]
    server.replies[SWITCH_EN] = [{"text": CONFIRM_EN}]
    yield server
    server.stop()


class Browsers:
    """New browser contexts with a given language, each page's JavaScript errors collected."""

    def __init__(self, browser: Any) -> None:
        self.browser = browser
        self.contexts: list[BrowserContext] = []
        self.errors: list[str] = []

    def context(self, locale: str, init: str = "", **options: Any) -> BrowserContext:
        options.setdefault("viewport", {"width": 1280, "height": 800})
        context = self.browser.new_context(locale=locale, **options)
        if init:
            context.add_init_script(init)
        context.on("page", lambda page: page.on("pageerror", lambda exc: self.errors.append(str(exc))))
        self.contexts.append(context)
        return context

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def browsers(browser: Any) -> Iterator[Browsers]:
    opened = Browsers(browser)
    yield opened
    opened.close()
    assert opened.errors == [], f"JavaScript errors on the page: {opened.errors}"


@pytest.fixture
def spanish(browsers: Browsers) -> BrowserContext:
    """A browser whose language is US Spanish."""
    return browsers.context("es-US")


def open_page(context: BrowserContext, stub: StubRasa, launcher: str) -> Page:
    page = context.new_page()
    page.goto(stub.url)
    page.get_by_role("button", name=launcher).click()
    return page


def widget(page: Page) -> Any:
    return page.locator("aside.civic-chat")


def log(page: Page) -> Any:
    return page.get_by_role("log")


def ask(page: Page, box_name: str, text: str) -> None:
    box = page.get_by_role("textbox", name=box_name)
    box.fill(text)
    box.press("Enter")


def sent(stub: StubRasa) -> list[str]:
    return [m["message"] for m in stub.messages]


def tab_to(page: Page, name: str, limit: int = 30) -> None:
    """Press Tab until the control with this accessible name has the focus, as a keyboard user does."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement?.getAttribute('aria-label')") == name:
            return
    pytest.fail(f"{name!r} is not reachable with Tab")


def test_a_spanish_browser_gets_the_widget_in_spanish(stub: StubRasa, spanish: BrowserContext) -> None:
    page = spanish.new_page()
    page.goto(stub.url)
    launcher = page.get_by_role("button", name=LANZADOR, exact=True)
    expect(launcher).to_have_text("Chat")
    expect(widget(page)).to_have_attribute("lang", "es")
    expect(page.get_by_role("complementary", name="Chat con Harbor City")).to_have_count(1)
    assert_no_wcag_violations(page, "the page with the chat closed, in Spanish")

    launcher.click()
    dialog = page.get_by_role("dialog", name=TITULO)
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("¡Hola! Soy el asistente automático de la ciudad.")
    expect(dialog.locator(".civic-chat__privacy")).to_contain_text("Sus mensajes se guardan para responderle")
    box = page.get_by_role("textbox", name="Su mensaje")
    expect(box).to_have_attribute("placeholder", "Escriba su pregunta…")
    expect(box).to_have_accessible_description(re.compile("Sus mensajes se guardan"))
    expect(page.get_by_role("button", name="Enviar mensaje")).to_have_text("Enviar")
    expect(page.get_by_role("button", name="Nuevo chat (iniciar una conversación nueva)")).to_have_text(
        "Nuevo chat"
    )
    expect(page.get_by_role("button", name="Cerrar el chat")).to_be_visible()
    # The switch offers English, in English (its own `lang`); Spanish, in use, is not offered.
    switch = page.get_by_role("button", name=TO_ENGLISH)
    expect(switch).to_have_text("English")
    expect(switch).to_have_attribute("lang", "en")
    expect(page.get_by_role("button", name=TO_SPANISH)).to_be_hidden()
    assert_no_wcag_violations(page, "the chat, open and empty, in Spanish")

    ask(page, "Su mensaje", "hola")
    expect(log(page)).to_contain_text("Usted: hola")
    expect(log(page)).to_contain_text("Asistente: You said: hola", timeout=5000)
    assert_no_wcag_violations(page, "the chat with an answer, in Spanish")


def test_the_switch_changes_every_text_at_once_and_back_with_the_keyboard(
    stub: StubRasa, browsers: Browsers
) -> None:
    page = browsers.context("es-US", "window.CivicChat = {maxLength: 12}").new_page()
    page.goto(stub.url)
    tab_to(page, LANZADOR)
    page.keyboard.press("Enter")
    box = page.get_by_role("textbox", name="Su mensaje")
    expect(box).to_be_focused()
    page.keyboard.type("una pregunta larga")
    notice = page.locator("#civic-chat-notice")
    expect(notice).to_contain_text("Por favor, acórtelo en 6 caracteres.")

    tab_to(page, TO_ENGLISH)
    page.keyboard.press("Enter")
    # Everything at once, the text typed is kept, and focus goes to the message box.
    expect(widget(page)).to_have_attribute("lang", "en")
    expect(page.get_by_role("dialog", name="Harbor City assistant")).to_be_visible()
    english_box = page.get_by_role("textbox", name="Your message")
    expect(english_box).to_be_focused()
    assert english_box.input_value() == "una pregunta larga"
    expect(english_box).to_have_attribute("placeholder", "Type your question…")
    expect(notice).to_contain_text("Please shorten it by 6 characters.")
    expect(page.get_by_role("button", name=LAUNCHER)).to_be_visible()
    expect(page.get_by_role("dialog")).to_contain_text("Hi! I'm the city's automated assistant.")
    expect(page.get_by_role("button", name="New chat (start a new conversation)")).to_be_visible()
    expect(page.get_by_role("button", name=TO_ENGLISH)).to_be_hidden()
    spanish_switch = page.get_by_role("button", name=TO_SPANISH)
    expect(spanish_switch).to_have_text("Español")
    expect(spanish_switch).to_have_attribute("lang", "es")
    assert_no_wcag_violations(page, "the chat switched to English in a Spanish browser")

    tab_to(page, TO_SPANISH)
    page.keyboard.press("Space")
    expect(widget(page)).to_have_attribute("lang", "es")
    expect(box).to_be_focused()
    expect(notice).to_contain_text("Por favor, acórtelo en 6 caracteres.")
    expect(page.get_by_role("dialog", name=TITULO)).to_be_visible()
    # Nothing was said yet: the assistant hears of the language with the first message.
    assert stub.messages == []


def test_a_new_conversation_tells_the_assistant_the_browser_language_first(
    stub: StubRasa, spanish: BrowserContext
) -> None:
    page = open_page(spanish, stub, LANZADOR)
    assert stub.messages == []  # opening the chat says nothing
    ask(page, "Su mensaje", "hola")
    expect(log(page)).to_contain_text("You said: hola", timeout=5000)
    assert sent(stub) == [SWITCH_ES, "hola"]
    assert stub.messages[0]["session_id"] == stub.messages[1]["session_id"]
    assert {m["language"] for m in stub.messages} == {"es"}
    # The switch is not the citizen's message: only "hola" is shown as theirs, and the confirmation.
    expect(log(page).locator(".civic-chat__msg--user")).to_have_count(1)
    expect(log(page)).to_contain_text(CONFIRM_ES)

    ask(page, "Su mensaje", "gracias")
    expect(log(page)).to_contain_text("You said: gracias", timeout=5000)
    page.reload()  # the same conversation: it was told already
    expect(log(page)).to_contain_text("Usted: gracias")
    ask(page, "Su mensaje", "adiós")
    expect(log(page)).to_contain_text("You said: adiós", timeout=5000)
    assert sent(stub) == [SWITCH_ES, "hola", "gracias", "adiós"]

    # A new chat is a new conversation: told again, before its first message.
    page.get_by_role("button", name="Nuevo chat (iniciar una conversación nueva)").click()
    expect(log(page)).not_to_contain_text("hola")
    ask(page, "Su mensaje", "buenas tardes")
    expect(log(page)).to_contain_text("You said: buenas tardes", timeout=5000)
    assert sent(stub)[4:] == [SWITCH_ES, "buenas tardes"]
    assert stub.messages[4]["session_id"] != stub.messages[0]["session_id"]


def test_a_message_typed_offline_goes_after_the_switch(stub: StubRasa, spanish: BrowserContext) -> None:
    stub.accepting = False
    page = open_page(spanish, stub, LANZADOR)
    ask(page, "Su mensaje", "hola")
    expect(log(page)).to_contain_text("Usted: hola (pendiente de envío)")
    stub.accepting = True
    expect(log(page)).to_contain_text("You said: hola", timeout=15_000)
    assert sent(stub) == [SWITCH_ES, "hola"]


def test_switching_in_a_conversation_tells_the_assistant_at_once(
    stub: StubRasa, spanish: BrowserContext
) -> None:
    page = open_page(spanish, stub, LANZADOR)
    ask(page, "Su mensaje", "hola")
    expect(log(page)).to_contain_text("You said: hola", timeout=5000)

    page.get_by_role("button", name=TO_ENGLISH).click()
    # The citizen's choice reads as their message, and the assistant confirms in the new language.
    expect(log(page).locator(".civic-chat__msg--user").last).to_have_text("You: English")
    expect(log(page)).to_contain_text(CONFIRM_EN, timeout=5000)
    assert sent(stub) == [SWITCH_ES, "hola", SWITCH_EN]
    assert stub.messages[2]["language"] == "en"
    # Earlier messages are relabelled for screen readers too.
    expect(log(page).locator(".civic-chat__msg--user").first).to_have_text("You: hola")
    ask(page, "Your message", "thanks")
    expect(log(page)).to_contain_text("You said: thanks", timeout=5000)
    assert sent(stub)[3:] == ["thanks"]

    # The choice outlasts a reload, and a new chat: the browser's Spanish no longer decides.
    page.reload()
    expect(widget(page)).to_have_attribute("lang", "en")
    page.get_by_role("button", name="New chat (start a new conversation)").click()
    ask(page, "Your message", "hello")
    expect(log(page)).to_contain_text("You said: hello", timeout=5000)
    assert sent(stub)[4:] == ["hello"]


def test_an_english_browser_tells_nothing_and_offers_spanish(stub: StubRasa, browsers: Browsers) -> None:
    context = browsers.context("en-US")
    page = open_page(context, stub, LAUNCHER)
    expect(widget(page)).to_have_attribute("lang", "en")
    expect(page.get_by_role("button", name=TO_SPANISH)).to_have_text("Español")
    ask(page, "Your message", "hello")
    expect(log(page)).to_contain_text("You said: hello", timeout=5000)
    assert sent(stub) == ["hello"]

    page.get_by_role("button", name=TO_SPANISH).click()
    expect(log(page)).to_contain_text(CONFIRM_ES, timeout=5000)
    expect(log(page).locator(".civic-chat__msg--user").last).to_have_text("Usted: Español")
    assert sent(stub) == ["hello", SWITCH_ES]


def test_the_page_chooses_the_language_and_which_are_offered(stub: StubRasa, browsers: Browsers) -> None:
    context = browsers.context("en-US", "window.CivicChat = {language: 'es', maxLength: 12}")
    page = open_page(context, stub, LANZADOR)
    expect(widget(page)).to_have_attribute("lang", "es")
    page.get_by_role("textbox", name="Su mensaje").press_sequentially("una frase")
    expect(page.locator("#civic-chat-count")).to_have_text("Quedan 3 caracteres")

    context = browsers.context("es-US", "window.CivicChat = {languages: ['en']}")
    page = open_page(context, stub, LAUNCHER)
    expect(widget(page)).to_have_attribute("lang", "en")
    expect(page.locator(".civic-chat__language:visible")).to_have_count(0)
    ask(page, "Your message", "hola")
    expect(log(page)).to_contain_text("You said: hola", timeout=5000)
    assert sent(stub) == ["hola"]


def test_a_language_the_page_adds_is_offered_by_its_own_name(stub: StubRasa, browsers: Browsers) -> None:
    """A third language is text, not code: the page's table for Vietnamese makes it a choice."""
    table = "{vi: {languageName: 'Tiếng Việt', languageSwitch: 'Tiếng Việt', title: 'Trợ lý Harbor City'}}"
    context = browsers.context("vi-VN", f"window.CivicChat = {{translations: {table}}}")
    page = context.new_page()
    page.goto(stub.url)
    expect(widget(page)).to_have_attribute("lang", "vi")
    page.locator(".civic-chat__launcher").click()
    expect(page.get_by_role("dialog", name="Trợ lý Harbor City")).to_be_visible()
    expect(page.get_by_role("textbox", name="Your message")).to_be_visible()  # not translated: English
    expect(page.get_by_role("button", name=TO_SPANISH)).to_be_visible()
    expect(page.get_by_role("button", name="English (use the chat in English)")).to_be_visible()
    page.get_by_role("textbox", name="Your message").fill("xin chào")
    page.keyboard.press("Enter")
    wait_until(lambda: len(stub.messages) == 2, 5, "the widget did not send its language and the message")
    assert sent(stub) == ['/switch_language{"language":"vi"}', "xin chào"]


class AgencyPageStub(StubRasa):
    """The stand-in socket.io server serving the demo agency's home page (its stylesheet and
    security policy, `bot.demo_agency.home`) instead of the bare harness."""

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_get("/socket.io/", self._socket)
        home.add_routes(app, self.url)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()


@pytest.fixture
def agency() -> Iterator[AgencyPageStub]:
    server = AgencyPageStub()
    server.start()
    server.replies[SWITCH_ES] = [{"text": CONFIRM_ES}]
    yield server
    server.stop()


def test_the_agency_page_with_the_chat_in_spanish_passes_the_wcag_rules(
    agency: AgencyPageStub, spanish: BrowserContext
) -> None:
    page = open_page(spanish, agency, LANZADOR)
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome to Harbor City")  # the page is English
    expect(widget(page)).to_have_attribute("lang", "es")
    assert_no_wcag_violations(page, "the agency page with the chat open, in Spanish")
    ask(page, "Su mensaje", "hola")
    expect(log(page)).to_contain_text(CONFIRM_ES, timeout=5000)
    assert_no_wcag_violations(page, "the agency page with a Spanish conversation")


def test_a_phone_sized_screen_in_spanish(agency: AgencyPageStub, browsers: Browsers) -> None:
    phone = {"width": 375, "height": 667}
    page = browsers.context("es-US", viewport=phone, is_mobile=True, has_touch=True).new_page()
    page.goto(agency.url)
    page.get_by_role("button", name=LANZADOR).tap()
    expect(page.get_by_role("dialog", name=TITULO)).to_be_visible()
    header = [
        page.get_by_role("heading", name=TITULO),
        page.get_by_role("button", name=TO_ENGLISH),
        page.get_by_role("button", name="Nuevo chat (iniciar una conversación nueva)"),
        page.get_by_role("button", name="Cerrar el chat"),
    ]
    for control in header:
        box = control.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 375, box
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.get_by_role("button", name=TO_ENGLISH).tap()
    expect(page.get_by_role("dialog", name="Harbor City assistant")).to_be_visible()


# --- what the socket.io channel lets through (bot.webchat.language_switch) ------------------


OFFERED = ("en", "es")


@pytest.mark.parametrize("text", [SWITCH_ES, f"  {SWITCH_ES} ", '/switch_language{ "language" : "es" }'])
def test_the_switch_to_an_offered_language_passes_as_the_canonical_payload(text: str) -> None:
    assert language_switch(text, OFFERED) == SWITCH_ES
    assert switch_payload("en") == SWITCH_EN


@pytest.mark.parametrize(
    "text",
    [
        '/switch_language{"language":"vi"}',  # not offered
        '/switch_language{"language":"es","topic":"taxes"}',  # more than the language
        '/switch_language{"language":["es"]}',
        '/switch_language{"language":"es"',
        "/switch_language",
        '/request_human{"language":"es"}',
        'switch_language{"language":"es"}',
        '/switch_language{"language":"es"}/request_human',
    ],
)
def test_anything_else_is_not_the_switch(text: str) -> None:
    assert language_switch(text, OFFERED) is None
