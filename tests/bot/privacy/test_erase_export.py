"""Erasure and access on a real Redis, filled through the real stores for two SMS citizens.

Citizen A and citizen B each get what a conversation leaves behind: Rasa's tracker (saved by our
tracker store, which publishes to the real event broker), a lock, the inbox's records (the real
recorder reading the stream), a handoff (queued, claimed, transcribed, closed, rated with a comment),
channel data (address, window, options, privacy notice), offered buttons, a rate-limit bucket, a
cached collection lookup for the address they gave, a report guard and audit entries. Then
`python -m bot privacy export` lists A's data, `python -m bot privacy erase` removes it, a SCAN of
every key and an XRANGE of every stream find neither A's conversation id nor A's phone number, B's
data is unchanged, and a second erase removes nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from rasa.core.lock_store import RedisLockStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
from redis.asyncio import Redis
from stack_support import empty_redis_db

from actions.forms.submit_report import guard_key
from bot.analytics import keys as analytics_keys
from bot.analytics.aggregator import Aggregator
from bot.audit import AuditLog
from bot.cache import LookupCache, cache_key
from bot.channels.offered import OfferedPayloads
from bot.channels.ratelimit import RateLimiter
from bot.channels.store import ChannelStore
from bot.events import STREAM, ensure_group
from bot.events.broker import RedisStreamBroker
from bot.handoff.store import QueueStore
from bot.identity import IdentityKey
from bot.inbox.clusters import CLUSTERS, cluster_key
from bot.inbox.recorder import Recorder, consume_once
from bot.inbox.store import InboxStore
from bot.privacy.holdings import report_guard_key
from bot.privacy.redact import Redactor
from bot.settings import Bucket, RedisAddress
from bot.tracker_store import CivicRedisTrackerStore

ROOT = Path(__file__).resolve().parents[3]
DB = 6
SECRET = "test-identity-secret-0123456789"
PHONES = {"A": "+15551234567", "B": "+15559876543"}
ADDRESSES = {"A": "48 Quarry Lane", "B": "7 Dune Path"}
DOMAIN = Domain.from_dict(
    {
        "intents": ["ask_collection_day"],
        "slots": {"address": {"type": "text", "mappings": [{"type": "custom"}]}},
    }
)


def conversation_id(who: str) -> str:
    return IdentityKey(SECRET).conversation_id("twilio", PHONES[who])


@pytest.fixture
async def redis(redis_server: int) -> AsyncIterator[Redis]:
    async with empty_redis_db(redis_server, DB) as client:
        yield client


async def converse(redis_server: int, who: str, start: float) -> None:
    """One SMS conversation through the real tracker store and event broker, as Rasa saves it."""
    cid = conversation_id(who)
    broker = RedisStreamBroker(Redis(port=redis_server, db=DB))
    store = CivicRedisTrackerStore(
        domain=DOMAIN, host="127.0.0.1", port=redis_server, db=DB, key_prefix="civic", event_broker=broker
    )
    tracker = store.init_tracker(cid)
    unsure = {"name": "ask_collection_day", "confidence": 0.3}
    for event in [
        ActionExecuted("action_listen", timestamp=start),
        UserUttered(
            f"when is pickup at {ADDRESSES[who]}", unsure, timestamp=start + 1, input_channel="twilio"
        ),
        SlotSet("address", ADDRESSES[who], timestamp=start + 2),
        ActionExecuted("action_confirm_report", timestamp=start + 3),
        BotUttered(f"Collection at {ADDRESSES[who]} is on Tuesday.", timestamp=start + 4),
        ActionExecuted("action_listen", timestamp=start + 5),
    ]:
        tracker.update(event)
    await store.save(tracker)
    await broker.flush()
    await broker.close()
    RedisLockStore(host="127.0.0.1", port=redis_server, db=DB, key_prefix="civic").issue_ticket(cid)


async def fill(redis: Redis, redis_server: int, who: str, start: float) -> None:
    """Everything else a conversation leaves, through each store's own API."""
    cid = conversation_id(who)
    await converse(redis_server, who, start)
    recorder = Recorder(InboxStore(redis, 30 * 86400), Redactor(), threshold=0.6)
    await ensure_group(redis, "inbox", STREAM)
    while await consume_once(redis, recorder, STREAM, "inbox", "console", block_ms=50):
        pass
    await Aggregator(redis).catch_up()
    queue = QueueStore(redis)
    await queue.enqueue(cid, channel="twilio", reason="requested", summary={}, history=[], seeded_until=0)
    await queue.redis.set(queue.key("pending_reason", cid), "requested")
    await queue.record(cid, "citizen", f"I'm at {ADDRESSES[who]}", start + 6)
    if who == "A":
        await queue.claim(cid, "dana")
        await queue.close(cid, "dana")
    await queue.add_rating(cid, "dana", "requested", 2, comment=f"slow reply about {ADDRESSES[who]}")
    channel = ChannelStore(
        RedisAddress(port=redis.connection_pool.connection_kwargs["port"], db=DB), "twilio"
    )
    await channel.remember_address(cid, PHONES[who], ttl=3600)
    await channel.remember_options(cid, ["/affirm", "/deny"], ttl=3600)
    await channel.first_reply(cid, ttl=3600)
    await channel.close()
    await OfferedPayloads(redis).remember(cid, ["/affirm"])
    limiter = RateLimiter(redis, IdentityKey(SECRET))
    await limiter.take([limiter.conversation(cid, Bucket(20, 5))])

    async def schedule() -> dict[str, str]:
        return {"day": "Tuesday"}

    await LookupCache(redis).get_or_fetch(cache_key("collection", ADDRESSES[who]), schedule, 60, 60)
    await redis.set(guard_key(cid, start + 3), json.dumps({"state": "filed", "request_id": "512077"}))
    await AuditLog(redis).record("dana", "claim", cid)


async def everything(redis: Redis) -> str:
    """Every key name, and every value, stream entry, element and field in the database, as text."""
    parts = []
    async for key in redis.scan_iter(count=500):
        kind = await redis.type(key)
        parts.append(key)
        if kind == "string":
            parts.append(await redis.get(key))
        elif kind == "hash":
            parts.append(json.dumps(await redis.hgetall(key)))
        elif kind == "list":
            parts += await redis.lrange(key, 0, -1)
        elif kind == "set":
            parts += sorted(await redis.smembers(key))
        elif kind == "zset":
            parts += await redis.zrange(key, 0, -1)
        elif kind == "stream":
            parts += [json.dumps(fields) for _, fields in await redis.xrange(key)]
    return "\n".join(parts)


async def group_counts(redis: Redis) -> dict[str, int]:
    """The inbox's groups and how many messages each counts."""
    return {
        cid: int(await redis.hget(cluster_key(cid), "count") or 0)
        for cid in await redis.zrange(CLUSTERS, 0, -1)
    }


def command(redis_server: int, *args: str) -> str:
    env = {**os.environ, "REDIS_URL": f"redis://127.0.0.1:{redis_server}/{DB}", "IDENTITY_SECRET": SECRET}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "privacy", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    return done.stdout


def test_the_report_guard_key_is_the_actions_own() -> None:
    assert report_guard_key("twilio-abc", 1712.25) == guard_key("twilio-abc", 1712.25)


async def test_export_lists_a_citizens_data_and_erase_removes_every_trace(
    redis: Redis, redis_server: int, tmp_path: Path
) -> None:
    now = time.time()
    await fill(redis, redis_server, "A", now - 600)
    await fill(redis, redis_server, "B", now - 300)
    a, b = conversation_id("A"), conversation_id("B")
    everything_before = await everything(redis)
    assert a in everything_before and PHONES["A"] in everything_before

    out = tmp_path / "a.json"
    printed = command(redis_server, "export", "--channel", "twilio", "--user", PHONES["A"], "--out", str(out))
    assert a in printed and str(out) in printed
    document = json.loads(out.read_text())
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    assert set(document["counts"]) >= {
        "tracker", "lock", "events", "inbox", "handoff", "handoff changes", "ratings", "channel",
        "offered buttons", "rate limits", "cached lookups", "report guards", "audit",
    }  # fmt: skip
    assert len(document["held"]["inbox"]) == 3  # the message, its place in the list, the recorder's state
    text = json.dumps(document)
    assert ADDRESSES["A"] in text and PHONES["A"] in text
    assert b not in text and ADDRESSES["B"] not in text and PHONES["B"] not in text
    b_out = tmp_path / "b-before.json"
    command(redis_server, "export", "--conversation", b, "--out", str(b_out))

    assert await redis.exists(analytics_keys.conversation(a), analytics_keys.conversation(b)) == 2
    counted_before = await group_counts(redis)
    assert sum(counted_before.values()) == 2  # each citizen's unsure question, in the inbox's groups

    printed = command(redis_server, "erase", "--channel", "twilio", "--user", PHONES["A"])
    assert printed.startswith(f"conversation {a}: removed: ") and "tracker 1" in printed
    audited = [fields for _, fields in await redis.xrange("civic:audit")]
    erasures = [fields for fields in audited if fields.get("action") == "privacy_erase"]
    assert len(erasures) == 1 and erasures[0]["actor"].startswith("cli:")  # who, never whose data

    remaining = await everything(redis)
    assert a not in remaining
    assert PHONES["A"] not in remaining
    assert ADDRESSES["A"] not in remaining
    for group in await redis.xinfo_groups(STREAM):
        pending = await redis.xpending_range(STREAM, group["name"], min="-", max="+", count=1000)
        for entry in pending:  # nothing a reader still owes an acknowledgement was deleted under it
            assert await redis.xrange(STREAM, entry["message_id"], entry["message_id"])

    assert not await redis.exists(analytics_keys.conversation(a))
    assert await redis.exists(analytics_keys.conversation(b))
    assert sum((await group_counts(redis)).values()) == 1  # A's message left its group's count

    b_after = tmp_path / "b-after.json"
    command(redis_server, "export", "--conversation", b, "--out", str(b_after))
    before, after = json.loads(b_out.read_text()), json.loads(b_after.read_text())
    assert before["counts"] == after["counts"]
    assert before["held"] == after["held"]
    assert ADDRESSES["B"] in remaining and PHONES["B"] in remaining

    assert command(redis_server, "erase", "--conversation", a).strip() == (
        f"conversation {a}: nothing held about this conversation"
    )
