"""Who asked for which alerts, where, and what they agreed to: subscribers in Redis.

A subscriber is a conversation id (`<channel>-<HMAC>`, `bot/identity.py`: never a phone number);
the channel's own address store (`bot/channels/store.py`) turns it into the platform id when a
broadcast is sent. A subscription is a (topic, area) pair: "water in Downtown" and "roads in the
whole city" are two pairs, and "unsubscribe from water" removes every pair of that topic.

Status: `active` (receives broadcasts), `stopped` (a carrier keyword STOP or "stop alerts": the
pairs are kept so START restores them, and nothing is sent until then), `inactive` (the platform
refused permanently: blocked, unsubscribed at the carrier, invalid number; a new subscription in
the chat makes it active again). Only active subscribers are in the audience indexes, so a stopped
citizen can never be in a broadcast's audience.

Every change appends to the subscriber's consent log: channel, time, what changed, and the exact
wording the citizen was shown (TCPA and carrier rules ask an agency to prove consent).

A subscriber's language is the conversation's when they subscribed (`subscribe(language=...)`,
English for records older than languages): broadcasts and relayed alerts go out in it, and the
carrier keyword replies are said in it.

Keys (prefix `civic:subs:v1:`):
- `sub:<cid>`: hash with channel, status, pairs (JSON list of "topic:area"), created, updated, reason,
  language;
- `consent:<cid>`: list of JSON records, oldest first;
- `idx:<topic>:<area>`: set of the active subscribers of that pair;
- `members`: set of every conversation id with a record (erasure, counts).

An active subscriber's platform address (`bot/channels/store.py`, `address`) is kept without an
expiry, so a citizen who subscribed and then stayed quiet for months still gets the next alert; once
they stop (or the platform refuses them) it expires `ADDRESS_TTL` later, like any conversation's.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import redis.asyncio as aioredis

from bot.channels.store import ADDRESS_TTL, conversation_key
from bot.content.agency import SOURCE_LANGUAGE
from bot.subscriptions.catalog import ALL

PREFIX = "civic:subs:v1:"
ACTIVE, STOPPED, INACTIVE = "active", "stopped", "inactive"
# The channels a broadcast can reach (the web chat and REST have no push), and the names the
# audience report uses for them.
PUSH_CHANNELS = ("twilio", "telegram", "whatsapp", "facebook", "instagram")
REPORT_NAMES = {"facebook": "messenger"}


def channel_of(conversation_id: str) -> str:
    """The channel a conversation id belongs to (`twilio-3f2a...` -> "twilio")."""
    return conversation_id.split("-", 1)[0]


def report_name(channel: str) -> str:
    return REPORT_NAMES.get(channel, channel)


def pair(topic: str, area: str) -> str:
    return f"{topic}:{area}"


def split_pair(value: str) -> tuple[str, str]:
    topic, _, area = value.partition(":")
    return topic, area


@dataclass(frozen=True)
class Subscriber:
    conversation_id: str
    channel: str
    status: str
    pairs: tuple[str, ...] = ()
    created: float = 0.0
    updated: float = 0.0
    reason: str = ""
    language: str = SOURCE_LANGUAGE  # what broadcasts to them are worded in

    @property
    def active(self) -> bool:
        return self.status == ACTIVE

    def topics(self) -> list[str]:
        return list(dict.fromkeys(split_pair(p)[0] for p in self.pairs))

    def areas_for(self, topic: str) -> list[str]:
        return [split_pair(p)[1] for p in self.pairs if split_pair(p)[0] == topic]


@dataclass(frozen=True)
class Consent:
    """One entry of the consent log: what happened, when, on which channel, and what was shown."""

    action: str  # subscribe, unsubscribe, stop, start, inactive, verified
    at: float
    channel: str
    topics: tuple[str, ...] = ()
    areas: tuple[str, ...] = ()
    wording: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> str:
        body = {
            "action": self.action,
            "at": self.at,
            "channel": self.channel,
            "topics": list(self.topics),
            "areas": list(self.areas),
            "wording": self.wording,
        }
        return json.dumps({**body, **self.extra}, ensure_ascii=False, sort_keys=True)


class SubscriberStore:
    """Subscriptions on a Redis client (decode_responses=True or not: both are handled)."""

    def __init__(self, redis: aioredis.Redis, clock: Any = time.time) -> None:
        self.redis = redis
        self.clock = clock

    @staticmethod
    def key(kind: str, value: str) -> str:
        return f"{PREFIX}{kind}:{value}"

    async def get(self, conversation_id: str) -> Subscriber | None:
        raw = await self.redis.hgetall(self.key("sub", conversation_id))
        if not raw:
            return None
        values = {_text(k): _text(v) for k, v in raw.items()}
        return Subscriber(
            conversation_id,
            values.get("channel", channel_of(conversation_id)),
            values.get("status", ACTIVE),
            tuple(json.loads(values.get("pairs", "[]"))),
            float(values.get("created", 0) or 0),
            float(values.get("updated", 0) or 0),
            values.get("reason", ""),
            values.get("language") or SOURCE_LANGUAGE,
        )

    async def subscribe(
        self,
        conversation_id: str,
        topics: Sequence[str],
        areas: Sequence[str],
        wording: str,
        *,
        language: str | None = None,
        **extra: Any,
    ) -> Subscriber:
        """Add every (topic, area) pair, make the subscriber active, and log the consent. `language`:
        the one the citizen subscribed in (the wording is in it); None keeps what was recorded."""
        current = await self.get(conversation_id)
        if language:
            extra = {**extra, "language": language}
        pairs = list(current.pairs if current else ())
        for topic in topics:
            for area in areas or (ALL,):
                if pair(topic, area) not in pairs:
                    pairs.append(pair(topic, area))
        consent = Consent(
            "subscribe",
            self.clock(),
            channel_of(conversation_id),
            tuple(topics),
            tuple(areas),
            wording,
            extra,
        )
        return await self._save(conversation_id, ACTIVE, pairs, consent, current, language=language)

    async def unsubscribe(
        self, conversation_id: str, topics: Sequence[str], wording: str = ""
    ) -> Subscriber | None:
        """Remove every pair of these topics (the subscriber stays, with what is left)."""
        current = await self.get(conversation_id)
        if current is None:
            return None
        pairs = [p for p in current.pairs if split_pair(p)[0] not in set(topics)]
        consent = Consent("unsubscribe", self.clock(), current.channel, tuple(topics), (), wording)
        return await self._save(conversation_id, current.status, pairs, consent, current)

    async def stop(self, conversation_id: str, wording: str = "", keyword: str = "") -> Subscriber:
        """Nothing more is sent until `start`; the pairs are kept for it. Recorded even for a
        conversation that never subscribed, so a later broadcast can never reach it by mistake."""
        current = await self.get(conversation_id)
        pairs = list(current.pairs) if current else []
        extra = {"keyword": keyword} if keyword else {}
        consent = Consent("stop", self.clock(), channel_of(conversation_id), (), (), wording, extra)
        return await self._save(conversation_id, STOPPED, pairs, consent, current)

    async def start(self, conversation_id: str, wording: str = "", keyword: str = "") -> Subscriber | None:
        """Restore what STOP paused; None when there is nothing to restore."""
        current = await self.get(conversation_id)
        if current is None or current.status == ACTIVE:
            return current
        extra = {"keyword": keyword} if keyword else {}
        consent = Consent("start", self.clock(), current.channel, (), (), wording, extra)
        return await self._save(conversation_id, ACTIVE, list(current.pairs), consent, current)

    async def deactivate(self, conversation_id: str, reason: str) -> None:
        """The platform refused for good (blocked, opted out at the carrier, invalid number)."""
        current = await self.get(conversation_id)
        if current is None or current.status == INACTIVE:
            return
        consent = Consent("inactive", self.clock(), current.channel, (), (), "", {"reason": reason})
        await self._save(conversation_id, INACTIVE, list(current.pairs), consent, current, reason)

    async def consent_log(self, conversation_id: str) -> list[dict[str, Any]]:
        return [
            json.loads(_text(r)) for r in await self.redis.lrange(self.key("consent", conversation_id), 0, -1)
        ]

    async def record(self, conversation_id: str, consent: Consent) -> None:
        """Log an event that changes no subscription (an SMS code verified, a channel offered)."""
        await self.redis.rpush(self.key("consent", conversation_id), consent.as_json())

    async def erase(self, conversation_id: str) -> bool:
        """Remove the subscriber, its consent log and its index entries (privacy erase)."""
        current = await self.get(conversation_id)
        async with self.redis.pipeline(transaction=True) as pipe:
            for value in current.pairs if current else ():
                pipe.srem(self.key("idx", value), conversation_id)
            pipe.delete(self.key("sub", conversation_id), self.key("consent", conversation_id))
            pipe.srem(self.key("members", "all"), conversation_id)
            await pipe.execute()
        return current is not None

    async def audience(self, topic: str, areas: Iterable[str], area_ids: Iterable[str]) -> set[str]:
        """The active subscribers a broadcast on `topic` to `areas` reaches: those of its areas and
        those of the whole city; to ["all"], every subscriber of the topic (`area_ids`: every
        district's id)."""
        wanted = set(areas)
        targets = set(area_ids) | {ALL} if ALL in wanted else wanted | {ALL}
        keys = [self.key("idx", pair(topic, area)) for area in sorted(targets)]
        return {_text(m) for m in await self.redis.sunion(keys)} if keys else set()

    async def audience_counts(
        self, topic: str, areas: Iterable[str], area_ids: Iterable[str]
    ) -> dict[str, int]:
        """The audience by channel, with the report's names and a total."""
        counted = Counter(channel_of(cid) for cid in await self.audience(topic, areas, area_ids))
        counts = {report_name(channel): counted.get(channel, 0) for channel in PUSH_CHANNELS}
        counts["total"] = sum(counts.values())
        return counts

    async def language_counts(self, conversation_ids: Iterable[str], chunk: int = 1000) -> dict[str, int]:
        """How many of these subscribers read each language (the one they subscribed in), so staff
        see who a broadcast without their language's wording would reach in English."""
        counted: Counter[str] = Counter()
        ids = list(conversation_ids)
        for start in range(0, len(ids), chunk):
            async with self.redis.pipeline(transaction=False) as pipe:
                for cid in ids[start : start + chunk]:
                    pipe.hget(self.key("sub", cid), "language")
                found = await pipe.execute()
            counted.update(_text(v) if v else SOURCE_LANGUAGE for v in found)
        return dict(counted)

    async def _save(
        self,
        conversation_id: str,
        status: str,
        pairs: list[str],
        consent: Consent,
        current: Subscriber | None,
        reason: str = "",
        language: str | None = None,
    ) -> Subscriber:
        now = consent.at
        created = current.created if current else now
        language = language or (current.language if current else SOURCE_LANGUAGE)
        indexed = set(pairs) if status == ACTIVE else set()
        async with self.redis.pipeline(transaction=True) as pipe:
            for value in set(current.pairs if current else ()) - indexed:
                pipe.srem(self.key("idx", value), conversation_id)
            for value in indexed:
                pipe.sadd(self.key("idx", value), conversation_id)
            pipe.hset(
                self.key("sub", conversation_id),
                mapping={
                    "channel": channel_of(conversation_id),
                    "status": status,
                    "pairs": json.dumps(pairs),
                    "created": created,
                    "updated": now,
                    "reason": reason,
                    "language": language,
                },
            )
            pipe.rpush(self.key("consent", conversation_id), consent.as_json())
            pipe.sadd(self.key("members", "all"), conversation_id)
            address = conversation_key(channel_of(conversation_id), "address", conversation_id)
            if status == ACTIVE and pairs:
                pipe.persist(address)
            else:
                pipe.expire(address, ADDRESS_TTL)
            await pipe.execute()
        return Subscriber(
            conversation_id, channel_of(conversation_id), status, tuple(pairs), created, now, reason, language
        )


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
