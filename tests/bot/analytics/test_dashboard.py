"""The /analytics page in Chromium, on the real console app and a real Redis: an editor picks the dates
and sees the figures of a known stream of events as charts with tables, the money saved next to its
assumption and source, and the emerging questions; axe finds no WCAG violation. Agents and strangers
do not get in; a bad range says what to fix.

The stream is written the way Rasa's event broker writes it; the console's own aggregator turns it
into daily counts (a `catch_up` here too, so the test need not wait for it).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

import pytest
import redis
from a11y_support import assert_no_wcag_violations
from console_support import REDIS_CALLS_SECONDS, in_thread
from playwright.sync_api import expect
from polling_support import wait_until
from redis.asyncio import Redis as AsyncRedis
from stack_support import console_config, serve_app

from bot.analytics.aggregator import Aggregator
from bot.analytics.savings import load_settings, saved_amount
from bot.console.accounts import add_account
from bot.console.app import create_app
from bot.console.config import ConsoleConfig
from bot.events import STREAM
from bot.inbox.config import InboxConfig
from bot.inbox.emerging import MIN_THIS_WEEK, emerging_questions

DB = 15  # this helper's database on the shared test Redis (flushed once, before the console starts)
ROLES = {"erin": "editor", "dana": "agent"}
TODAY = datetime.now(timezone.utc).date()
DAY1, DAY2 = TODAY - timedelta(days=3), TODAY - timedelta(days=2)
ODD_REASON = "<b>odd</b>"  # a handoff reason with markup: shown as text, never as HTML
# A question the assistant declines, asked this week for the first time (markup in it stays text).
NEW_QUESTION = (
    "Is the <i>tap water</i> safe to drink?",
    "is the tap water safe to drink",
    "Is tap water safe to drink now?",
)


@dataclass
class Served:
    url: str
    redis_url: str

    def run(self, work: Any) -> Any:
        async def go() -> Any:
            client = AsyncRedis.from_url(self.redis_url, decode_responses=True)
            try:
                return await work(client)
            finally:
                await client.close()

        return in_thread(go)


def at(day: date, seconds: float) -> float:
    return datetime.combine(day, time(9), timezone.utc).timestamp() + seconds


def user(
    sender: str, when: float, text: str, channel: str, intent: str = "ask", **entities: str
) -> dict[str, Any]:
    found = [{"entity": name, "value": value} for name, value in entities.items()]
    parse = {"intent": {"name": intent, "confidence": 0.95}, "entities": found}
    return {
        "event": "user",
        "sender_id": sender,
        "timestamp": when,
        "text": text,
        "input_channel": channel,
        "parse_data": parse,
    }


def answer(sender: str, when: float, entry: str, answer_id: str) -> dict[str, Any]:
    rating = {"answer": answer_id, "entry": entry, "variant": "", "kind": "faq", "topic": "trash"}
    return {
        "event": "bot",
        "sender_id": sender,
        "timestamp": when,
        "text": "An answer.",
        "metadata": {"utter_action": f"utter_faq/{entry}", "rating": rating},
    }


def tap(sender: str, when: float, answer_id: str, value: str) -> dict[str, Any]:
    text = f'/feedback{{"answer":"{answer_id}","value":"{value}"}}'
    return user(sender, when, text, "socketio", "feedback", answer=answer_id, value=value)


def handoff(sender: str, when: float, reason: str, wait: float) -> list[dict[str, Any]]:
    queued = {"utter_action": "utter_handoff_queued", "handoff_reason": reason}
    return [
        {"event": "bot", "sender_id": sender, "timestamp": when, "text": "Queued.", "metadata": queued},
        {"event": "pause", "sender_id": sender, "timestamp": when + wait},
    ]


def declined_this_week() -> list[dict[str, Any]]:
    """MIN_THIS_WEEK + 1 conversations an hour ago, each asking NEW_QUESTION (in three wordings) and
    declined: a cluster the inbox records that was not there in the four weeks before."""
    when = datetime.now(timezone.utc).timestamp() - 3600
    events: list[dict[str, Any]] = []
    for n in range(MIN_THIS_WEEK + 1):
        asked = user(f"n{n}", when + n, NEW_QUESTION[n % 3], "socketio", "out_of_scope")
        events += [
            asked,
            {
                "event": "action",
                "sender_id": f"n{n}",
                "timestamp": when + n + 1,
                "name": "utter_out_of_scope",
            },
        ]
    return events


def stream() -> list[dict[str, Any]]:
    """Day 1: w1 and w2 (web) rate trash_day up; s1 (SMS) gets bulky_items, then a person (requested,
    60 s). Day 2: w3 (web) rates trash_day down, then a person (the odd reason, 120 s); s2 (SMS) gets
    bulky_items. So: 5 conversations, 3 answered without a person."""
    return [
        user("w1", at(DAY1, 0), "trash day", "socketio"),
        answer("w1", at(DAY1, 1), "trash_day", "b1"),
        tap("w1", at(DAY1, 2), "b1", "up"),
        user("w2", at(DAY1, 10), "when is pickup", "socketio"),
        answer("w2", at(DAY1, 11), "trash_day", "b2"),
        tap("w2", at(DAY1, 12), "b2", "up"),
        user("s1", at(DAY1, 20), "couch pickup", "twilio"),
        answer("s1", at(DAY1, 21), "bulky_items", "b3"),
        user("s1", at(DAY1, 30), "agent", "twilio", "request_human"),
        *handoff("s1", at(DAY1, 31), "requested", 60),
        user("w3", at(DAY2, 0), "trash?", "socketio"),
        answer("w3", at(DAY2, 1), "trash_day", "b4"),
        tap("w3", at(DAY2, 2), "b4", "down"),
        user("w3", at(DAY2, 10), "a human", "socketio", "request_human"),
        *handoff("w3", at(DAY2, 11), ODD_REASON, 120),
        user("s2", at(DAY2, 20), "sofa", "twilio"),
        answer("s2", at(DAY2, 21), "bulky_items", "b5"),
    ]


@pytest.fixture(scope="module")
def served(redis_server: int, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    agents = tmp_path_factory.mktemp("analytics-page-accounts") / "agents.yml"
    for name, role in ROLES.items():
        add_account(agents, name, role, f"{name}-secret-password")
    url = f"redis://127.0.0.1:{redis_server}/{DB}"
    redis.Redis.from_url(url).flushdb()
    handoff_config = console_config(url, agents)
    port = handoff_config.port

    def make() -> Any:
        return create_app(
            ConsoleConfig(redis_url=url, agents_file=agents, port=port), handoff_config, InboxConfig()
        )

    with serve_app(make, port):
        served = Served(f"http://127.0.0.1:{port}", url)

        async def load(client: AsyncRedis) -> None:
            for event in [*stream(), *declined_this_week()]:
                await client.xadd(STREAM, {"event": json.dumps(event)})
            await Aggregator(client).catch_up()

        async def emerging(client: AsyncRedis) -> list[dict[str, Any]]:
            return await emerging_questions(client, datetime.now(timezone.utc).timestamp())

        served.run(load)
        # The console's inbox recorder reads the stream by itself: wait until it clustered the question.
        wait_until(lambda: served.run(emerging), REDIS_CALLS_SECONDS, "the inbox never flagged the question")
        yield served


def sign_in(page: Any, url: str, name: str) -> None:
    page.goto(f"{url}/login")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Password").fill(f"{name}-secret-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text(f"Signed in as {name}")).to_be_visible()


def table(page: Any, chart: str) -> list[list[str]]:
    rows = page.locator(f"#table-{chart} tbody tr")
    return [[c.strip() for c in rows.nth(i).locator("th, td").all_inner_texts()] for i in range(rows.count())]


def test_an_editor_sees_the_figures_as_charts_with_tables_and_the_money_saved(
    served: Served, page: Any
) -> None:
    sign_in(page, served.url, "erin")
    page.get_by_role("link", name="Analytics").click()
    expect(page.get_by_role("heading", name="Analytics", level=1)).to_be_visible()
    page.get_by_label("From (UTC date)").fill(DAY1.isoformat())
    page.get_by_label("To (UTC date)").fill(DAY2.isoformat())
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(rf"from={DAY1.isoformat()}&to={DAY2.isoformat()}"))

    expect(page.locator("#fig-conversations")).to_have_text("5")
    expect(page.locator("#fig-contained")).to_have_text("3 (60.0%)")
    expect(page.locator("#fig-handoffs")).to_have_text("2")
    expect(page.locator("#fig-wait")).to_have_text("median 60 s, 90% within 120 s")
    expect(page.locator("#fig-ratings")).to_have_text("2 / 1")

    settings = load_settings()
    saved = settings.money(saved_amount(3, settings))
    expect(page.locator("#savings-figure")).to_have_text(
        settings.say("savings_figure", saved=saved, calls="3")
    )
    cost = settings.money(settings.cost_per_contact)
    expect(page.locator("#savings-assumption")).to_have_text(settings.say("savings_assumption", cost=cost))
    expect(page.locator("#savings-source a")).to_have_attribute("href", settings.source_url)

    span = f"{DAY1.isoformat()} – {DAY2.isoformat()}"
    activity = page.locator("#chart-activity svg[role=img]")
    label = settings.say("chart_label", title=settings.say("chart_activity", span=span))
    expect(activity).to_have_attribute("aria-label", label)
    expect(activity.locator("polyline")).to_have_count(2)
    assert table(page, "activity") == [[DAY1.isoformat(), "3", "6"], [DAY2.isoformat(), "2", "4"]]
    assert table(page, "containment") == [
        [DAY1.isoformat(), "3", "2", "66.7%"],
        [DAY2.isoformat(), "2", "1", "50.0%"],
    ]
    assert table(page, "handoffs") == [[ODD_REASON, "1"], [settings.reason("requested"), "1"]]
    expect(page.locator("#chart-handoffs svg rect")).to_have_count(2)
    assert table(page, "top_answers") == [
        ["trash_day", "3", "2", "1", "67%"],
        ["bulky_items", "2", "0", "0", "not rated"],
    ]
    expect(page.locator("#chart-top_answers svg")).to_contain_text("3 served, 67% helpful")
    assert table(page, "channels") == [
        [settings.channel("socketio"), "3", "7", "2", "1"],  # w1 and w2 rated up, w3 down
        [settings.channel("twilio"), "2", "3", "0", "0"],
    ]
    assert page.locator("b", has_text="odd").count() == 0  # the reason's markup stayed text

    panel = page.locator("#emerging")
    expect(panel.get_by_role("heading", name=settings.wording["emerging_heading"])).to_be_visible()
    cluster = panel.locator(".cluster")
    expect(cluster).to_have_count(1)
    expect(cluster.locator(".flag")).to_have_text(settings.wording["emerging_flag"])
    expect(cluster).to_contain_text(
        f"{MIN_THIS_WEEK + 1} this week, against 0 a week on average in the four weeks before"
    )
    examples = cluster.locator(".example").all_inner_texts()
    assert sorted(text.strip() for text in examples) == sorted(NEW_QUESTION)  # as text, markup and all
    assert cluster.locator("i").count() == 0
    draft = cluster.get_by_role("link", name=re.compile(settings.wording["draft_faq"]))
    assert re.fullmatch(r"/inbox/groups/[^/]+/draft", draft.get_attribute("href") or "")
    rumor = cluster.get_by_role("link", name=re.compile(settings.wording["draft_rumor"]))
    assert re.fullmatch(r"/inbox/groups/[^/]+/rumor", rumor.get_attribute("href") or "")

    assert_no_wcag_violations(page, "/analytics")

    csv = page.request.get(served.url + page.locator("#export").get_attribute("href"))
    assert csv.status == 200
    assert csv.text().splitlines()[1].startswith(f"{DAY1.isoformat()},3,6,2,")

    # The emerging questions of one language: the English question is not one of the Spanish ones.
    panel.get_by_role("navigation", name="Language of the questions").get_by_role(
        "link", name="Español"
    ).click()
    expect(page).to_have_url(re.compile(r"language=es#emerging$"))
    expect(panel.locator(".cluster")).to_have_count(0)
    expect(page.locator("#emerging-none")).to_contain_text("(Español)")
    assert_no_wcag_violations(page, "/analytics, the Spanish emerging questions")


def test_agents_and_strangers_do_not_get_in_and_a_bad_range_says_what_to_fix(
    served: Served, page: Any
) -> None:
    page.goto(f"{served.url}/analytics")
    expect(page).to_have_url(f"{served.url}/login")
    sign_in(page, served.url, "dana")
    expect(page.get_by_role("link", name="Analytics")).to_have_count(0)
    response = page.goto(f"{served.url}/analytics")
    assert response.status == 403
    page.context.clear_cookies()
    sign_in(page, served.url, "erin")
    year = f"from={(TODAY - timedelta(days=365)).isoformat()}&to={TODAY.isoformat()}"
    assert page.goto(f"{served.url}/analytics?{year}").status == 200  # the longest range there is
    expect(page.locator("#table-activity tbody tr")).to_have_count(366)
    expect(page.locator("#chart-activity details")).not_to_have_attribute("open", "")
    expect(page.locator("#fig-conversations")).to_have_text(str(5 + MIN_THIS_WEEK + 1))
    response = page.goto(f"{served.url}/analytics?from=2026-03-02&to=2026-03-01")
    assert response.status == 400
    expect(page.get_by_role("alert")).to_have_text("from must not be after to")
    assert_no_wcag_violations(page, "/analytics with a bad range")
