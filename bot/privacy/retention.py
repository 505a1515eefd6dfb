"""The retention rules that need no conversation with Rasa, in one call (`python -m bot privacy retention`).

They also run on their own: the event broker trims the event stream by age as it appends, and the
console's sweep applies the handoff rules every 15 seconds (`HandoffService.apply_retention`, which
also ends waits past HANDOFF_WAIT_EXPIRY_HOURS: that one must tell the citizen, so only the console
does it). This command is for a deployment that wants to apply them now or from cron.
"""

from __future__ import annotations

import time

from redis.asyncio import Redis

from bot.events import STREAM
from bot.handoff.store import QueueStore
from bot.privacy.deferred import finish_due
from bot.settings import PrivacySettings

DAY = 86400


async def apply(redis: Redis, privacy: PrivacySettings, now: float | None = None) -> dict[str, int]:
    """Trim old events, drop old tickets, de-identify old rating comments, finish pending erasures."""
    now = time.time() if now is None else now
    events_before = now - privacy.events_retention_days * DAY
    trimmed = await redis.xtrim(STREAM, minid=f"{max(0, int(events_before * 1000))}-0", approximate=False)
    store = QueueStore(redis)
    await store.trim_changes(events_before)
    return {
        "events trimmed": int(trimmed),
        "tickets removed": await store.expire_tickets(now - privacy.ticket_retention_days * DAY),
        "rating comments de-identified": await store.deidentify_comments(
            now - privacy.rating_id_retention_days * DAY
        ),
        "erasures finished": await finish_due(redis),
    }
