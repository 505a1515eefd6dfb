"""The content studio's JSON API on the real console app, over HTTP, with a real Redis.

Each test works on its own copy of the project's content and agency facts (the repository's files
are never written): editors search, edit, publish, revert, create and retire entries; a rumor or
crisis change waits for a second person, who approves it (which publishes it) or sends it back;
nobody approves their own change; agents get 403 and strangers 401. A publish writes the topic file
in the canonical layout, appends to the entry's history on disk, regenerates the Rasa files and
puts the new reply live in Redis (`bot.studio.live`), where the NLG reads it. Retraining is only
queued (``trains=False``): the training itself is `bot.studio.jobs`' own tests'.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiohttp.test_utils import TestClient, TestServer
from console_support import audit_actions
from redis.asyncio import Redis
from stack_support import console_config, empty_redis_db

from bot.console.accounts import add_account
from bot.console.app import create_app
from bot.console.config import ConsoleConfig
from bot.content.generate import RESPONSES_OUT, entry_variations
from bot.content.lint import months_before
from bot.content.model import (
    Entry,
    all_entries,
    english_digest,
    load_content,
    load_render_settings,
    load_topic,
    parse_day,
)
from bot.content.writer import write_topic
from bot.days import local_today
from bot.inbox.config import InboxConfig
from bot.settings import Settings
from bot.studio.config import StudioConfig
from bot.studio.live import LiveContent, variations_digest

ROOT = Path(__file__).resolve().parents[3]
DB = 12  # this module's database on the shared test Redis
ROLES = {"erin": "editor", "ed": "editor", "ava": "approver", "dana": "agent"}
PASSWORDS = {name: f"{name}-studio-password" for name in ROLES}
NEW_ANSWER = (
    "During a flood watch, free sandbags are at the Eastside Fire Station, 12 Pier Road, up to 20 per home."
)
REVIEW_MONTHS = 6


@pytest.fixture(scope="module")
def accounts(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """Two editors, an approver and an agent; their API tokens (bcrypt hashing once per module)."""
    path = tmp_path_factory.mktemp("studio-accounts") / "agents.yml"
    return path, {name: add_account(path, name, role, PASSWORDS[name]) for name, role in ROLES.items()}


@pytest.fixture
async def redis(redis_server: int) -> AsyncIterator[Redis]:
    async with empty_redis_db(redis_server, DB) as client:
        yield client


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the project's content and agency facts; returns its content directory."""
    content = tmp_path / "data" / "content"
    shutil.copytree(
        ROOT / "data" / "content", content, ignore=shutil.ignore_patterns("_history", "_studio_*")
    )
    shutil.copy(ROOT / "data" / "agency.yml", tmp_path / "data" / "agency.yml")
    return content


class Studio:
    """A started console with the studio on `content`, and calls as one account or another."""

    def __init__(self, client: TestClient, tokens: dict[str, str], content: Path) -> None:
        self.client, self.tokens, self.content = client, tokens, content

    async def call(self, who: str | None, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"} if who else {}
        response = await self.client.request(method, path, json=body, headers=headers)
        return response.status, await response.json()

    def entry(self, entry_id: str) -> Entry:
        return next(e for e in all_entries(load_content(self.content)) if e.id == entry_id)


@pytest.fixture
async def studio_console(
    redis_server: int, redis: Redis, accounts: tuple[Path, dict[str, str]], project: Path
) -> AsyncIterator[Any]:
    """``await studio_console(approvals=2)``: the real console app serving the studio on `project`."""
    clients: list[TestClient] = []

    async def make(approvals: int = 2) -> Studio:
        url = f"redis://127.0.0.1:{redis_server}/{DB}"
        config = StudioConfig(
            content_dir=project, approvals=approvals, review_months=REVIEW_MONTHS, redis_url=url, trains=False
        )
        app = create_app(
            ConsoleConfig(redis_url=url, agents_file=accounts[0]),
            console_config(url, accounts[0]),
            InboxConfig(content_dir=project),
            studio=config,
        )
        client = TestClient(TestServer(app))
        await client.start_server()
        clients.append(client)
        return Studio(client, accounts[1], project)

    yield make
    for client in clients:
        await client.close()


def today() -> str:
    return local_today(datetime.now(timezone.utc), ZoneInfo(Settings.from_env().agency.timezone)).isoformat()


async def test_editors_and_approvers_list_search_filter_and_read_entries(studio_console: Any) -> None:
    studio = await studio_console()
    entries = all_entries(load_content(studio.content))
    status, listed = await studio.call("erin", "GET", "/api/content/entries")
    assert status == 200
    assert [row["id"] for row in listed["entries"]] == [e.id for e in entries]

    async def ids(query: str) -> list[str]:
        status, found = await studio.call("erin", "GET", f"/api/content/entries?{query}")
        assert status == 200, found
        return [row["id"] for row in found["entries"]]

    assert await ids("q=SANDBAGS flood") == ["sandbags"]
    assert await ids("topic=rumors") == [e.id for e in entries if e.topic == "rumors"]
    assert await ids("kind=referral") == [e.id for e in entries if e.kind == "referral"]
    assert await ids("department=police") == [e.id for e in entries if e.department == "Police"]
    assert await ids("topic=safety&department=police") == ["emergency_numbers", "noise"]
    cutoff = months_before(parse_day(today()) or datetime.now().date(), REVIEW_MONTHS)
    overdue = [e.id for e in entries if (parse_day(e.last_reviewed) or cutoff) < cutoff]
    assert overdue and await ids("stale=1") == overdue

    status, one = await studio.call("ava", "GET", "/api/content/entries/sandbags")
    assert status == 200
    assert one["entry"]["answer"] == studio.entry("sandbags").answer and one["draft"] is None
    assert (one["state"], one["needs_approval"], one["topic"]) == ("published", False, "safety")
    assert one["window"]["answerable"] is True
    status, rumor = await studio.call("erin", "GET", "/api/content/entries/sunday_meters")
    assert rumor["needs_approval"] is True and rumor["kind"] == "rumor"
    status, missing = await studio.call("erin", "GET", "/api/content/entries/no_such_entry")
    assert status == 404 and missing["error"]


async def test_agents_get_403_and_strangers_401(studio_console: Any) -> None:
    studio = await studio_console()
    before = (studio.content / "safety.yml").read_bytes()
    calls = [
        ("GET", "/api/content/entries", None),
        ("GET", "/api/content/entries/sandbags", None),
        ("PUT", "/api/content/entries/sandbags", {"answer": NEW_ANSWER}),
        ("POST", "/api/content/entries/sandbags/publish", {}),
        ("POST", "/api/content/entries/sandbags/approve", {}),
        ("POST", "/api/content/entries/sandbags/retire", {}),
        ("GET", "/api/content/entries/sandbags/history", None),
        ("POST", "/api/content/entries/sandbags/revert", {"version": 1}),
        ("POST", "/api/content/entries", {"id": "x", "topic": "safety"}),
    ]
    for method, path, body in calls:
        assert (await studio.call("dana", method, path, body))[0] == 403, (method, path)
        assert (await studio.call(None, method, path, body))[0] == 401, (method, path)
    for method, path, body in calls[2:4] + calls[5:6] + calls[7:]:
        assert (await studio.call("ava", method, path, body))[0] == 403, ("approvers only review", path)
    assert (studio.content / "safety.yml").read_bytes() == before


async def test_an_invalid_edit_is_refused_with_the_problem_on_its_field(studio_console: Any) -> None:
    studio = await studio_console()
    before = (studio.content / "safety.yml").read_bytes()
    status, refused = await studio.call(
        "erin", "PUT", "/api/content/entries/sandbags", {"answer": "Call 555-010-9999 for sandbags."}
    )
    assert status == 400
    answer = [p for p in refused["problems"] if p["field"] == "answer"]
    assert answer and answer[0]["error"] and "555-010-9999" in answer[0]["message"], refused
    status, refused = await studio.call("erin", "PUT", "/api/content/entries/sandbags", {"questions": 7})
    assert status == 400 and [p["field"] for p in refused["problems"]] == ["questions"]
    assert (studio.content / "safety.yml").read_bytes() == before
    assert not (studio.content / "_studio_drafts" / "sandbags.json").exists()


async def test_a_published_faq_edit_is_in_the_file_history_and_live_and_a_revert_restores_it(
    studio_console: Any, redis: Redis
) -> None:
    studio = await studio_console()
    old = studio.entry("sandbags")
    settings = load_render_settings(studio.content)
    old_digest = variations_digest(entry_variations(old, settings))
    others = [e for e in load_topic(studio.content / "safety.yml").entries if e.id != "sandbags"]

    status, saved = await studio.call(
        "erin", "PUT", "/api/content/entries/sandbags", {"answer": NEW_ANSWER, "note": "new pickup site"}
    )
    assert status == 200, saved
    assert (saved["state"], saved["draft"]["author"], saved["draft"]["fields"]["answer"]) == (
        "draft",
        "erin",
        NEW_ANSWER,
    )
    assert studio.entry("sandbags").answer == old.answer, "a draft is not published"

    status, done = await studio.call("erin", "POST", "/api/content/entries/sandbags/publish", {})
    assert status == 200, done
    assert (done["version"], done["action"], done["job"]) == (2, "publish", None), "wording only: no retrain"
    topic = load_topic(studio.content / "safety.yml")
    published = next(e for e in topic.entries if e.id == "sandbags")
    assert (published.answer, published.last_reviewed, published.questions) == (
        NEW_ANSWER,
        today(),
        old.questions,
    )
    assert [e.answer for e in topic.entries if e.id != "sandbags"] == [e.answer for e in others]
    assert not write_topic(topic), "the file is in the writer's canonical layout"
    generated = (studio.content.parent.parent / RESPONSES_OUT).read_text(encoding="utf-8")
    assert json.dumps(NEW_ANSWER)[1:-1] in generated

    status, history = await studio.call("erin", "GET", "/api/content/entries/sandbags/history")
    baseline, change = history["versions"]
    assert (baseline["version"], baseline["action"], baseline["by"]) == (1, "baseline", "content files")
    assert baseline["entry"]["answer"] == old.answer
    assert (change["version"], change["action"], change["by"], change["note"]) == (
        2,
        "publish",
        "erin",
        "new pickup site",
    )
    assert change["changes"] == {"answer": [old.answer, NEW_ANSWER]}
    assert (studio.content / "_history" / "sandbags.jsonl").read_text().count("\n") == 2

    live = (await LiveContent(redis).all())["utter_faq/sandbags"]
    assert NEW_ANSWER in live.variations[0]["text"] and live.version == 2
    assert old_digest in live.known
    status, view = await studio.call("erin", "GET", "/api/content/entries/sandbags")
    assert (view["state"], view["draft"], view["version"]) == ("published", None, 2)

    status, reverted = await studio.call(
        "erin", "POST", "/api/content/entries/sandbags/revert", {"version": 1, "note": "site flooded"}
    )
    assert status == 200, reverted
    assert (reverted["version"], reverted["action"]) == (3, "revert")
    assert studio.entry("sandbags").answer == old.answer
    status, history = await studio.call("erin", "GET", "/api/content/entries/sandbags/history")
    last = history["versions"][-1]
    assert (last["action"], last["reverted_to"], last["note"]) == ("revert", 1, "site flooded")
    assert last["changes"] == {"answer": [NEW_ANSWER, old.answer]}
    live = (await LiveContent(redis).all())["utter_faq/sandbags"]
    assert live.variations == entry_variations(old, settings) and live.version == 3
    assert {old_digest, variations_digest(entry_variations(published, settings))} <= set(live.known)
    assert (await studio.call("erin", "POST", "/api/content/entries/sandbags/revert", {"version": 9}))[
        0
    ] == 404

    actions = [
        (a["action"], a["actor"], a["target"])
        for a in await audit_actions(redis)
        if a["action"].startswith("content")
    ]
    assert actions == [
        ("content_save", "erin", "sandbags"),
        ("content_publish", "erin", "sandbags"),
        ("content_revert", "erin", "sandbags"),
    ]


async def test_a_rumor_change_waits_for_a_second_person_who_approves_or_sends_it_back(
    studio_console: Any, redis: Redis
) -> None:
    studio = await studio_console()
    facts = "Meters are free on Sundays and city holidays, but not in the Harbor Garage."
    status, saved = await studio.call("erin", "PUT", "/api/content/entries/sunday_meters", {"answer": facts})
    assert status == 200 and (saved["state"], saved["needs_approval"]) == ("awaiting_review", True)

    status, refused = await studio.call("erin", "POST", "/api/content/entries/sunday_meters/publish", {})
    assert status == 403 and refused["error"]
    status, refused = await studio.call("erin", "POST", "/api/content/entries/sunday_meters/approve", {})
    assert status == 403 and "own" in refused["error"]
    assert (await studio.call("dana", "POST", "/api/content/entries/sunday_meters/approve", {}))[0] == 403

    status, refused = await studio.call("ava", "POST", "/api/content/entries/sunday_meters/send-back", {})
    assert status == 400 and refused["problems"][0]["field"] == "comment"
    comment = "Name the garage's own hours too."
    status, sent = await studio.call(
        "ava", "POST", "/api/content/entries/sunday_meters/send-back", {"comment": comment}
    )
    assert status == 200 and (sent["state"], sent["draft"]["comment"]) == ("changes_requested", comment)
    assert (await studio.call("ava", "POST", "/api/content/entries/sunday_meters/approve", {}))[0] == 409

    facts += " The garage charges every day."
    status, saved = await studio.call("erin", "PUT", "/api/content/entries/sunday_meters", {"answer": facts})
    assert saved["state"] == "awaiting_review" and saved["draft"]["comment"] == ""
    status, done = await studio.call("ava", "POST", "/api/content/entries/sunday_meters/approve", {})
    assert status == 200, done
    assert (done["published"], done["approved_by"], done["version"]) == (True, ["ava"], 2)
    assert studio.entry("sunday_meters").answer == facts
    status, history = await studio.call("ava", "GET", "/api/content/entries/sunday_meters/history")
    assert (history["versions"][-1]["by"], history["versions"][-1]["approved_by"]) == ("erin", ["ava"])
    assert facts in (await LiveContent(redis).all())["utter_faq/sunday_meters"].variations[0]["text"]

    # A crisis entry: a second editor approves as well as an approver would.
    status, saved = await studio.call(
        "erin", "PUT", "/api/content/entries/immediate_danger", {"department": "Police Department"}
    )
    assert saved["state"] == "awaiting_review"
    status, done = await studio.call("ed", "POST", "/api/content/entries/immediate_danger/approve", {})
    assert status == 200 and done["approved_by"] == ["ed"]
    assert studio.entry("immediate_danger").department == "Police Department"
    reviews = [(a["action"], a["actor"]) for a in await audit_actions(redis) if a["action"] != "content_save"]
    assert ("content_send_back", "ava") in reviews and ("content_approve", "ed") in reviews


async def test_with_one_approval_the_author_publishes_a_rumor_alone(studio_console: Any) -> None:
    studio = await studio_console(approvals=1)
    facts = "Meters are free on Sundays and city holidays."
    status, saved = await studio.call("erin", "PUT", "/api/content/entries/sunday_meters", {"answer": facts})
    assert (saved["state"], saved["needs_approval"]) == ("draft", False)
    status, done = await studio.call("erin", "POST", "/api/content/entries/sunday_meters/publish", {})
    assert status == 200 and done["approved_by"] == []
    assert studio.entry("sunday_meters").answer == facts


async def test_a_created_entry_joins_its_topic_and_a_retired_one_stops_being_answered(
    studio_console: Any, redis: Redis
) -> None:
    studio = await studio_console()
    new = {
        "id": "splash_pads",
        "topic": "parks_library",
        "kind": "faq",
        "department": "Parks and Recreation",
        "questions": ["When are the splash pads on?", "splash pad hours", "is the spray park open"],
        "answer": "Splash pads run daily 10 am to 8 pm from Memorial Day to Labor Day.",
        "source": "https://www.harborcity.example/pools",
    }
    status, created = await studio.call("erin", "POST", "/api/content/entries", new)
    assert status == 201, created
    assert (created["state"], created["entry"], created["draft"]["is_new"]) == ("draft", None, True)
    assert (await studio.call("erin", "POST", "/api/content/entries", new))[0] == 409
    assert "splash_pads" in [
        row["id"] for row in (await studio.call("erin", "GET", "/api/content/entries?q=splash"))[1]["entries"]
    ]

    status, done = await studio.call(
        "erin", "POST", "/api/content/entries/splash_pads/publish", {"note": "summer"}
    )
    assert status == 200, done
    assert (done["version"], done["action"]) == (1, "create")
    assert isinstance(done["job"], str) and done["job"], "a new entry needs a retrain"
    topic = load_topic(studio.content / "parks_library.yml")
    assert topic.entries[-1].id == "splash_pads" and topic.entries[-1].questions == tuple(new["questions"])
    assert (await LiveContent(redis).all())["utter_faq/splash_pads"].version == 1

    status, retired = await studio.call(
        "erin", "POST", "/api/content/entries/pools/retire", {"note": "closed"}
    )
    assert status == 200, retired
    assert (retired["published"], retired["action"]) == (True, "retire") and retired["job"]
    assert studio.entry("pools").retired is True
    assert (await studio.call("erin", "POST", "/api/content/entries/pools/retire", {}))[0] == 409
    assert (await LiveContent(redis).all())["utter_faq/pools"].retired is True
    generated = (studio.content.parent.parent / RESPONSES_OUT).read_text(encoding="utf-8")
    assert "utter_faq/pools:" not in generated and "utter_faq/splash_pads:" in generated
    status, view = await studio.call("erin", "GET", "/api/content/entries/pools")
    assert view["window"]["answerable"] is False
    actions = [a["action"] for a in await audit_actions(redis)]
    assert {"content_create", "content_publish", "content_retire"} <= set(actions)


async def test_a_signed_in_session_needs_its_csrf_token_to_change_anything(studio_console: Any) -> None:
    studio = await studio_console()
    signed = await studio.client.post("/api/login", json={"name": "erin", "password": PASSWORDS["erin"]})
    csrf = (await signed.json())["csrf_token"]
    assert (await studio.client.get("/api/content/entries/noise")).status == 200
    body = {"answer": "Quiet hours are 10 pm to 7 am. Call {agency.police_non_emergency} about noise."}
    response = await studio.client.put("/api/content/entries/noise", json=body)
    assert response.status == 403
    response = await studio.client.put(
        "/api/content/entries/noise", json=body, headers={"X-CSRF-Token": csrf}
    )
    assert response.status == 200 and (await response.json())["draft"]["author"] == "erin"


async def test_the_json_api_carries_translations_an_english_edit_keeps_them_and_a_spanish_one_stamps(
    studio_console: Any,
) -> None:
    """The entry's JSON sent back whole with a new English answer: its Spanish is published unchanged
    (now stale); then a PUT of the Spanish answer alone stamps it, and a revert brings back both."""
    studio = await studio_console()
    old = studio.entry("sandbags")
    spanish = old.translation("es")
    assert spanish is not None and spanish.translated_from == english_digest(old)
    status, one = await studio.call("erin", "GET", "/api/content/entries/sandbags")
    assert status == 200 and one["languages"] == ["en", "es"] and one["translations"] == {"es": "up to date"}
    fields = one["entry"]
    assert fields["translations"]["es"]["answer"] == spanish.answer

    status, saved = await studio.call(
        "erin", "PUT", "/api/content/entries/sandbags", {**fields, "answer": NEW_ANSWER}
    )
    assert status == 200, saved
    assert saved["draft"]["fields"]["translations"] == fields["translations"] and saved["translations"] == {
        "es": "stale"
    }
    status, done = await studio.call("erin", "POST", "/api/content/entries/sandbags/publish", {})
    assert status == 200, done
    published = studio.entry("sandbags")
    assert published.answer == NEW_ANSWER and published.translations == old.translations, "the Spanish kept"

    reworded = (
        "Durante una alerta de inundación, hay sacos de arena gratis en la estación de bomberos Eastside."
    )
    status, saved = await studio.call(
        "erin", "PUT", "/api/content/entries/sandbags", {"translations": {"es": {"answer": reworded}}}
    )
    assert status == 200 and saved["translations"] == {"es": "up to date"}, saved
    status, refused = await studio.call(
        "erin", "PUT", "/api/content/entries/sandbags", {"translations": {"es": {"answer": ""}}}
    )
    assert status == 400 and [p["field"] for p in refused["problems"]] == ["translations.es.answer"]
    status, done = await studio.call("erin", "POST", "/api/content/entries/sandbags/publish", {})
    assert status == 200, done
    now = studio.entry("sandbags").translation("es")
    assert now is not None and (now.answer, now.questions) == (reworded, spanish.questions)
    assert now.translated_from == english_digest(studio.entry("sandbags"))

    status, history = await studio.call("erin", "GET", "/api/content/entries/sandbags/history")
    assert [v["action"] for v in history["versions"]] == ["baseline", "publish", "publish"]
    assert set(history["versions"][2]["changes"]) == {"translations"}
    status, done = await studio.call("erin", "POST", "/api/content/entries/sandbags/revert", {"version": 1})
    assert status == 200, done
    assert studio.entry("sandbags").translations == old.translations
