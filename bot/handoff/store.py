"""The durable handoff queue in Redis: a hash per conversation, sorted sets for order, a list per transcript.

Everything the console knows lives here, so any process can restart mid-chat. State changes that must
not race (enqueue, claim, recording a message exactly once) are Lua scripts; every change is also
appended to the `<prefix>:changes` stream, which the console tails to push live events.

Keys (prefix `handoff`): `entry:<id>` hash, `open` zset (waiting, claimed, ticket by waiting_since),
`waiting` zset, `messages:<id>` list of JSON, `seen:<id>` set of relayed event ids, `pace` list of recent
claims ("<seconds the agents took> <when>"), `last_claim` (epoch), `online` zset agent -> last seen,
`rating:agent:<name>` / `rating:reason:<r>` hashes, `rating:comments` list of JSON (with the conversation
id until `deidentify_comments` drops it), `pending_reason:<id>` (why a ticket form was offered),
`sending:<id>:<client message id>` (an agent's message being sent or sent: "sending:<epoch>" or
"sent:<message id>", for `SENT_TTL`, so a retried request delivers it once).

An entry keeps the citizen's language (`language`: the conversation's, from the action that queued
it, then from the relay when the citizen switches) and the language an agent picked for the
console's notices and canned replies (`reply_language`, "" until one is picked: the citizen's).

Retention (docs/privacy.md): closed entries expire after `CLOSED_TTL`; `expire_tickets` removes tickets
left longer than the ticket retention period; `deidentify_comments` strips the conversation id from
comments older than the rating retention period.

The wait estimate is the queue's measured pace: each claim of a waiting chat records how long the agents
took to get to it, counted from when it joined or from the previous claim, whichever is later (so an
idle hour with nobody waiting is not counted as slowness). A waiting chat whose citizen has said nothing
for `QueuePace.abandoned_after_minutes` stops counting in positions and estimates until they write again.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from redis.asyncio import Redis

from bot.content.agency import SOURCE_LANGUAGE
from bot.handoff.config import QueuePace

OPEN_STATUSES = ("waiting", "claimed", "ticket")
CLOSED_TTL = 30 * 24 * 3600
ONLINE_WINDOW = 120.0
CHANGES_MAXLEN = 10_000
LEFT = "left"  # `closed_how` of a chat the citizen took out of the queue themselves

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
  local now = tonumber(ARGV[2])
  local since = tonumber(redis.call('HGET', KEYS[1], 'waiting_since'))
  local heard = tonumber(redis.call('HGET', KEYS[1], 'last_activity') or since)
  -- an abandoned chat taken late says nothing about the pace
  if heard >= tonumber(ARGV[5]) then
    local start = math.max(since, tonumber(redis.call('GET', KEYS[4]) or '0'))
    redis.call('LPUSH', KEYS[3], tostring(now - start) .. ' ' .. ARGV[2])
    redis.call('LTRIM', KEYS[3], 0, tonumber(ARGV[4]) - 1)
  end
  redis.call('SET', KEYS[4], ARGV[2])
end
redis.call('HSET', KEYS[1], 'agent', ARGV[1], 'claimed_at', ARGV[2], 'last_activity', ARGV[2])
return {'ok', status}
"""

_LEAVE = """
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return 'missing' end
if status ~= 'waiting' then return status end
redis.call('HSET', KEYS[1], 'status', 'closed', 'closed_at', ARGV[1], 'closed_how', ARGV[2])
redis.call('ZREM', KEYS[2], ARGV[3])
redis.call('ZREM', KEYS[3], ARGV[3])
for i = 1, 3 do redis.call('EXPIRE', KEYS[i + 3], ARGV[4]) end
return 'ok'
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

_DEIDENTIFY = """
local changed = 0
local items = redis.call('LRANGE', KEYS[1], 0, -1)
for i, raw in ipairs(items) do
  local ok, comment = pcall(cjson.decode, raw)
  if ok and type(comment) == 'table' and comment['conversation_id'] and comment['conversation_id'] ~= ''
     and (tonumber(comment['at']) or 0) < tonumber(ARGV[1]) then
    comment['conversation_id'] = nil
    redis.call('LSET', KEYS[1], i - 1, cjson.encode(comment))
    changed = changed + 1
  end
end
return changed
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

# Set a field (ARGV[3]) of an open entry to ARGV[1]; with a timestamp (ARGV[2]), only for an event
# later than those the action copied when it queued the conversation. 1 if it changed.
_SET_IF_OPEN = """
local status = redis.call('HGET', KEYS[1], 'status')
if status ~= 'waiting' and status ~= 'claimed' and status ~= 'ticket' then return 0 end
if ARGV[2] ~= '' and tonumber(ARGV[2]) <= tonumber(redis.call('HGET', KEYS[1], 'seeded_until') or '0') then
  return 0
end
if redis.call('HGET', KEYS[1], ARGV[3]) == ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], ARGV[3], ARGV[1])
return 1
"""

# Replace a `sending:` mark only if it is still the one the caller saw (one taker of a stale attempt).
_SWAP = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
return 1
"""
SENT_TTL = 86400  # how long a client_message_id is remembered: longer than any console retries


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
    language: str = SOURCE_LANGUAGE
    reply_language: str = ""

    @property
    def speaks(self) -> str:
        """The language the console says its notices in and offers canned replies in: the one an
        agent picked, else the citizen's."""
        return self.reply_language or self.language

    def counts(self, now: float, pace: QueuePace) -> bool:
        """A waiting chat counts in the line unless its citizen has been silent past the abandon window."""
        return self.status == "waiting" and self.last_activity >= now - pace.abandoned_after

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
            language=h.get("language") or SOURCE_LANGUAGE,  # queued before languages were kept
            reply_language=h.get("reply_language", ""),
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
            "language": self.language,
            "reply_language": self.speaks,
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

    def __init__(self, redis: Redis, prefix: str = "handoff", pace: QueuePace | None = None) -> None:
        self.redis = redis
        self.prefix = prefix
        self.pace = pace or QueuePace()
        self._enqueue = redis.register_script(_ENQUEUE)
        self._claim = redis.register_script(_CLAIM)
        self._leave = redis.register_script(_LEAVE)
        self._release = redis.register_script(_RELEASE)
        self._close = redis.register_script(_CLOSE)
        self._record = redis.register_script(_RECORD)
        self._deidentify = redis.register_script(_DEIDENTIFY)
        self._swap = redis.register_script(_SWAP)
        self._set_if_open = redis.register_script(_SET_IF_OPEN)

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

    async def _waiting(self) -> list[Entry]:
        ids = [_t(i) for i in await self.redis.zrange(self.key("waiting"), 0, -1)]
        entries = [await self.get(i) for i in ids]
        return [e for e in entries if e is not None and e.status == "waiting"]

    async def position(self, conversation_id: str, now: float | None = None) -> int | None:
        """Place in line (1 is next), counting only the chats ahead that still count; None unless waiting."""
        now = time.time() if now is None else now
        ahead = 0
        for entry in await self._waiting():
            if entry.conversation_id == conversation_id:
                return ahead + 1
            ahead += entry.counts(now, self.pace)
        return None

    async def waiting_count(self, now: float | None = None) -> int:
        """The queue's length: waiting chats that have not been abandoned."""
        now = time.time() if now is None else now
        return sum(entry.counts(now, self.pace) for entry in await self._waiting())

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
        language: str = SOURCE_LANGUAGE,
    ) -> bool:
        """Queue as `waiting` in the conversation's `language`; False (and nothing changes) if it is
        already waiting or claimed."""
        now = time.time() if now is None else now
        fields = {
            "conversation_id": conversation_id,
            "channel": channel,
            "reason": reason,
            "language": language,
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
        language: str = SOURCE_LANGUAGE,
    ) -> None:
        """A message left out of staffed hours, in the conversation's `language`; a second one from
        the same conversation is appended."""
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
            "language": language,
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
        keys = [self.key("entry", conversation_id), self.key("waiting")]
        keys += [self.key("pace"), self.key("last_claim")]
        heard_since = repr(now - self.pace.abandoned_after)
        args: list[str | int] = [agent, repr(now), conversation_id, self.pace.recent_chats, heard_since]
        result, extra = [_t(x) for x in await self._claim(keys=keys, args=args)]
        outcome = Outcome(
            result, holder=extra if result == "taken" else "", previous=extra if result == "ok" else ""
        )
        if outcome.ok and outcome.previous != "claimed":
            await self._changed("claimed", conversation_id, agent=agent)
        return outcome

    def _closing_keys(self, conversation_id: str) -> list[str]:
        """The keys the close and leave scripts touch (the entry twice, as the scripts expect)."""
        return [
            self.key("entry", conversation_id),
            self.key("open"),
            self.key("waiting"),
            self.key("entry", conversation_id),
            self.key("messages", conversation_id),
            self.key("seen", conversation_id),
        ]

    async def leave(self, conversation_id: str, now: float | None = None) -> bool:
        """The citizen leaves the line: closed (`closed_how` "left") only if still waiting; True if so.

        A chat an agent has just claimed stays with the agent: the claim won the race.
        """
        now = time.time() if now is None else now
        keys = self._closing_keys(conversation_id)
        result = _t(await self._leave(keys=keys, args=[repr(now), LEFT, conversation_id, CLOSED_TTL]))
        if result == "ok":
            await self._changed("closed", conversation_id, agent="", how=LEFT)
        return result == "ok"

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
        keys = self._closing_keys(conversation_id)
        args = [agent, "force" if force else "", repr(now), how, conversation_id, CLOSED_TTL]
        result, extra = [_t(x) for x in await self._close(keys=keys, args=args)]
        outcome = Outcome(result, holder=extra if result == "taken" else "", previous=extra)
        if outcome.ok:
            await self._changed("closed", conversation_id, agent=agent, how=how)
        return outcome

    async def set_language(self, conversation_id: str, language: str, timestamp: float | None = None) -> bool:
        """The citizen switched language (the relay saw the slot change at `timestamp`): an open
        entry follows, unless the change is older than what the action copied; True if it changed."""
        return await self._set_field(conversation_id, "language", language, timestamp)

    async def set_reply_language(self, conversation_id: str, language: str) -> bool:
        """An agent picked the language of the console's notices and canned replies ("" for the
        citizen's); False when the entry is not open."""
        entry = await self.get(conversation_id)
        if entry is None or entry.status not in OPEN_STATUSES:
            return False
        await self._set_field(conversation_id, "reply_language", language, None)
        return True

    async def _set_field(self, conversation_id: str, name: str, value: str, timestamp: float | None) -> bool:
        args = [value, "" if timestamp is None else repr(timestamp), name]
        changed = bool(await self._set_if_open(keys=[self.key("entry", conversation_id)], args=args))
        entry = await self.get(conversation_id) if changed else None
        if entry is not None:
            await self._changed(
                "language", conversation_id, language=entry.language, reply_language=entry.speaks
            )
        return changed

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

    # -- an agent's message sent once (client_message_id) -------------------------------------

    def _sending_key(self, conversation_id: str, client_message_id: str) -> str:
        return self.key("sending", conversation_id, client_message_id)

    async def reserve_send(self, conversation_id: str, client_message_id: str, now: float) -> str | None:
        """None when this caller may deliver the message; else the earlier attempt's mark."""
        key = self._sending_key(conversation_id, client_message_id)
        if await self.redis.set(key, f"sending:{now}", nx=True, ex=SENT_TTL):
            return None
        mark = await self.redis.get(key)
        return "" if mark is None else _t(mark)  # "": gone meanwhile, try again

    async def take_over_send(
        self, conversation_id: str, client_message_id: str, seen: str, now: float
    ) -> bool:
        """Take a stale attempt's reservation, unless another retry took it first."""
        key = self._sending_key(conversation_id, client_message_id)
        return bool(await self._swap(keys=[key], args=[seen, f"sending:{now}"]))

    async def mark_sent(self, conversation_id: str, client_message_id: str, message_id: str) -> None:
        key = self._sending_key(conversation_id, client_message_id)
        await self.redis.set(key, f"sent:{message_id}", ex=SENT_TTL)

    async def abandon_send(self, conversation_id: str, client_message_id: str) -> None:
        """The attempt failed (perhaps after Rasa stored it): mark it stale for a retry to check."""
        await self.redis.set(self._sending_key(conversation_id, client_message_id), "sending:0", keepttl=True)

    # -- wait estimate ----------------------------------------------------------------------

    async def mark_online(self, agent: str, now: float | None = None) -> None:
        await self.redis.zadd(self.key("online"), {agent: time.time() if now is None else now})

    async def agents_online(self, now: float | None = None) -> int:
        now = time.time() if now is None else now
        return int(await self.redis.zcount(self.key("online"), now - ONLINE_WINDOW, "+inf"))

    async def pace_seconds(self, now: float | None = None) -> float:
        """Seconds the agents took per chat, averaged over the recent claims (else the starting pace)."""
        now = time.time() if now is None else now
        since = now - self.pace.recent_hours * 3600
        took = []
        for raw in await self.redis.lrange(self.key("pace"), 0, -1):
            seconds, _, at = _t(raw).partition(" ")
            if float(at or 0) >= since:
                took.append(max(0.0, float(seconds)))
        return sum(took) / len(took) if took else self.pace.starting_pace_minutes * 60

    async def wait_minutes(self, position: int, now: float | None = None) -> int:
        """About how long the chat at `position` will wait: its place times the queue's pace (at least 1)."""
        return max(1, math.ceil(position * await self.pace_seconds(now) / 60))

    # -- ratings ----------------------------------------------------------------------------

    async def add_rating(
        self, conversation_id: str, agent: str, reason: str, rating: int, comment: str = ""
    ) -> None:
        """Count a rating for the agent and the reason (as soon as it is given: a comment may never come)."""
        async with self.redis.pipeline(transaction=True) as pipe:
            for kind, name in (("agent", agent or "unknown"), ("reason", reason or "unknown")):
                pipe.sadd(self.key("rating", f"{kind}s"), name)
                pipe.hincrby(self.key("rating", kind, name), "count", 1)
                pipe.hincrby(self.key("rating", kind, name), "sum", rating)
            await pipe.execute()
        if comment:
            await self.add_comment(conversation_id, agent, reason, rating, comment)

    async def add_comment(
        self, conversation_id: str, agent: str, reason: str, rating: int, comment: str
    ) -> None:
        """Keep the citizen's comment on a rated chat (the latest 1,000)."""
        record = {"conversation_id": conversation_id, "agent": agent, "reason": reason, "at": time.time()}
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.lpush(
                self.key("rating", "comments"), json.dumps({**record, "rating": rating, "comment": comment})
            )
            pipe.ltrim(self.key("rating", "comments"), 0, 999)
            await pipe.execute()

    async def deidentify_comments(self, before: float) -> int:
        """Comments given before `before` (epoch) keep their rating and words but no conversation id."""
        return int(await self._deidentify(keys=[self.key("rating", "comments")], args=[repr(before)]))

    # -- retention --------------------------------------------------------------------------

    async def waiting_since_before(self, before: float) -> list[Entry]:
        """Chats that joined the line before `before` (epoch) and are still waiting."""
        return [entry for entry in await self._waiting() if entry.waiting_since < before]

    async def set_pending_reason(self, conversation_id: str, reason: str, ttl: int) -> None:
        """Why the ticket form was offered: the ticket it leads to is filed under this reason."""
        await self.redis.set(self.key("pending_reason", conversation_id), reason, ex=ttl)

    async def expire_tickets(self, before: float) -> int:
        """Remove tickets left before `before` (epoch) that staff never closed; returns how many."""
        removed = 0
        for raw in await self.redis.zrangebyscore(self.key("open"), "-inf", f"({before!r}"):
            conversation_id = _t(raw)
            entry = await self.get(conversation_id)
            if entry is not None and entry.status != "ticket":
                continue
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.delete(*(self.key(k, conversation_id) for k in ("entry", "messages", "seen")))
                pipe.zrem(self.key("open"), conversation_id)
                await pipe.execute()
            await self._changed("closed", conversation_id, agent="", how="ticket_expired")
            removed += 1
        return removed

    async def trim_changes(self, before: float) -> None:
        """Drop change events older than `before` (epoch): they carry transcript lines."""
        oldest_ms = max(0, int(before * 1000))
        await self.redis.xtrim(self.changes_key, minid=f"{oldest_ms}-0", approximate=False)

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
