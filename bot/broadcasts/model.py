"""A broadcast: one message staff (or the alerts feed) send to the subscribers of a topic and areas.

Shared by the console's API and page (`bot.broadcasts.web`), the delivery workers
(`bot.broadcasts.delivery`), the alerts poller and the chat actions that answer a reply to a
broadcast. Stored in Redis as one JSON value per broadcast (`civic:bc:v1:broadcast:<id>`) and a
sorted set of ids by creation time (`civic:bc:v1:index`), so "newest first" is one range read.

Life: `pending_approval` (created; waits for `approvals_needed` distinct accounts, the author
counting as one) -> `sending` (the delivery queue has it) -> `sent` (every recipient is sent,
failed or skipped), or `cancelled` (by an editor, before or while sending: what is not sent yet is
never sent).

A broadcast may be worded in the agency's other languages (`translations`, by language code: title,
text and short text): a relayed alert in every language the feed carries, a staff broadcast in those
its editor filled in. Each subscriber gets it in their own (`in_language`), in English when it has
no text in theirs.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import redis.asyncio as aioredis

PREFIX = "civic:bc:v1:"
PENDING, SENDING, SENT, CANCELLED = "pending_approval", "sending", "sent", "cancelled"
STATUSES = (PENDING, SENDING, SENT, CANCELLED)
STAFF, ALERT = "staff", "alert"


def new_id() -> str:
    """Short, unguessable, sortable enough for a URL: `b-<12 hex>`."""
    return f"b-{secrets.token_hex(6)}"


@dataclass(frozen=True)
class Broadcast:
    id: str
    title: str
    text: str
    topic: str
    areas: tuple[str, ...]
    channels: tuple[str, ...]  # connector names (twilio, telegram, whatsapp, facebook, instagram)
    author: str
    short_text: str = ""  # SMS: used instead of `text` when given
    link: str = ""  # a source link, shown with the text and used when a citizen replies
    status: str = PENDING
    approvals: tuple[str, ...] = ()  # account names, the author first
    approvals_needed: int = 2
    created: float = 0.0
    sent_at: float = 0.0  # when sending started
    finished_at: float = 0.0
    cancelled_by: str = ""
    kind: str = STAFF  # or ALERT: relayed from the alerts feed by the poller
    alert_id: str = ""  # the feed's id (with `alert_version`) for an ALERT
    alert_version: str = ""
    audience: dict[str, int] = field(default_factory=dict)  # by report name, with "total"
    translations: dict[str, dict[str, str]] = field(default_factory=dict)  # code -> title, text, short_text

    def as_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, raw: str | bytes) -> Broadcast:
        values: dict[str, Any] = json.loads(raw)
        for name in ("areas", "channels", "approvals"):
            values[name] = tuple(values.get(name) or ())
        known = cls.__dataclass_fields__
        return cls(**{k: v for k, v in values.items() if k in known})

    def sms_text(self) -> str:
        return self.short_text or self.text

    def in_language(self, code: str) -> Broadcast:
        """The broadcast as a reader of `code` gets it: its texts in that language when it has them."""
        own = self.translations.get(code)
        if not own or not own.get("text"):
            return self
        return replace(
            self,
            title=own.get("title") or self.title,
            text=own["text"],
            short_text=own.get("short_text", ""),
        )

    def public(self) -> dict[str, Any]:
        """What the JSON API shows (everything: it carries no citizen's data)."""
        return asdict(self) | {
            "areas": list(self.areas),
            "channels": list(self.channels),
            "approvals": list(self.approvals),
        }


class BroadcastStore:
    def __init__(self, redis: aioredis.Redis, clock: Any = time.time) -> None:
        self.redis = redis
        self.clock = clock

    @staticmethod
    def key(kind: str, value: str = "") -> str:
        return f"{PREFIX}{kind}:{value}" if value else f"{PREFIX}{kind}"

    async def get(self, broadcast_id: str) -> Broadcast | None:
        raw = await self.redis.get(self.key("broadcast", broadcast_id))
        return Broadcast.from_json(raw) if raw else None

    async def add(self, broadcast: Broadcast) -> Broadcast:
        stamped = broadcast if broadcast.created else replace(broadcast, created=self.clock())
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(self.key("broadcast", stamped.id), stamped.as_json())
            pipe.zadd(self.key("index"), {stamped.id: stamped.created})
            await pipe.execute()
        return stamped

    async def put(self, broadcast: Broadcast) -> None:
        """Overwrite a stored broadcast (callers hold `lock(id)` for read-modify-write)."""
        await self.redis.set(self.key("broadcast", broadcast.id), broadcast.as_json())

    async def newest(self, limit: int = 50, offset: int = 0) -> list[Broadcast]:
        ids = await self.redis.zrevrange(self.key("index"), offset, offset + limit - 1)
        found = [await self.get(_text(i)) for i in ids]
        return [b for b in found if b is not None]

    def lock(self, broadcast_id: str, timeout: float = 10.0) -> Any:
        """A Redis lock for changing one broadcast (approve, cancel, finish) from any process."""
        return self.redis.lock(self.key("lock", broadcast_id), timeout=timeout, blocking_timeout=timeout)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
