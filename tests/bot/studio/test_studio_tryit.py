"""Try it against the real stack's Rasa: the studio's page asks the running model (``POST /model/parse``
with its token) and shows the entry it picks, its confidence, the runner-up and the reply a citizen
would get, in Chromium, axe-clean, the question shown as text."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import redis
from a11y_support import assert_no_wcag_violations
from console_support import in_thread
from playwright.sync_api import expect
from stack_support import console_config, serve_app

from bot.clients.rasa import RasaClient
from bot.console.accounts import add_account
from bot.console.app import create_app
from bot.console.config import ConsoleConfig
from bot.inbox.config import InboxConfig
from bot.stack import Stack
from bot.studio.config import StudioConfig
from bot.studio.tryit import Reading, read_parse

pytestmark = pytest.mark.stack

ROOT = Path(__file__).resolve().parents[3]
DB = 2  # this helper's database on the test Redis
PASSWORDS = {"erin": "erin-secret-pw", "ava": "ava-secret-pw"}
ROLES = {"erin": "editor", "ava": "approver"}
HOURS_QUESTION = "When is City Hall open?"
HOURS_QUESTION_ES = "¿Cuál es el horario de la Alcaldía?"
CRISIS_QUESTION = "I feel like hurting myself."
SCRIPT = "<script>window.studioHacked = 1</script>"


@dataclass
class Served:
    url: str
    rasa_url: str
    rasa_token: str


@pytest.fixture(scope="module")
def served(stack: Stack, redis_server: int, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """A console with the studio on a copy of the content, asking the stack's Rasa."""
    root = tmp_path_factory.mktemp("studio-try")
    content = root / "data" / "content"
    shutil.copytree(
        ROOT / "data" / "content", content, ignore=shutil.ignore_patterns("_history", "_studio_drafts")
    )
    shutil.copy(ROOT / "data" / "agency.yml", root / "data" / "agency.yml")
    agents = root / "agents.yml"
    for name, role in ROLES.items():
        add_account(agents, name, role, PASSWORDS[name])
    url = f"redis://127.0.0.1:{redis_server}/{DB}"
    redis.Redis.from_url(url).flushdb()
    handoff = console_config(url, agents)
    rasa_url, token = stack.settings.rasa.api_url, stack.settings.rasa.token
    studio = StudioConfig(
        content_dir=content, rasa_url=rasa_url, rasa_token=token, redis_url=url, trains=False
    )
    port = handoff.port

    def make() -> Any:
        shell = ConsoleConfig(redis_url=url, agents_file=agents, port=port)
        return create_app(shell, handoff, InboxConfig(content_dir=content), studio=studio)

    with serve_app(make, port):
        yield Served(f"http://127.0.0.1:{port}", rasa_url, token)
    redis.Redis.from_url(url).flushdb()


def reading_of(served: Served, text: str) -> Reading:
    async def ask() -> dict[str, Any]:
        async with aiohttp.ClientSession() as session:
            return await RasaClient(session, served.rasa_url, served.rasa_token).parse(text)

    return read_parse(in_thread(ask))


def sign_in(page: Any, url: str, name: str) -> None:
    page.goto(f"{url}/login")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Password").fill(PASSWORDS[name])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text(f"Signed in as {name}")).to_be_visible()


def test_the_model_s_reading_names_the_pick_and_the_runner_up(served: Served) -> None:
    hours = reading_of(served, HOURS_QUESTION)
    assert hours.intent.label == "faq"
    assert hours.pick.entry_id == "city_hall_hours" and hours.pick.label == "faq/city_hall_hours"
    assert hours.runner_up is not None and hours.runner_up.entry_id not in ("", "city_hall_hours")
    assert 0.0 <= hours.runner_up.confidence < hours.pick.confidence <= 1.0

    assert hours.language == "en"
    spanish = reading_of(served, HOURS_QUESTION_ES)
    assert (spanish.pick.entry_id, spanish.language) == ("city_hall_hours", "es"), spanish

    crisis = reading_of(served, CRISIS_QUESTION)
    assert crisis.pick.entry_id == "mental_health_crisis", crisis
    assert crisis.runner_up is not None and crisis.runner_up.label != crisis.pick.label


def test_an_editor_tries_a_question_and_sees_the_pick_and_the_reply(served: Served, page: Any) -> None:
    sign_in(page, served.url, "erin")
    page.goto(f"{served.url}/content")
    page.get_by_role("link", name="Try it: ask the running model").click()
    expect(page.get_by_role("heading", name="Try it", level=1)).to_be_visible()
    assert_no_wcag_violations(page, "Try it, empty")

    page.get_by_label("Question").fill(HOURS_QUESTION)
    page.get_by_label("Question").press("Enter")
    pick = page.locator("#pick")
    expect(pick).to_have_attribute("data-entry", "city_hall_hours")
    expect(pick.get_by_role("link", name="When is City Hall open?")).to_be_visible()
    expect(pick.locator(".confidence")).to_have_text(re.compile(r"^\d{1,3}(\.\d)?%$"))
    runner_up = page.locator("#runner-up")
    expect(runner_up).to_be_visible()
    assert runner_up.get_attribute("data-entry") not in ("", "city_hall_hours")
    expect(page.locator("#preview-webchat .bubble")).to_contain_text("8:30 am to 4:30 pm")
    expect(page.locator("#preview-sms .sms-segments")).to_contain_text("text message")
    expect(page.locator("#question-language")).to_have_attribute("data-language", "en")
    assert_no_wcag_violations(page, "Try it with a result")

    # A Spanish question: the reply a citizen asking in Spanish gets, in Spanish.
    page.get_by_label("Question").fill(HOURS_QUESTION_ES)
    page.get_by_label("Question").press("Enter")
    expect(page.locator("#question-language")).to_have_attribute("data-language", "es")
    expect(page.locator("#pick")).to_have_attribute("data-entry", "city_hall_hours")
    bubble = page.locator("#preview-webchat .bubble")
    expect(bubble).to_have_attribute("lang", "es")
    expect(bubble).to_contain_text("de 8:30 am a 4:30 pm")


def test_an_approver_tries_a_crisis_question_and_citizen_text_stays_text(served: Served, page: Any) -> None:
    sign_in(page, served.url, "ava")
    page.goto(f"{served.url}/content/try")
    page.get_by_label("Question").fill(CRISIS_QUESTION)
    page.get_by_role("button", name="Ask").click()
    expect(page.locator("#pick")).to_have_attribute("data-entry", "mental_health_crisis")
    expect(page.locator("#preview-webchat .bubble")).to_contain_text("988")

    page.get_by_label("Question").fill(f"{SCRIPT} hello")
    page.get_by_role("button", name="Ask").click()
    expect(page.locator("#result-heading")).to_contain_text(SCRIPT)
    expect(page.locator("#pick")).to_contain_text("Not a content answer: the intent")
    expect(page.locator("#no-reply")).to_be_visible()
    assert page.locator("#result script").count() == 0 and page.evaluate("window.studioHacked") is None
