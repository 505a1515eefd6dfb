"""The audit log: who did what, when, and to what, for every account action (OWASP ASVS 7.1, 7.2).

One append-only Redis stream, `civic:audit`, written by the console (sign-ins, handoff and inbox
actions, later broadcasts) and by `python -m bot agents` (account changes). Nothing edits an entry;
each write trims the stream to AUDIT_MAX_ENTRIES and drops entries older than AUDIT_RETENTION_DAYS,
and only the privacy erasure removes entries early (`forget_target`). An entry names its actor (an
account name, or ``cli:<user>``), the action, the target (a conversation id, an account name, an FAQ
or inbox message id: never citizen text), the client address and a short detail. Editors read it
at ``/audit`` in the console and export it as CSV or JSON.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime, timezone

import redis
from redis.asyncio import Redis

STREAM = "civic:audit"
DAY = 24 * 3600
MAX_FIELD = 200  # characters kept of any field (a failed sign-in's name is whatever was typed)
PAGE = 500  # entries read from Redis per round trip when filtering

# action -> how the console's audit page names it
ACTIONS: dict[str, str] = {
    "sign_in": "Signed in",
    "sign_in_failed": "Sign-in failed",
    "sign_in_refused": "Sign-in refused (locked)",
    "lockout": "Locked out",
    "sign_out": "Signed out",
    "claim": "Claimed a chat",
    "send": "Sent a message",
    "release": "Released a chat",
    "transfer": "Transferred a chat",
    "close": "Closed a chat",
    "add_example": "Added an example question",
    "mark_out_of_scope": "Marked out of scope",
    "save_draft": "Saved an FAQ draft",
    "publish": "Published an FAQ",
    "dismiss": "Dismissed inbox messages",
    "broadcast": "Sent a broadcast",
    "broadcast_create": "Created a broadcast",
    "broadcast_approve": "Approved a broadcast",
    "broadcast_cancel": "Cancelled a broadcast",
    "notice_pin": "Pinned a notice",
    "notice_unpin": "Unpinned a notice",
    "account_add": "Added an account",
    "account_remove": "Removed an account",
    "password_change": "Changed a password",
    "audit_export": "Exported the audit log",
    "privacy_erase": "Erased a citizen's data",
    "privacy_export": "Exported a citizen's data",
    "intake_retry": "Retried a failed platform message",
    "experiment_promote": "Promoted a message test's wording",
    "content_save": "Saved a content draft",
    "content_create": "Drafted a new content entry",
    "content_publish": "Published a content entry",
    "content_approve": "Approved a content change",
    "content_send_back": "Sent a content change back",
    "content_revert": "Reverted a content entry",
    "content_retire": "Retired a content entry",
    "content_train": "Started a retrain",
}


@dataclass(frozen=True)
class AuditEntry:
    """One entry; `at` is epoch seconds (from the stream id, so it is Redis's clock)."""

    id: str
    at: float
    actor: str
    action: str
    target: str = ""
    address: str = ""
    detail: str = ""

    @property
    def when(self) -> str:
        """ISO 8601 UTC with milliseconds."""
        moment = datetime.fromtimestamp(self.at, timezone.utc)
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"

    def as_dict(self) -> dict[str, str]:
        row = asdict(self)
        row["at"] = self.when
        return row

    @classmethod
    def from_stream(cls, entry_id: str, fields: Mapping[str, str]) -> AuditEntry:
        return cls(
            id=entry_id,
            at=int(entry_id.split("-", 1)[0]) / 1000,
            actor=fields.get("actor", ""),
            action=fields.get("action", ""),
            target=fields.get("target", ""),
            address=fields.get("address", ""),
            detail=fields.get("detail", ""),
        )


@dataclass(frozen=True)
class AuditFilter:
    """Which entries to list: every given field must match (actor and target exactly, case-insensitively)."""

    actor: str = ""
    action: str = ""
    target: str = ""
    since: float | None = None  # epoch seconds, inclusive
    until: float | None = None  # epoch seconds, exclusive

    def matches(self, entry: AuditEntry) -> bool:
        return (
            (not self.actor or entry.actor.lower() == self.actor.lower())
            and (not self.action or entry.action == self.action)
            and (not self.target or entry.target.lower() == self.target.lower())
        )

    @property
    def newest_id(self) -> str:
        return "+" if self.until is None else str(int(self.until * 1000) - 1)  # "N" ends at N-<last>

    @property
    def oldest_id(self) -> str:
        return "-" if self.since is None else str(int(self.since * 1000))  # "N" starts at N-0


def entry_fields(actor: str, action: str, target: str, address: str, detail: str) -> dict[str, str]:
    """What one XADD stores; every field is cut to MAX_FIELD characters."""
    fields = {"actor": actor, "action": action, "target": target, "address": address, "detail": detail}
    return {name: value[:MAX_FIELD] for name, value in fields.items()}


class AuditLog:
    """The stream on the console's async Redis client (decode_responses=True)."""

    def __init__(
        self, redis: Redis, max_entries: int = 100_000, retention_seconds: float = 365 * DAY
    ) -> None:
        self.redis = redis
        self.max_entries = max_entries
        self.retention_seconds = retention_seconds

    async def record(
        self, actor: str, action: str, target: str = "", *, address: str = "", detail: str = ""
    ) -> str:
        """Append one entry and trim by length and age (exactly, so the caps hold); returns its id."""
        oldest_ms = int((time.time() - self.retention_seconds) * 1000)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.xadd(STREAM, entry_fields(actor, action, target, address, detail))
            pipe.xtrim(STREAM, maxlen=self.max_entries, approximate=False)
            pipe.xtrim(STREAM, minid=f"{max(oldest_ms, 0)}-0", approximate=False)
            added, *_ = await pipe.execute()
        return str(added)

    async def entries(self, where: AuditFilter = AuditFilter(), limit: int | None = 200) -> list[AuditEntry]:
        """Matching entries, newest first; `limit` None reads every matching entry (exports)."""
        found: list[AuditEntry] = []
        newest = where.newest_id
        while limit is None or len(found) < limit:
            batch = await self.redis.xrevrange(STREAM, max=newest, min=where.oldest_id, count=PAGE)
            for entry_id, fields in batch:
                entry = AuditEntry.from_stream(entry_id, fields)
                if where.matches(entry):
                    found.append(entry)
            if len(batch) < PAGE:
                break
            newest = f"({batch[-1][0]}"
        return found if limit is None else found[:limit]

    async def forget_target(self, target: str) -> int:
        """Drop every entry about `target` (for the privacy erasure of a conversation); returns how many."""
        ids = [entry.id for entry in await self.entries(AuditFilter(target=target), limit=None)]
        return int(await self.redis.xdel(STREAM, *ids)) if ids else 0


def record_sync(
    redis_url: str,
    actor: str,
    action: str,
    target: str = "",
    *,
    detail: str = "",
    max_entries: int = 100_000,
    retention_seconds: float = 365 * DAY,
) -> None:
    """`AuditLog.record` for synchronous callers (the CLI); raises redis.RedisError when Redis is away."""
    client = redis.Redis.from_url(redis_url, decode_responses=True, socket_connect_timeout=2.0)
    oldest_ms = int((time.time() - retention_seconds) * 1000)
    try:
        with client.pipeline(transaction=True) as pipe:
            pipe.xadd(STREAM, entry_fields(actor, action, target, "", detail))
            pipe.xtrim(STREAM, maxlen=max_entries, approximate=False)
            pipe.xtrim(STREAM, minid=f"{max(oldest_ms, 0)}-0", approximate=False)
            pipe.execute()
    finally:
        client.close()
