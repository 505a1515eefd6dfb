"""The audit log: every account action lands in `civic:audit` (who, what, when, target, never citizen
text); editors read it at /audit with filters and export it; agents cannot; the stream stays capped."""

from __future__ import annotations

import asyncio
import csv
import io
import shutil
import time
from pathlib import Path

from aiohttp.test_utils import TestClient
from console_support import MakeConsole, api_sign_in, audit_actions
from redis.asyncio import Redis
from stack_support import ROOT

from bot.audit import AuditFilter, AuditLog
from bot.handoff.store import QueueStore
from bot.inbox.selection import Message
from bot.inbox.store import InboxStore

CITIZEN_TEXT = "I live at 48 Quarry Lane, call me on 555-0142"


async def signed_in_with_csrf(console: TestClient, name: str) -> dict[str, str]:
    """Sign in; the header the session's unsafe requests need."""
    answer = await api_sign_in(console, name)
    assert answer.status == 200
    return {"X-CSRF-Token": (await answer.json())["csrf_token"]}


async def test_sign_in_failure_lockout_and_sign_out_are_logged(
    make_console: MakeConsole, redis: Redis
) -> None:
    console = await make_console(login_max_failures=2)
    csrf = await signed_in_with_csrf(console, "dana")
    signed_out = await console.post(
        "/logout", data={"csrf_token": csrf["X-CSRF-Token"]}, allow_redirects=False
    )
    assert signed_out.status == 302
    for _ in range(4):  # the fourth is refused like the third, but only the first refusal is logged
        await api_sign_in(console, "lee", "not-lees-password")
    await api_sign_in(console, "nobody", "whatever-it-is")
    logged = [(e["actor"], e["action"], e["target"], e["detail"]) for e in await audit_actions(redis)]
    assert logged == [
        ("dana", "sign_in", "dana", ""),
        ("dana", "sign_out", "dana", ""),
        ("lee", "sign_in_failed", "lee", ""),
        ("lee", "sign_in_failed", "lee", ""),
        ("lee", "lockout", "lee", "account"),
        ("lee", "sign_in_refused", "lee", "account locked"),
        ("nobody", "sign_in_failed", "nobody", "unknown name"),
    ]
    assert {e["address"] for e in await audit_actions(redis)} == {"127.0.0.1"}


async def test_claim_send_and_close_are_logged_with_the_conversation_never_its_text(
    make_console: MakeConsole, redis: Redis
) -> None:
    console = await make_console()
    await QueueStore(redis).enqueue(
        "socketio-4f1c", channel="socketio", reason="requested",
        summary={"reason": "requested", "last_messages": [CITIZEN_TEXT]},
        history=[{"sender": "citizen", "text": CITIZEN_TEXT, "timestamp": time.time()}], seeded_until=0.0,
    )  # fmt: skip
    csrf = await signed_in_with_csrf(console, "dana")
    base = "/api/conversations/socketio-4f1c"
    assert (await console.post(f"{base}/claim", headers=csrf)).status == 200
    reply = {"text": "Thanks, I can see 48 Quarry Lane on the map."}
    assert (await console.post(f"{base}/messages", json=reply, headers=csrf)).status == 200
    assert (await console.post(f"{base}/close", headers=csrf)).status == 200
    done = [
        (e["actor"], e["action"], e["target"]) for e in await audit_actions(redis) if e["action"] != "sign_in"
    ]
    assert done == [
        ("dana", "claim", "socketio-4f1c"),
        ("dana", "send", "socketio-4f1c"),
        ("dana", "close", "socketio-4f1c"),
    ]
    everything = str(await audit_actions(redis))
    assert "Quarry" not in everything and "555" not in everything


async def test_inbox_write_backs_and_publishing_are_logged(
    make_console: MakeConsole, redis: Redis, tmp_path: Path
) -> None:
    shutil.copytree(ROOT / "data", tmp_path / "data")
    console = await make_console(content_dir=tmp_path / "data/content")
    inbox = InboxStore(redis, 86400)
    for item_id, text in (("m-dump", "is the dump open sunday"), ("m-pizza", "best pizza downtown")):
        message = Message(item_id, "socketio-77", "socketio", "nlu_fallback", 0.2, text, time.time())
        await inbox.add(message, ["low_confidence"])
    csrf = await signed_in_with_csrf(console, "erin")
    dismissed = await console.post("/api/inbox/groups/m-pizza/dismiss", json={}, headers=csrf)
    assert dismissed.status == 200, await dismissed.text()
    draft = {
        "id": "dump_sunday_hours",
        "topic": "trash_recycling",
        "questions": ["is the dump open sunday"],
        "answer": "The Eastside Recycling Depot is closed on Sundays.",
        "source": "https://www.harborcity.example/sanitation/depot",
        "department": "Sanitation",
    }
    published = await console.post("/api/inbox/groups/m-dump/publish", json=draft, headers=csrf)
    assert published.status == 200, await published.text()
    done = [
        (e["actor"], e["action"], e["target"]) for e in await audit_actions(redis) if e["action"] != "sign_in"
    ]
    assert done == [("erin", "dismiss", "m-pizza"), ("erin", "publish", "dump_sunday_hours")]


async def fill_log(console: TestClient) -> None:
    await api_sign_in(console, "dana")
    await api_sign_in(console, "lee", "wrong-wrong-wrong")
    await api_sign_in(console, '=HYPERLINK("http://evil.example")', "whatever-it-is")


async def test_editors_read_the_log_with_filters(make_console: MakeConsole) -> None:
    console = await make_console()
    await fill_log(console)
    await api_sign_in(console, "erin")
    page = await console.get("/audit?action=sign_in_failed")
    assert page.status == 200
    html = await page.text()
    assert "Sign-in failed" in html and "lee" in html and "Signed in</td>" not in html
    assert "&#34;http://evil.example&#34;" in html or "&quot;http://evil.example&quot;" in html  # escaped
    only_dana = await (await console.get("/audit?actor=DANA")).text()
    assert "<td>dana</td>" in only_dana and "<td>lee</td>" not in only_dana
    tomorrow = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 86400))
    assert "0 matching entries" in await (await console.get(f"/audit?from={tomorrow}")).text()
    today = time.strftime("%Y-%m-%d", time.gmtime())
    assert "<td>lee</td>" in await (await console.get(f"/audit?from={today}&to={today}")).text()
    bad = await console.get("/audit?from=yesterday")
    assert bad.status == 400 and "From must be a date like" in await bad.text()


async def test_editors_export_csv_and_json_agents_cannot(make_console: MakeConsole, redis: Redis) -> None:
    console = await make_console()
    await fill_log(console)
    await api_sign_in(console, "erin")
    as_csv = await console.get("/audit/export.csv")
    assert as_csv.status == 200 and as_csv.content_type == "text/csv"
    assert as_csv.headers["Content-Disposition"].startswith('attachment; filename="audit-')
    rows = list(csv.DictReader(io.StringIO(await as_csv.text())))
    assert [(r["actor"], r["action"]) for r in rows][:3] == [
        ("erin", "sign_in"),
        ('\'=HYPERLINK("http://evil.example")', "sign_in_failed"),  # a spreadsheet shows it, never runs it
        ("lee", "sign_in_failed"),
    ]
    assert rows[0]["at"].endswith("Z") and rows[0]["address"] == "127.0.0.1"
    as_json = await console.get("/audit/export.json?actor=lee")
    assert as_json.status == 200
    [entry] = (await as_json.json())["entries"]
    assert {k: entry[k] for k in ("actor", "action", "target")} == {
        "actor": "lee",
        "action": "sign_in_failed",
        "target": "lee",
    }
    exports = await audit_actions(redis, "audit_export")
    assert [(e["actor"], e["detail"].split(",")[0]) for e in exports] == [("erin", "csv"), ("erin", "json")]

    await api_sign_in(console, "dana")  # an agent now holds this client's session
    for path in ("/audit/export.csv", "/audit/export.json", "/audit"):
        assert (await console.get(path)).status == 403, path
    console.session.cookie_jar.clear()
    assert (await console.get("/audit/export.csv")).status == 401


async def test_the_stream_is_capped_by_length_and_by_age(redis: Redis) -> None:
    log = AuditLog(redis, max_entries=100, retention_seconds=1.0)
    for i in range(150):
        await log.record("dana", "claim", f"socketio-{i}")
    assert await redis.xlen("civic:audit") == 100
    assert [e.target for e in await log.entries(limit=2)] == ["socketio-149", "socketio-148"]
    await asyncio.sleep(1.2)
    await log.record("dana", "close", "socketio-149")
    assert [(e.action, e.target) for e in await log.entries(limit=None)] == [("close", "socketio-149")]


async def test_an_erased_conversation_leaves_the_log(redis: Redis) -> None:
    log = AuditLog(redis)
    for target in ("socketio-erase-me", "socketio-keep", "socketio-erase-me"):
        await log.record("dana", "claim", target)
    assert await log.forget_target("socketio-erase-me") == 2
    assert [e.target for e in await log.entries(AuditFilter(action="claim"))] == ["socketio-keep"]
