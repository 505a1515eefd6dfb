"""The aggregator on a real Redis: a scripted stream of conversations with known outcomes gives exactly
the figures a manager should read, and reading the stream again (twice, in small batches, by two
processes at once, after a crash) never changes them."""

from __future__ import annotations

import asyncio
import datetime
import json
from collections.abc import Awaitable, Callable
from typing import Any

from polling_support import wait_until_async
from redis.asyncio import Redis
from stack_support import run_in_thread

from bot.analytics import keys
from bot.analytics.aggregator import Aggregator, decode, run_forever, wait_bucket
from bot.analytics.summary import daily, summary, variant_outcomes
from bot.background import Background
from bot.events import STREAM

DB = 14
TODAY = datetime.datetime.now(datetime.timezone.utc).date()
DAY1, DAY2 = TODAY - datetime.timedelta(days=3), TODAY - datetime.timedelta(days=2)
T1 = datetime.datetime.combine(DAY1, datetime.time(10), datetime.timezone.utc).timestamp()
T2 = datetime.datetime.combine(DAY2, datetime.time(9), datetime.timezone.utc).timestamp()


def in_own_loop(port: int, scenario: Callable[[Redis], Awaitable[None]]) -> None:
    """A clean DB 14 and a loop of its own (a browser test may own the main thread's loop)."""

    async def run() -> None:
        client = Redis(port=port, db=DB, decode_responses=True)
        await client.flushdb()
        try:
            await scenario(client)
        finally:
            await client.close()

    run_in_thread(run, 30, scenario.__name__)


# --- events as Rasa publishes them ----------------------------------------------------------------


def user(cid: str, t: float, text: str, channel: str = "socketio", intent: str = "faq") -> dict[str, Any]:
    parse = {"intent": {"name": intent, "confidence": 0.9}, "entities": [], "text": text}
    return {"event": "user", "sender_id": cid, "timestamp": t, "text": text, "parse_data": parse,
            "input_channel": channel}  # fmt: skip


def tap(cid: str, t: float, answer: str, value: str, channel: str = "socketio") -> dict[str, Any]:
    payload = f'/feedback{{"answer":"{answer}","value":"{value}"}}'
    event = user(cid, t, payload, channel, intent="feedback")
    event["parse_data"]["entities"] = [
        {"entity": "answer", "value": answer},
        {"entity": "value", "value": value},
    ]
    return event


def bot(cid: str, t: float, utter: str = "", **metadata: Any) -> dict[str, Any]:
    meta = {"utter_action": utter, **metadata} if utter else metadata
    return {"event": "bot", "sender_id": cid, "timestamp": t, "text": "...", "data": {}, "metadata": meta}


def answer(cid: str, t: float, aid: str, entry: str, variant: str = "", kind: str = "faq", topic: str = ""):
    rating = {"answer": aid, "entry": entry, "variant": variant, "kind": kind, "topic": topic}
    return bot(cid, t, f"utter_faq/{entry}", rating=rating)


def other(cid: str, t: float, kind: str, **fields: Any) -> dict[str, Any]:
    return {"event": kind, "sender_id": cid, "timestamp": t, **fields}


def conversations() -> list[dict[str, Any]]:
    """Day 1: eight conversations with known outcomes (see EXPECTED); day 2: one comes back."""
    t = T1
    return [
        # c1 contained; rated up, then changed to down, then down again (counts once, as down)
        user("c1", t, "when is trash day"),
        answer("c1", t + 1, "a1", "faq_trash", topic="waste"),
        tap("c1", t + 2, "a1", "up"),
        tap("c1", t + 3, "a1", "down"),
        tap("c1", t + 4, "a1", "down"),
        # c2 contained over SMS, rated up
        user("c2", t + 10, "trash day?", "twilio"),
        answer("c2", t + 11, "a2", "faq_trash", topic="waste"),
        tap("c2", t + 12, "a2", "up", "twilio"),
        # c3 asks for a person, an agent claims after 45 s, releases and claims again; rates 4
        user("c3", t + 20, "a person please", intent="request_human"),
        bot("c3", t + 21, "utter_handoff_queued", handoff_reason="requested"),
        other("c3", t + 66, "pause"),
        other("c3", t + 80, "resume"),
        other("c3", t + 90, "pause"),
        other("c3", t + 200, "slot", name="handoff_rating", value=4),
        # c4 sees variant A twice (asked again), then is frustrated and handed off after 120 s; rates 2
        user("c4", t + 30, "permit for a fence", "telegram"),
        answer("c4", t + 31, "a4", "faq_permits", "A", topic="permits"),
        user("c4", t + 32, "but do I need a permit", "telegram"),
        answer("c4", t + 33, "a5", "faq_permits", "A", topic="permits"),
        user("c4", t + 34, "this is useless", "telegram", intent="express_frustration"),
        bot("c4", t + 35, "utter_handoff_queued", handoff_reason="frustration"),
        other("c4", t + 155, "pause"),
        other("c4", t + 300, "slot", name="handoff_rating", value="2"),
        # c5 sees variant B, rates it down, asks again only on its fourth message (too late to count)
        user("c5", t + 40, "building permit"),
        answer("c5", t + 41, "a6", "faq_permits", "B", topic="permits"),
        tap("c5", t + 42, "a6", "down"),
        user("c5", t + 43, "ok"),
        user("c5", t + 44, "and the pool"),
        user("c5", t + 45, "thanks"),
        user("c5", t + 46, "permit again"),
        answer("c5", t + 47, "a7", "faq_permits", "B", topic="permits"),
        # c6 declined once, clarified once, never answered
        user("c6", t + 50, "sing me a song", intent="out_of_scope"),
        other("c6", t + 51, "action", name="utter_out_of_scope"),
        user("c6", t + 52, "the thing", intent="nlu_fallback"),
        other("c6", t + 53, "action", name="action_prepare_clarification"),
        # c7 a lookup answered, a lookup failed, a 311 report filed
        user("c7", t + 60, "collection day for 1 Main St"),
        answer("c7", t + 61, "a8", "collection_day", kind="lookup"),
        user("c7", t + 62, "service status"),
        bot("c7", t + 63, "utter_service_status_unavailable"),
        bot("c7", t + 64, "utter_report_filed"),
        # c8 after hours: leaves a message for a person (no wait: nobody claimed it)
        user("c8", t + 70, "nothing works", "twilio"),
        bot("c8", t + 71, "utter_handoff_after_hours", handoff_reason="lookup_failed"),
        other("c8", t + 72, "active_loop", name="handoff_ticket_form"),
        # not a citizen: an intent triggered from outside
        user("c9", t + 80, "EXTERNAL: reminder", intent="reminder"),
        # day 2: c1 comes back and is answered
        user("c1", T2, "recycling?"),
        answer("c1", T2 + 1, "a9", "faq_trash", topic="waste"),
    ]


EXPECTED_DAY1: dict[str, Any] = {
    "conversations": 8,
    "messages": 21,
    "contained": 4,
    "containment_rate": 0.5,
    "handoffs": {"frustration": 1, "lookup_failed": 1, "requested": 1},
    "handoff_wait": {"median_seconds": 45.0, "p90_seconds": 120.0, "count": 2},
    "declined": 1,
    "clarifications": 1,
    "helpful": 1,
    "not_helpful": 2,
    "lookups": 2,
    "lookup_failures": 1,
    "reports_filed": 1,
    "csat": {"count": 2, "average": 3.0},
    "broadcasts": {"sent": 0, "delivered": 0},
    "by_channel": {
        # ratings by the channel the answer went out on: c1 and c5 down on the web, c2 up by SMS
        "socketio": {"conversations": 5, "messages": 15, "helpful": 0, "not_helpful": 2},
        "telegram": {"conversations": 1, "messages": 3, "helpful": 0, "not_helpful": 0},
        "twilio": {"conversations": 2, "messages": 3, "helpful": 1, "not_helpful": 0},
    },
    "top_answers": [
        {"entry": "faq_permits", "served": 4, "helpful": 0, "not_helpful": 1, "helpful_rate": 0.0},
        {"entry": "faq_trash", "served": 2, "helpful": 1, "not_helpful": 1, "helpful_rate": 0.5},
        {"entry": "collection_day", "served": 1, "helpful": 0, "not_helpful": 0, "helpful_rate": 0.0},
    ],
    "from": DAY1.isoformat(),
    "to": DAY1.isoformat(),
}
EXPECTED_VARIANTS = {
    "A": {"exposures": 2, "helpful": 0, "not_helpful": 0, "asked_again": 1, "handed_off": 2, "clicked": 0},
    "B": {"exposures": 2, "helpful": 0, "not_helpful": 1, "asked_again": 0, "handed_off": 0, "clicked": 0},
}


async def publish(redis: Redis, events: list[dict[str, Any]]) -> None:
    for event in events:
        await redis.xadd(STREAM, {"event": json.dumps(event)})


async def figures(redis: Redis) -> tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]], Any]:
    return (
        await summary(redis, DAY1, DAY1),
        await summary(redis, DAY1, DAY2),
        await daily(redis, DAY1, DAY2),
        await variant_outcomes(redis, "faq_permits"),
    )


def test_the_summary_equals_the_ground_truth_of_a_scripted_stream(redis_server: int) -> None:
    async def scenario(redis: Redis) -> None:
        await publish(redis, conversations()[:20])
        await redis.xadd(STREAM, {"event": "not json"})  # a damaged entry is skipped
        await redis.xadd(STREAM, {"other": "field"})
        await publish(redis, conversations()[20:])
        assert await Aggregator(redis).catch_up() == len(conversations()) + 2
        one_day, both, rows, variants = await figures(redis)
        assert one_day == EXPECTED_DAY1
        assert variants == EXPECTED_VARIANTS
        assert (both["conversations"], both["messages"], both["contained"]) == (9, 22, 5)
        assert both["top_answers"][1] == {
            "entry": "faq_trash", "served": 3, "helpful": 1, "not_helpful": 1, "helpful_rate": 0.5,
        }  # fmt: skip
        assert [(r["date"], r["conversations"], r["contained"], r["handoffs"]) for r in rows] == [
            (DAY1.isoformat(), 8, 4, 3),
            (DAY2.isoformat(), 1, 1, 0),
        ]
        # counts only: no conversation id, answer id or text in any aggregate
        aggregates = [
            keys.day(DAY1.isoformat()),
            keys.answers(DAY1.isoformat()),
            keys.variants("faq_permits"),
        ]
        stored = json.dumps([await redis.hgetall(key) for key in aggregates])
        assert not any(secret in stored for secret in ("c1", "c4", "a1", "trash day", "permit for"))
        assert 0 < await redis.ttl(keys.day(DAY1.isoformat())) <= (730 + 1) * 86400

    in_own_loop(redis_server, scenario)


def test_reading_the_stream_again_changes_nothing(redis_server: int) -> None:
    async def scenario(redis: Redis) -> None:
        await publish(redis, conversations())
        await Aggregator(redis).catch_up()
        before = await figures(redis)
        assert await Aggregator(redis).catch_up() == 0  # the same process again, or a fresh one
        entries = await redis.xrange(STREAM)
        batch = [(i, decode(fields)) for i, fields in entries]
        assert await Aggregator(redis).apply(batch) == 0  # a crash after EXEC: the batch comes again
        assert await figures(redis) == before

    in_own_loop(redis_server, scenario)


def test_small_batches_replicas_and_a_crash_before_applying_count_each_event_once(redis_server: int) -> None:
    async def scenario(redis: Redis) -> None:
        await publish(redis, conversations())
        first = Aggregator(redis, batch=3)
        read = await redis.xrange(STREAM, count=5)  # read, then "crashed" before applying: nothing written
        assert await redis.get(keys.CURSOR) is None and read
        replicas = [Aggregator(redis, batch=3), Aggregator(redis, batch=4)]
        await asyncio.gather(first.catch_up(), *(r.catch_up() for r in replicas))
        one_day, _, _, variants = await figures(redis)
        assert one_day == EXPECTED_DAY1
        assert variants == EXPECTED_VARIANTS

    in_own_loop(redis_server, scenario)


def test_the_background_consumer_follows_the_stream(redis_server: int) -> None:
    async def scenario(redis: Redis) -> None:
        background = Background()
        background.start(run_forever(Aggregator(redis), background), "analytics")
        try:
            await publish(redis, conversations())

            last = (await redis.xrevrange(STREAM, count=1))[0][0]

            async def caught_up() -> bool:
                return await redis.get(keys.CURSOR) == last

            await wait_until_async(caught_up, 10, "the consumer did not apply the events")
        finally:
            await background.stop()
        assert await summary(redis, DAY1, DAY1) == EXPECTED_DAY1

    in_own_loop(redis_server, scenario)


def test_waits_are_exact_under_five_minutes_then_coarser() -> None:
    assert [wait_bucket(s) for s in (0, 45.7, 299, 305, 3599, 3661)] == [0, 45, 299, 300, 3590, 3660]
