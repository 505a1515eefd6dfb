"""The read API the dashboard, the JSON API and the experiments page rely on: stable keys, empty
ranges, at most 20 top answers, link clicks, ended tests and broadcasts' reach, on a real Redis."""

from __future__ import annotations

import datetime
import json
import time
from collections import Counter
from typing import Any

from redis.asyncio import Redis
from test_aggregator import DAY1, DAY2, T1, answer, in_own_loop, user

from bot.analytics import keys
from bot.analytics.aggregator import Aggregator
from bot.analytics.summary import (
    daily,
    end_experiment,
    ended_experiments,
    experiments,
    percentile,
    record_click,
    summary,
    variant_outcomes,
)
from bot.broadcasts import delivery
from bot.broadcasts.model import Broadcast, BroadcastStore
from bot.events import STREAM
from bot.subscriptions.store import PUSH_CHANNELS

SUMMARY_KEYS = {
    "conversations", "messages", "contained", "containment_rate", "handoffs", "handoff_wait", "declined",
    "clarifications", "helpful", "not_helpful", "lookups", "lookup_failures", "reports_filed", "csat",
    "broadcasts", "by_channel", "top_answers", "from", "to",
}  # fmt: skip


async def publish(redis: Redis, events: list[dict[str, Any]]) -> None:
    for event in events:
        await redis.xadd(STREAM, {"event": json.dumps(event)})


def test_an_empty_range_has_every_key_and_zero_figures(redis_server: int) -> None:
    async def scenario(redis: Redis) -> None:
        empty = await summary(redis, DAY1, DAY2)
        assert set(empty) == SUMMARY_KEYS
        assert (empty["conversations"], empty["containment_rate"], empty["top_answers"]) == (0, 0.0, [])
        assert empty["handoff_wait"] == {"median_seconds": 0.0, "p90_seconds": 0.0, "count": 0}
        assert empty["csat"] == {"count": 0, "average": 0.0}
        assert empty["broadcasts"] == {"sent": 0, "delivered": 0}
        rows = await daily(redis, DAY1, DAY2)
        assert [row["date"] for row in rows] == [DAY1.isoformat(), DAY2.isoformat()]
        assert all(row["conversations"] == 0 and row["containment_rate"] == 0.0 for row in rows)
        assert await daily(redis, DAY2, DAY1) == []  # a range that ends before it starts

    in_own_loop(redis_server, scenario)


def test_top_answers_are_the_twenty_most_served(redis_server: int) -> None:
    async def scenario(redis: Redis) -> None:
        events = []
        for n in range(25):  # entry e00 served once, e01 twice, ... e24 25 times
            for m in range(n + 1):
                cid, t = f"c{n}-{m}", T1 + n * 100 + m
                events += [user(cid, t, "q"), answer(cid, t + 0.5, f"a{n}-{m}", f"e{n:02d}")]
        await publish(redis, events)
        await Aggregator(redis).catch_up()
        top = (await summary(redis, DAY1, DAY1))["top_answers"]
        assert [row["entry"] for row in top] == [f"e{n:02d}" for n in range(24, 4, -1)]
        assert top[0]["served"] == 25

    in_own_loop(redis_server, scenario)


def test_clicks_and_an_ended_test_stay_readable(redis_server: int) -> None:
    async def scenario(redis: Redis) -> None:
        await publish(redis, [user("c1", T1, "q"), answer("c1", T1 + 1, "a1", "faq_permits", "A")])
        await Aggregator(redis).catch_up()
        await record_click(redis, "faq_permits", "A", T1 + 5)
        await record_click(redis, "faq_permits", "A", T1 + 6)
        await record_click(redis, "faq_permits", "B", T1 + 7)
        assert await experiments(redis) == ["faq_permits"]
        await end_experiment(redis, "faq_permits")
        outcomes = await variant_outcomes(redis, "faq_permits")
        assert (outcomes["A"]["exposures"], outcomes["A"]["clicked"], outcomes["B"]["clicked"]) == (1, 2, 1)
        assert await experiments(redis) == ["faq_permits"]
        assert list(await ended_experiments(redis)) == ["faq_permits"]
        assert await variant_outcomes(redis, "faq_unknown") == {}

    in_own_loop(redis_server, scenario)


def test_broadcasts_reach_counts_the_broadcasts_of_the_range(redis_server: int) -> None:
    async def scenario(redis: Redis) -> None:
        store = BroadcastStore(redis)
        channel = PUSH_CHANNELS[0]
        for broadcast_id, created, sent in (("b-in", T1, 3), ("b-out", T1 - 30 * 86400, 7)):
            await store.add(Broadcast(broadcast_id, "t", "x", "all", (), (channel,), "erin", created=created))
            await redis.hset(delivery.key(broadcast_id, "counts"), mapping={f"{channel}:sent": sent,
                             f"{channel}:delivered": sent - 1, f"{channel}:total": sent})  # fmt: skip
        reach = (await summary(redis, DAY1, DAY2))["broadcasts"]
        assert reach == {"sent": 3, "delivered": 2}

    in_own_loop(redis_server, scenario)


def test_wait_percentiles_are_nearest_rank() -> None:
    waits = Counter({10: 5, 20: 4, 600: 1})
    assert (percentile(waits, 0.5), percentile(waits, 0.9), percentile(waits, 1.0)) == (10.0, 20.0, 600.0)
    assert percentile(Counter(), 0.5) == 0.0


def test_daily_keys_expire_after_the_retention_period(redis_server: int) -> None:
    async def scenario(redis: Redis) -> None:
        await publish(redis, [user("c1", T1, "q")])
        await Aggregator(redis, retention_days=10).catch_up()
        end = datetime.datetime.combine(DAY1, datetime.time(), datetime.timezone.utc).timestamp() + 11 * 86400
        assert abs(time.time() + await redis.ttl(keys.day(DAY1.isoformat())) - end) < 3

    in_own_loop(redis_server, scenario)
