"""Every Redis key of the analytics store, under `civic:analytics:v1:`.

Aggregates (counts only): `day:<YYYY-MM-DD>` (hash: the day's scalar counts, `handoff:<reason>`,
`wait:<seconds>` (a histogram of agent waits), `channel_conversations:<channel>`,
`channel_messages:<channel>`), `answers:<YYYY-MM-DD>` (hash `<stat>:<entry id>`: served, helpful,
not_helpful), `variants:<entry id>` (hash `<outcome>:<variant id>` over all days), `experiments`
(sorted set: entry ids by first exposure), `ended` (hash: entry id -> when its test ended).
Daily hashes expire ANALYTICS_RETENTION_DAYS after their day.

Working state (not aggregates; short-lived): `cursor` (the last stream entry applied), `conv:<hash>`
(one conversation's state, keyed by a hash of its id, a few days) and `answer:<answer id>` (a rated
answer's day, entry, variant and current rating, a week).
"""

from __future__ import annotations

import hashlib

PREFIX = "civic:analytics:v1:"
CURSOR = f"{PREFIX}cursor"
EXPERIMENTS = f"{PREFIX}experiments"
ENDED = f"{PREFIX}ended"


def day(date: str) -> str:
    """The scalar counts of one UTC day (`YYYY-MM-DD`)."""
    return f"{PREFIX}day:{date}"


def answers(date: str) -> str:
    """Answers served and rated on one UTC day, by content entry."""
    return f"{PREFIX}answers:{date}"


def variants(entry_id: str) -> str:
    """A message test's outcomes by variant, over all days."""
    return f"{PREFIX}variants:{entry_id}"


def conversation(sender_id: str) -> str:
    """One conversation's working state; the id is hashed so no key spells a phone number."""
    return f"{PREFIX}conv:{hashlib.sha256(sender_id.encode()).hexdigest()[:32]}"


def answer(answer_id: str) -> str:
    """One rated answer's working state (`answer_id` is random: it carries no identity)."""
    return f"{PREFIX}answer:{answer_id}"
