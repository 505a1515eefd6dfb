"""Background tasks of the console: relay Rasa's events into the queue, push changes, apply the rules.

- `consume_events`: reads `civic:events` in the consumer group `handoff` and records the citizen's and
  the bot's messages of queued conversations (exactly once: each is keyed by its stream id or message
  id). Entries are acknowledged after recording and never deleted (the review inbox reads the stream
  too). Each process reads under its own consumer name; what a stopped one left unacknowledged is
  claimed and re-read (`bot/events/consumers.py`), so nothing is skipped and nothing is shared.
  A change of the conversation's `language` slot (the citizen switched language) moves the queued
  conversation's language too, so its badge and the console's notices follow the citizen.
- `tail_changes`: pushes the queue's change stream to the websockets.
- `sweep`: returns idle claimed chats to the bot and tells waiting citizens when the wait grows.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from bot.background import Background
from bot.clients.rasa import RasaUnavailable
from bot.events import STREAM, ensure_group
from bot.events.consumers import CLAIM_EVERY_SECONDS, CLAIM_IDLE_MS, claim_abandoned, consumer_name
from bot.handoff.hub import EventHub
from bot.handoff.service import HANDOFF_METADATA
from bot.handoff.store import QueueStore, _t
from bot.handoff.texts import spoken
from bot.language.conversation import LANGUAGE_SLOT

log = logging.getLogger(__name__)
GROUP = "handoff"
CONSUMER = consumer_name("console")
BATCH = 200


async def relay_event(store: QueueStore, stream_id: str, event: dict[str, Any]) -> bool:
    """Record one Rasa event if it is a message (or a new language) of a queued conversation; True
    if recorded."""
    kind = event.get("event")
    conversation_id = str(event.get("sender_id") or "")
    timestamp = float(event.get("timestamp") or time.time())
    if kind == "slot" and event.get("name") == LANGUAGE_SLOT and conversation_id:
        language = event.get("value")
        if not isinstance(language, str) or not language:
            return False  # cleared: the conversation keeps the language it had
        return await store.set_language(conversation_id, spoken(language), timestamp)
    if kind not in ("user", "bot") or not conversation_id:
        return False
    text = str(event.get("text") or "")
    if kind == "user":
        if (event.get("metadata") or {}).get("is_external"):
            return False  # an intent the console triggered (EXTERNAL_handoff_closed), not the citizen
        return await store.record(
            conversation_id, "citizen", text, timestamp, dedupe=stream_id, after_seed=True
        )
    meta = (event.get("metadata") or {}).get(HANDOFF_METADATA) or {}
    if meta.get("role") == "agent":
        return await store.record(
            conversation_id, "agent", text, timestamp, dedupe=str(meta.get("id")), touch=True,
            agent=str(meta.get("agent") or ""),
        )  # fmt: skip
    dedupe = str(meta.get("id") or stream_id)
    return await store.record(
        conversation_id, "bot", text, timestamp, dedupe=dedupe, after_seed=True, touch=False
    )


async def _read(redis: Redis, start: str, block: int | None) -> list[tuple[str, dict[str, str]]]:
    reply = await redis.xreadgroup(GROUP, CONSUMER, {STREAM: start}, count=BATCH, block=block)
    if not reply:
        return []
    return [(_t(entry_id), {_t(k): _t(v) for k, v in fields.items()}) for entry_id, fields in reply[0][1]]


async def consume_events(
    redis: Redis,
    store: QueueStore,
    background: Background,
    block_ms: int = 1000,
    claim_idle_ms: int = CLAIM_IDLE_MS,
) -> None:
    """Until stopped: pending entries first (after a restart), then new ones; survives Redis outages."""
    start, next_claim = "0", 0.0
    while not background.stopping.is_set():
        try:
            if start == "0":  # at start-up and after any Redis error (a lost group is made again)
                await ensure_group(redis, GROUP)
            if time.monotonic() >= next_claim:
                next_claim = time.monotonic() + CLAIM_EVERY_SECONDS
                if await claim_abandoned(redis, STREAM, GROUP, CONSUMER, claim_idle_ms):
                    start = "0"
            entries = await _read(redis, start, None if start == "0" else block_ms)
            if start == "0" and not entries:
                start = ">"
                continue
            for entry_id, fields in entries:
                try:
                    event = json.loads(fields.get("event", "{}"))
                except ValueError:
                    event = {}
                await relay_event(store, entry_id, event)
                await redis.xack(STREAM, GROUP, entry_id)
        except (RedisError, OSError) as exc:
            log.warning("relay: Redis unavailable (%s); retrying", type(exc).__name__)
            start = "0"
            await background.pause(1.0)


async def tail_changes(
    redis: Redis, store: QueueStore, hub: EventHub, background: Background, block_ms: int = 1000
) -> None:
    last = "$"
    while not background.stopping.is_set():
        try:
            reply = await redis.xread({store.changes_key: last}, block=block_ms, count=BATCH)
            for _stream, entries in reply or []:
                for entry_id, fields in entries:
                    last = _t(entry_id)
                    body = {_t(k): _t(v) for k, v in fields.items()}.get("event", "{}")
                    hub.publish(json.loads(body))
        except (RedisError, OSError) as exc:
            log.warning("changes: Redis unavailable (%s); retrying", type(exc).__name__)
            await background.pause(1.0)


async def sweep_forever(service: Any, every: float, background: Background) -> None:
    while not await background.pause(every):
        try:
            await service.sweep()
        except (RedisError, OSError, RasaUnavailable) as exc:
            log.warning("sweep: %s", exc if isinstance(exc, RasaUnavailable) else type(exc).__name__)
