"""Emerging questions: inbox clusters of missed or declined questions that grew this week.

The recorder counts, per UTC day, each cluster's messages that were missed or declined
(`selection.MISSED`; key ``inbox:trend:<day>``, counts only). A cluster is flagged when the last
seven days hold at least ``MIN_THIS_WEEK`` of them and at least ``GROWTH`` times the weekly average
of the four weeks before: one message is not a trend, and a question asked steadily is not new.
The analytics dashboard (/analytics) shows them as "new issue or rumor?", with one click to draft
an FAQ or a rumor entry from the cluster in the review inbox. Reads a few keys per call, never the
messages themselves.
"""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis

from bot.inbox.clusters import day_of, trend_key
from bot.inbox.store import load_clusters

MIN_THIS_WEEK = 5
GROWTH = 2.0
WEEKS_BEFORE = 4
SHOWN = 10
EXAMPLES = 3


def _draft_urls(cid: str) -> dict[str, str]:
    return {"draft_faq_url": f"/inbox/groups/{cid}/draft", "draft_rumor_url": f"/inbox/groups/{cid}/rumor"}


async def emerging_questions(redis: Redis, now: float) -> list[dict[str, Any]]:
    """Clusters that grew this week, most grown first (``SHOWN`` at most), per the contract of issue #18:
    ``{"cluster", "this_week", "weekly_before", "examples", "draft_faq_url", "draft_rumor_url"}``."""
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
    clusters = {c.id: c for c in await load_clusters(redis, [cid for _, cid, _ in grown[:SHOWN]])}
    found = []
    for _, cid, weekly_before in grown[:SHOWN]:
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
            }
        )
    return found
