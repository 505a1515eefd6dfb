"""The durable handoff queue in Redis: a hash per conversation, sorted sets for order, a list per transcript.

Everything the console knows lives here, so any process can restart mid-chat. State changes that must
not race (enqueue, claim, recording a message exactly once) are Lua scripts; every change is also
appended to the `<prefix>:changes` stream, which the console tails to push live events.

Keys (prefix `handoff`): `entry:<id>` hash, `open` zset (waiting, claimed, ticket by waiting_since),
`waiting` zset, `messages:<id>` list of JSON, `seen:<id>` set of relayed event ids, `waits` list of recent
waits in seconds, `online` zset agent -> last seen, `rating:agent:<name>` / `rating:reason:<r>` hashes.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from redis.asyncio import Redis

OPEN_STATUSES = ("waiting", "claimed", "ticket")
CLOSED_TTL = 30 * 24 * 3600
DEFAULT_WAIT_SECONDS = 300.0
ONLINE_WINDOW = 120.0
CHANGES_MAXLEN = 10_000
RECENT_WAITS = 20

_ENQUEUE = """
local status = redis.call('HGET', KEYS[1], 'status')
if status == 'waiting' or status == 'claimed' then return 0 end
redis.call('DEL', KEYS[1], KEYS[4], KEYS[5])
local fields = cjson.decode(ARGV[1])
for k, v in pairs(fields) do redis.call('HSET', KEYS[1], k, v) end
redis.call('PERSIST', KEYS[1])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[3])
for _, m in ipairs(cjson.decode(ARGV[4])) do redis.call('RPUSH', KEYS[4], m) end
return 1
"""

_CLAIM = """
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return {'missing', ''} end
if status == 'closed' then return {'closed', ''} end
local holder = redis.call('HGET', KEYS[1], 'agent') or ''
if holder ~= '' and holder ~= ARGV[1] then return {'taken', holder} end
if holder == ARGV[1] then return {'ok', status} end
if status == 'waiting' then
  redis.call('ZREM', KEYS[2], ARGV[3])
  redis.call('HSET', KEYS[1], 'status', 'claimed')
  local since = tonumber(redis.call('HGET', KEYS[1], 'waiting_since'))
  redis.call('LPUSH', KEYS[3], tostring(tonumber(ARGV[2]) - since))
  redis.call('LTRIM', KEYS[3], 0, tonumber(ARGV[4]) - 1)
end
redis.call('HSET', KEYS[1], 'agent', ARGV[1], 'claimed_at', ARGV[2], 'last_activity', ARGV[2])
return {'ok', status}
"""

_RELEASE = """
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return {'missing', ''} end
if status == 'closed' then return {'closed', ''} end
local holder = redis.call('HGET', KEYS[1], 'agent') or ''
if holder ~= ARGV[1] and ARGV[2] ~= 'force' then return {'taken', holder} end
if ARGV[3] ~= '' then
  redis.call('HSET', KEYS[1], 'agent', ARGV[3], 'last_activity', ARGV[4])
  return {'ok', status}
end
redis.call('HSET', KEYS[1], 'agent', '')
if status == 'claimed' then
  redis.call('HSET', KEYS[1], 'status', 'waiting')
  redis.call('ZADD', KEYS[2], redis.call('HGET', KEYS[1], 'waiting_since'), ARGV[5])
end
return {'ok', status}
"""

_CLOSE = """
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return {'missing', ''} end
if status == 'closed' then return {'closed', ''} end
local holder = redis.call('HGET', KEYS[1], 'agent') or ''
if holder ~= '' and holder ~= ARGV[1] and ARGV[2] ~= 'force' then return {'taken', holder} end
redis.call('HSET', KEYS[1], 'status', 'closed', 'closed_at', ARGV[3], 'closed_how', ARGV[4])
if holder == '' then redis.call('HSET', KEYS[1], 'agent', ARGV[1]) end
redis.call('ZREM', KEYS[2], ARGV[5])
redis.call('ZREM', KEYS[3], ARGV[5])
for i = 1, 3 do redis.call('EXPIRE', KEYS[i + 3], ARGV[6]) end
return {'ok', status}
"""

_RECORD = """
local status = redis.call('HGET', KEYS[1], 'status')
if status ~= 'waiting' and status ~= 'claimed' then return 0 end
if ARGV[1] ~= '' and redis.call('SADD', KEYS[3], ARGV[1]) == 0 then return 0 end
if ARGV[3] ~= '' and tonumber(ARGV[3]) <= tonumber(redis.call('HGET', KEYS[1], 'seeded_until') or '0') then
  return 0
end
if ARGV[4] == '1' then redis.call('HSET', KEYS[1], 'last_activity', ARGV[5]) end
return redis.call('RPUSH', KEYS[2], ARGV[2])
"""


def _t(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def iso(epoch: float) -> str:
    return (
        datetime.fromtimestamp(epoch, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    )


@dataclass(frozen=True)
class Entry:
    """One conversation in the queue (or recently closed)."""

    conversation_id: str
    channel: str
    reason: str
    status: str
    waiting_since: float
    agent: str = ""
    summary: dict[str, Any] = field(default_factory=dict)
    last_activity: float = 0.0
    told_wait: int = 0
    ticket_message: str = ""
    ticket_contact: str = ""
    closed_how: str = ""

    @classmethod
    def from_hash(cls, raw: dict[Any, Any]) -> Entry:
        h = {_t(k): _t(v) for k, v in raw.items()}
        return cls(
            conversation_id=h["conversation_id"],
            channel=h.get("channel", ""),
            reason=h.get("reason", ""),
            status=h.get("status", ""),
            waiting_since=float(h.get("waiting_since") or 0),
            agent=h.get("agent", ""),
            summary=json.loads(h.get("summary") or "{}"),
            last_activity=float(h.get("last_activity") or 0),
            told_wait=int(h.get("told_wait") or 0),
            ticket_message=h.get("ticket_message", ""),
            ticket_contact=h.get("ticket_contact", ""),
            closed_how=h.get("closed_how", ""),
        )

    def public(self) -> dict[str, Any]:
        """The `GET /api/queue` shape (plus `agent`, and the ticket fields for tickets)."""
        out: dict[str, Any] = {
            "conversation_id": self.conversation_id,
            "channel": self.channel,
            "reason": self.reason,
            "waiting_since": iso(self.waiting_since),
            "status": self.status,
            "agent": self.agent or None,
            "summary": self.summary,
        }
        if self.status == "ticket":
            out["ticket"] = {"message": self.ticket_message, "contact": self.ticket_contact}
        return out


@dataclass(frozen=True)
class Outcome:
    """Result of a claim/release/transfer/close: `ok`, `missing`, `closed` or `taken` (by `holder`)."""

    result: str
    holder: str = ""
    previous: str = ""

    @property
    def ok(self) -> bool:
        return self.result == "ok"


def message(sender: str, text: str, timestamp: float, **extra: Any) -> dict[str, Any]:
    return {"sender": sender, "text": text, "timestamp": iso(timestamp), **extra}


class QueueStore:
    """All queue operations; `redis` may or may not decode responses."""

    def __init__(self, redis: Redis, prefix: str = "handoff") -> None:
        self.redis = redis
        self.prefix = prefix
        self._enqueue = redis.register_script(_ENQUEUE)
        self._claim = redis.register_script(_CLAIM)
        self._release = redis.register_script(_RELEASE)
        self._close = redis.register_script(_CLOSE)
        self._record = redis.register_script(_RECORD)

    def key(self, *parts: str) -> str:
        return ":".join((self.prefix, *parts))

    @property
    def changes_key(self) -> str:
        return self.key("changes")

    async def _changed(self, kind: str, conversation_id: str, **data: Any) -> None:
        event = {"type": kind, "conversation_id": conversation_id, **data}
        await self.redis.xadd(
            self.changes_key, {"event": json.dumps(event)}, maxlen=CHANGES_MAXLEN, approximate=True
        )

    # -- entries ----------------------------------------------------------------------------

    async def get(self, conversation_id: str) -> Entry | None:
        raw = await self.redis.hgetall(self.key("entry", conversation_id))
        return Entry.from_hash(raw) if raw else None

    async def queue(self) -> list[Entry]:
        """Open entries (waiting, claimed, ticket), longest waiting first."""
        ids = [_t(i) for i in await self.redis.zrange(self.key("open"), 0, -1)]
        entries = [await self.get(i) for i in ids]
        return [e for e in entries if e is not None and e.status in OPEN_STATUSES]

    async def position(self, conversation_id: str) -> int | None:
        rank = await self.redis.zrank(self.key("waiting"), conversation_id)
        return None if rank is None else int(rank) + 1

    async def enqueue(
        self,
        conversation_id: str,
        *,
        channel: str,
        reason: str,
        summary: dict[str, Any],
        history: list[dict[str, Any]],
        seeded_until: float,
        now: float | None = None,
    ) -> bool:
        """Queue as `waiting`; False (and nothing changes) if it is already waiting or claimed."""
        now = time.time() if now is None else now
        fields = {
            "conversation_id": conversation_id,
            "channel": channel,
            "reason": reason,
            "status": "waiting",
            "waiting_since": repr(now),
            "agent": "",
            "summary": json.dumps(summary),
            "last_activity": repr(now),
            "seeded_until": repr(seeded_until),
            "told_wait": "0",
        }
        created = await self._enqueue(
            keys=[
                self.key("entry", conversation_id),
                self.key("open"),
                self.key("waiting"),
                self.key("messages", conversation_id),
                self.key("seen", conversation_id),
            ],
            args=[
                json.dumps(fields),
                repr(now),
                conversation_id,
                json.dumps([json.dumps(m) for m in history]),
            ],
        )
        if created:
            await self._changed("queued", conversation_id, reason=reason, channel=channel)
        return bool(created)

    async def add_ticket(
        self,
        conversation_id: str,
        *,
        channel: str,
        summary: dict[str, Any],
        text: str,
        contact: str,
        now: float | None = None,
    ) -> None:
        """A message left out of staffed hours; a second one from the same conversation is appended."""
        now = time.time() if now is None else now
        key = self.key("entry", conversation_id)
        existing = await self.get(conversation_id)
        if existing is not None and existing.status == "ticket":
            text = f"{existing.ticket_message}\n\n{text}"
            contact = contact or existing.ticket_contact
            since = existing.waiting_since
        else:
            since = now
            await self.redis.delete(key, self.key("messages", conversation_id))
        mapping: dict[str | bytes, str] = {
            "conversation_id": conversation_id,
            "channel": channel,
            "reason": summary.get("reason", "after_hours"),
            "status": "ticket",
            "waiting_since": repr(since),
            "agent": existing.agent if existing and existing.status == "ticket" else "",
            "summary": json.dumps(summary),
            "ticket_message": text,
            "ticket_contact": contact,
            "last_activity": repr(now),
        }
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(key, mapping=mapping)
            pipe.persist(key)
            pipe.zadd(self.key("open"), {conversation_id: since})
            await pipe.execute()
        await self._changed("ticket", conversation_id, channel=channel)

    def _keys(self, conversation_id: str) -> list[str]:
        return [self.key("entry", conversation_id), self.key("open"), self.key("waiting")]

    async def claim(self, conversation_id: str, agent: str, now: float | None = None) -> Outcome:
        """Atomic: exactly one agent wins a waiting conversation; the others get `taken`."""
        now = time.time() if now is None else now
        keys = [self.key("entry", conversation_id), self.key("waiting"), self.key("waits")]
        result, extra = [
            _t(x)
            for x in await self._claim(keys=keys, args=[agent, repr(now), conversation_id, RECENT_WAITS])
        ]
        outcome = Outcome(
            result, holder=extra if result == "taken" else "", previous=extra if result == "ok" else ""
        )
        if outcome.ok and outcome.previous != "claimed":
            await self._changed("claimed", conversation_id, agent=agent)
        return outcome

    async def release(self, conversation_id: str, agent: str, *, force: bool = False) -> Outcome:
        """Back to `waiting` (keeping its place in line); an editor may `force` it."""
        args = [agent, "force" if force else "", "", "", conversation_id]
        keys = [self.key("entry", conversation_id), self.key("waiting")]
        result, extra = [_t(x) for x in await self._release(keys=keys, args=args)]
        outcome = Outcome(result, holder=extra if result == "taken" else "", previous=extra)
        if outcome.ok:
            await self._changed("released", conversation_id, agent=agent)
        return outcome

    async def transfer(
        self, conversation_id: str, agent: str, to: str, *, force: bool = False, now: float | None = None
    ) -> Outcome:
        now = time.time() if now is None else now
        args = [agent, "force" if force else "", to, repr(now), conversation_id]
        keys = [self.key("entry", conversation_id), self.key("waiting")]
        result, extra = [_t(x) for x in await self._release(keys=keys, args=args)]
        outcome = Outcome(result, holder=extra if result == "taken" else "", previous=extra)
        if outcome.ok:
            await self._changed("transferred", conversation_id, agent=to, by=agent)
        return outcome

    async def close(
        self,
        conversation_id: str,
        agent: str,
        *,
        how: str = "closed",
        force: bool = False,
        now: float | None = None,
    ) -> Outcome:
        """Out of the queue; the entry and transcript stay for `CLOSED_TTL` (the rating needs the agent)."""
        now = time.time() if now is None else now
        keys = [
            self.key("entry", conversation_id),
            self.key("open"),
            self.key("waiting"),
            self.key("entry", conversation_id),
            self.key("messages", conversation_id),
            self.key("seen", conversation_id),
        ]
        args = [agent, "force" if force else "", repr(now), how, conversation_id, CLOSED_TTL]
        result, extra = [_t(x) for x in await self._close(keys=keys, args=args)]
        outcome = Outcome(result, holder=extra if result == "taken" else "", previous=extra)
        if outcome.ok:
            await self._changed("closed", conversation_id, agent=agent, how=how)
        return outcome

    async def set_told_wait(self, conversation_id: str, minutes: int) -> None:
        await self.redis.hset(self.key("entry", conversation_id), "told_wait", str(minutes))

    # -- transcript -------------------------------------------------------------------------

    async def record(
        self,
        conversation_id: str,
        sender: str,
        text: str,
        timestamp: float,
        *,
        dedupe: str = "",
        after_seed: bool = False,
        touch: bool = True,
        **extra: Any,
    ) -> bool:
        """Append one message exactly once (`dedupe`: the relayed event id or message id).

        Only while the conversation is waiting or claimed. With `after_seed`, events the action
        already copied from the tracker when it queued the conversation are skipped.
        """
        msg = message(sender, text, timestamp, **extra)
        keys = [
            self.key("entry", conversation_id),
            self.key("messages", conversation_id),
            self.key("seen", conversation_id),
        ]
        args = [
            dedupe,
            json.dumps(msg),
            repr(timestamp) if after_seed else "",
            "1" if touch else "0",
            repr(time.time()),
        ]
        length = int(await self._record(keys=keys, args=args))
        if length:
            await self._changed("message", conversation_id, message=msg)
        return bool(length)

    async def messages(self, conversation_id: str) -> list[dict[str, Any]]:
        return [
            json.loads(_t(m)) for m in await self.redis.lrange(self.key("messages", conversation_id), 0, -1)
        ]

    # -- wait estimate ----------------------------------------------------------------------

    async def mark_online(self, agent: str, now: float | None = None) -> None:
        await self.redis.zadd(self.key("online"), {agent: time.time() if now is None else now})

    async def agents_online(self, now: float | None = None) -> int:
        now = time.time() if now is None else now
        return int(await self.redis.zcount(self.key("online"), now - ONLINE_WINDOW, "+inf"))

    async def wait_minutes(self, position: int, now: float | None = None) -> int:
        """Recent average wait per place in line, divided among the agents online (at least one)."""
        waits = [float(_t(w)) for w in await self.redis.lrange(self.key("waits"), 0, -1)]
        per_place = sum(waits) / len(waits) if waits else DEFAULT_WAIT_SECONDS
        agents = max(1, await self.agents_online(now))
        return max(1, math.ceil(per_place * position / agents / 60))

    # -- ratings ----------------------------------------------------------------------------

    async def add_rating(
        self, conversation_id: str, agent: str, reason: str, rating: int, comment: str
    ) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            for kind, name in (("agent", agent or "unknown"), ("reason", reason or "unknown")):
                pipe.sadd(self.key("rating", f"{kind}s"), name)
                pipe.hincrby(self.key("rating", kind, name), "count", 1)
                pipe.hincrby(self.key("rating", kind, name), "sum", rating)
            record = {"conversation_id": conversation_id, "agent": agent, "reason": reason}
            pipe.lpush(
                self.key("rating", "comments"), json.dumps({**record, "rating": rating, "comment": comment})
            )
            pipe.ltrim(self.key("rating", "comments"), 0, 999)
            await pipe.execute()

    async def ratings(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for kind in ("agent", "reason"):
            table = {}
            for name in sorted(_t(n) for n in await self.redis.smembers(self.key("rating", f"{kind}s"))):
                h = {
                    _t(k): int(_t(v))
                    for k, v in (await self.redis.hgetall(self.key("rating", kind, name))).items()
                }
                count, total = h.get("count", 0), h.get("sum", 0)
                table[name] = {
                    "count": count,
                    "sum": total,
                    "average": round(total / count, 2) if count else None,
                }
            out[f"{kind}s"] = table
        return out
