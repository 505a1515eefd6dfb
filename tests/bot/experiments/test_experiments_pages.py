"""The message-test pages in Chromium on the real console and a real Redis: the list and one test's
results (rates, intervals, the "too few to decide" warning), staff text escaped, Promote from the page,
agents kept out; axe finds no WCAG A/AA violation on any of them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis
from a11y_support import assert_no_wcag_violations
from console_support import PASSWORDS, in_thread
from experiments_support import CITY, ROLES, project, run_test
from playwright.sync_api import expect
from redis.asyncio import Redis as AsyncRedis
from stack_support import console_config, serve_app

from bot.console.accounts import add_account
from bot.console.app import create_app
from bot.console.config import ConsoleConfig
from bot.content.model import load_topic
from bot.inbox.config import InboxConfig
from bot.settings import MeasurementSettings

DB = 4  # this helper's database on the shared test Redis
MARKUP = "The library is open 9 to 6, <b>Monday</b> to Saturday."


@dataclass
class Served:
    url: str
    content: Path


@pytest.fixture(scope="module")
def served(redis_server: int, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    agents = tmp_path_factory.mktemp("experiment-page-accounts") / "agents.yml"
    for name, role in ROLES.items():
        add_account(agents, name, role, PASSWORDS[name])
    content = project(
        tmp_path_factory.mktemp("experiment-pages"),
        CITY.replace("The library is open 9 to 6, Monday to Saturday.", MARKUP),
    )
    url = f"redis://127.0.0.1:{redis_server}/{DB}"
    redis.Redis.from_url(url).flushdb()

    async def feed() -> None:
        client = AsyncRedis.from_url(url, decode_responses=True)
        try:
            await run_test(client)
        finally:
            await client.close()

    in_thread(feed)
    handoff = console_config(url, agents)
    port = handoff.port

    def make() -> Any:
        shell = ConsoleConfig(redis_url=url, agents_file=agents, port=port)
        tests = MeasurementSettings(min_exposures_per_variant=40)
        return create_app(shell, handoff, InboxConfig(content_dir=content), measurement=tests)

    with serve_app(make, port):
        yield Served(f"http://127.0.0.1:{port}", content)
    redis.Redis.from_url(url).flushdb()


def sign_in(page: Any, url: str, name: str) -> None:
    page.goto(f"{url}/login")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Password").fill(PASSWORDS[name])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text(f"Signed in as {name}")).to_be_visible()


def test_an_editor_reads_the_results_and_promotes_the_winner(served: Served, page: Any) -> None:
    sign_in(page, served.url, "erin")
    page.get_by_role("link", name="Message tests").click()
    expect(page.get_by_role("heading", name="Message tests", level=1)).to_be_visible()
    row = page.locator("#experiments tr[data-entry=library_hours]")
    expect(row).to_contain_text("Running")
    expect(row).to_contain_text("Too few to decide")
    assert_no_wcag_violations(page, "the list of message tests")

    row.get_by_role("link", name="when is the library open").click()
    expect(page.get_by_role("heading", name="Message test: when is the library open")).to_be_visible()
    expect(page.locator("#too-few")).to_contain_text("at least 40 answers shown")
    expect(page.locator("#too-few")).to_contain_text("plain (30), warm (30)")
    expect(page.locator("#variants tr[data-variant=plain] td.summary-text")).to_have_text(MARKUP)
    assert page.locator("#variants b").count() == 0, "staff text is shown as text, never as markup"
    helpful = page.locator("#outcome-helpful")
    expect(helpful.locator("caption")).to_contain_text("share of rated answers")
    expect(helpful.locator("tr[data-variant=warm] td.rate")).to_have_text("85.0%")
    expect(helpful.locator("tr[data-variant=plain] td.rate")).to_have_text("40.0%")
    expect(helpful.locator("tr[data-variant=plain]")).to_contain_text("21.9% to 61.3%")
    expect(helpful.locator("tr[data-variant=plain] td.significant")).to_contain_text("Yes")
    expect(page.locator("#outcome-clicked tr[data-variant=plain] td.rate")).to_have_text("3.3%")
    expect(page.get_by_label("Variant warm (most helpful so far)")).to_be_checked()
    assert_no_wcag_violations(page, "a running message test")

    page.get_by_role("button", name="Promote").click()
    expect(page.locator("#experiment-notice")).to_contain_text(
        "the wording of variant warm is now the entry's answer"
    )
    expect(page.locator("#experiment-notice")).to_contain_text("after the next model reload")
    expect(page.get_by_role("button", name="Promote")).to_have_count(0)
    entry = load_topic(served.content / "city.yml").entries[0]
    assert entry.variants == () and entry.answer.startswith("Come by any day but Sunday")
    assert_no_wcag_violations(page, "an ended message test")
    page.get_by_role("link", name="All message tests").click()
    expect(page.locator("#experiments tr[data-entry=library_hours]")).to_contain_text("Ended")


def test_agents_see_no_message_tests(served: Served, page: Any) -> None:
    sign_in(page, served.url, "dana")
    expect(page.get_by_role("link", name="Message tests")).to_have_count(0)
    response = page.goto(f"{served.url}/experiments")
    assert response is not None and response.status == 403
