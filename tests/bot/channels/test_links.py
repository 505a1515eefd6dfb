"""The click-counting redirect of tested answers' links (`bot/channels/links.py`), mounted as Rasa mounts it.

A citizen's browser follows `/webhooks/links/go/<entry>/<variant>` to the entry's own source, and the
click shows in the message test's outcomes (`bot.analytics.summary.variant_outcomes`, real Redis
DB 12). Anything not in the content is a 404, so nobody can use the route to send people elsewhere.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
import redis.asyncio as aioredis
from channel_support import sanic_serving

from bot.analytics.summary import variant_outcomes
from bot.channels.links import LinkRedirect
from bot.stack import free_port

SOURCE = "https://www.harborcity.example/trash"
GONE = "Sorry, this link is no longer available."
TOPIC = f"""
topic: {{id: trash, title: Trash}}
entries:
- id: trash_day
  kind: faq
  questions: ["When is trash day?"]
  answer: Once a week. {SOURCE}
  source: {SOURCE}
  department: Public Works
  variants:
  - {{id: plain, answer: "Once a week on your street's day. {SOURCE}"}}
  - {{id: friendly, answer: "Good news: once a week! {SOURCE}", weight: 2}}
- id: bulk_items
  kind: faq
  questions: ["Bulk pickup?"]
  answer: Book it online.
  source: https://www.harborcity.example/bulk
  department: Public Works
- id: odd_source
  kind: faq
  questions: ["Odd?"]
  answer: Odd.
  source: "javascript:alert(1)"
  department: Public Works
  variants:
  - {{id: a, answer: One.}}
  - {{id: b, answer: Two.}}
"""


@pytest.fixture
def content(tmp_path: Path) -> Path:
    (tmp_path / "trash.yml").write_text(TOPIC, encoding="utf-8")
    return tmp_path


@pytest.fixture
async def db(redis_server: int) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis(port=redis_server, db=12, decode_responses=True)
    await client.flushdb()
    yield client
    await client.close()


def links(content: Path, port: int) -> LinkRedirect:
    return LinkRedirect.from_credentials(
        {"content_dir": str(content), "redis_host": "127.0.0.1", "redis_port": str(port), "redis_db": "12"}
    )


async def follow(base: str, path: str, method: str = "GET", **headers: str) -> aiohttp.ClientResponse:
    async with aiohttp.ClientSession() as session:
        async with session.request(method, f"{base}{path}", allow_redirects=False, headers=headers) as answer:
            await answer.read()
            return answer


async def test_a_click_goes_to_the_source_and_is_counted_for_its_variant(
    content: Path, db: aioredis.Redis, redis_server: int
) -> None:
    async with sanic_serving(links(content, redis_server)) as (base, _):
        for _ in range(2):
            answer = await follow(base, "/webhooks/links/go/trash_day/friendly")
            assert (answer.status, answer.headers["Location"]) == (302, SOURCE)
            assert "Set-Cookie" not in answer.headers  # nothing about the citizen is kept
            assert answer.headers["Cache-Control"] == "no-store"
        assert (await follow(base, "/webhooks/links/go/trash_day/plain")).status == 302
    outcomes = await variant_outcomes(db, "trash_day")
    assert (outcomes["friendly"]["clicked"], outcomes["plain"]["clicked"]) == (2, 1)


async def test_link_previews_are_redirected_but_not_counted(
    content: Path, db: aioredis.Redis, redis_server: int
) -> None:
    async with sanic_serving(links(content, redis_server)) as (base, _):
        robot = await follow(
            base, "/webhooks/links/go/trash_day/plain", **{"User-Agent": "TelegramBot (like TwitterBot)"}
        )
        head = await follow(base, "/webhooks/links/go/trash_day/plain", method="HEAD")
    assert (robot.status, head.status) == (302, 302)
    assert await variant_outcomes(db, "trash_day") == {}


UNKNOWN = [
    "/webhooks/links/go/no_such_entry/plain",
    "/webhooks/links/go/odd_source/a",  # its source is no web page
    "/webhooks/links/go/trash_day/..%2F..%2Fetc",
    "/webhooks/links/go/Trash_Day/plain",
]


async def test_anything_not_in_the_content_is_a_404_page(
    content: Path, db: aioredis.Redis, redis_server: int
) -> None:
    async with sanic_serving(links(content, redis_server)) as (base, _):
        async with aiohttp.ClientSession() as session:
            for path in UNKNOWN:
                async with session.get(f"{base}{path}", allow_redirects=False) as answer:
                    page = await answer.text()
                assert answer.status == 404 and "Location" not in answer.headers, path
                assert GONE in page and "<script" not in page
    assert await db.keys("*") == []


async def test_a_link_of_no_running_test_leads_on_but_counts_nothing(
    content: Path, db: aioredis.Redis, redis_server: int
) -> None:
    """A citizen keeps old messages: after Promote, or for a wording that is not under test, the link
    still opens the page, and no test is credited with the click."""
    async with sanic_serving(links(content, redis_server)) as (base, _):
        for path in ("/webhooks/links/go/trash_day/shouty", "/webhooks/links/go/bulk_items/plain"):
            answer = await follow(base, path)
            assert answer.status == 302, path
        assert (await follow(base, "/webhooks/links/go/trash_day/plain")).status == 302
        assert (await variant_outcomes(db, "trash_day"))["plain"]["clicked"] == 1
        topic = content / "trash.yml"
        start = topic.read_text().index("  variants:")
        end = topic.read_text().index("- id: bulk_items")
        topic.write_text(topic.read_text()[:start] + topic.read_text()[end:])  # the test ended
        answer = await follow(base, "/webhooks/links/go/trash_day/plain")
        assert (answer.status, answer.headers["Location"]) == (302, SOURCE)
        assert (await variant_outcomes(db, "trash_day"))["plain"]["clicked"] == 1


async def test_redis_down_still_sends_the_citizen_on(content: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="bot.channels.links")
    async with sanic_serving(links(content, free_port())) as (base, _):
        answer = await follow(base, "/webhooks/links/go/trash_day/plain")
    assert (answer.status, answer.headers["Location"]) == (302, SOURCE)
    assert "a click on trash_day was not counted" in caplog.text
