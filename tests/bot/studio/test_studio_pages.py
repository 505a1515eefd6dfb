"""The content studio's pages in Chromium, on the real console over HTTP, a real Redis and a copy of the
project's content: the list with its filters, editing by keyboard with problems next to their fields
and previews that follow each save, publishing, history with its diff and Revert, review by an
approver (who sees Approve, never the edit form), the stale report, staff text shown as text, and
axe finding no WCAG A/AA violation on any of them."""

from __future__ import annotations

import json
import re
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import redis
from a11y_support import assert_no_wcag_violations
from console_support import in_thread
from playwright.sync_api import expect
from redis.asyncio import Redis as AsyncRedis
from stack_support import console_config, serve_app
from studio_support import rated_answers

from bot.analytics.aggregator import Aggregator
from bot.console.accounts import add_account
from bot.console.app import create_app
from bot.console.config import ConsoleConfig
from bot.content.model import Entry, load_topic
from bot.events import STREAM
from bot.inbox.config import InboxConfig
from bot.studio.config import StudioConfig
from bot.studio.jobs import ended_fields, job_key

ROOT = Path(__file__).resolve().parents[3]
DB = 2  # this module's database on the test Redis
PASSWORDS = {"erin": "erin-secret-pw", "ava": "ava-secret-pw", "dana": "dana-secret-pw"}
ROLES = {"erin": "editor", "ava": "approver", "dana": "agent"}
HOURS = "city_hall_hours"  # an FAQ: an editor publishes alone
RUMOR = "sunday_meters"  # a rumor: a change needs a second person
OLD_ANSWER = "City Hall, 100 Main Street, is open Monday to Friday from 8:30 am to 4:30 pm."
NEW_ANSWER = (
    "City Hall, 100 Main Street, is open Monday to Friday from 8 am to 5 pm. "
    "Questions? Call {agency.phone_311}."
)
NEW_QUESTION = "is city hall open before eight in the morning"
SCRIPT = "<script>window.studioHacked = 1</script>"
SEASONAL = "sandbags"  # answered within dates, then retired and brought back
OVERDUE = "pools"  # its last_reviewed is set long ago in the copy
UNHELPFUL = "pothole"  # rated "not helpful" 12 times of 15 in the seeded analytics
REFUSED_BECAUSE = "crisis recall on the safety sets dropped from 1.000 to 0.950"


@dataclass
class Served:
    url: str
    content: Path
    redis_url: str


def project(root: Path) -> Path:
    """A copy of the project's content, agency facts and studio responses; returns the content dir."""
    content = root / "data" / "content"
    shutil.copytree(
        ROOT / "data" / "content", content, ignore=shutil.ignore_patterns("_history", "_studio_drafts")
    )
    shutil.copy(ROOT / "data" / "agency.yml", root / "data" / "agency.yml")
    (root / "data" / "responses").mkdir()
    shutil.copy(ROOT / "data" / "responses" / "studio.yml", root / "data" / "responses" / "studio.yml")
    parks = content / "parks_library.yml"
    text = parks.read_text(encoding="utf-8")
    start = text.index(f"- id: {OVERDUE}\n")
    at = text.index("last_reviewed:", start)
    end = text.index("\n", at)
    parks.write_text(text[:at] + "last_reviewed: '2020-01-15'" + text[end:], encoding="utf-8")
    return content


@pytest.fixture(scope="module")
def served(redis_server: int, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("studio-pages")
    content = project(root)
    agents = root / "agents.yml"
    for name, role in ROLES.items():
        add_account(agents, name, role, PASSWORDS[name])
    url = f"redis://127.0.0.1:{redis_server}/{DB}"
    redis.Redis.from_url(url).flushdb()

    async def feed() -> None:
        client = AsyncRedis.from_url(url, decode_responses=True)
        try:
            for event in rated_answers(UNHELPFUL, 20, 3, 12, time.time() - 600):
                await client.xadd(STREAM, {"event": json.dumps(event)})
            await Aggregator(client).catch_up()
        finally:
            await client.close()

    in_thread(feed)
    handoff = console_config(url, agents)
    port = handoff.port
    studio = StudioConfig(
        content_dir=content,
        approvals=2,
        review_months=12,
        model_dir=root / "models",
        rasa_url=handoff.rasa_url,
        rasa_token="unused",
        redis_url=url,
        trains=False,  # a publish that needs a model queues its retrain; nothing trains here
    )

    def make() -> Any:
        shell = ConsoleConfig(redis_url=url, agents_file=agents, port=port)
        return create_app(shell, handoff, InboxConfig(content_dir=content), studio=studio)

    with serve_app(make, port):
        yield Served(f"http://127.0.0.1:{port}", content, url)
    redis.Redis.from_url(url).flushdb()


def sign_in(page: Any, url: str, name: str) -> None:
    page.goto(f"{url}/login")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Password").fill(PASSWORDS[name])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text(f"Signed in as {name}")).to_be_visible()


def tab_to(page: Any, selector: str, limit: int = 200) -> None:
    """Press Tab until the element matching `selector` has the focus, as a keyboard user would."""
    for _ in range(limit):
        if page.evaluate("s => !!document.activeElement && document.activeElement.matches(s)", selector):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{selector} never got the focus after {limit} presses of Tab")


def retype(page: Any, selector: str, text: str) -> None:
    """Tab to a field, select what it holds and type `text` over it."""
    tab_to(page, selector)
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    if text:
        page.keyboard.type(text)


def entry_of(content: Path, topic: str, entry_id: str) -> Entry:
    return next(e for e in load_topic(content / f"{topic}.yml").entries if e.id == entry_id)


def test_the_list_finds_entries_and_links_the_reports(served: Served, page: Any) -> None:
    sign_in(page, served.url, "erin")
    page.get_by_role("link", name="Content", exact=True).click()
    expect(page.get_by_role("heading", name="Content", level=1)).to_be_visible()
    expect(page.locator(f"#entries tr[data-entry={HOURS}]")).to_contain_text("City Clerk")
    expect(page.get_by_role("link", name="Stale content report")).to_be_visible()
    expect(page.get_by_role("link", name="Try it: ask the running model")).to_be_visible()
    assert_no_wcag_violations(page, "the content list")
    spanish = page.locator(f"#entries tr[data-entry={HOURS}]").get_by_role(
        "link", name=f"Up to date (the Español text of {HOURS})"
    )
    expect(spanish).to_have_attribute("href", f"/content/{HOURS}?language=es")
    page.get_by_label("Translation").select_option("es:up-to-date")
    page.get_by_role("button", name="Find").click()
    expect(page).to_have_url(re.compile(r"translation=es%3Aup-to-date"))
    expect(page.locator(f"#entries tr[data-entry={HOURS}]")).to_be_visible()
    states = set(
        page.locator("#entries td.translation[data-language=es]").evaluate_all(
            "cs => cs.map(c => c.dataset.state)"
        )
    )
    assert states == {"up to date"}, states
    page.goto(f"{served.url}/content")

    page.get_by_label("Kind").select_option("rumor")
    page.get_by_role("button", name="Find").click()
    rows = page.locator("#entries tbody tr")
    expect(rows.first).to_be_visible()
    kinds = set(page.locator("#entries tbody tr td:nth-child(2)").all_inner_texts())
    assert kinds == {"Rumor"}, kinds
    page.get_by_label("Text").fill("meters")
    page.get_by_role("button", name="Find").click()
    expect(page.locator(f"#entries tr[data-entry={RUMOR}]")).to_be_visible()
    expect(rows).to_have_count(1)

    page.goto(f"{served.url}/content?reviewed_before=2021-01-01")
    expect(page.locator("#entries tbody tr")).to_have_count(1)
    expect(page.locator(f"#entries tr[data-entry={OVERDUE}]")).to_contain_text("2020-01-15")

    page.goto(f"{served.url}/content?q={SCRIPT}")
    expect(page.get_by_label("Text")).to_have_value(SCRIPT)
    expect(page.locator("#no-entries")).to_be_visible()
    assert page.evaluate("window.studioHacked") is None

    # Try it with no Rasa listening says so (tests/bot/studio/test_studio_tryit.py asks the real one).
    page.goto(f"{served.url}/content/try?q=when+is+city+hall+open")
    expect(page.locator("#try-error")).to_contain_text("The running model did not answer")


def test_an_editor_edits_by_keyboard_sees_problems_and_previews_publishes_and_reverts(
    served: Served, page: Any
) -> None:
    sign_in(page, served.url, "erin")
    page.goto(f"{served.url}/content/{HOURS}")
    expect(page.get_by_role("heading", name="FAQ: When is City Hall open?")).to_be_visible()
    expect(page.locator("#preview-webchat .bubble")).to_contain_text("8:30 am to 4:30 pm")
    expect(page.locator("#no-history")).to_be_visible()

    # The answer, by keyboard; the previews follow the save, the agency's facts filled in.
    retype(page, "#answer", NEW_ANSWER)
    tab_to(page, "button[value=save]")
    page.keyboard.press("Enter")
    expect(page.locator("#studio-notice")).to_contain_text("Draft saved")
    expect(page.locator("#preview-webchat .bubble")).to_contain_text("8 am to 5 pm. Questions? Call 311.")
    expect(page.locator("#preview-sms .sms")).to_contain_text("8 am to 5 pm")
    expect(page.locator("#preview-sms .sms-segments")).to_contain_text("text message")
    expect(page.locator("#review-banner")).to_contain_text("Unpublished draft")
    expect(page.get_by_label("Answer", exact=True)).to_have_value(NEW_ANSWER)

    # A source that is not a link: refused, the problem next to the field and in the summary.
    retype(page, "#source", "www.harborcity.example/city-hall")
    tab_to(page, "button[value=save]")
    page.keyboard.press("Enter")
    summary = page.locator("#error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Source")
    source = page.locator("#source")
    expect(source).to_have_attribute("aria-invalid", "true")
    described = source.get_attribute("aria-describedby") or ""
    assert "source-problem" in described.split()
    expect(page.locator("#source-problem")).to_contain_text("https://")
    expect(source).to_have_value("www.harborcity.example/city-hall")
    assert_no_wcag_violations(page, "an edit refused with a field problem")
    page.keyboard.press("Tab")  # from the summary to its link to the field
    page.keyboard.press("Enter")
    expect(source).to_be_focused()

    # Fixed, a question added with the keyboard, published: the retrain is queued and shown.
    page.keyboard.press("Control+A")
    page.keyboard.type("https://www.harborcity.example/city-hall")
    tab_to(page, "#add-question")
    page.keyboard.press("Enter")
    page.keyboard.type(NEW_QUESTION)
    tab_to(page, "#note")
    page.keyboard.type("Longer opening hours from December")
    tab_to(page, "button[value=publish]")
    page.keyboard.press("Enter")
    expect(page.locator("#studio-notice")).to_contain_text("Published")
    expect(page.locator("#training progress")).to_be_visible()
    expect(page.locator("#job-status")).to_contain_text("Waiting")
    entry = entry_of(served.content, "city_hall", HOURS)
    assert entry.answer == NEW_ANSWER and NEW_QUESTION in entry.questions
    assert entry.source == "https://www.harborcity.example/city-hall"

    # The page follows the retrain: here it ends as a training console records a refused gate.
    job = parse_qs(urlsplit(page.url).query)["job"][0]
    gate = {"passed": False, "running": {}, "new": {}, "reasons": [REFUSED_BECAUSE]}
    refused = ended_fields(
        {"state": "refused", "progress": 100, "gate": gate, "message": "kept the running model"}
    )
    redis.Redis.from_url(served.redis_url).hset(job_key(job), mapping=refused)
    expect(page.locator("#job-status")).to_contain_text("The check refused the new model", timeout=10_000)
    expect(page.locator("#gate-reasons li")).to_have_text([REFUSED_BECAUSE])
    expect(page.locator("#job-progress")).to_have_attribute("value", "100")

    # History: who, the note, the word diff; Revert from the page brings the old wording back.
    latest = page.locator("#history li[data-version='2']")
    expect(latest).to_contain_text("Published")
    expect(latest).to_contain_text("By erin")
    expect(latest).to_contain_text("Longer opening hours from December")
    answer_row = latest.locator("tr[data-field=answer]")
    expect(answer_row.locator("ins").first).to_be_visible()
    expect(answer_row.locator("del").first).to_be_visible()
    expect(answer_row).to_contain_text("8 am to 5 pm")
    expect(latest.locator("tr[data-field=questions] ins")).to_contain_text(NEW_QUESTION)
    expect(page.get_by_role("button", name="Revert to version 2")).to_have_count(0)
    assert_no_wcag_violations(page, "an entry with its history and a retrain")
    tab_to(page, "#revert-note-1")
    page.keyboard.type("Back to the old hours")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.locator("#studio-notice")).to_contain_text("Reverted to version 1")
    expect(page.locator("#preview-webchat .bubble")).to_contain_text("8:30 am to 4:30 pm")
    expect(page.locator("#history li[data-version='3']")).to_contain_text("Reverted to version 1")
    reverted = entry_of(served.content, "city_hall", HOURS)
    assert reverted.answer.startswith(OLD_ANSWER) and NEW_QUESTION not in reverted.questions


def test_a_rumor_change_waits_for_an_approver_who_reviews_but_never_edits(
    served: Served, page: Any, browser: Any
) -> None:
    sign_in(page, served.url, "erin")
    page.goto(f"{served.url}/content/{RUMOR}")
    expect(page.get_by_role("button", name="Publish")).to_have_count(0)
    page.get_by_label("Answer", exact=True).fill(
        "Parking at meters is free on Sundays, but not on city holidays."
    )
    page.get_by_role("button", name="Save for review").click()
    expect(page.locator("#studio-notice")).to_contain_text("waits for review")
    expect(page.locator("#review-banner")).to_contain_text("Awaiting review")
    expect(page.locator("#own-change")).to_be_visible()
    expect(page.get_by_role("button", name="Approve")).to_have_count(0)

    approver = browser.new_context()
    ava = approver.new_page()
    try:
        sign_in(ava, served.url, "ava")
        ava.get_by_role("link", name="Content", exact=True).click()
        expect(ava.locator(f"#entries tr[data-entry={RUMOR}] .states .badge")).to_have_text("Awaiting review")
        ava.locator(f"#entries tr[data-entry={RUMOR}] th a").click()
        expect(ava.get_by_role("button", name="Approve")).to_be_visible()
        expect(ava.locator("#entry-form")).to_have_count(0)
        expect(ava.get_by_role("button", name="Retire")).to_have_count(0)
        token = ava.locator("meta[name=csrf-token]").get_attribute("content")
        for action in ("", "/retire", "/revert"):  # the server refuses what the page does not offer
            refused = ava.request.post(
                f"{served.url}/content/{RUMOR}{action}",
                form={"csrf_token": token, "answer": "x", "version": "1"},
            )
            assert refused.status == 403, action
        change = ava.locator("#draft-changes tr[data-field=answer]")
        expect(change).to_contain_text("but not on city holidays")
        expect(change.locator("ins").first).to_contain_text("Sundays, but not")
        expect(ava.locator("#preview-webchat .bubble")).to_contain_text("but not on city holidays")
        assert_no_wcag_violations(ava, "a change awaiting review, as an approver sees it")
        ava.get_by_label("What should change (sent to the author)").fill(f"{SCRIPT} Name the holidays.")
        ava.get_by_role("button", name="Send back").click()
        expect(ava.locator("#studio-notice")).to_contain_text("Sent back")

        page.reload()
        banner = page.locator("#review-banner")
        expect(banner).to_contain_text("Changes requested")
        expect(banner).to_contain_text(f"{SCRIPT} Name the holidays.")
        assert banner.locator("script").count() == 0 and page.evaluate("window.studioHacked") is None
        page.get_by_label("Answer", exact=True).fill(
            "Parking at meters is free on Sundays, but not on New Year's Day or Independence Day."
        )
        page.get_by_role("button", name="Save for review").click()
        expect(page.locator("#review-banner")).to_contain_text("Awaiting review")

        ava.reload()
        ava.get_by_role("button", name="Approve").click()
        expect(ava.locator("#studio-notice")).to_contain_text("Approved and published")
        expect(ava.get_by_role("button", name="Revert to version 1")).to_have_count(0)
        assert "New Year's Day" in entry_of(served.content, "rumors", RUMOR).answer
        expect(ava.locator("#history li[data-version='2']")).to_contain_text("approved by ava")
    finally:
        approver.close()


def test_an_entry_answered_within_dates_then_retired_and_brought_back(served: Served, page: Any) -> None:
    sign_in(page, served.url, "erin")
    page.goto(f"{served.url}/content/{SEASONAL}")
    page.get_by_label("Answered from").fill("2099-06-01")
    page.get_by_label("Answered until").fill("2099-09-30")
    page.get_by_role("button", name="Publish").click()
    expect(page.locator("#window-banner")).to_have_text(
        "Not answered outside 2099-06-01 – 2099-09-30: citizens are not answered with it today."
    )
    expect(page.locator("#entry-meta .badge")).to_have_text("Not answered now")
    unavailable = page.locator("#preview-unavailable")
    expect(unavailable).to_contain_text("answered only from 2099-06-01 to 2099-09-30")
    expect(unavailable).to_contain_text("don't have current information on that. Please call 311")

    page.get_by_role("button", name="Retire").click()
    expect(page.locator("#studio-notice")).to_contain_text("Retired")
    expect(page.locator("#retired-banner")).to_be_visible()
    expect(unavailable).to_contain_text("This entry is retired")
    assert entry_of(served.content, "safety", SEASONAL).retired
    page.get_by_role("button", name="Bring back").click()
    expect(page.locator("#studio-notice")).to_contain_text("Brought back")
    expect(page.get_by_role("button", name="Retire")).to_be_visible()
    assert not entry_of(served.content, "safety", SEASONAL).retired
    expect(page.locator("#history li[data-version='3'] h3")).to_contain_text("Retired")
    expect(page.locator("#history li[data-version='4'] h3")).to_contain_text("Brought back")


def test_agents_are_kept_out(served: Served, page: Any) -> None:
    sign_in(page, served.url, "dana")
    expect(page.get_by_role("link", name="Content", exact=True)).to_have_count(0)
    for path in ("/content", f"/content/{HOURS}", "/content/stale", "/content/try"):
        response = page.goto(f"{served.url}{path}")
        assert response is not None and response.status == 403, path
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()


def test_the_stale_report_lists_overdue_and_unhelpful_answers(served: Served, page: Any) -> None:
    sign_in(page, served.url, "ava")
    page.goto(f"{served.url}/content")
    page.get_by_role("link", name="Stale content report").click()
    expect(page.get_by_role("heading", name="Stale content", level=1)).to_be_visible()
    expect(page.locator(f"#overdue tr[data-entry={OVERDUE}]")).to_contain_text("2020-01-15")
    expect(page.locator(f"#overdue tr[data-entry={HOURS}]")).to_have_count(0)
    row = page.locator(f"#unhelpful tr[data-entry={UNHELPFUL}]")
    expect(row.locator("td.rate")).to_have_text("20% (3 of 15)")
    expect(row).to_contain_text("20")
    # The rumor's English changed in an earlier test: its Spanish is stale; every other one is up to date.
    stale_rows = page.locator("#translations tbody tr")
    expect(stale_rows).to_have_count(1)
    expect(page.locator(f"#translations tr[data-entry={RUMOR}][data-language=es]")).to_contain_text("Stale")
    expect(page.locator(f"#translations tr[data-entry={RUMOR}] a")).to_have_attribute(
        "href", f"/content/{RUMOR}?language=es"
    )
    assert_no_wcag_violations(page, "the stale content report")


def test_a_new_entry_is_created_as_a_draft(served: Served, page: Any) -> None:
    sign_in(page, served.url, "erin")
    page.goto(f"{served.url}/content/new")
    assert_no_wcag_violations(page, "the new entry form")
    page.get_by_label("Id").fill("Bad Id")
    page.get_by_role("button", name="Save draft").click()
    expect(page.locator("#error-summary")).to_contain_text("Id")
    expect(page.locator("#id")).to_have_attribute("aria-invalid", "true")
    page.get_by_label("Id").fill("bench_rental")
    page.get_by_label("Topic").select_option("parks_library")
    page.get_by_label("Answer", exact=True).fill(
        "You can rent a park bench for events: call {agency.phone_311}."
    )
    page.get_by_label("Source", exact=True).fill("https://www.harborcity.example/parks")
    page.get_by_label("Department").fill("Parks and Recreation")
    page.get_by_label("Question 1", exact=True).fill("can i rent a park bench for my wedding")
    # Rows by keyboard: Add focuses the new row; its Remove button takes it away and focus goes back.
    page.get_by_role("button", name="Add a question").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_label("Question 2", exact=True)).to_be_focused()
    page.keyboard.type("bench hire")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Remove question 2")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_label("Question 2", exact=True)).to_have_count(0)
    expect(page.get_by_label("Question 1", exact=True)).to_be_focused()
    expect(page.locator("#announcer")).to_have_text("Question removed: bench hire")
    page.get_by_role("button", name="Save draft").click()
    expect(page.locator("#studio-notice")).to_contain_text("Draft of the new entry saved")
    expect(page.locator("#preview-webchat .bubble")).to_contain_text("call 311")
    expect(page.get_by_role("button", name="Publish")).to_be_visible()


REFERRAL = "passport"  # a referral translated into Spanish: its answer and the agency it names
SPANISH_ANSWER = (
    "Solicite o renueve su pasaporte de EE. UU. en las páginas del Departamento de Estado. "
    "¿Dudas? Llame al {agency.phone_311}, {agency.hours_311}."
)


def test_the_preview_shows_the_button_after_an_answer_that_describes_a_task(
    served: Served, page: Any
) -> None:
    """`answer_buttons` in the settings: the pothole answer ends with "Report it here" on web chat, a
    numbered option by SMS, in each language."""
    sign_in(page, served.url, "erin")
    page.goto(f"{served.url}/content/pothole")
    expect(page.locator("#preview-webchat .reply-buttons li")).to_have_text(["Report it here"])
    expect(page.locator("#preview-sms .sms")).to_contain_text("1. Report it here")
    assert_no_wcag_violations(page, "a preview with a button after the answer")
    page.goto(f"{served.url}/content/pothole?language=es")
    expect(page.locator("#preview-webchat .reply-buttons")).to_have_attribute("lang", "es")
    expect(page.locator("#preview-webchat .reply-buttons li")).to_have_text(["Reportarlo aquí"])
    expect(page.locator("#preview-sms .sms")).to_contain_text("1. Reportarlo aquí")
    page.goto(f"{served.url}/content/{HOURS}")
    expect(page.locator("#preview-webchat .bubble")).to_be_visible()
    expect(page.locator("#preview-webchat .reply-buttons")).to_have_count(0)


def test_an_editor_switches_to_spanish_and_edits_checks_previews_and_publishes_it(
    served: Served, page: Any
) -> None:
    """The language switch: the Spanish text of a referral edited, refused next to its field, saved
    (stamped), previewed in Spanish, left stale by an English edit and published with it."""
    sign_in(page, served.url, "erin")
    page.goto(f"{served.url}/content/{REFERRAL}")
    switch = page.get_by_role("navigation", name="Language of the text shown")
    expect(switch.get_by_role("link", name="English")).to_have_attribute("aria-current", "page")
    switch.get_by_role("link", name="Español Up to date").click()
    expect(page).to_have_url(f"{served.url}/content/{REFERRAL}?language=es")
    expect(page.locator("#translation-state")).to_contain_text("Up to date")
    answer = page.get_by_label("Answer in Español", exact=True)
    expect(answer).to_have_attribute("lang", "es")
    expect(answer).to_have_value(re.compile(r"^Solicite o renueve su pasaporte"))
    expect(page.get_by_label("Agency that handles it, in Español")).to_have_value(
        "el Departamento de Estado de EE. UU."
    )
    expect(page.get_by_label("Question 1", exact=True)).to_have_value(
        "¿Cómo saco un pasaporte de Estados Unidos?"
    )
    expect(page.locator("#english-text")).to_contain_text("the U.S. Department of State")
    expect(page.locator("#preview-webchat .bubble")).to_have_attribute("lang", "es")
    expect(page.locator("#preview-webchat .bubble")).to_contain_text("Solicite o renueve su pasaporte")
    expect(page.locator("#try-entry-question")).to_have_value("¿Cómo saco un pasaporte de Estados Unidos?")

    # A phone number the agency does not have: refused, the problem on the Spanish answer.
    answer.fill("Llame al 555-999-1234 para su pasaporte.")
    page.get_by_role("button", name="Save draft").click()
    expect(page.locator("#error-summary")).to_contain_text("Answer: phone number '555-999-1234'")
    expect(answer).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#answer-problem")).to_contain_text("555-999-1234")
    assert_no_wcag_violations(page, "a Spanish edit refused with a field problem")

    answer.fill(SPANISH_ANSWER)
    page.get_by_role("button", name="Save draft").click()
    expect(page.locator("#studio-notice")).to_contain_text("Draft saved")
    expect(page).to_have_url(re.compile(r"language=es"))
    expect(page.locator("#translation-state")).to_contain_text("Up to date")
    expect(page.locator("#preview-webchat .bubble")).to_contain_text(
        "¿Dudas? Llame al 311, de lunes a sábado, de 7 a. m. a 7 p. m."
    )
    expect(page.locator("#preview-sms .sms")).to_contain_text("¿Dudas? Llame al 311")

    # The English changed: the Spanish is kept but stale; both published together.
    switch.get_by_role("link", name="English").click()
    english = "Apply for or renew a U.S. passport on the State Department's passport pages."
    page.get_by_label("Answer", exact=True).fill(english)
    page.get_by_role("button", name="Save draft").click()
    expect(page.locator("#studio-notice")).to_contain_text("Draft saved")
    expect(switch.get_by_role("link", name="Español Stale")).to_be_visible()
    switch.get_by_role("link", name="Español Stale").click()
    expect(page.locator("#translation-state")).to_contain_text("Stale: the English")
    expect(answer).to_have_value(SPANISH_ANSWER)
    assert_no_wcag_violations(page, "the Spanish text of an entry, stale")
    page.get_by_role("button", name="Publish").click()
    expect(page.locator("#studio-notice")).to_contain_text("Published")
    expect(page.locator("#translation-state")).to_contain_text("Up to date")
    published = entry_of(served.content, "referrals", REFERRAL)
    spanish = published.translation("es")
    assert published.answer == english and spanish is not None and spanish.answer == SPANISH_ANSWER
    assert spanish.agency == "el Departamento de Estado de EE. UU."
    spanish_rows = page.locator("#history li[data-version='2'] tr[data-field^='translations.es']")
    expect(spanish_rows.first).to_be_visible()
    expect(
        page.locator("#history li[data-version='2'] tr[data-field='translations.es.answer'] th")
    ).to_have_text("Español: Answer")
