"""Emerging questions: inbox clusters of missed or declined questions that grew this week.

The recorder counts, per UTC day, each cluster's messages that were missed or declined
(`selection.MISSED`; key ``inbox:trend:<day>``, counts only). A cluster is flagged when the last
seven days hold at least ``MIN_THIS_WEEK`` of them and at least ``GROWTH`` times the weekly average
of the four weeks before: one message is not a trend, and a question asked steadily is not new.
The analytics dashboard (/analytics) shows them as "new issue or rumor?", with one click to draft
an FAQ or a rumor entry from the cluster in the review inbox (a draft from a cluster in another
language than English carries that language's text). Each item says its cluster's language; the
day counts are per cluster, not per language, so a filter by language reads the grown clusters'
``language`` field (a cluster made before languages were told apart has none: English). Reads a
few keys per call, never the messages themselves.
"""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis

from bot.content.agency import SOURCE_LANGUAGE
from bot.inbox.clusters import cluster_key, day_of, trend_key
from bot.inbox.store import load_clusters

MIN_THIS_WEEK = 5
GROWTH = 2.0
WEEKS_BEFORE = 4
SHOWN = 10
EXAMPLES = 3


def _draft_urls(cid: str) -> dict[str, str]:
    return {"draft_faq_url": f"/inbox/groups/{cid}/draft", "draft_rumor_url": f"/inbox/groups/{cid}/rumor"}


async def _still_there(
    redis: Redis, grown: list[tuple[float, str, float]], language: str
) -> list[tuple[float, str, float]]:
    """The grown clusters still in the inbox (of `language`, if given), in their order: one round trip,
    before ``SHOWN`` are picked, so handled clusters or other languages' never take a place."""
    async with redis.pipeline(transaction=False) as pipe:
        for _, cid, _ in grown:
            pipe.hmget(cluster_key(cid), ["language", "count"])
        rows = await pipe.execute()
    return [
        item
        for item, (code, count) in zip(grown, rows, strict=True)
        if int(count or 0) > 0 and (not language or (code or SOURCE_LANGUAGE) == language)
    ]


async def emerging_questions(redis: Redis, now: float, language: str = "") -> list[dict[str, Any]]:
    """Clusters that grew this week, most grown first (``SHOWN`` at most), per the contract of issue #18:
    ``{"cluster", "this_week", "weekly_before", "examples", "draft_faq_url", "draft_rumor_url"}``, and
    the cluster's ``language`` (issue #19). `language`: only that language's clusters ("" every one)."""
    today = day_of(now)
    async with redis.pipeline(transaction=False) as pipe:
        for day in range(today - 6, today + 1):
            pipe.zrange(trend_key(day), 0, -1, withscores=True)
        weeks = await pipe.execute()
    this_week: dict[str, float] = {}
    for pairs in weeks:
        for cid, score in pairs:
            this_week[cid] = this_week.get(cid, 0.0) + score
    busy = [cid for cid, n in this_week.items() if n >= MIN_THIS_WEEK]
    if not busy:
        return []
    async with redis.pipeline(transaction=False) as pipe:
        for day in range(today - 7 * (WEEKS_BEFORE + 1) + 1, today - 6):
            pipe.zmscore(trend_key(day), busy)
        before_days = await pipe.execute()
    grown = []
    for index, cid in enumerate(busy):
        weekly_before = sum(float(day[index] or 0.0) for day in before_days) / WEEKS_BEFORE
        if this_week[cid] >= GROWTH * weekly_before:
            grown.append((this_week[cid] - weekly_before, cid, weekly_before))
    grown.sort(key=lambda g: (-g[0], g[1]))
    shown = (await _still_there(redis, grown, language))[:SHOWN]
    clusters = {c.id: c for c in await load_clusters(redis, [cid for _, cid, _ in shown])}
    found = []
    for _, cid, weekly_before in shown:
        cluster = clusters.get(cid)
        if cluster is None:
            continue  # handled by an editor since, or purged
        examples = list(dict.fromkeys(item.message.text for item in cluster.items))[:EXAMPLES]
        found.append(
            {
                "cluster": cid,
                "this_week": int(this_week[cid]),
                "weekly_before": round(weekly_before, 2),
                "examples": examples,  # redacted when recorded (bot.privacy)
                **_draft_urls(cid),
                "language": cluster.language,
            }
        )
    return found
