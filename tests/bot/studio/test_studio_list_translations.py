"""The content list's translation states (issue #19), on the real console app over HTTP, a real Redis
and a copy of the project's data: each entry shows, per offered language besides English, whether its
text is up to date, stale, not yet checked or missing (the entry page's rule, of the draft's text when
there is one), each state linking to the entry in that language; the list filters by language and
state (``?translation=es:to-do``), retired entries left out as in the stale report. A third language
added with data only (Vietnamese) gets its column and filter without code changes."""

from __future__ import annotations

import re
import shutil
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from console_support import api_sign_in
from redis.asyncio import Redis
from stack_support import ROOT, console_config, empty_redis_db

from bot.console.accounts import add_account
from bot.console.app import create_app
from bot.console.config import ConsoleConfig
from bot.content.model import Entry, Translation, english_digest, load_topic
from bot.content.writer import write_topic
from bot.inbox.config import InboxConfig
from bot.studio.config import StudioConfig

DB = 12  # the studio tests' database on the shared test Redis
PASSWORD = "erin-studio-list-pw"
CURRENT, MISSING, UNSTAMPED, STALE, RETIRED = (
    "library_card",
    "pools",
    "recreation_registration",
    "park_reservation",
    "senior_services",
)  # all in parks_library.yml
VI_QUESTION = "Làm thế nào để có thẻ thư viện?"


def edit(content: Path, topic: str, changes: dict[str, Callable[[Entry], Entry]]) -> None:
    path = content / f"{topic}.yml"
    parsed = load_topic(path)
    write_topic(replace(parsed, entries=tuple(changes.get(e.id, lambda e: e)(e) for e in parsed.entries)))


def without_spanish(entry: Entry) -> Entry:
    return replace(entry, translations=tuple(t for t in entry.translations if t.language != "es"))


def unstamped(entry: Entry) -> Entry:
    return replace(entry, translations=tuple(replace(t, translated_from="") for t in entry.translations))


def in_vietnamese(entry: Entry) -> Entry:
    vi = Translation("vi", (VI_QUESTION, "thẻ thư viện"), "Thẻ thư viện miễn phí cho cư dân.")
    return replace(
        entry, translations=(*entry.translations, replace(vi, translated_from=english_digest(entry)))
    )


def project(root: Path) -> Path:
    """A copy of the data with Vietnamese offered (as an agency adds it: the agency file and a words
    file) and the fixture entries of parks_library.yml; returns the content directory."""
    content = root / "data" / "content"
    shutil.copytree(
        ROOT / "data" / "content", content, ignore=shutil.ignore_patterns("_history", "_studio_*")
    )
    shutil.copytree(ROOT / "data" / "language", root / "data" / "language")
    agency = (ROOT / "data" / "agency.yml").read_text(encoding="utf-8")
    assert "languages_offered: [en, es]" in agency
    offered = agency.replace("languages_offered: [en, es]", "languages_offered: [en, es, vi]")
    (root / "data" / "agency.yml").write_text(offered, encoding="utf-8")
    (root / "data" / "language" / "vi.yml").write_text(
        "language:\n  name: Tiếng Việt\n  names: [tiếng việt, vietnamese]\n  switch_words: [bằng, nói]\n",
        encoding="utf-8",
    )
    edit(
        content,
        "parks_library",
        {
            CURRENT: in_vietnamese,
            MISSING: without_spanish,
            UNSTAMPED: unstamped,
            STALE: lambda e: replace(e, answer="Reserve a park shelter online, or call {agency.phone_311}."),
            RETIRED: lambda e: replace(without_spanish(e), retired=True),
        },
    )
    return content


@pytest.fixture
async def redis(redis_server: int) -> AsyncIterator[Redis]:
    async with empty_redis_db(redis_server, DB) as client:
        yield client


@pytest.fixture
async def console(redis_server: int, redis: Redis, tmp_path: Path) -> AsyncIterator[tuple[TestClient, str]]:
    """The console with the studio on the copy, an editor signed in; (client, the editor's API token)."""
    content = project(tmp_path)
    agents = tmp_path / "agents.yml"
    token = add_account(agents, "erin", "editor", PASSWORD)
    url = f"redis://127.0.0.1:{redis_server}/{DB}"
    studio = StudioConfig(content_dir=content, approvals=2, redis_url=url, trains=False)
    app = create_app(
        ConsoleConfig(redis_url=url, agents_file=agents),
        console_config(url, agents),
        InboxConfig(content_dir=content),
        studio=studio,
    )
    client = TestClient(TestServer(app))
    await client.start_server()
    assert (await api_sign_in(client, "erin", PASSWORD)).status == 200
    yield client, token
    await client.close()


async def listed(client: TestClient, query: str = "") -> tuple[str, dict[str, dict[str, str]]]:
    """The list page, and each row's entry id -> language -> the state shown."""
    response = await client.get(f"/content{query}")
    assert response.status == 200
    page = await response.text()
    rows = re.findall(r'<tr data-entry="([a-z0-9_]+)">(.*?)</tr>', page, re.S)
    return page, {
        entry: dict(re.findall(r'<td class="translation" data-language="(\w+)" data-state="([^"]*)">', row))
        for entry, row in rows
    }


async def test_the_list_shows_each_languages_state_and_filters_by_it(console: tuple[TestClient, str]) -> None:
    client, token = console
    page, rows = await listed(client)
    assert rows[CURRENT] == {"es": "up to date", "vi": "up to date"}
    assert rows[MISSING] == {"es": "missing", "vi": "missing"}
    assert rows[UNSTAMPED]["es"] == "not yet stamped" and rows[STALE]["es"] == "stale"
    assert rows[RETIRED]["es"] == "missing", "shown, with its Retired badge"
    assert '<th scope="col"><span lang="es">Español</span></th>' in page
    assert '<th scope="col"><span lang="vi">Tiếng Việt</span></th>' in page, "a third language: data only"
    link = f'<a href="/content/{MISSING}?language=es"><span class="badge translation-missing">Missing</span>'
    assert link in page
    assert '<option value="vi:to-do">Tiếng Việt: missing, stale or not yet checked</option>' in page

    _, todo = await listed(client, "?translation=es:to-do")
    assert set(todo) == {MISSING, UNSTAMPED, STALE}, "retired entries are left out, as in the stale report"
    for state, entry in (("missing", MISSING), ("stale", STALE), ("not-yet-stamped", UNSTAMPED)):
        page, found = await listed(client, f"?translation=es:{state}")
        assert set(found) == {entry}
        assert f'<option value="es:{state}" selected>' in page
    _, current = await listed(client, "?translation=es:up-to-date")
    assert CURRENT in current and not {MISSING, UNSTAMPED, STALE, RETIRED} & set(current)
    _, vietnamese = await listed(client, "?translation=vi:up-to-date")
    assert set(vietnamese) == {CURRENT}
    _, vi_todo = await listed(client, "?translation=vi:to-do&topic=parks_library")
    assert {MISSING, UNSTAMPED, STALE} <= set(vi_todo) and not {CURRENT, RETIRED} & set(vi_todo)
    for bad in ("fr:missing", "es:bogus", "es"):
        page, everything = await listed(client, f"?translation={bad}")
        assert 'id="filter-error"' in page and set(everything) == set(rows), bad

    # A saved draft of the Spanish text (stamped with the English it now follows) is what the list shows.
    api = await client.get(
        "/api/content/entries?topic=parks_library", headers={"Authorization": f"Bearer {token}"}
    )
    assert {e["id"]: e["translations"]["es"] for e in (await api.json())["entries"]}[STALE] == "stale"
    spanish = {"translations": {"es": {"questions": ["¿Cómo reservo un refugio del parque?"]}}}
    saved = await client.put(
        f"/api/content/entries/{STALE}", json=spanish, headers={"Authorization": f"Bearer {token}"}
    )
    assert saved.status == 200, await saved.text()
    _, rows = await listed(client)
    assert rows[STALE]["es"] == "up to date"
    assert STALE not in (await listed(client, "?translation=es:stale"))[1]
