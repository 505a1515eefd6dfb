"""The delivery queue of broadcasts: what the console and the poller call, what the workers take from.

`start_delivery` snapshots a broadcast's audience (one `SUNION` of the subscriber indexes: the
active subscribers of that instant), keeps the broadcast's channels, and queues every recipient in
one transaction, guarded by the `started` key so a second call changes nothing. The broadcaster
process (`python -m bot.broadcasts`, `worker.py`) sends; this module never talks to a platform.

Exactly once: a recipient is taken from the queue and claimed in its broadcast's `state` hash by
one Lua script (`LPOP` + `HSETNX`), after the rate limit granted a token and right before the
platform call, so a recipient is either still queued (any worker takes it) or claimed by one
worker. A claim whose worker died (its heartbeat expired) is settled `failed` with reason
`interrupted`, never sent again: that one message may or may not have reached the platform.

Keys (prefix `civic:bc:v1:dlv:`): `<id>:started` (the audience counts, JSON), `<id>:todo:<channel>`
(list of conversation ids), `<id>:state` (hash id -> claimed/sent/failed/skipped),
`<id>:inflight` (hash id -> worker), `<id>:counts` (hash `<channel>:<outcome>` -> n),
`<id>:reasons` (hash `<outcome>:<reason>` -> n), `<id>:cancelled`; `ready:<channel>` (set of
broadcast ids with queued recipients there), `active` (set of unfinished broadcast ids),
`direct:<channel>` (one-off pushes, JSON). Conversation ids carry no personal data; the per-recipient
keys expire a week after the broadcast is done.
"""

from __future__ import annotations

import json
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import WatchError

from bot.broadcasts.model import Broadcast
from bot.subscriptions.catalog import load_catalog
from bot.subscriptions.store import PUSH_CHANNELS, SubscriberStore, channel_of, report_name

DLV = "civic:bc:v1:dlv:"
OUTCOMES = ("sent", "failed", "skipped")
REPORT_KEYS = ("queued", "sent", "delivered", "failed", "skipped")
KEEP_SECONDS = 7 * 24 * 3600  # per-recipient state after a broadcast is done


def key(broadcast_id: str, kind: str) -> str:
    return f"{DLV}{broadcast_id}:{kind}"


def todo_key(broadcast_id: str, channel: str) -> str:
    return key(broadcast_id, f"todo:{channel}")


def ready_key(channel: str) -> str:
    return f"{DLV}ready:{channel}"


def direct_key(channel: str) -> str:
    return f"{DLV}direct:{channel}"


ACTIVE_KEY = f"{DLV}active"


def as_str(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


async def start_delivery(redis: aioredis.Redis, broadcast: Broadcast) -> dict[str, int]:
    """Queue the broadcast's audience for the broadcaster, once; the audience by report name + total."""
    started = key(broadcast.id, "started")
    existing = await redis.get(started)
    if existing:
        return dict(json.loads(existing))
    catalog = load_catalog()
    store = SubscriberStore(redis)
    everyone = await store.audience(broadcast.topic, broadcast.areas, catalog.area_ids)
    wanted = [c for c in PUSH_CHANNELS if c in broadcast.channels]
    by_channel: dict[str, list[str]] = {channel: [] for channel in wanted}
    for cid in sorted(everyone):
        if channel_of(cid) in by_channel:
            by_channel[channel_of(cid)].append(cid)
    counts = {report_name(c): len(by_channel.get(c, [])) for c in PUSH_CHANNELS}
    counts["total"] = sum(counts.values())
    async with redis.pipeline(transaction=True) as pipe:
        try:
            await pipe.watch(started)
            if await pipe.exists(started):
                raw = await pipe.get(started)
                return dict(json.loads(raw))
            pipe.multi()
            pipe.set(started, json.dumps(counts))
            for channel, cids in by_channel.items():
                pipe.hset(key(broadcast.id, "counts"), f"{channel}:total", len(cids))
                for start in range(0, len(cids), 1000):
                    pipe.rpush(todo_key(broadcast.id, channel), *cids[start : start + 1000])
                if cids:
                    pipe.sadd(ready_key(channel), broadcast.id)
            pipe.sadd(ACTIVE_KEY, broadcast.id)
            await pipe.execute()
        except WatchError:
            raw = await redis.get(started)
            return dict(json.loads(raw)) if raw else counts
    return counts


# KEYS: cancelled flag, counts, reasons, then the todo list of each channel; ARGV: the channels.
# Marks the broadcast cancelled and settles what is still queued as skipped (reason "cancelled").
CANCEL = """
redis.call('SET', KEYS[1], '1')
for i = 1, #ARGV do
  local left = redis.call('LLEN', KEYS[3 + i])
  if left > 0 then
    redis.call('DEL', KEYS[3 + i])
    redis.call('HINCRBY', KEYS[2], ARGV[i] .. ':skipped', left)
    redis.call('HINCRBY', KEYS[3], 'skipped:cancelled', left)
  end
end
return 1
"""


async def cancel_delivery(redis: aioredis.Redis, broadcast_id: str) -> None:
    """Nothing still queued is sent after this returns (a send already under way finishes)."""
    channels = list(PUSH_CHANNELS)
    keys = [key(broadcast_id, "cancelled"), key(broadcast_id, "counts"), key(broadcast_id, "reasons")]
    keys += [todo_key(broadcast_id, c) for c in channels]
    await redis.eval(CANCEL, len(keys), *keys, *channels)
    for channel in channels:
        await redis.srem(ready_key(channel), broadcast_id)


async def delivery_report(redis: aioredis.Redis, broadcast_id: str) -> dict[str, Any]:
    """Counts by outcome, overall and per channel (report names), and whether every recipient is settled.

    `delivered` is the part of `sent` the platform confirmed (Twilio, WhatsApp receipts); `queued`
    is what is neither sent, failed nor skipped yet."""
    raw = await redis.hgetall(key(broadcast_id, "counts"))
    values = {as_str(k): int(as_str(v)) for k, v in raw.items()}
    by_channel: dict[str, dict[str, int]] = {}
    for channel in PUSH_CHANNELS:
        row = {name: values.get(f"{channel}:{name}", 0) for name in REPORT_KEYS if name != "queued"}
        settled = row["sent"] + row["failed"] + row["skipped"]
        row["queued"] = max(0, values.get(f"{channel}:total", 0) - settled)
        by_channel[report_name(channel)] = {name: row[name] for name in REPORT_KEYS}
    counts = {name: sum(row[name] for row in by_channel.values()) for name in REPORT_KEYS}
    started = bool(await redis.exists(key(broadcast_id, "started")))
    return {"counts": counts, "by_channel": by_channel, "done": started and counts["queued"] == 0}


async def delivery_reasons(redis: aioredis.Redis, broadcast_id: str) -> dict[str, int]:
    """Why recipients were skipped or failed (`skipped:stopped`, `failed:blocked`, ...)."""
    raw = await redis.hgetall(key(broadcast_id, "reasons"))
    return {as_str(k): int(as_str(v)) for k, v in raw.items()}


async def send_direct(redis: aioredis.Redis, conversation_id: str, text: str, kind: str) -> None:
    """Queue a one-off push (an SMS opt-in code, ...) for the broadcaster: same send code and rate
    limits as broadcasts, counted in none. `kind` names it in logs and metrics."""
    item = json.dumps({"cid": conversation_id, "text": text, "kind": kind}, ensure_ascii=False)
    await redis.rpush(direct_key(channel_of(conversation_id)), item)


# --- what the broadcaster's workers do with the queue --------------------------------------------

# KEYS: todo list, state, inflight, cancelled flag; ARGV: the worker. The next recipient, claimed for
# this worker (nil: nothing left, or cancelled). A recipient already in `state` is never taken twice.
TAKE = """
if redis.call('EXISTS', KEYS[4]) == 1 then return false end
while true do
  local cid = redis.call('LPOP', KEYS[1])
  if not cid then return false end
  if redis.call('HSETNX', KEYS[2], cid, 'claimed') == 1 then
    redis.call('HSET', KEYS[3], cid, ARGV[1])
    return cid
  end
end
"""

# KEYS: state, inflight, counts, reasons; ARGV: recipient, channel, outcome, reason. Settles a claimed
# recipient once (0 when it was settled already, e.g. by the reaper).
SETTLE = """
if redis.call('HGET', KEYS[1], ARGV[1]) ~= 'claimed' then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('HINCRBY', KEYS[3], ARGV[2] .. ':' .. ARGV[3], 1)
if ARGV[4] ~= '' then redis.call('HINCRBY', KEYS[4], ARGV[3] .. ':' .. ARGV[4], 1) end
return 1
"""

# KEYS: state, inflight, todo, ready, cancelled, counts, reasons; ARGV: recipient, broadcast, channel.
# A claimed recipient whose send was refused for now (429 or 5xx after the retries, no connection)
# goes back to the end of the queue: nothing reached the platform. Cancelled meanwhile: skipped.
RELEASE = """
if redis.call('HGET', KEYS[1], ARGV[1]) ~= 'claimed' then return 0 end
redis.call('HDEL', KEYS[2], ARGV[1])
if redis.call('EXISTS', KEYS[5]) == 1 then
  redis.call('HSET', KEYS[1], ARGV[1], 'skipped')
  redis.call('HINCRBY', KEYS[6], ARGV[3] .. ':skipped', 1)
  redis.call('HINCRBY', KEYS[7], 'skipped:cancelled', 1)
  return 1
end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('RPUSH', KEYS[3], ARGV[1])
redis.call('SADD', KEYS[4], ARGV[2])
return 1
"""

MESSAGE_TTL = 7 * 24 * 3600  # how long a platform message id maps to its broadcast (receipts)

# KEYS: the message's map (hash b, ch, cid), counts. Counts `delivered` once per platform message.
DELIVERED = """
local b = redis.call('HGET', KEYS[1], 'b')
if not b then return 0 end
if redis.call('HSETNX', KEYS[1], 'delivered', '1') == 0 then return 0 end
redis.call('HINCRBY', KEYS[2] .. b .. ':counts', redis.call('HGET', KEYS[1], 'ch') .. ':delivered', 1)
return 1
"""


async def take(redis: aioredis.Redis, broadcast_id: str, channel: str, worker: str) -> str | None:
    keys = [todo_key(broadcast_id, channel), key(broadcast_id, "state"), key(broadcast_id, "inflight")]
    raw = await redis.eval(TAKE, 4, *keys, key(broadcast_id, "cancelled"), worker)
    return as_str(raw) if raw else None


async def settle(
    redis: aioredis.Redis, broadcast_id: str, channel: str, cid: str, outcome: str, reason: str = ""
) -> bool:
    """Record a recipient's outcome (sent, failed, skipped) once; False when it was already settled."""
    keys = [key(broadcast_id, k) for k in ("state", "inflight", "counts", "reasons")]
    return bool(await redis.eval(SETTLE, 4, *keys, cid, channel, outcome, reason))


async def release(redis: aioredis.Redis, broadcast_id: str, channel: str, cid: str) -> None:
    """Put a claimed recipient back in the queue (nothing was sent)."""
    keys = [
        key(broadcast_id, "state"),
        key(broadcast_id, "inflight"),
        todo_key(broadcast_id, channel),
        ready_key(channel),
        key(broadcast_id, "cancelled"),
        key(broadcast_id, "counts"),
        key(broadcast_id, "reasons"),
    ]
    await redis.eval(RELEASE, len(keys), *keys, cid, broadcast_id, channel)


def message_key(channel: str, message_id: str) -> str:
    return f"{DLV}msg:{channel}:{message_id}"


async def remember_message(
    redis: aioredis.Redis, channel: str, message_id: str, broadcast_id: str, cid: str
) -> None:
    """Map a platform message id to its broadcast, for the delivery receipts."""
    async with redis.pipeline(transaction=True) as pipe:
        pipe.hset(message_key(channel, message_id), mapping={"b": broadcast_id, "ch": channel, "cid": cid})
        pipe.expire(message_key(channel, message_id), MESSAGE_TTL)
        await pipe.execute()


async def record_delivered(redis: aioredis.Redis, channel: str, message_id: str) -> bool:
    """A receipt said "delivered" (or read): counted once per message; False for a message of no
    broadcast (a chat reply) or a receipt already counted."""
    return bool(await redis.eval(DELIVERED, 2, message_key(channel, message_id), DLV))


async def message_recipient(redis: aioredis.Redis, channel: str, message_id: str) -> str | None:
    """The conversation a broadcast message went to (to deactivate it on a permanent failure)."""
    raw = await redis.hget(message_key(channel, message_id), "cid")
    return as_str(raw) if raw else None


# --- receipts (on Rasa's webhooks: bot/channels/twilio.py, whatsapp.py) ----------------------------

DELIVERED_STATES = frozenset({"delivered", "read"})  # "read" implies delivered (WhatsApp)
FAILED_STATES = frozenset({"undelivered", "failed"})
# Twilio's error codes that mean this number will never take our messages: unsubscribed at the
# carrier (STOP to Twilio), not a mobile number, unknown destination, a landline.
TWILIO_PERMANENT = frozenset({"21610", "21614", "30005", "30006"})
# WhatsApp: the number is not on WhatsApp (or cannot get messages from businesses).
WHATSAPP_PERMANENT = frozenset({"131026"})


async def twilio_status(redis: aioredis.Redis, message_sid: str, status: str, error_code: str) -> None:
    """A Twilio status callback: `delivered` counted once; a permanent failure deactivates the
    subscriber (what the broadcaster would have done had Twilio refused at once)."""
    await _receipt(redis, "twilio", message_sid, status, error_code, TWILIO_PERMANENT)


async def whatsapp_status(redis: aioredis.Redis, message_id: str, status: str, error_code: str) -> None:
    """One of WhatsApp's `statuses`: as for Twilio."""
    await _receipt(redis, "whatsapp", message_id, status, error_code, WHATSAPP_PERMANENT)


async def _receipt(
    redis: aioredis.Redis, channel: str, message_id: str, status: str, code: str, permanent: frozenset[str]
) -> None:
    if not message_id:
        return
    if status in DELIVERED_STATES:
        await record_delivered(redis, channel, message_id)
    elif status in FAILED_STATES and code in permanent:
        cid = await message_recipient(redis, channel, message_id)
        if cid is not None:
            await SubscriberStore(redis).deactivate(cid, f"{channel}: error {code}")
