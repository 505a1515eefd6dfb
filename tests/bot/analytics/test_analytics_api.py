"""The analytics API on the real console app and a real Redis: who may read it, the summary's keys and
figures (with the money saved) from a known stream of events, the CSV per day, and bad date ranges;
the emerging questions per language (issue #19) in the API and on the page, filtered by language.

The events are what Rasa puts on `civic:events` (the shapes of contract §1); the console's own
aggregator (and a `catch_up` here, so the test need not wait) turns them into the daily counts.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from console_support import api_sign_in
from redis.asyncio import Redis
from stack_support import console_config, empty_redis_db

from bot.analytics.aggregator import Aggregator
from bot.analytics.savings import SETTINGS_FILE, load_settings, settings_problems
from bot.analytics.web import answer_names, charts
from bot.console.accounts import add_account
from bot.console.app import create_app
from bot.console.config import ConsoleConfig
from bot.events import STREAM
from bot.inbox.config import InboxConfig
from bot.inbox.emerging import MIN_THIS_WEEK
from bot.inbox.selection import Message
from bot.inbox.store import InboxStore

DB = 15  # this helper's database on the shared test Redis
ROOT = Path(__file__).resolve().parents[3]
PASSWORDS = {"erin": "erin-secret-pw", "dana": "dana-secret-pw"}  # console_support's, for api_sign_in
ROLES = {"erin": "editor", "dana": "agent"}
SUMMARY_KEYS = {
    "conversations",
    "messages",
    "contained",
    "containment_rate",
    "handoffs",
    "handoff_wait",
    "declined",
    "clarifications",
    "helpful",
    "not_helpful",
    "lookups",
    "lookup_failures",
    "reports_filed",
    "csat",
    "broadcasts",
    "by_channel",
    "top_answers",
    "from",
    "to",
}
TODAY = datetime.now(timezone.utc).date()
DAY1, DAY2 = TODAY - timedelta(days=3), TODAY - timedelta(days=2)


@pytest.fixture(scope="module")
def tokens(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    path = tmp_path_factory.mktemp("analytics-accounts") / "agents.yml"
    return path, {name: add_account(path, name, role, PASSWORDS[name]) for name, role in ROLES.items()}


@pytest.fixture
async def redis_db(redis_server: int) -> AsyncIterator[Redis]:
    async with empty_redis_db(redis_server, DB) as client:
        yield client


@pytest.fixture
async def api(
    redis_server: int, redis_db: Redis, tokens: tuple[Path, dict[str, str]]
) -> AsyncIterator[TestClient]:
    url = f"redis://127.0.0.1:{redis_server}/{DB}"
    handoff = console_config(url, tokens[0])
    app = create_app(ConsoleConfig(redis_url=url, agents_file=tokens[0]), handoff, InboxConfig())
    client = TestClient(TestServer(app))
    await client.start_server()
    yield client
    await client.close()


def bearer(tokens: tuple[Path, dict[str, str]], name: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens[1][name]}"}


# ---- a known stream: five conversations over two days -----------------------------------------------


def at(day: date, seconds: float) -> float:
    return datetime.combine(day, time(12), timezone.utc).timestamp() + seconds


def says(sender: str, when: float, text: str, channel: str, intent: str = "ask") -> dict[str, Any]:
    parse: dict[str, Any] = {"intent": {"name": intent, "confidence": 0.95}, "entities": []}
    return {
        "event": "user",
        "sender_id": sender,
        "timestamp": when,
        "text": text,
        "input_channel": channel,
        "parse_data": parse,
    }


def answers(sender: str, when: float, entry: str, answer_id: str, topic: str) -> dict[str, Any]:
    rating = {"answer": answer_id, "entry": entry, "variant": "", "kind": "faq", "topic": topic}
    metadata = {"utter_action": f"utter_faq/{entry}", "rating": rating}
    return {
        "event": "bot",
        "sender_id": sender,
        "timestamp": when,
        "text": "An answer.",
        "metadata": metadata,
    }


def rates(sender: str, when: float, answer_id: str, value: str, channel: str) -> dict[str, Any]:
    event = says(sender, when, f'/feedback{{"answer":"{answer_id}","value":"{value}"}}', channel, "feedback")
    event["parse_data"]["entities"] = [
        {"entity": "answer", "value": answer_id},
        {"entity": "value", "value": value},
    ]
    return event


def declines(sender: str, when: float) -> dict[str, Any]:
    return {"event": "action", "sender_id": sender, "timestamp": when, "name": "utter_out_of_scope"}


def handed(sender: str, when: float, reason: str, wait: float) -> list[dict[str, Any]]:
    queued = {"utter_action": "utter_handoff_queued", "handoff_reason": reason}
    return [
        {"event": "bot", "sender_id": sender, "timestamp": when, "text": "Queued.", "metadata": queued},
        {"event": "pause", "sender_id": sender, "timestamp": when + wait},
    ]


def stream() -> list[dict[str, Any]]:
    """Day 1: c1 (web) rated an answer up; c2 (SMS) rated it down, then asked something out of scope;
    c3 (Telegram) got an answer, asked for a person and was claimed after 90 s.
    Day 2: c4 (web) was declined; c5 (web) got an answer and did not rate it."""
    d1, d2 = DAY1, DAY2
    return [
        says("c1", at(d1, 0), "when is trash pickup", "socketio"),
        answers("c1", at(d1, 1), "trash_day", "a1", "trash"),
        rates("c1", at(d1, 5), "a1", "up", "socketio"),
        says("c2", at(d1, 10), "trash day?", "twilio"),
        answers("c2", at(d1, 11), "trash_day", "a2", "trash"),
        rates("c2", at(d1, 15), "a2", "down", "twilio"),
        says("c2", at(d1, 20), "do you rent kayaks at the marina", "twilio"),
        declines("c2", at(d1, 21)),
        says("c3", at(d1, 30), "parking permit", "telegram"),
        answers("c3", at(d1, 31), "parking_permit", "a3", "parking"),
        says("c3", at(d1, 40), "a person please", "telegram", "request_human"),
        *handed("c3", at(d1, 41), "requested", 90),
        says("c4", at(d2, 0), "tell me a joke", "socketio"),
        declines("c4", at(d2, 1)),
        says("c5", at(d2, 10), "trash pickup day", "socketio"),
        answers("c5", at(d2, 11), "trash_day", "a5", "trash"),
    ]


async def load_stream(redis: Redis) -> None:
    for event in stream():
        await redis.xadd(STREAM, {"event": json.dumps(event)})
    await Aggregator(redis).catch_up()


def query(start: date = DAY1, end: date = DAY2) -> str:
    return f"from={start.isoformat()}&to={end.isoformat()}"


# ---- who may read ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/api/analytics/summary", "/api/analytics/export.csv", "/api/analytics/emerging"]
)
async def test_only_editors_read_the_figures(api: TestClient, tokens: Any, path: str) -> None:
    anonymous = await api.get(path)
    assert anonymous.status == 401
    assert "error" in await anonymous.json()
    wrong = await api.get(path, headers={"Authorization": "Bearer not-a-token"})
    assert wrong.status == 401
    agent = await api.get(path, headers=bearer(tokens, "dana"))
    assert agent.status == 403
    assert await agent.json() == {"error": "the editor role is required"}
    assert (await api.get(path, headers=bearer(tokens, "erin"))).status == 200


async def test_a_signed_in_editor_reads_with_the_session_and_an_agent_does_not(api: TestClient) -> None:
    assert (await api_sign_in(api, "dana", PASSWORDS["dana"])).status == 200
    assert (await api.get("/api/analytics/summary")).status == 403
    assert (await api_sign_in(api, "erin", PASSWORDS["erin"])).status == 200
    assert (await api.get("/api/analytics/summary")).status == 200


# ---- the figures ----------------------------------------------------------------------------------


async def test_the_summary_has_the_contract_keys_and_the_streams_figures(
    api: TestClient, redis_db: Redis, tokens: Any
) -> None:
    await load_stream(redis_db)
    response = await api.get(f"/api/analytics/summary?{query()}", headers=bearer(tokens, "erin"))
    assert response.status == 200
    body = await response.json()
    assert set(body) == SUMMARY_KEYS | {"savings"}
    assert (body["from"], body["to"]) == (DAY1.isoformat(), DAY2.isoformat())
    assert (body["conversations"], body["messages"], body["contained"]) == (5, 9, 3)
    assert body["containment_rate"] == 0.6
    assert body["handoffs"] == {"requested": 1}
    assert body["handoff_wait"] == {"median_seconds": 90.0, "p90_seconds": 90.0, "count": 1}
    assert (body["declined"], body["helpful"], body["not_helpful"]) == (2, 1, 1)
    assert body["by_channel"] == {
        "socketio": {"conversations": 3, "messages": 4, "helpful": 1, "not_helpful": 0},
        "telegram": {"conversations": 1, "messages": 2, "helpful": 0, "not_helpful": 0},
        "twilio": {"conversations": 1, "messages": 3, "helpful": 0, "not_helpful": 1},
    }
    assert body["top_answers"] == [
        {"entry": "trash_day", "served": 3, "helpful": 1, "not_helpful": 1, "helpful_rate": 0.5},
        {"entry": "parking_permit", "served": 1, "helpful": 0, "not_helpful": 0, "helpful_rate": 0.0},
    ]
    settings = load_settings()
    cost = float(settings.cost_per_contact)
    assert body["savings"] == {
        "contained": 3,
        "cost_per_contact": cost,
        "currency": settings.currency,
        "saved": round(3 * cost, 2),
        "calls_avoided": 3,
        "source": {"text": settings.source_text, "url": settings.source_url},
    }


async def test_one_day_and_the_default_week(api: TestClient, redis_db: Redis, tokens: Any) -> None:
    await load_stream(redis_db)
    editor = bearer(tokens, "erin")
    second = await (await api.get(f"/api/analytics/summary?{query(DAY2, DAY2)}", headers=editor)).json()
    assert (second["conversations"], second["contained"], second["declined"]) == (2, 1, 1)
    assert second["savings"]["calls_avoided"] == 1
    before = datetime.now(timezone.utc).date()
    week = await (await api.get("/api/analytics/summary", headers=editor)).json()
    today = date.fromisoformat(week["to"])  # the run may cross midnight UTC between the two reads
    assert today in {before, datetime.now(timezone.utc).date()}
    assert week["from"] == (today - timedelta(days=6)).isoformat()
    assert week["conversations"] == 5
    only_to = await (await api.get(f"/api/analytics/summary?to={DAY1.isoformat()}", headers=editor)).json()
    assert (only_to["from"], only_to["conversations"]) == ((DAY1 - timedelta(days=6)).isoformat(), 3)


async def test_the_csv_has_one_row_per_day_in_a_stable_column_order(
    api: TestClient, redis_db: Redis, tokens: Any
) -> None:
    await load_stream(redis_db)
    start = DAY1 - timedelta(days=1)
    response = await api.get(
        f"/api/analytics/export.csv?{query(start, DAY2)}", headers=bearer(tokens, "erin")
    )
    assert response.status == 200
    assert response.content_type == "text/csv"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="civic-analytics-{start.isoformat()}-to-{DAY2.isoformat()}.csv"'
    )
    rows = list(csv.reader(io.StringIO(await response.text())))
    assert rows[0] == [
        "date",
        "conversations",
        "messages",
        "contained",
        "containment_rate",
        "handoffs",
        "declined",
        "clarifications",
        "helpful",
        "not_helpful",
        "lookups",
        "lookup_failures",
        "reports_filed",
        "csat_count",
        "csat_average",
    ]
    assert rows[1:] == [
        [start.isoformat(), "0", "0", "0", "0.0", "0", "0", "0", "0", "0", "0", "0", "0", "0", "0.0"],
        [DAY1.isoformat(), "3", "7", "2", "0.6667", "1", "1", "0", "1", "1", "0", "0", "0", "0", "0.0"],
        [DAY2.isoformat(), "2", "2", "1", "0.5", "0", "1", "0", "0", "0", "0", "0", "0", "0", "0.0"],
    ]


# ---- bad input ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ("from=2026-13-01&to=2026-12-01", "from must be a date like 2026-09-01, not '2026-13-01'"),
        ("from=2026-01-01&to=yesterday", "to must be a date like 2026-09-01, not 'yesterday'"),
        ("from=2026-03-02&to=2026-03-01", "from must not be after to"),
        ("from=2025-01-01&to=2026-01-02", "a range covers at most 366 days"),
    ],
)
@pytest.mark.parametrize("path", ["/api/analytics/summary", "/api/analytics/export.csv"])
async def test_a_bad_range_is_a_400_that_says_what_to_fix(
    api: TestClient, tokens: Any, path: str, params: str, reason: str
) -> None:
    response = await api.get(f"{path}?{params}", headers=bearer(tokens, "erin"))
    assert response.status == 400
    assert await response.json() == {"error": reason}


async def test_a_whole_leap_year_is_allowed(api: TestClient, tokens: Any) -> None:
    response = await api.get(
        "/api/analytics/summary?from=2024-01-01&to=2024-12-31", headers=bearer(tokens, "erin")
    )
    assert response.status == 200
    assert (await response.json())["conversations"] == 0


# ---- emerging questions per language -----------------------------------------------------------------

SPANISH_QUESTION = "¿El <i>agua</i> de la llave es segura?"  # markup stays text
ENGLISH_QUESTION = "is the tap water safe to drink"
EMERGING_KEYS = {"cluster", "this_week", "weekly_before", "examples", "draft_faq_url", "draft_rumor_url"}


async def missed_this_week(redis: Redis) -> None:
    """MIN_THIS_WEEK missed questions in Spanish and as many in English, two days ago: two groups
    the inbox flags as grown (nothing before)."""
    store, week = InboxStore(redis, 60 * 86400), datetime.now(timezone.utc).timestamp() - 2 * 86400
    for n in range(MIN_THIS_WEEK):
        spanish = Message(
            f"es{n}", f"e{n}", "socketio", "nlu_fallback", 0.3, SPANISH_QUESTION, week + n, language="es"
        )
        await store.add(spanish, ["fallback"])
        english = Message(f"en{n}", f"a{n}", "socketio", "nlu_fallback", 0.3, ENGLISH_QUESTION, week + 60 + n)
        await store.add(english, ["fallback"])


async def test_emerging_questions_say_their_language_and_filter_by_it(
    api: TestClient, redis_db: Redis, tokens: Any
) -> None:
    await missed_this_week(redis_db)
    editor = bearer(tokens, "erin")
    every = await api.get("/api/analytics/emerging", headers=editor)
    assert every.status == 200
    found = (await every.json())["emerging"]
    assert all(set(item) == EMERGING_KEYS | {"language"} for item in found), "the contract, and the language"
    assert sorted((e["language"], e["this_week"], e["examples"][0]) for e in found) == [
        ("en", MIN_THIS_WEEK, ENGLISH_QUESTION),
        ("es", MIN_THIS_WEEK, SPANISH_QUESTION),
    ]
    (spanish,) = (await (await api.get("/api/analytics/emerging?language=es", headers=editor)).json())[
        "emerging"
    ]
    assert spanish["language"] == "es" and spanish["examples"] == [SPANISH_QUESTION]
    (english,) = (await (await api.get("/api/analytics/emerging?language=en", headers=editor)).json())[
        "emerging"
    ]
    assert english["language"] == "en" and english["examples"] == [ENGLISH_QUESTION]
    unknown = await api.get("/api/analytics/emerging?language=xx", headers=editor)
    assert unknown.status == 400
    assert await unknown.json() == {
        "error": "language must be one of the agency's languages (en, es), not 'xx'"
    }

    # The page: every language, each group not in English tagged with its language's name.
    assert (await api_sign_in(api, "erin", PASSWORDS["erin"])).status == 200
    page = await (await api.get("/analytics")).text()
    assert (
        page.count('class="cluster"') == 2
        and page.count('<span class="language" lang="es">Español</span>') == 1
    )
    assert '<li class="example" lang="es">¿El &lt;i&gt;agua&lt;/i&gt; de la llave es segura?</li>' in page
    assert '<a href="/analytics?from=' in page and 'hreflang="es"><span lang="es">Español</span></a>' in page
    # Filtered: the Spanish group only; its draft link opens a draft with its Spanish question.
    response = await api.get("/analytics?language=es")
    assert response.status == 200
    page = await response.text()
    assert page.count('class="cluster"') == 1 and ENGLISH_QUESTION not in page
    assert 'aria-current="page"><span lang="es">Español</span>' in page
    assert '<input type="hidden" name="language" value="es">' in page, "Show keeps the filter"
    assert f'href="{spanish["draft_faq_url"]}"' in page
    draft = await api.get(spanish["draft_faq_url"])
    assert draft.status == 200
    assert 'name="translated_questions" lang="es">¿El &lt;i&gt;agua&lt;/i&gt;' in await draft.text()
    english_only = await (await api.get("/analytics?language=en")).text()
    assert english_only.count('class="cluster"') == 1 and 'class="language"' not in english_only
    wrong = await api.get("/analytics?language=%3Cb%3Exx")
    assert wrong.status == 400
    text = await wrong.text()
    assert "language must be one of the agency&#39;s languages (en, es), not &#39;&lt;b&gt;xx&#39;" in text
    assert "<b>xx" not in text


# ---- the agency's cost per contact (data/analytics/settings.yml, checked by `content check`) --------


def test_the_shipped_settings_pass_the_check() -> None:
    assert settings_problems() == []


@pytest.mark.parametrize(
    ("old", "new", "found"),
    [
        (
            "cost_per_contact: 4.75",
            "cost_per_contact: -1",
            "cost_per_contact: must be a number above 0, e.g. 4.75",
        ),
        ("cost_per_contact: 4.75", 'cost_per_contact: "cheap"', "cost_per_contact: must be a number above 0"),
        ('currency: "USD"', 'currency: "dollars"', "currency: 'dollars' is not a three-letter ISO 4217 code"),
        (
            'url: "https://',
            'url: "http://',
            "source.url: 'http://www.harborcity.example/311/annual-report' is not",
        ),
        ("  text: ", "  txt: ", "source.text: must be a non-empty text"),
        (
            "{saved} saved",
            "{money} saved",
            "wording.savings_figure: unknown placeholder {money} (usable: {saved}",
        ),
        ('  no_data: "', '  no_data_at_all: "', "wording.no_data: must be a non-empty text"),
    ],
)
def test_a_broken_settings_file_names_the_key_and_its_line(
    tmp_path: Path, old: str, new: str, found: str
) -> None:
    shipped = (ROOT / SETTINGS_FILE).read_text(encoding="utf-8")
    assert old in shipped
    broken = tmp_path / "settings.yml"
    broken.write_text(shipped.replace(old, new, 1), encoding="utf-8")
    [(line, message)] = settings_problems(broken)
    assert message.startswith(found)
    key = found.split(":")[0].rsplit(".", 1)[-1]
    lines = broken.read_text(encoding="utf-8").splitlines()
    # Where to look: the key's own line, or the top of the file when the key is missing.
    present = any(text.strip().startswith(f"{key}:") for text in lines)
    assert lines[line - 1].strip().startswith(f"{key}:") if present else line == 1


def test_top_answers_are_named_by_their_first_question() -> None:
    """A manager reads the question an answer is for, not its entry id; a lookup keeps its name."""
    figures = {
        "from": "2026-12-01", "to": "2026-12-01", "handoffs": {}, "by_channel": {},
        "top_answers": [
            {"entry": "council_meetings", "served": 3, "helpful": 1, "not_helpful": 0, "helpful_rate": 1.0},
            {"entry": "facility_hours", "served": 1, "helpful": 0, "not_helpful": 0, "helpful_rate": 0.0},
        ],
    }  # fmt: skip
    drawn = {c["id"]: c for c in charts(figures, [], load_settings(SETTINGS_FILE), answer_names())}
    rows = drawn["top_answers"]["rows"]
    assert [row[0] for row in rows] == ["When does the city council meet?", "facility_hours"]
    assert (
        "When does the city council me" in drawn["top_answers"]["svg"]
    )  # cut to fit; the table has it whole
