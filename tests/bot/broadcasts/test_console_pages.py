"""The /broadcasts pages in Chromium, on the real console app and a real Redis: compose, the audience
before approval, a second editor approving, the live progress and the per-channel report; escaping;
the pinned notice; agents read only; axe clean.

The delivery is driven through its own queue functions (`take` and `settle`, what the broadcaster's
workers call), so the page sees the counts move as it would while the broadcaster sends.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
import redis
from a11y_support import assert_no_wcag_violations
from console_support import in_thread
from playwright.sync_api import expect
from redis.asyncio import Redis as AsyncRedis
from stack_support import free_port, serve_app

from bot.broadcasts import delivery
from bot.broadcasts.model import SENT, BroadcastStore
from bot.console.accounts import add_account
from bot.console.app import create_app
from bot.console.config import ConsoleConfig
from bot.handoff.config import HandoffConfig
from bot.inbox.config import InboxConfig
from bot.settings import BroadcastSettings
from bot.subscriptions.store import SubscriberStore

DB = 7  # this module's database on the shared test Redis
ROOT = Path(__file__).resolve().parents[3]
ROLES = {"ava": "editor", "bo": "editor", "dan": "agent"}


@dataclass
class Served:
    url: str
    redis_url: str

    def run(self, work: Any) -> Any:
        """`await work(redis)` on a client of the console's database, from the test's thread."""

        async def go() -> Any:
            client = AsyncRedis.from_url(self.redis_url, decode_responses=True)
            try:
                return await work(client)
            finally:
                await client.close()

        return in_thread(go)


@pytest.fixture(scope="module")
def console_served(redis_server: int, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    agents = tmp_path_factory.mktemp("broadcast-page-accounts") / "agents.yml"
    for name, role in ROLES.items():
        add_account(agents, name, role, f"{name}-secret-password")
    url = f"redis://127.0.0.1:{redis_server}/{DB}"
    redis.Redis.from_url(url).flushdb()
    port = free_port()
    handoff = HandoffConfig(
        redis_url=url,
        rasa_url=f"http://127.0.0.1:{free_port()}",
        rasa_token="unused",
        agents_file=agents,
        data_dir=ROOT / "data/handoff",
        sweep_seconds=3600.0,
        port=port,
    )

    def make() -> Any:
        shell = ConsoleConfig(redis_url=url, agents_file=agents, port=port)
        return create_app(shell, handoff, InboxConfig(), BroadcastSettings(approvals=2))

    with serve_app(make, port):
        yield Served(f"http://127.0.0.1:{port}", url)


@pytest.fixture
def console_fresh(console_served: Served) -> Served:
    """No broadcasts, subscribers, notice or sessions from an earlier test."""
    client = redis.Redis.from_url(console_served.redis_url)
    for pattern in ("civic:bc:*", "civic:subs:*", "handoff:session:*"):
        for found in client.scan_iter(pattern, count=500):
            client.delete(found)
    client.close()
    return console_served


def sign_in(page: Any, url: str, name: str) -> None:
    page.goto(f"{url}/login")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Password").fill(f"{name}-secret-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text(f"Signed in as {name}")).to_be_visible()


def subscribe(served: Served, entries: list[tuple[str, str, str]]) -> None:
    async def work(client: AsyncRedis) -> None:
        for cid, topic, area in entries:
            await SubscriberStore(client).subscribe(cid, [topic], [area], "Reply STOP to opt out.")

    served.run(work)


def send(served: Served, broadcast_id: str, channel: str, outcome: str, count: int) -> None:
    """What a broadcaster's worker does for `count` recipients of `channel`: take, then settle."""

    async def work(client: AsyncRedis) -> None:
        for _ in range(count):
            cid = await delivery.take(client, broadcast_id, channel, "test-worker")
            assert cid is not None
            assert await delivery.settle(client, broadcast_id, channel, cid, outcome)

    served.run(work)


def finish(served: Served, broadcast_id: str) -> None:
    """The broadcaster marks a broadcast sent once every recipient is settled."""

    async def work(client: AsyncRedis) -> None:
        store = BroadcastStore(client)
        found = await store.get(broadcast_id)
        assert found is not None
        await store.put(replace(found, status=SENT))

    served.run(work)


def compose(page: Any, title: str, text: str, areas: list[str]) -> None:
    page.get_by_label("Title", exact=True).fill(title)
    page.get_by_label("Text", exact=True).fill(text)
    page.get_by_label("Topic").select_option(label="Water")
    page.get_by_label("Areas").select_option(label=areas)


def test_compose_see_the_audience_a_second_editor_approves_then_progress_and_report(
    console_fresh: Served, page: Any, browser: Any
) -> None:
    served = console_fresh
    subscribe(
        served,
        [
            ("twilio-a1", "water", "all"),
            ("twilio-a2", "water", "downtown"),
            ("telegram-b1", "water", "downtown"),
            ("telegram-b2", "water", "eastside"),  # another district: not in the audience
            ("facebook-c1", "roads_snow", "all"),  # another topic
        ],
    )
    sign_in(page, served.url, "ava")
    page.get_by_role("link", name="Broadcasts").click()
    expect(page.get_by_role("heading", name="Broadcasts", level=1)).to_be_visible()
    compose(page, "Boil water notice", "Boil tap water for one minute before drinking.", ["Downtown"])
    expect(page.locator("#text-count")).to_contain_text("1 SMS segment (GSM-7)")
    page.get_by_label("Text", exact=True).fill("Boil water 💧 " + "a" * 140)
    expect(page.locator("#text-count")).to_contain_text("3 SMS segments (UCS-2): over 2")
    page.get_by_label("Text", exact=True).fill("Boil tap water for one minute before drinking.")
    expect(page.locator("#compose-audience")).to_have_text("Audience now: 3 subscribers.")
    assert_no_wcag_violations(page, "the broadcasts page with the compose form")
    page.get_by_role("button", name="Save for approval").click()

    expect(page.locator("#broadcast-notice")).to_contain_text("Broadcast saved")
    expect(page.locator("#broadcast-status")).to_have_text("waiting for approval")
    expect(page.locator("#audience-total")).to_have_text("3")
    expect(page.locator("#approve-hint")).to_have_text(
        "You wrote this broadcast: another editor must approve it."
    )
    expect(page.get_by_role("button", name="Approve")).to_have_count(0)
    assert_no_wcag_violations(page, "a broadcast waiting for approval")
    detail_url = page.url.split("?")[0]
    broadcast_id = detail_url.rsplit("/", 1)[1]

    other = browser.new_context()
    try:
        approver = other.new_page()
        sign_in(approver, served.url, "bo")
        approver.goto(detail_url)
        approver.get_by_role("button", name="Approve").click()
        expect(approver.locator("#broadcast-notice")).to_have_text("Approved: the broadcast is being sent.")
        expect(approver.locator("#broadcast-status")).to_have_text("sending")
        expect(approver.locator("#progress-text")).to_have_text("0 of 3 settled (0%).")
        assert_no_wcag_violations(approver, "a broadcast being sent")

        send(served, broadcast_id, "twilio", "sent", 2)  # the page updates itself every 2 seconds
        expect(approver.locator("#progress-text")).to_have_text("2 of 3 settled (67%).", timeout=10_000)
        expect(approver.locator("#progress")).to_have_attribute("value", "2")
        send(served, broadcast_id, "telegram", "failed", 1)
        finish(served, broadcast_id)
        expect(approver.locator("#broadcast-status")).to_have_text("sent", timeout=10_000)
        expect(approver.locator("#announcer")).to_have_text("The broadcast is sent.")
        sms = approver.locator("#report tr[data-channel='twilio'] td")
        expect(sms).to_have_text(["0", "2", "0", "0", "0"])
        telegram = approver.locator("#report tr[data-channel='telegram'] td")
        expect(telegram).to_have_text(["0", "0", "0", "1", "0"])
    finally:
        other.close()

    page.reload()  # without the script's help, the server renders the same report
    expect(page.locator("#broadcast-status")).to_have_text("sent")
    expect(page.locator("#progress-text")).to_have_text("3 of 3 settled (100%).")
    expect(page.locator("#report tr[data-channel='total'] td")).to_have_text(["0", "2", "0", "1", "0"])
    assert_no_wcag_violations(page, "the report of a sent broadcast")
    page.goto(f"{served.url}/broadcasts")
    row = page.locator("#broadcasts tbody tr").first
    expect(row).to_contain_text("Boil water notice")
    expect(row.locator(".status")).to_have_text("sent")


def test_staff_text_is_escaped_and_agents_only_read(console_fresh: Served, page: Any, browser: Any) -> None:
    served = console_fresh
    title = "<script>window.pwned = 1</script><b>Bold</b>"
    sign_in(page, served.url, "ava")
    page.goto(f"{served.url}/broadcasts")
    compose(page, title, "<img src=x onerror='window.pwned=2'> Boil water.", ["The whole city"])
    page.get_by_role("button", name="Save for approval").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    expect(page.locator("#broadcast-text")).to_have_text("<img src=x onerror='window.pwned=2'> Boil water.")
    assert page.evaluate("typeof window.pwned") == "undefined"
    assert page.locator("main b, main img").count() == 0
    page.goto(f"{served.url}/broadcasts")
    expect(page.locator("#broadcasts tbody tr").first.get_by_role("link")).to_have_text(title)
    assert page.evaluate("typeof window.pwned") == "undefined"

    other = browser.new_context()
    try:
        agent = other.new_page()
        sign_in(agent, served.url, "dan")
        agent.goto(f"{served.url}/broadcasts")
        expect(agent.get_by_role("heading", name="Recent broadcasts")).to_be_visible()
        expect(agent.get_by_role("heading", name="New broadcast")).to_have_count(0)
        expect(agent.get_by_role("button", name="Pin the notice")).to_have_count(0)
        agent.locator("#broadcasts tbody tr").first.get_by_role("link").click()
        expect(agent.locator("#broadcast-status")).to_have_text("waiting for approval")
        expect(agent.get_by_role("button")).to_have_text(["Sign out"])
        assert_no_wcag_violations(agent, "a broadcast as an agent sees it")
    finally:
        other.close()


def test_an_editor_pins_and_unpins_the_notice(console_fresh: Served, page: Any) -> None:
    served = console_fresh
    sign_in(page, served.url, "ava")
    page.goto(f"{served.url}/broadcasts")
    expect(page.locator("#no-notice")).to_have_text("No notice is pinned.")
    page.get_by_label("Notice text").fill("Shelter open at <Harbor High> until Sunday.")
    page.get_by_label("Link (optional, https)").first.fill("http://harborcity.gov/shelters")
    page.get_by_label("Expires in").select_option(label="1 day")
    page.get_by_role("button", name="Pin the notice").click()
    expect(page.locator("#broadcasts-error")).to_contain_text("link must be an https:// address")
    expect(page.get_by_label("Notice text")).to_have_value("Shelter open at <Harbor High> until Sunday.")
    page.get_by_label("Link (optional, https)").first.fill("https://harborcity.gov/shelters")
    page.get_by_role("button", name="Pin the notice").click()
    expect(page.locator("#broadcasts-notice")).to_contain_text("Notice pinned")
    expect(page.locator("#current-notice")).to_contain_text("Shelter open at <Harbor High> until Sunday.")
    expect(page.locator("#current-notice")).to_contain_text(re.compile(r"Pinned by ava .* expires at"))
    assert_no_wcag_violations(page, "the broadcasts page with a pinned notice")
    page.get_by_role("button", name="Unpin the notice").click()
    expect(page.locator("#broadcasts-notice")).to_have_text("Notice removed.")
    expect(page.locator("#no-notice")).to_be_visible()


def test_a_broadcast_worded_in_spanish_too_and_who_reads_which(console_fresh: Served, page: Any) -> None:
    served = console_fresh

    async def readers(client: AsyncRedis) -> None:
        store = SubscriberStore(client)
        await store.subscribe("telegram-e1", ["water"], ["all"], "wording")
        await store.subscribe("telegram-s1", ["water"], ["all"], "wording", language="es")
        await store.subscribe("twilio-s2", ["water"], ["all"], "wording", language="es")

    served.run(readers)
    sign_in(page, served.url, "ava")
    page.goto(f"{served.url}/broadcasts")
    compose(page, "Boil water notice", "Boil tap water for one minute before drinking.", ["The whole city"])
    page.get_by_label("Español title").fill("Aviso de hervir el agua")
    page.get_by_role("button", name="Save for approval").click()
    expect(page.locator("#broadcasts-error")).to_have_text(
        "text_es must not be empty: the es wording needs a title and a text"
    )
    expect(page.get_by_label("Español title")).to_have_value("Aviso de hervir el agua")  # nothing lost
    page.get_by_label("Español text").fill("Hierva el agua del grifo <un minuto> antes de beberla.")
    expect(page.locator("#text-es-count")).to_contain_text("1 SMS segment")
    assert_no_wcag_violations(page, "the compose form with its Spanish wording")
    page.get_by_role("button", name="Save for approval").click()

    expect(page.locator("#broadcast-notice")).to_contain_text("Broadcast saved")
    expect(page.locator("#broadcast-wording-es")).to_have_text(
        "Aviso de hervir el agua\nHierva el agua del grifo <un minuto> antes de beberla.", use_inner_text=True
    )
    rows = page.locator("#audience-languages tbody tr")
    expect(rows).to_have_text([re.compile(r"English\s*1\s*yes"), re.compile(r"Español\s*2\s*yes")])
    expect(page.locator("#untranslated-note")).to_have_count(0)
    assert_no_wcag_violations(page, "a broadcast worded in two languages")

    page.goto(f"{served.url}/broadcasts")
    compose(page, "Boil water notice", "Boil tap water for one minute before drinking.", ["The whole city"])
    page.get_by_role("button", name="Save for approval").click()
    expect(page.locator("#untranslated-note")).to_have_text(
        "2 read Español: with no wording in their language, they get the English."
    )
