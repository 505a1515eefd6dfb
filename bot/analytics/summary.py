"""The analytics read API: the dashboard, `/api/analytics/*`, the CSV export and the experiments page.

Reads only the daily hashes of the range (one pipeline, O(days)), one hash per message test and the
broadcasts started in the range: never the event stream, never a scan of keys. The keys of
`summary` and `daily` are stable (issue #18, contract §3); rates are in [0, 1], rounded to 4 places.
Wait percentiles are nearest-rank over the histogram's buckets (exact to the second under 5 minutes).
"""

from __future__ import annotations

import datetime
import math
import time
from collections import Counter
from typing import Any

from redis.asyncio import Redis

from bot.analytics import keys
from bot.broadcasts.delivery import delivery_report
from bot.broadcasts.model import BroadcastStore

SCALARS = (
    "conversations",
    "messages",
    "contained",
    "declined",
    "clarifications",
    "helpful",
    "not_helpful",
    "lookups",
    "lookup_failures",
    "reports_filed",
)
OUTCOMES = ("exposures", "helpful", "not_helpful", "asked_again", "handed_off", "clicked")
TOP_ANSWERS = 20
MAX_DAYS = 3660  # a range longer than ten years is a mistake, not a question


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _counts(raw: dict[Any, Any]) -> Counter[str]:
    return Counter({_text(k): int(_text(v)) for k, v in raw.items()})


def days(start: datetime.date, end: datetime.date) -> list[datetime.date]:
    """The dates from `start` to `end`, both included (none when `end` is before `start`)."""
    count = min((end - start).days + 1, MAX_DAYS)
    return [start + datetime.timedelta(days=n) for n in range(max(0, count))]


def rate(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def percentile(histogram: Counter[int], share: float) -> float:
    """Nearest-rank percentile of a histogram {seconds: count}; 0.0 when it is empty."""
    total = sum(histogram.values())
    if not total:
        return 0.0
    rank, seen = max(1, math.ceil(round(share * total, 9))), 0
    for seconds in sorted(histogram):
        seen += histogram[seconds]
        if seen >= rank:
            return float(seconds)
    return float(max(histogram))


async def _read_days(redis: Redis, dates: list[datetime.date]) -> list[tuple[Counter[str], Counter[str]]]:
    """(day counts, answer counts) per date, in one round trip."""
    async with redis.pipeline(transaction=False) as pipe:
        for date in dates:
            pipe.hgetall(keys.day(date.isoformat()))
            pipe.hgetall(keys.answers(date.isoformat()))
        replies = await pipe.execute()
    return [(_counts(replies[i]), _counts(replies[i + 1])) for i in range(0, len(replies), 2)]


def _by_prefix(counts: Counter[str], prefix: str) -> dict[str, int]:
    return {name[len(prefix) :]: n for name, n in sorted(counts.items()) if name.startswith(prefix) and n}


def _scalars(counts: Counter[str]) -> dict[str, Any]:
    values: dict[str, Any] = {name: counts[name] for name in SCALARS}
    values["containment_rate"] = rate(counts["contained"], counts["conversations"])
    return values


def _top_answers(answers: Counter[str]) -> list[dict[str, Any]]:
    by_entry: dict[str, Counter[str]] = {}
    for name, n in answers.items():
        stat, _, entry = name.partition(":")
        by_entry.setdefault(entry, Counter())[stat] += n
    ranked = sorted(by_entry.items(), key=lambda item: (-item[1]["served"], item[0]))
    return [
        {
            "entry": entry,
            "served": stats["served"],
            "helpful": stats["helpful"],
            "not_helpful": stats["not_helpful"],
            "helpful_rate": rate(stats["helpful"], stats["helpful"] + stats["not_helpful"]),
        }
        for entry, stats in ranked[:TOP_ANSWERS]
        if stats["served"]
    ]


async def broadcasts_reach(redis: Redis, start: datetime.date, end: datetime.date) -> dict[str, int]:
    """Messages sent and confirmed delivered, for the broadcasts created in the range."""
    low = datetime.datetime.combine(start, datetime.time(), datetime.timezone.utc).timestamp()
    high = datetime.datetime.combine(end, datetime.time(), datetime.timezone.utc).timestamp() + 86400
    ids = await redis.zrangebyscore(BroadcastStore.key("index"), low, f"({high}")
    reach = {"sent": 0, "delivered": 0}
    for broadcast_id in ids:
        counts = (await delivery_report(redis, _text(broadcast_id)))["counts"]
        reach["sent"] += int(counts["sent"])
        reach["delivered"] += int(counts["delivered"])
    return reach


async def summary(redis: Redis, start: datetime.date, end: datetime.date) -> dict[str, Any]:
    """The figures of the dashboard and `GET /api/analytics/summary` for `start`..`end` (UTC, inclusive).

    `helpful_rate` is helpful / rated; `containment_rate` contained / conversations; `csat.average`
    over the ratings given (0.0 when none). Ratings count on the day the answer was served.
    """
    dates = days(start, end)
    total, answers = Counter[str](), Counter[str]()
    for day_counts, answer_counts in await _read_days(redis, dates):
        total.update(day_counts)
        answers.update(answer_counts)
    waits = Counter({int(k): n for k, n in _by_prefix(total, "wait:").items()})
    conversations = _by_prefix(total, "channel_conversations:")
    messages = _by_prefix(total, "channel_messages:")
    helpful = _by_prefix(total, "channel_helpful:")
    not_helpful = _by_prefix(total, "channel_not_helpful:")
    return {
        **_scalars(total),
        "handoffs": _by_prefix(total, "handoff:"),
        "handoff_wait": {
            "median_seconds": percentile(waits, 0.5),
            "p90_seconds": percentile(waits, 0.9),
            "count": sum(waits.values()),
        },
        "csat": {"count": total["csat_count"], "average": rate(total["csat_sum"], total["csat_count"])},
        "broadcasts": await broadcasts_reach(redis, start, end),
        "by_channel": {
            channel: {
                "conversations": conversations.get(channel, 0),
                "messages": messages.get(channel, 0),
                "helpful": helpful.get(channel, 0),
                "not_helpful": not_helpful.get(channel, 0),
            }
            for channel in sorted(set(conversations) | set(messages))
        },
        "top_answers": _top_answers(answers),
        "from": start.isoformat(),
        "to": end.isoformat(),
    }


async def daily(redis: Redis, start: datetime.date, end: datetime.date) -> list[dict[str, Any]]:
    """One row per day (the CSV export and the charts): `date`, the scalar figures of `summary`,
    `handoffs` (the day's total), `csat_count` and `csat_average`."""
    dates = days(start, end)
    rows = []
    for date, (counts, _) in zip(dates, await _read_days(redis, dates), strict=True):
        rows.append(
            {
                "date": date.isoformat(),
                **_scalars(counts),
                "handoffs": counts["handoffs"],
                "csat_count": counts["csat_count"],
                "csat_average": rate(counts["csat_sum"], counts["csat_count"]),
            }
        )
    return rows


async def variant_outcomes(redis: Redis, entry_id: str) -> dict[str, dict[str, int]]:
    """Variant id -> its outcome counts (every key of OUTCOMES), over all days."""
    found: dict[str, dict[str, int]] = {}
    for name, n in _counts(await redis.hgetall(keys.variants(entry_id))).items():
        outcome, _, variant = name.partition(":")
        if outcome in OUTCOMES:
            found.setdefault(variant, dict.fromkeys(OUTCOMES, 0))[outcome] = n
    return dict(sorted(found.items()))


async def experiments(redis: Redis) -> list[str]:
    """Entry ids whose variants were shown (running and ended tests), the oldest test first."""
    return [_text(entry) for entry in await redis.zrange(keys.EXPERIMENTS, 0, -1)]


async def ended_experiments(redis: Redis) -> dict[str, float]:
    """Entry id -> when its test was ended (Promote); the results stay readable."""
    raw = await redis.hgetall(keys.ENDED)
    return {_text(k): float(_text(v)) for k, v in raw.items()}


async def record_click(redis: Redis, entry_id: str, variant: str, when: float) -> None:
    """A citizen opened an answer's source link through the redirect: counted for the entry's variant
    and as the day's `clicks` (nothing about who clicked)."""
    day = datetime.datetime.fromtimestamp(when, datetime.timezone.utc).date().isoformat()
    async with redis.pipeline(transaction=True) as pipe:
        if variant:
            pipe.hincrby(keys.variants(entry_id), f"clicked:{variant}", 1)
        pipe.hincrby(keys.day(day), "clicks", 1)
        await pipe.execute()


async def end_experiment(redis: Redis, entry_id: str) -> None:
    """Mark the test ended (Promote): its results stay readable, `ended_experiments` says since when."""
    await redis.hsetnx(keys.ENDED, entry_id, str(time.time()))
