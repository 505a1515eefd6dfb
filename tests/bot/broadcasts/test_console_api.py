"""The broadcasts' JSON API on the real console app and a real Redis: the two-person rule, validation
with readable reasons, cancel, the list, and the pinned notice.

Accounts: ava and bo and cy are editors (ava writes, bo and cy approve), dan is an agent. Subscribers
are stored the way the chat's subscription flow stores them (`SubscriberStore`), and what an editor
would see after approving is read back through the API (the delivery's queued counts).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from redis.asyncio import Redis
from stack_support import empty_redis_db, free_port

from bot.broadcasts.model import SENT, BroadcastStore
from bot.console.accounts import add_account
from bot.console.app import create_app
from bot.console.config import ConsoleConfig
from bot.handoff.config import HandoffConfig
from bot.inbox.config import InboxConfig
from bot.settings import BroadcastSettings, Settings
from bot.subscriptions.store import SubscriberStore

DB = 7  # this module's database on the shared test Redis
ROOT = Path(__file__).resolve().parents[3]
ROLES = {"ava": "editor", "bo": "editor", "cy": "editor", "dan": "agent"}
WATER = {
    "title": "Boil water notice",
    "text": "Boil tap water for 1 minute before drinking.",
    "topic": "water",
}
Make = Callable[..., Awaitable[TestClient]]


@pytest.fixture(scope="module")
def console_tokens(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """The accounts file and each account's API token (bcrypt once per module)."""
    path = tmp_path_factory.mktemp("broadcast-accounts") / "agents.yml"
    tokens = {name: add_account(path, name, role, f"{name}-secret-password") for name, role in ROLES.items()}
    return path, tokens


@pytest.fixture
async def console_redis(redis_server: int) -> AsyncIterator[Redis]:
    async with empty_redis_db(redis_server, DB) as client:
        yield client


@pytest.fixture
async def console_make(
    redis_server: int, console_redis: Redis, console_tokens: tuple[Path, dict[str, str]]
) -> AsyncIterator[Make]:
    """`await console_make(approvals=2)`: the real console app serving over HTTP, and a client."""
    clients: list[TestClient] = []
    agents, _ = console_tokens

    async def make(approvals: int = 2) -> TestClient:
        url = f"redis://127.0.0.1:{redis_server}/{DB}"
        handoff = HandoffConfig(
            redis_url=url,
            rasa_url=f"http://127.0.0.1:{free_port()}",
            rasa_token="unused",
            agents_file=agents,
            data_dir=ROOT / "data/handoff",
            sweep_seconds=3600.0,
        )
        app = create_app(
            ConsoleConfig(redis_url=url, agents_file=agents),
            handoff,
            InboxConfig(),
            BroadcastSettings(approvals=approvals),
        )
        client = TestClient(TestServer(app))
        await client.start_server()
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.close()


@pytest.fixture
async def api(console_make: Make) -> TestClient:
    return await console_make()


@pytest.fixture
def as_(console_tokens: tuple[Path, dict[str, str]]) -> Callable[[str], dict[str, str]]:
    _, tokens = console_tokens
    return lambda name: {"Authorization": f"Bearer {tokens[name]}"}


async def subscribers(redis: Redis, **by_channel: list[tuple[str, list[str]]]) -> None:
    """`twilio=[("water", ["downtown"])]`: one subscriber per entry on that channel."""
    store = SubscriberStore(redis)
    n = 0
    for channel, entries in by_channel.items():
        for topic, areas in entries:
            n += 1
            await store.subscribe(f"{channel}-{n:04d}", [topic], areas, "Reply STOP to opt out.")


async def create(api: TestClient, headers: dict[str, str], **fields: Any) -> Any:
    return await api.post("/api/broadcasts", json=WATER | fields, headers=headers)


async def test_an_editor_creates_a_broadcast_that_waits_for_approval_with_its_audience(
    api: TestClient, console_redis: Redis, as_: Any
) -> None:
    await subscribers(
        console_redis,
        twilio=[
            ("water", ["downtown"]),
            ("water", ["all"]),
            ("water", ["eastside"]),
            ("roads_snow", ["all"]),
        ],
        telegram=[("water", ["downtown"])],
        facebook=[("water", ["downtown"])],
    )
    created = await create(api, as_("ava"), areas=["downtown"], short_text="Boil water: downtown.")
    assert created.status == 201
    body = await created.json()
    assert body["status"] == "pending_approval"
    assert body["audience"] == {
        "twilio": 2,  # downtown and the whole city; not eastside, not roads
        "telegram": 1,
        "whatsapp": 0,
        "messenger": 1,
        "instagram": 0,
        "total": 4,
    }
    only_sms = await create(api, as_("ava"), areas=["downtown"], channels=["twilio"])
    assert (await only_sms.json())["audience"]["total"] == 2
    shown = await (await api.get(f"/api/broadcasts/{body['id']}", headers=as_("dan"))).json()
    assert shown["title"] == "Boil water notice" and shown["author"] == "ava"
    assert shown["status"] == "pending_approval" and shown["approvals"] == ["ava"]
    assert shown["counts"]["queued"] == 0 and set(shown["by_channel"]) >= {"twilio", "messenger"}


async def test_agents_read_but_cannot_create_approve_cancel_or_pin(api: TestClient, as_: Any) -> None:
    refused = await create(api, as_("dan"), areas=["all"])
    assert refused.status == 403 and "editor" in (await refused.json())["error"]
    broadcast_id = (await (await create(api, as_("ava"), areas=["all"])).json())["id"]
    for path in (f"/api/broadcasts/{broadcast_id}/approve", f"/api/broadcasts/{broadcast_id}/cancel"):
        assert (await api.post(path, headers=as_("dan"))).status == 403
    pin = await api.post("/api/notice", json={"text": "x", "expires_in_minutes": 60}, headers=as_("dan"))
    assert pin.status == 403
    assert (await api.delete("/api/notice", headers=as_("dan"))).status == 403
    listed = await api.get("/api/broadcasts", headers=as_("dan"))
    assert [b["id"] for b in (await listed.json())["broadcasts"]] == [broadcast_id]
    assert (await api.get("/api/broadcasts")).status == 401
    assert (await api.get("/api/broadcasts", headers={"Authorization": "Bearer wrong"})).status == 401


async def test_the_author_cannot_approve_alone_and_a_second_editor_starts_the_delivery(
    api: TestClient, console_redis: Redis, as_: Any
) -> None:
    await subscribers(console_redis, twilio=[("water", ["all"])] * 3, telegram=[("water", ["westside"])])
    broadcast_id = (await (await create(api, as_("ava"), areas=["westside"])).json())["id"]
    own = await api.post(f"/api/broadcasts/{broadcast_id}/approve", headers=as_("ava"))
    assert own.status == 403
    assert "another editor" in (await own.json())["error"]
    approved = await api.post(f"/api/broadcasts/{broadcast_id}/approve", headers=as_("bo"))
    assert approved.status == 200
    assert (await approved.json())["status"] == "sending"
    shown = await (await api.get(f"/api/broadcasts/{broadcast_id}", headers=as_("ava"))).json()
    assert shown["status"] == "sending" and shown["approvals"] == ["ava", "bo"]
    assert shown["counts"]["queued"] == 4
    assert shown["by_channel"]["twilio"]["queued"] == 3 and shown["by_channel"]["telegram"]["queued"] == 1
    again = await api.post(f"/api/broadcasts/{broadcast_id}/approve", headers=as_("cy"))
    assert again.status == 409 and "sending" in (await again.json())["error"]
    actions = [(e["actor"], e["action"]) for _, e in await console_redis.xrange("civic:audit")]
    assert actions == [
        ("ava", "broadcast_create"),
        ("bo", "broadcast_approve"),
        ("bo", "broadcast"),
    ]


async def test_with_one_approval_the_author_sends_alone(
    console_make: Make, console_redis: Redis, as_: Any
) -> None:
    assert Settings.from_env({"BROADCAST_APPROVALS": "1"}).broadcasts.approvals == 1
    api = await console_make(approvals=1)
    await subscribers(console_redis, whatsapp=[("water", ["all"])])
    broadcast_id = (await (await create(api, as_("ava"), areas=["all"])).json())["id"]
    approved = await api.post(f"/api/broadcasts/{broadcast_id}/approve", headers=as_("ava"))
    assert approved.status == 200 and (await approved.json())["status"] == "sending"
    shown = await (await api.get(f"/api/broadcasts/{broadcast_id}", headers=as_("ava"))).json()
    assert shown["by_channel"]["whatsapp"]["queued"] == 1


async def test_approving_twice_counts_once(console_make: Make, as_: Any) -> None:
    api = await console_make(approvals=3)
    broadcast_id = (await (await create(api, as_("ava"), areas=["all"])).json())["id"]
    url = f"/api/broadcasts/{broadcast_id}/approve"
    for _ in range(2):
        answer = await api.post(url, headers=as_("bo"))
        assert answer.status == 200
        assert await answer.json() == {
            "status": "pending_approval",
            "approvals": ["ava", "bo"],
            "approvals_needed": 3,
        }
    assert (await api.post(url, headers=as_("ava"))).status == 403
    last = await api.post(url, headers=as_("cy"))
    assert (await last.json())["status"] == "sending"


async def test_two_editors_approving_at_the_same_moment_start_the_delivery_once(
    console_make: Make, console_redis: Redis, as_: Any
) -> None:
    first, second = await console_make(), await console_make()  # two console processes, one Redis
    await subscribers(console_redis, twilio=[("water", ["all"])] * 5)
    broadcast_id = (await (await create(first, as_("ava"), areas=["all"])).json())["id"]
    url = f"/api/broadcasts/{broadcast_id}/approve"
    answers = await asyncio.gather(first.post(url, headers=as_("bo")), second.post(url, headers=as_("cy")))
    assert sorted(a.status for a in answers) == [200, 409]
    shown = await (await first.get(f"/api/broadcasts/{broadcast_id}", headers=as_("ava"))).json()
    assert shown["counts"]["queued"] == 5  # queued once, not twice
    assert len(shown["approvals"]) == 2
    started = [e for _, e in await console_redis.xrange("civic:audit") if e["action"] == "broadcast"]
    assert len(started) == 1


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"topic": "parking"}, "unknown topic 'parking'"),
        ({"areas": ["atlantis"]}, "unknown area 'atlantis'"),
        ({"areas": []}, "areas must name at least one district"),
        ({"title": "  "}, "title must not be empty"),
        ({"text": ""}, "text must not be empty"),
        ({"text": "a" * 1601, "short_text": "ok"}, "text is 1601 characters; at most 1600"),
        ({"text": "a" * 307}, "text is 3 SMS segments (307 GSM-7 characters); add a short_text"),
        ({"text": "Boil water 💧 " + "a" * 130}, "text is 3 SMS segments (144 UCS-2 characters)"),
        ({"text": "a" * 400, "short_text": "b" * 307}, "short_text is 3 SMS segments"),
        ({"channels": ["twilio", "pigeon"]}, "unknown channel 'pigeon'"),
        ({"link": "http://harborcity.gov/water"}, "link must be an https:// address"),
        ({"title": ["a list"]}, "title must be text"),
    ],
)
async def test_a_broadcast_an_editor_must_fix_is_a_400_with_the_reason(
    api: TestClient, as_: Any, fields: dict[str, Any], reason: str
) -> None:
    answer = await create(api, as_("ava"), **({"areas": ["all"]} | fields))
    assert answer.status == 400
    assert reason in (await answer.json())["error"]
    listed = await api.get("/api/broadcasts", headers=as_("ava"))
    assert (await listed.json())["broadcasts"] == []


async def test_sms_length_rules_leave_what_fits(api: TestClient, as_: Any) -> None:
    two_segments = "a" * 300 + "{}"  # 304 septets: the brackets take two each
    fits = [
        {"text": two_segments},
        {"text": "a" * 1600, "short_text": "Boil water in Downtown. harborcity.gov/water"},
        {"text": "a" * 1600, "channels": ["telegram", "messenger"]},  # no SMS: no SMS limit
        {"text": "Boil water 💧 " + "a" * 100, "link": "https://harborcity.gov/water"},
        {"areas": ["Downtown", "east side", "westside"]},  # names, other names and ids
    ]
    for fields in fits:
        answer = await create(api, as_("ava"), **({"areas": ["all"]} | fields))
        assert answer.status == 201, (fields, await answer.text())
    assert (await create(api, as_("ava"), areas=["all"], text="a" * 307)).status == 400
    last = await (await api.get("/api/broadcasts?limit=1", headers=as_("ava"))).json()
    assert last["broadcasts"][0]["areas"] == ["downtown", "eastside", "westside"]
    bad = await api.post("/api/broadcasts", data=b"not json", headers=as_("ava"))
    assert bad.status == 400 and (await bad.json())["error"] == "the body must be a JSON object"


async def test_cancel_stops_what_is_not_sent_and_a_sent_broadcast_cannot_be_cancelled(
    api: TestClient, console_redis: Redis, as_: Any
) -> None:
    await subscribers(console_redis, telegram=[("water", ["all"])] * 3)
    pending = (await (await create(api, as_("ava"), areas=["all"])).json())["id"]
    cancelled = await api.post(f"/api/broadcasts/{pending}/cancel", headers=as_("bo"))
    assert cancelled.status == 200 and await cancelled.json() == {"status": "cancelled"}
    assert (await api.post(f"/api/broadcasts/{pending}/approve", headers=as_("bo"))).status == 409
    assert (await api.post(f"/api/broadcasts/{pending}/cancel", headers=as_("bo"))).status == 409

    sending = (await (await create(api, as_("ava"), areas=["all"])).json())["id"]
    assert (await api.post(f"/api/broadcasts/{sending}/approve", headers=as_("bo"))).status == 200
    assert (await api.post(f"/api/broadcasts/{sending}/cancel", headers=as_("ava"))).status == 200
    shown = await (await api.get(f"/api/broadcasts/{sending}", headers=as_("ava"))).json()
    assert shown["status"] == "cancelled" and shown["cancelled_by"] == "ava"
    assert shown["counts"]["queued"] == 0 and shown["counts"]["skipped"] == 3

    done = (await (await create(api, as_("ava"), areas=["all"])).json())["id"]
    store = BroadcastStore(console_redis)
    record = await store.get(done)
    assert record is not None
    from dataclasses import replace

    await store.put(replace(record, status=SENT))  # as the broadcaster marks it when done
    refused = await api.post(f"/api/broadcasts/{done}/cancel", headers=as_("ava"))
    assert refused.status == 409 and "already sent" in (await refused.json())["error"]
    assert (await api.post("/api/broadcasts/b-000000000000/cancel", headers=as_("ava"))).status == 404
    actions = [e["action"] for _, e in await console_redis.xrange("civic:audit")]
    assert actions.count("broadcast_cancel") == 2


async def test_the_list_is_newest_first_with_limit_and_offset(api: TestClient, as_: Any) -> None:
    ids = []
    for n in range(4):
        ids.append((await (await create(api, as_("ava"), areas=["all"], title=f"Notice {n}")).json())["id"])
        await asyncio.sleep(0.01)
    listed = await (await api.get("/api/broadcasts", headers=as_("dan"))).json()
    assert [b["id"] for b in listed["broadcasts"]] == ids[::-1]
    page = await (await api.get("/api/broadcasts?limit=2&offset=1", headers=as_("dan"))).json()
    assert [b["title"] for b in page["broadcasts"]] == ["Notice 2", "Notice 1"]
    assert (await api.get("/api/broadcasts?limit=-1", headers=as_("dan"))).status == 400


async def test_the_audience_before_composing(api: TestClient, console_redis: Redis, as_: Any) -> None:
    await subscribers(console_redis, twilio=[("water", ["downtown"])], instagram=[("water", ["all"])])
    answer = await api.get(
        "/api/broadcasts/audience?topic=water&areas=downtown&channels=twilio", headers=as_("dan")
    )
    assert (await answer.json())["audience"]["total"] == 1
    everyone = await api.get("/api/broadcasts/audience?topic=water&areas=all", headers=as_("dan"))
    assert (await everyone.json())["audience"] | {} == {
        "twilio": 1,
        "telegram": 0,
        "whatsapp": 0,
        "messenger": 0,
        "instagram": 1,
        "total": 2,
    }
    unknown = await api.get("/api/broadcasts/audience?topic=parking&areas=all", headers=as_("dan"))
    assert unknown.status == 400


async def test_an_editor_pins_reads_and_unpins_the_notice(
    api: TestClient, console_redis: Redis, as_: Any
) -> None:
    assert (await api.get("/api/notice", headers=as_("dan"))).status == 404
    expires = datetime.now(timezone(timedelta(hours=-5))) + timedelta(hours=6)
    body = {
        "text": "Boil-water notice for Downtown until Friday.",
        "link": "https://harborcity.gov/water",
        "expires_at": expires.isoformat(),
    }
    pinned = await api.post("/api/notice", json=body, headers=as_("ava"))
    assert pinned.status == 201
    notice = await pinned.json()
    assert notice["text"] == body["text"] and notice["link"] == body["link"]
    assert abs(notice["expires_at"] - expires.timestamp()) < 1
    read = await api.get("/api/notice", headers=as_("dan"))
    assert read.status == 200 and (await read.json())["text"] == body["text"]
    assert (await api.delete("/api/notice", headers=as_("bo"))).status == 204
    assert (await api.get("/api/notice", headers=as_("dan"))).status == 404
    actions = [(e["actor"], e["action"]) for _, e in await console_redis.xrange("civic:audit")]
    assert actions == [("ava", "notice_pin"), ("bo", "notice_unpin")]


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"text": ""}, "text must not be empty"),
        ({"text": "a" * 481}, "at most 480"),
        ({"link": "javascript:alert(1)"}, "link must be an https:// address"),
        ({"expires_in_minutes": None}, "give expires_at or expires_in_minutes"),
        ({"expires_in_minutes": -5}, "the expiry must be in the future"),
        ({"expires_in_minutes": 7 * 24 * 60 + 5}, "at most 7 days"),
        ({"expires_in_minutes": None, "expires_at": "2020-01-01T00:00:00+00:00"}, "in the future"),
        ({"expires_in_minutes": None, "expires_at": "2099-01-01T00:00:00"}, "needs a UTC offset"),
        ({"expires_in_minutes": None, "expires_at": "friday"}, "expires_at must be a date and time"),
    ],
)
async def test_a_notice_an_editor_must_fix_is_a_400(
    api: TestClient, as_: Any, fields: dict[str, Any], reason: str
) -> None:
    body = {"text": "Shelter open at Harbor High.", "link": "", "expires_in_minutes": 60} | fields
    answer = await api.post("/api/notice", json=body, headers=as_("ava"))
    assert answer.status == 400
    assert reason in (await answer.json())["error"]
    assert (await api.get("/api/notice", headers=as_("ava"))).status == 404


async def test_the_notice_is_gone_when_it_expires(api: TestClient, as_: Any) -> None:
    body = {"text": "Road closed on Main St.", "expires_in_minutes": 0.02}  # 1.2 seconds
    assert (await api.post("/api/notice", json=body, headers=as_("ava"))).status == 201
    assert (await api.get("/api/notice", headers=as_("ava"))).status == 200
    deadline = time.monotonic() + 10
    while (await api.get("/api/notice", headers=as_("ava"))).status == 200:
        assert time.monotonic() < deadline, "the notice outlived its expiry"
        await asyncio.sleep(0.2)


async def test_a_signed_in_page_calls_the_api_with_its_csrf_token(
    api: TestClient, console_redis: Redis
) -> None:
    signed_in = await api.post("/api/login", json={"name": "ava", "password": "ava-secret-password"})
    assert signed_in.status == 200
    without = await api.post("/api/broadcasts", json=WATER | {"areas": ["all"]})
    assert without.status == 403
    csrf = (await signed_in.json())["csrf_token"]
    created = await api.post(
        "/api/broadcasts", json=WATER | {"areas": ["all"]}, headers={"X-CSRF-Token": csrf}
    )
    assert created.status == 201


# --- wording in the agency's other languages ---------------------------------------------------------

SPANISH = {
    "title": "Aviso de hervir el agua",
    "text": "Hierva el agua del grifo durante 1 minuto antes de beberla.",
    "short_text": "Harbor City: hierva el agua antes de beberla.",
}


async def test_a_broadcast_worded_in_spanish_keeps_it_and_counts_its_readers(
    api: TestClient, console_redis: Redis, as_: Any
) -> None:
    store = SubscriberStore(console_redis)
    await store.subscribe("telegram-0001", ["water"], ["all"], "wording", language="es")
    await store.subscribe("telegram-0002", ["water"], ["all"], "wording")
    await store.subscribe("twilio-0003", ["water"], ["all"], "wording", language="es")
    created = await create(api, as_("ava"), areas=["all"], translations={"es": SPANISH})
    assert created.status == 201, await created.text()
    body = await created.json()
    assert [(row["code"], row["count"], row["worded"]) for row in body["languages"]] == [
        ("en", 1, True),
        ("es", 2, True),
    ]
    assert body["untranslated"] == ""
    shown = await (await api.get(f"/api/broadcasts/{body['id']}", headers=as_("dan"))).json()
    assert shown["translations"] == {"es": SPANISH}

    english_only = await (await create(api, as_("ava"), areas=["all"], channels=["telegram"])).json()
    assert (
        english_only["untranslated"]
        == "1 read Español: with no wording in their language, they get the English."
    )
    actions = [e for _, e in await console_redis.xrange("civic:audit") if e["action"] == "broadcast_create"]
    assert actions[0]["detail"].endswith("in en, es") and actions[1]["detail"].endswith("in en")


@pytest.mark.parametrize(
    ("translations", "reason"),
    [
        ({"fr": SPANISH}, "'fr' is not one of the agency's other languages (es)"),
        ({"en": SPANISH}, "'en' is not one of the agency's other languages (es)"),
        ({"es": {"title": "Aviso"}}, "text_es must not be empty: the es wording needs a title and a text"),
        ({"es": {"text": "Hierva el agua."}}, "title_es must not be empty"),
        ({"es": "Hierva el agua."}, "translations.es must have a title, a text and an optional short_text"),
        (["es"], "translations must map a language code to its title, text and short_text"),
        ({"es": SPANISH | {"short_text": "á" * 200}}, "short_text_es is 3 SMS segments"),
        ({"es": {"title": "Aviso", "text": "á" * 200}}, "add a short_text_es of at most 2 segments"),
        ({"es": SPANISH | {"title": "A" * 121}}, "title_es is 121 characters; at most 120"),
    ],
)
async def test_a_wording_in_another_language_an_editor_must_fix_is_a_400(
    api: TestClient, as_: Any, translations: Any, reason: str
) -> None:
    answer = await create(api, as_("ava"), areas=["all"], translations=translations)
    assert answer.status == 400
    assert reason in (await answer.json())["error"]


async def test_an_empty_wording_in_another_language_is_none(api: TestClient, as_: Any) -> None:
    empty = {"title": " ", "text": "", "short_text": ""}
    created = await (await create(api, as_("ava"), areas=["all"], translations={"es": empty})).json()
    shown = await (await api.get(f"/api/broadcasts/{created['id']}", headers=as_("dan"))).json()
    assert shown["translations"] == {}
    # the page's form fields, as a script may send them too
    fields = {"title_es": SPANISH["title"], "text_es": SPANISH["text"]}
    created = await (await create(api, as_("ava"), areas=["all"], channels=["telegram"], **fields)).json()
    shown = await (await api.get(f"/api/broadcasts/{created['id']}", headers=as_("dan"))).json()
    assert shown["translations"] == {
        "es": {"title": SPANISH["title"], "text": SPANISH["text"], "short_text": ""}
    }
