"""The stale content report: what to review first.

Two lists: entries whose ``last_reviewed`` is older than the agency's review period
(CONTENT_REVIEW_MONTHS; an entry with no date, or one that is not a date, counts as never
reviewed), and entries citizens get often but rate unhelpful, read from the analytics' counts
(`bot.analytics.summary.summary`: its top answers, with their ratings) over the last
``RATINGS_DAYS``. Retired entries are left out of both: citizens no longer read them. A third list
names the translations to look at in each of the agency's other languages: stale (the English
changed since), never checked against the English, or missing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from redis.asyncio import Redis

from bot.analytics.summary import summary
from bot.content.lint import months_before
from bot.content.model import Entry, parse_day
from bot.studio.languages import UP_TO_DATE, translation_state

RATINGS_DAYS = 90  # the ratings window: recent enough to reflect the current wording
MIN_RATED = 10  # below this many ratings, a low rate says little
LOW_HELPFUL_RATE = 0.5  # helpful / rated below this: more citizens said "not helpful" than "helpful"


@dataclass(frozen=True)
class Overdue:
    """An entry not reviewed within the review period (``last_reviewed`` "" when never)."""

    entry: Entry
    last_reviewed: str


@dataclass(frozen=True)
class Unhelpful:
    """An entry answered often whose ratings are mostly "not helpful"."""

    entry: Entry
    served: int
    helpful: int
    not_helpful: int
    helpful_rate: float

    @property
    def rated(self) -> int:
        return self.helpful + self.not_helpful


@dataclass(frozen=True)
class TranslationDue:
    """An entry whose text in `language` is stale, not yet checked or missing (`state`)."""

    entry: Entry
    language: str
    state: str


@dataclass(frozen=True)
class StaleReport:
    overdue: list[Overdue]
    unhelpful: list[Unhelpful]
    review_months: int
    reviewed_before: date  # entries last reviewed before this day are overdue
    ratings_from: date
    ratings_to: date
    rated_answers: int = 0  # top answers with any rating in the window: 0 means no feedback yet
    languages: tuple[str, ...] = ()  # the agency's other languages (none: translations are not tracked)
    translations: tuple[TranslationDue, ...] = ()


def overdue(entries: Iterable[Entry], cutoff: date) -> list[Overdue]:
    """Entries (not retired) last reviewed before `cutoff`, or never: oldest first, never-reviewed first."""
    found = []
    for entry in entries:
        if entry.retired:
            continue
        reviewed = parse_day(entry.last_reviewed)
        if reviewed is None or reviewed < cutoff:
            found.append(Overdue(entry, entry.last_reviewed if reviewed else ""))
    return sorted(found, key=lambda o: (o.last_reviewed, o.entry.id))


def unhelpful(top_answers: Iterable[Mapping[str, Any]], entries: Mapping[str, Entry]) -> list[Unhelpful]:
    """The analytics' top answers (most served first) with at least MIN_RATED ratings, rated helpful
    less often than LOW_HELPFUL_RATE; answers of entries no longer in the content are left out."""
    found = []
    for row in top_answers:
        entry = entries.get(str(row.get("entry", "")))
        helpful, not_helpful = int(row.get("helpful", 0)), int(row.get("not_helpful", 0))
        if entry is None or entry.retired or helpful + not_helpful < MIN_RATED:
            continue
        rate = helpful / (helpful + not_helpful)
        if rate < LOW_HELPFUL_RATE:
            found.append(Unhelpful(entry, int(row.get("served", 0)), helpful, not_helpful, rate))
    return found


def translations_due(entries: Iterable[Entry], languages: Iterable[str]) -> list[TranslationDue]:
    """Each entry (not retired) whose text in one of `languages` is not up to date, by language
    then in content order."""
    live = [entry for entry in entries if not entry.retired]
    return [
        TranslationDue(entry, code, state)
        for code in languages
        for entry in live
        if (state := translation_state(entry, code)) != UP_TO_DATE
    ]


async def stale_report(
    redis: Redis,
    entries: list[Entry],
    today: date,
    review_months: int,
    languages: tuple[str, ...] = (),
    utc_today: date | None = None,
) -> StaleReport:
    """The lists for `today`, the agency's day (what ``last_reviewed`` means); the ratings window
    ends on `utc_today` (default `today`), because the analytics count by UTC day: west of UTC the
    evening's ratings are already tomorrow's. `languages`: the agency's languages besides English."""
    cutoff = months_before(today, review_months)
    end = utc_today or today
    start = end - timedelta(days=RATINGS_DAYS - 1)
    figures = await summary(redis, start, end)
    by_id = {entry.id: entry for entry in entries}
    return StaleReport(
        overdue=overdue(entries, cutoff),
        unhelpful=unhelpful(figures["top_answers"], by_id),
        review_months=review_months,
        reviewed_before=cutoff,
        ratings_from=start,
        ratings_to=end,
        rated_answers=sum(
            1 for row in figures["top_answers"] if row.get("helpful") or row.get("not_helpful")
        ),
        languages=languages,
        translations=tuple(translations_due(entries, languages)),
    )
