"""Live answers (bot.studio.live) as Rasa's response generator (bot.nlg) says them: read from a real Redis,
over the real trained model's responses, within a second of publishing, without retraining.
"""

from __future__ import annotations

import json
import shutil
import tarfile
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import redis.asyncio as aioredis
from polling_support import wait_until_async
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker

from bot.content.agency import load_agency
from bot.content.generate import entry_variations, render_answer
from bot.content.model import Entry, RenderSettings, all_entries, load_content, load_render_settings
from bot.days import local_today
from bot.nlg import AgencyNaturalLanguageGenerator
from bot.settings import Settings
from bot.stack import free_port
from bot.studio.live import (
    CHECK_SECONDS,
    LIVE_KEY,
    LiveAnswer,
    LiveContent,
    LiveReader,
    live_answer,
    variations_digest,
)

ROOT = Path(__file__).resolve().parents[3]
SHIPPED_FILES = [ROOT / "domain.yml", *sorted((ROOT / "data" / "responses").glob("*.yml"))]
REDIS_DB = 5
# One look at the version a second, then one round trip or two: 1 s of margin on a busy machine.
LIVE_WITHIN = CHECK_SECONDS + 1.0
HOURS = "city_hall_hours"
COUNCIL = "council_meetings"  # the shipped message test (two variants)
OUT_OF_SCOPE = "Sorry, I can only help with Harbor City services"


@pytest.fixture(autouse=True)
def at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


@pytest.fixture(scope="module")
def model_domain(model_path: Path) -> Domain:
    """The trained model's domain, exactly as Rasa hands its responses to the NLG at model load."""
    with tarfile.open(model_path) as archive:
        member = archive.extractfile("metadata.json")
        assert member is not None
        return Domain.from_dict(json.load(member)["domain"])


@pytest.fixture(scope="module")
def shipped() -> Domain:
    """The responses of this tree (with utter_answer_unavailable), as the next retrain will have them."""
    return Domain.load([str(path) for path in SHIPPED_FILES])


@pytest.fixture(scope="module")
def settings() -> RenderSettings:
    return load_render_settings()


@pytest.fixture(scope="module")
def entries() -> dict[str, Entry]:
    return {entry.id: entry for entry in all_entries(load_content())}


@pytest.fixture
async def redis(redis_server: int) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis(port=redis_server, db=REDIS_DB)
    await client.flushdb()
    yield client
    await client.flushdb()
    await client.close()


def model_digest(entry: Entry, settings: RenderSettings) -> str:
    """The digest of the wording the model was trained with (the content files' own)."""
    return variations_digest(entry_variations(entry, settings))


async def publish(
    redis: aioredis.Redis, entry: Entry, settings: RenderSettings, was: Entry, version: int = 2
) -> LiveAnswer:
    """`entry` published live as a change of `was` (the wording the model has)."""
    answer = live_answer(entry, settings, version, [model_digest(was, settings)])
    await LiveContent(redis).publish(answer)
    return answer


async def ask(
    nlg: AgencyNaturalLanguageGenerator, entry_id: str, channel: str = "socketio", citizen: str = "c1"
) -> dict[str, Any]:
    tracker = DialogueStateTracker.from_events(citizen, [])
    said = await nlg.generate(f"utter_faq/{entry_id}", tracker, channel)
    assert said is not None, "the citizen always gets an answer"
    return said


async def says(
    nlg: AgencyNaturalLanguageGenerator, entry_id: str, wanted: str, channel: str = "socketio"
) -> str:
    """Wait (at most LIVE_WITHIN) until the answer to `entry_id` contains `wanted`; returns it."""

    async def current() -> str:
        text = str((await ask(nlg, entry_id, channel))["text"])
        return text if wanted in text else ""

    return await wait_until_async(current, LIVE_WITHIN, f"{entry_id} never said {wanted!r}")


def agency_today() -> datetime:
    zone = ZoneInfo(Settings.from_env().agency.timezone)
    return datetime.combine(local_today(datetime.now(timezone.utc), zone), datetime.min.time())


def day(offset: int) -> str:
    return (agency_today() + timedelta(days=offset)).date().isoformat()


def unavailable_text() -> str:
    return load_agency().expand(
        "Sorry, I don't have current information on that. Please call {agency.phone_311} "
        "({agency.phone_311_outside} from outside the city), {agency.hours_311}, or visit {agency.web_311}."
    )


def test_the_models_wording_is_the_content_files_rendering(
    model_domain: Domain, entries: dict[str, Entry], settings: RenderSettings
) -> None:
    """What `known` is compared with: Rasa's raw variations of an entry are exactly `entry_variations`."""
    for entry_id in (HOURS, COUNCIL, "building_permit", "mental_health_crisis"):
        entry = entries[entry_id]
        assert variations_digest(model_domain.responses[entry.response]) == model_digest(entry, settings)


def test_the_generated_wording_with_its_buttons_is_what_rasa_reads(
    entries: dict[str, Entry], settings: RenderSettings
) -> None:
    """Buttons after an answer too: Rasa's reading of the generated responses (what training packs into
    the model) is `entry_variations`, so a publish's `known` matches the next model's wording."""
    files = [ROOT / "domain.yml", *sorted((ROOT / "data" / "responses").glob("*.yml"))]
    domain = Domain.load([str(path) for path in files])
    for entry_id in ("pothole", "alert_signup"):
        entry = entries[entry_id]
        assert all(variation.get("buttons") for variation in domain.responses[entry.response])
        assert variations_digest(domain.responses[entry.response]) == model_digest(entry, settings)


async def test_publish_bumps_the_version_and_reads_back_on_either_kind_of_client(
    redis: aioredis.Redis, redis_server: int, entries: dict[str, Entry], settings: RenderSettings
) -> None:
    """The console's client decodes replies (the studio publishes), Rasa's does not (the NLG reads)."""
    console = aioredis.Redis(port=redis_server, db=REDIS_DB, decode_responses=True)
    hours = entries[HOURS]
    first = live_answer(hours, settings, 1, [])
    assert first.known == (model_digest(hours, settings),), "its own wording is one the studio published"
    assert await LiveContent(console).publish(first) == 1
    second = live_answer(replace(hours, answer="Open late on Thursdays."), settings, 2, first.known)
    assert await LiveContent(console).publish(second) == 2
    assert len(second.known) == 2 and second.known[0] == first.known[0]
    for client in (console, redis):
        assert await LiveContent(client).version() == 2
        assert await LiveContent(client).all() == {hours.response: second}
    await console.close()


async def test_a_published_answer_replaces_the_models_wording_within_a_second(
    redis: aioredis.Redis, model_domain: Domain, entries: dict[str, Entry], settings: RenderSettings
) -> None:
    nlg = AgencyNaturalLanguageGenerator(domain=model_domain, redis=redis)
    hours = entries[HOURS]
    before = await ask(nlg, HOURS)
    assert before["text"] == render_answer(hours, settings)
    model_responses = json.dumps(nlg.responses, sort_keys=True)

    edited = replace(
        hours,
        answer="City Hall, 100 Main Street, is open Monday to Friday from 8 am to 5 pm.",
        short_answer="City Hall: Mon-Fri 8 am-5 pm.",
    )
    published = time.monotonic()
    await publish(redis, edited, settings, was=hours)
    web = await says(nlg, HOURS, "from 8 am to 5 pm")
    assert time.monotonic() - published <= LIVE_WITHIN
    assert web == render_answer(edited, settings)
    sms = await ask(nlg, HOURS, "twilio")
    assert sms["text"] == render_answer(edited, settings, short=True)
    assert sms["rating"]["entry"] == HOURS and len(sms["buttons"]) == 2, "still a rated answer"
    assert json.dumps(nlg.responses, sort_keys=True) == model_responses, "the model's responses are untouched"


async def test_generate_asks_redis_for_the_version_at_most_once_a_second(
    redis: aioredis.Redis, model_domain: Domain
) -> None:
    nlg = AgencyNaturalLanguageGenerator(domain=model_domain, redis=redis)
    await redis.config_resetstat()
    started = time.monotonic()
    for n in range(50):
        await ask(nlg, HOURS, citizen=f"c{n}")
    elapsed = time.monotonic() - started
    stats = await redis.info("commandstats")
    gets = stats.get("cmdstat_get", {}).get("calls", 0)
    hgetalls = stats.get("cmdstat_hgetall", {}).get("calls", 0)
    # the first look reads the version, then version and answers together; later ones the version only
    assert gets <= 2 + int(elapsed / CHECK_SECONDS), (gets, elapsed)
    assert hgetalls <= 1, hgetalls


async def test_a_wording_the_studio_never_published_is_not_replaced(
    redis: aioredis.Redis,
    model_domain: Domain,
    entries: dict[str, Entry],
    settings: RenderSettings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The model was retrained from a hand-edited file: its wording wins over the older live answer."""
    nlg = AgencyNaturalLanguageGenerator(domain=model_domain, redis=redis)
    hours, permit = entries[HOURS], entries["building_permit"]
    stale = live_answer(replace(hours, answer="Open around the clock."), settings, 3, ["0" * 64])
    await LiveContent(redis).publish(stale)
    await publish(redis, replace(permit, answer="Permits: apply online."), settings, was=permit)
    await says(nlg, "building_permit", "Permits: apply online.")  # the NLG has read both
    assert (await ask(nlg, HOURS))["text"] == render_answer(hours, settings)
    assert "edited outside the studio" in caplog.text


async def test_retired_and_out_of_date_answers_get_the_unavailable_reply_without_rating(
    redis: aioredis.Redis, shipped: Domain, entries: dict[str, Entry], settings: RenderSettings
) -> None:
    nlg = AgencyNaturalLanguageGenerator(domain=shipped, redis=redis)
    hours, permit, council = entries[HOURS], entries["building_permit"], entries[COUNCIL]
    parking = entries["parking_ticket_pay"]
    await publish(redis, replace(hours, retired=True), settings, was=hours)
    await publish(redis, replace(permit, valid_until=day(-1)), settings, was=permit)
    await publish(redis, replace(council, valid_from=day(1)), settings, was=council)
    await publish(
        redis,
        replace(parking, answer="Pay online.", valid_from=day(0), valid_until=day(0)),
        settings,
        was=parking,
    )
    await says(nlg, "parking_ticket_pay", "Pay online.")  # both ends of the dates are days it answers
    for entry_id in (HOURS, "building_permit", COUNCIL):
        for channel in ("socketio", "twilio"):
            said = await ask(nlg, entry_id, channel)
            assert said["text"] == unavailable_text(), (entry_id, channel)
            assert "rating" not in said and not said.get("buttons"), "nothing to rate"


async def test_a_model_trained_before_the_unavailable_reply_existed_says_out_of_scope(
    redis: aioredis.Redis,
    model_domain: Domain,
    entries: dict[str, Entry],
    settings: RenderSettings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The model in models/ when the reply was added; after a retrain, the responses Rasa would hand over
    from a model trained before it (assigned as Rasa does at every model load)."""
    nlg = AgencyNaturalLanguageGenerator(domain=model_domain, redis=redis)
    nlg.responses = {k: v for k, v in model_domain.responses.items() if k != "utter_answer_unavailable"}
    hours = entries[HOURS]
    await publish(redis, replace(hours, retired=True), settings, was=hours)
    said = await says(nlg, HOURS, OUT_OF_SCOPE)
    assert "555-010-3110" in said and "{agency." not in said
    assert "rating" not in await ask(nlg, HOURS)
    assert "has no utter_answer_unavailable yet" in caplog.text


async def test_the_models_own_entries_outside_their_dates_are_not_answered(
    redis: aioredis.Redis, shipped: Domain, tmp_path: Path
) -> None:
    """The content files read at model load say so (no live answer): e.g. retired since training."""
    content = tmp_path / "content"
    shutil.copytree(ROOT / "data" / "content", content)
    city_hall = content / "city_hall.yml"
    text = city_hall.read_text(encoding="utf-8")
    text = text.replace("- id: city_hall_hours\n", f"- id: city_hall_hours\n  valid_until: '{day(-1)}'\n")
    text = text.replace("- id: council_meetings\n", "- id: council_meetings\n  retired: true\n")
    city_hall.write_text(text, encoding="utf-8")
    nlg = AgencyNaturalLanguageGenerator(domain=shipped, redis=redis, content_dir=content)
    for entry_id in (HOURS, COUNCIL):
        said = await ask(nlg, entry_id)
        assert said["text"] == unavailable_text() and "rating" not in said
    assert (await ask(nlg, "building_permit"))["rating"]["entry"] == "building_permit"


async def test_redis_unreachable_says_the_models_own_response(
    model_domain: Domain,
    entries: dict[str, Entry],
    settings: RenderSettings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    dead = aioredis.Redis(port=free_port(), socket_connect_timeout=0.5, socket_timeout=0.5)
    nlg = AgencyNaturalLanguageGenerator(domain=model_domain, redis=dead)
    for citizen in ("c1", "c2", "c3"):
        said = await ask(nlg, HOURS, citizen=citizen)
        assert said["text"] == render_answer(entries[HOURS], settings) and said["rating"]["entry"] == HOURS
    assert caplog.text.count("live answers: Redis unreadable") == 1, "once, not per message"
    await dead.close()


async def test_redis_trouble_is_logged_once_a_minute_not_per_look(caplog: pytest.LogCaptureFixture) -> None:
    dead = aioredis.Redis(port=free_port(), socket_connect_timeout=0.5, socket_timeout=0.5)
    now = [1000.0]
    reader = LiveReader(lambda: dead, every=0.0, clock=lambda: now[0])
    for _ in range(3):
        assert not await reader.refresh() and reader.answers == {}
        now[0] += 20.0
    assert caplog.text.count("live answers: Redis unreadable") == 1
    now[0] += 1.0  # a minute after the first warning
    await reader.refresh()
    assert caplog.text.count("live answers: Redis unreadable") == 2
    await dead.close()


async def test_a_bad_value_costs_only_its_own_entry(
    redis: aioredis.Redis,
    model_domain: Domain,
    entries: dict[str, Entry],
    settings: RenderSettings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    nlg = AgencyNaturalLanguageGenerator(domain=model_domain, redis=redis)
    hours, permit = entries[HOURS], entries["building_permit"]
    await redis.hset(LIVE_KEY, hours.response, "{not json")
    await publish(redis, replace(permit, answer="Permits: apply online."), settings, was=permit)
    await says(nlg, "building_permit", "Permits: apply online.")
    assert (await ask(nlg, HOURS))["text"] == render_answer(hours, settings)
    assert f"{hours.response}: " in caplog.text and "left out" in caplog.text


async def test_agency_facts_in_a_live_answer_are_filled_in(
    redis: aioredis.Redis, model_domain: Domain, entries: dict[str, Entry], settings: RenderSettings
) -> None:
    nlg = AgencyNaturalLanguageGenerator(domain=model_domain, redis=redis)
    hours = entries[HOURS]
    answer = "City Hall is closed today. Questions: call {agency.phone_311_outside}, {agency.hours_311}."
    await publish(
        redis,
        replace(hours, answer=answer, short_answer="Closed today: {agency.web_311}"),
        settings,
        was=hours,
    )
    web = await says(nlg, HOURS, "City Hall is closed today.")
    assert "call 555-010-3110, Monday to Saturday 7 am to 7 pm." in web and "{agency." not in web
    assert (await ask(nlg, HOURS, "twilio"))["text"].startswith("Closed today: harborcity.example/311")


async def test_ratings_and_tracked_links_follow_the_live_answer(
    redis: aioredis.Redis,
    model_domain: Domain,
    entries: dict[str, Entry],
    settings: RenderSettings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The live kind, topic and source; a message test's variants are served per conversation as before."""
    monkeypatch.setenv("RASA_PUBLIC_URL", "https://chat.harborcity.example")
    nlg = AgencyNaturalLanguageGenerator(domain=model_domain, redis=redis)
    hours, council = entries[HOURS], entries[COUNCIL]
    await publish(
        redis, replace(hours, answer="Moved: see the new page.", topic="parks_library"), settings, was=hours
    )
    source = "https://www.harborcity.example/council-2027"
    variants = tuple(replace(v, answer=f"{v.id} wording, 2027.") for v in council.variants)
    await publish(redis, replace(council, source=source, variants=variants), settings, was=council)
    said = await says(nlg, HOURS, "Moved: see the new page.")
    rated = (await ask(nlg, HOURS))["rating"]
    assert (rated["entry"], rated["kind"], rated["topic"]) == (HOURS, "faq", "parks_library")
    seen: dict[str, str] = {}
    for conversation in (f"c{n}" for n in range(30)):
        answer = await ask(nlg, COUNCIL, citizen=conversation)
        assert "metadata" not in answer, "the test's bookkeeping stays in"
        variant = answer["rating"]["variant"]
        seen[variant] = answer["text"]
        assert answer["text"].startswith(f"{variant} wording, 2027.")
    assert set(seen) == {"schedule_first", "speak_first"}
    link = "https://chat.harborcity.example/webhooks/links/go/council_meetings/speak_first"
    assert seen["speak_first"] == f"speak_first wording, 2027.\nMore: {link}" and said
