"""Message tests on the real console app and a real Redis: editors read the results as JSON and CSV,
agents and strangers cannot, and Promote writes the winning wording into the content files (or
refuses a wording that breaks a content rule), ends the test and is audit-logged.

The outcomes come from events shaped as Rasa publishes them (contract §1), turned into counts by the
analytics' own aggregator (`catch_up`, so the test need not wait for the console's consumer).
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import yaml
from aiohttp.test_utils import TestClient, TestServer
from console_support import PASSWORDS, api_sign_in
from experiments_support import CITY, ROLES, WARM, project, run_test
from redis.asyncio import Redis
from stack_support import console_config, empty_redis_db

from bot.analytics.summary import ended_experiments
from bot.console.accounts import add_account
from bot.console.app import create_app
from bot.console.config import ConsoleConfig
from bot.content.model import load_topic
from bot.inbox.config import InboxConfig
from bot.settings import MeasurementSettings

DB = 4  # this helper's database on the shared test Redis


@pytest.fixture(scope="module")
def tokens(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    path = tmp_path_factory.mktemp("experiment-accounts") / "agents.yml"
    return path, {name: add_account(path, name, role, PASSWORDS[name]) for name, role in ROLES.items()}


@pytest.fixture
async def redis(redis_server: int) -> AsyncIterator[Redis]:
    async with empty_redis_db(redis_server, DB) as client:
        yield client


async def console(redis_server: int, agents: Path, content: Path) -> TestClient:
    url = f"redis://127.0.0.1:{redis_server}/{DB}"
    handoff = console_config(url, agents)
    app = create_app(
        ConsoleConfig(redis_url=url, agents_file=agents),
        handoff,
        InboxConfig(content_dir=content),
        measurement=MeasurementSettings(min_exposures_per_variant=20),
    )
    client = TestClient(TestServer(app))
    await client.start_server()
    return client


def bearer(tokens: tuple[Path, dict[str, str]], name: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens[1][name]}"}


async def test_editors_read_the_results_as_json_and_csv(
    redis_server: int, redis: Redis, tokens: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    await run_test(redis)
    client = await console(redis_server, tokens[0], project(tmp_path))
    try:
        listed = await (await client.get("/api/experiments", headers=bearer(tokens, "erin"))).json()
        expected = {"entry": "library_hours", "title": "when is the library open", "status": "running"}
        expected |= {"exposures": 60, "variants": ["plain", "warm"], "leader": "warm"}
        assert listed["experiments"] == [expected | {"enough_data": True, "decided": True}]
        one = await (
            await client.get("/api/experiments/library_hours", headers=bearer(tokens, "erin"))
        ).json()
        plain, warm = one["variant_results"]
        assert (plain["exposures"], plain["rated"], warm["weight"]) == (30, 20, 3)
        assert plain["outcomes"]["helpful"]["rate"] == 0.4 and warm["outcomes"]["helpful"]["rate"] == 0.85
        assert plain["outcomes"]["clicked"] == pytest.approx(
            {"count": 1, "of": 30, "rate": 1 / 30, "low": 0.0059, "high": 0.1667}, abs=5e-4
        )
        helpful = next(c for c in one["comparisons"] if c["outcome"] == "helpful")
        assert (helpful["best"], helpful["variant"], helpful["significant"]) == ("warm", "plain", True)
        assert helpful["difference"] == pytest.approx(-0.45) and helpful["p_value"] < 0.01
        assert one["denominators"]["helpful"] == "rated" and one["denominators"]["asked_again"] == "exposures"

        response = await client.get("/api/experiments/library_hours.csv", headers=bearer(tokens, "erin"))
        assert response.content_type == "text/csv"
        rows = list(csv.DictReader(io.StringIO(await response.text())))
        warm_helpful = next(r for r in rows if r["variant"] == "warm" and r["outcome"] == "helpful")
        assert (warm_helpful["count"], warm_helpful["of"], warm_helpful["rate"]) == ("17", "20", "0.8500")
        assert len(rows) == 10
    finally:
        await client.close()


async def test_agents_and_strangers_cannot_read_or_promote(
    redis_server: int, redis: Redis, tokens: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    content = project(tmp_path)
    client = await console(redis_server, tokens[0], content)
    try:
        for path in (
            "/api/experiments",
            "/api/experiments/library_hours",
            "/api/experiments/library_hours.csv",
        ):
            assert (await client.get(path, headers=bearer(tokens, "dana"))).status == 403, path
            assert (await client.get(path)).status == 401, path
        missing = await client.get("/api/experiments/trash_day", headers=bearer(tokens, "erin"))
        assert missing.status == 404, "an entry that is not tested has no results"
        signed = await (await api_sign_in(client, "dana")).json()
        assert (await client.get("/experiments")).status == 403
        form = {"csrf_token": signed["csrf_token"], "variant": "warm"}
        response = await client.post("/experiments/library_hours/promote", data=form, allow_redirects=False)
        assert response.status == 403
        assert (content / "city.yml").read_text(encoding="utf-8") == CITY
    finally:
        await client.close()


async def test_promote_writes_the_winning_wording_and_ends_the_test(
    redis_server: int, redis: Redis, tokens: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    await run_test(redis)
    content = project(tmp_path)
    client = await console(redis_server, tokens[0], content)
    try:
        signed = await (await api_sign_in(client, "erin")).json()
        no_token = await client.post("/experiments/library_hours/promote", data={"variant": "warm"})
        assert no_token.status == 403 and (content / "city.yml").read_text(encoding="utf-8") == CITY

        form = {"csrf_token": signed["csrf_token"], "variant": "warm"}
        response = await client.post("/experiments/library_hours/promote", data=form, allow_redirects=False)
        assert response.status == 303
        assert response.headers["Location"] == "/experiments/library_hours?done=promoted&variant=warm"

        text = (content / "city.yml").read_text(encoding="utf-8")
        assert text.startswith("# Fixture: an entry under a message test.\n"), "the file's comments are kept"
        entry = load_topic(content / "city.yml").entries[0]
        assert (entry.answer, entry.short_answer, entry.variants) == (WARM, "", ())
        generated = yaml.safe_load(
            (tmp_path / "data/responses/content.generated.yml").read_text(encoding="utf-8")
        )
        assert generated["responses"]["utter_faq/library_hours"] == [
            {"text": WARM + "\nMore: https://www.harborcity.example/library"}
        ]
        assert "library_hours" in await ended_experiments(redis)
        audit = [fields for _, fields in await redis.xrange("civic:audit")]
        assert [
            (a["actor"], a["action"], a["target"], a["detail"]) for a in audit if a["action"] != "sign_in"
        ] == [("erin", "experiment_promote", "library_hours", "variant warm")]
        page = await client.get(response.headers["Location"])
        body = await page.text()
        assert (
            "the wording of variant warm is now the entry" in body and "after the next model reload" in body
        )
        one = await (
            await client.get("/api/experiments/library_hours", headers=bearer(tokens, "erin"))
        ).json()
        assert one["status"] == "ended" and [v["exposures"] for v in one["variant_results"]] == [30, 30]
        again = await client.post("/experiments/library_hours/promote", data=form, allow_redirects=False)
        assert again.status == 409, "an ended test cannot be promoted twice"
    finally:
        await client.close()


async def test_a_wording_that_breaks_a_content_rule_is_refused(
    redis_server: int, redis: Redis, tokens: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    city = CITY.replace(WARM, "Call the library at 555-0199 any day but Sunday.")
    content = project(tmp_path, city)
    client = await console(redis_server, tokens[0], content)
    try:
        signed = await (await api_sign_in(client, "erin")).json()
        form = {"csrf_token": signed["csrf_token"], "variant": "warm"}
        response = await client.post("/experiments/library_hours/promote", data=form, allow_redirects=False)
        assert response.status == 409
        assert "phone number" in await response.text()
        assert (content / "city.yml").read_text(encoding="utf-8") == city, "nothing was written"
        assert await ended_experiments(redis) == {}
    finally:
        await client.close()
