"""Rasa's Redis tracker store, rebuilding the stored conversation only when sessions need merging.

Rasa 3.6's `RedisTrackerStore.save` rebuilds the stored conversation twice when an event broker
is configured (once to find the new events to publish, once to merge sessions), replays the whole
conversation again to merge it, and every deserialised event looks its class up by walking all
subclasses of `Event`. Those costs grow with the conversation and run in Rasa's event loop on
every message. This store keeps Rasa's format, keys and results; it only does less work:

- `save` compares the stored events as JSON with the new tracker's: when the new tracker extends
  them (one session, the usual case) it is written as it is, with no tracker rebuilt; otherwise
  the stored conversation is rebuilt once and merged as Rasa does;
- `retrieve` builds a tracker for the latest session only, not one for every session;
- `save` reuses the document `retrieve` parsed when the stored JSON is still the same string
  (the usual turn: read, answer, write), instead of parsing it again;
- events are deserialised through a table of event classes built once.

It fails closed, where Rasa's fails open: Rasa's `Agent` wraps every tracker store in a
`FailSafeTrackerStore`, which answers a Redis error while reading with no conversation at all, so
Rasa starts a fresh one (form progress, the address and a handoff pause silently gone). This store
is kept unwrapped (`install_fail_closed`), and a Redis error or timeout on a read or a write raises
`StoreUnavailable`: the turn fails, the channels ask the citizen to send the message again, and
the stored conversation is untouched for when Redis is back. A stored conversation that cannot be
parsed is logged and renamed to a quarantine key (`civic:quarantine:tracker:<id>:<time>`), never
silently overwritten. Redis is reached with the asynchronous client (with a timeout), never the
blocking one Rasa's store uses on its event loop. `save` publishes the turn's events only after
the conversation is written, so a failed write publishes nothing the citizen must then resend.

It also repairs one state Rasa never leaves by itself: a turn cut short by Rasa's circuit breaker
logs no `action_listen`, and Rasa counts actions back to the last one, so every later message would
trip the breaker again and the conversation would stay mute (bot/dialogue/turn_guard.py keeps new
turns from getting there). `retrieve` ends such a turn with `action_listen`.

Configured in endpoints.yml as `tracker_store: type: bot.tracker_store.CivicRedisTrackerStore`.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Iterable, Sequence
from typing import Any, TypeVar

import redis.asyncio as aioredis
from rasa.core.processor import MAX_NUMBER_OF_PREDICTIONS
from rasa.core.tracker_store import RedisTrackerStore, TrackerStore
from rasa.shared.core.constants import ACTION_LISTEN_NAME, ACTION_SESSION_START_NAME
from rasa.shared.core.conversation import Dialogue
from rasa.shared.core.events import ActionExecuted, Event, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.utils.common import all_subclasses
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.commands.core import AsyncScript
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from bot.dialogue.turn_guard import actions_this_turn
from bot.events.broker import APPEND_LOOP, RedisStreamBroker, encode
from bot.processed_mark import PROCESSED_MARK

log = logging.getLogger(__name__)
T = TypeVar("T")
DEFAULT_SOCKET_TIMEOUT = 5.0
READS_KEPT = 256  # parsed conversations kept from a turn's read for its save (each turn's own)
_EVENT_CLASSES: dict[str, type[Event]] = {}


def event_class(type_name: str) -> type[Event] | None:
    """The event class for a serialised event's type name (the table is rebuilt on a miss)."""
    if type_name not in _EVENT_CLASSES:
        _EVENT_CLASSES.update({cls.type_name: cls for cls in reversed(all_subclasses(Event))})
    return _EVENT_CLASSES.get(type_name)


def deserialise_events(serialised: Sequence[dict[str, Any]]) -> list[Event]:
    """Events from their dicts, as `rasa.shared.core.events.deserialise_events` makes them."""
    events = []
    for parameters in serialised:
        name = parameters.get("event")
        if name is None:
            continue
        cls = event_class(name)
        # anything unusual (unknown or legacy types) goes through Rasa's own path
        event = cls._from_parameters(parameters) if cls else Event.from_parameters(parameters)
        if event:
            events.append(event)
    return events


def _starts_session(event: Event | dict[str, Any]) -> bool:
    if isinstance(event, dict):  # as stored
        return (
            event.get("event") == ActionExecuted.type_name and event.get("name") == ACTION_SESSION_START_NAME
        )
    return isinstance(event, ActionExecuted) and event.action_name == ACTION_SESSION_START_NAME


def last_session_start(events: Sequence[Event | dict[str, Any]]) -> int:
    """Index where the latest conversation session begins (0 when there is only one)."""
    for index in range(len(events) - 1, 0, -1):
        if _starts_session(events[index]):
            return index
    return 0


def end_tripped_turn(tracker: DialogueStateTracker) -> bool:
    """Log the `action_listen` a turn stopped by the circuit breaker never got; True if it was missing."""
    if len(actions_this_turn(tracker)) < MAX_NUMBER_OF_PREDICTIONS:
        return False
    tracker.update(ActionExecuted(ACTION_LISTEN_NAME))
    return True


def _starts_with(events: Sequence[Event], prefix: Sequence[Event]) -> bool:
    return len(events) >= len(prefix) and list(itertools.islice(events, len(prefix))) == list(prefix)


class StoreUnavailable(Exception):
    """Redis could not be read or written for this turn: the turn fails, nothing is replaced.

    Channels catch it and ask the citizen to send the message again in a minute (not a subclass of
    RasaException or of a Redis error, so nothing on the way mistakes it for something it handles).
    """


class FailClosed:
    """Marks a tracker store whose errors must reach the turn (Rasa's Agent keeps it unwrapped)."""


def install_fail_closed() -> None:
    """Keep `FailClosed` stores out of Rasa's `FailSafeTrackerStore` (idempotent).

    Rasa 3.6's `Agent.__init__` always wraps the store (`Agent._create_tracker_store`), and the
    wrapper turns any read error into "no conversation". The store is built before the Agent
    (`rasa.core.agent.load_agent`), so installing this from the store's constructor is in time.
    """
    from rasa.core.agent import Agent

    wrap = Agent.__dict__["_create_tracker_store"].__func__
    if getattr(wrap, "fail_closed", False):
        return

    def create_tracker_store(store: Any, domain: Any) -> Any:
        if isinstance(store, FailClosed) and isinstance(store, TrackerStore):
            store.domain = domain
            return store
        return wrap(store, domain)

    create_tracker_store.fail_closed = True  # type: ignore[attr-defined]
    Agent._create_tracker_store = staticmethod(create_tracker_store)


def reconnecting() -> dict[str, Any]:
    """Client options: a call on a connection Redis closed (it restarted) is sent again on a new one.

    Only connection errors: after a timeout the call may have run, so it is not repeated blindly.
    """
    retry = Retry(ExponentialBackoff(cap=0.5, base=0.05), 2)
    return {"retry": retry, "retry_on_error": [RedisConnectionError]}


async def guarded(call: Awaitable[T]) -> T:
    """The result of a Redis call; `StoreUnavailable` for any Redis error or timeout."""
    try:
        return await call
    except (RedisError, OSError, asyncio.TimeoutError) as exc:
        raise StoreUnavailable(f"Redis unavailable ({type(exc).__name__})") from exc


# KEYS[1]: the conversation, KEYS[2]: the event stream, KEYS[3]: the intake delivery's
# de-duplication mark (when ARGV[6] is "1"), KEYS[i > 3]: each event's mark. ARGV[1]: the
# conversation's JSON, ARGV[2]: its expiry (s, 0: none), ARGV[3]: the deadline (ms, Redis's clock),
# ARGV[4]: the marks' lifetime (s), ARGV[5]: the stream's approximate maxlen, ARGV[i + 3]: the
# event for KEYS[i]. Returns -1 past the deadline (nothing written), else the number of events
# appended (an event already appended by an earlier try is not added again).
SAVE_TURN = """
local now = redis.call('TIME')
if tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000) > tonumber(ARGV[3]) then
  return -1
end
if tonumber(ARGV[2]) > 0 then
  redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
else
  redis.call('SET', KEYS[1], ARGV[1])
end
if ARGV[6] == '1' then
  redis.call('SET', KEYS[3], 'processed', 'XX', 'KEEPTTL')
end
""" + APPEND_LOOP.format(first=4, stream=2, lifetime=4, maxlen=5, shift=3)


class CivicRedisTrackerStore(FailClosed, RedisTrackerStore):
    """`RedisTrackerStore` that fails closed, is asynchronous and deserialises less."""

    def __init__(
        self,
        domain: Any = None,
        host: str = "localhost",
        port: int | str = 6379,
        db: int | str = 0,
        password: str | None = None,
        socket_timeout: float | str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(domain, host=host or "localhost", port=int(port or 6379), db=int(db or 0), **kwargs)
        self.red.close()  # Rasa's blocking client: never used (it has not connected)
        timeout = float(socket_timeout or DEFAULT_SOCKET_TIMEOUT)
        self.client: aioredis.Redis = aioredis.Redis(
            host=host or "localhost",
            port=int(port or 6379),
            db=int(db or 0),
            username=kwargs.get("username") or None,
            password=password or None,
            ssl=bool(kwargs.get("use_ssl")),
            decode_responses=True,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            **reconnecting(),
        )
        # A save must reach Redis this long before the client gives up on it (the margin covers
        # the reply's way back): see `_save_turn`.
        self.save_window = max(0.5, timeout - 1.0)
        self._save_script: AsyncScript | None = None
        # sender id -> the stored JSON a turn read and its parsed document, until that turn's save
        self._reads: OrderedDict[str, tuple[str, dict[str, Any]]] = OrderedDict()
        install_fail_closed()

    @property
    def quarantine_prefix(self) -> str:
        """Where unparseable conversations are set aside: `civic:quarantine:tracker:`."""
        return self.key_prefix.removesuffix("tracker:") + "quarantine:tracker:"

    async def quarantine(self, sender_id: str, reason: Exception) -> str:
        """Rename the stored conversation aside (keeping its expiry) and log it; returns the new key."""
        aside = f"{self.quarantine_prefix}{sender_id}:{int(time.time() * 1000)}"
        await guarded(self.client.rename(self.key_prefix + sender_id, aside))
        log.error(
            "tracker store: a stored conversation could not be read (%s); set aside as %s",
            type(reason).__name__,
            aside,
        )
        return aside

    async def _stored(self, sender_id: str) -> tuple[str, dict[str, Any]] | None:
        """The stored conversation (its JSON and the parsed document); None when there is none."""
        return await self._parsed(sender_id, await guarded(self.client.get(self.key_prefix + sender_id)))

    async def _parsed(self, sender_id: str, stored: str | None) -> tuple[str, dict[str, Any]] | None:
        """`stored` (the conversation's JSON as read, None for none) with its parsed document.

        One that is not a conversation document is quarantined, and None returned.
        """
        if stored is None:
            return None
        try:
            document = json.loads(stored)
            if not isinstance(document, dict) or not isinstance(document.get("events", []), list):
                raise ValueError("not a conversation document")
        except ValueError as exc:
            await self.quarantine(sender_id, exc)
            return None
        return stored, document

    async def keys(self) -> Iterable[str]:
        return [key async for key in self.client.scan_iter(match=self.key_prefix + "*", count=500)]

    def deserialise_tracker(self, sender_id: str, serialised_tracker: str | bytes) -> DialogueStateTracker:
        return self._tracker_from(sender_id, json.loads(serialised_tracker))

    def _tracker_from(self, sender_id: str, parameters: dict[str, Any]) -> DialogueStateTracker:
        tracker = self.init_tracker(sender_id)
        dialogue = Dialogue(parameters.get("name"), deserialise_events(parameters.get("events", [])))
        tracker.recreate_from_dialogue(dialogue)
        return tracker

    def _keep_read(self, sender_id: str, found: tuple[str, dict[str, Any]]) -> None:
        """Keep what a turn read for its save (the oldest dropped past `READS_KEPT`: a turn that
        failed before saving leaves its read behind)."""
        self._reads[sender_id] = found
        self._reads.move_to_end(sender_id)
        while len(self._reads) > READS_KEPT:
            self._reads.popitem(last=False)

    async def _reread(self, sender_id: str, stored: str | None) -> tuple[str, dict[str, Any]] | None:
        """`_parsed(stored)`, from the turn's read when the stored JSON has not changed since."""
        kept = self._reads.pop(sender_id, None)
        if kept is not None and stored is not None and kept[0] == stored:
            return kept
        return await self._parsed(sender_id, stored)

    async def _retrieve(self, sender_id: str, fetch_all_sessions: bool) -> DialogueStateTracker | None:
        found = await self._stored(sender_id)
        if found is None:
            return None
        self._keep_read(sender_id, found)
        try:
            tracker = self._tracker_from(sender_id, found[1])
        except Exception as exc:  # whatever a corrupt event raises
            self._reads.pop(sender_id, None)
            await self.quarantine(sender_id, exc)
            return None
        events = list(tracker.events)
        start = 0 if fetch_all_sessions else last_session_start(events)
        if start:
            # as Rasa's get_trackers_for_conversation_sessions(tracker)[-1], without the other sessions
            tracker = DialogueStateTracker.from_events(
                sender_id,
                events[start:],
                tracker.slots.values(),
                sender_source=tracker.sender_source,
                max_event_history=tracker._max_event_history,
            )
        end_tripped_turn(tracker)
        return tracker

    async def save(self, tracker: DialogueStateTracker, timeout: float | None = None) -> None:
        key = self.key_prefix + tracker.sender_id
        async with self.client.pipeline(transaction=False) as pipe:  # one round trip for both
            pipe.time().get(key)  # Redis's clock (the save's deadline is in it), the stored conversation
            clock, stored = await guarded(pipe.execute())
        started = time.monotonic()
        found = await self._reread(tracker.sender_id, stored)
        serialised = tracker.as_dialogue().as_dict()
        stored_events = found[1].get("events", []) if found else []
        # what Rasa publishes: the events beyond those of the latest stored session
        known = len(stored_events) - last_session_start(stored_events)
        new_events = list(itertools.islice(tracker.events, known, None))
        if found is not None and serialised["events"][: len(stored_events)] != stored_events:
            # the new tracker holds the latest session only: keep the earlier ones
            prior = self._tracker_from(tracker.sender_id, found[1])
            serialised = self._merge(prior, tracker).as_dialogue().as_dict()
        expiry = int(float(timeout or self.record_exp or 0))
        broker = self.event_broker
        if isinstance(broker, RedisStreamBroker) and broker.shares_redis_with(self.client):
            redis_ms = int(clock[0]) * 1000 + int(clock[1]) // 1000
            deadline_ms = redis_ms + int((time.monotonic() - started + self.save_window) * 1000)
            bodies = [encode({"sender_id": tracker.sender_id, **e.as_dict()}) for e in new_events]
            # the save that stores the citizen's message is the one that completes the delivery
            carries_message = any(isinstance(e, UserUttered) for e in new_events)
            delivery = PROCESSED_MARK.get() if carries_message else None
            processed = delivery.key if delivery else ""
            await self._save_turn(
                key, json.dumps(serialised), expiry, deadline_ms, broker, bodies, processed=processed
            )
            if delivery and processed:
                delivery.marked = True
            await broker.appended_elsewhere()
            return
        await guarded(self.client.set(key, json.dumps(serialised), ex=expiry or None))
        if broker is not None:  # once the turn is stored: a failed write publishes nothing
            await self._stream_new_events(broker, new_events, tracker.sender_id)

    async def _save_turn(
        self,
        key: str,
        document: str,
        expiry: int,
        deadline_ms: int,
        broker: RedisStreamBroker,
        bodies: list[str],
        processed: str = "",
    ) -> None:
        """Store the conversation and append the turn's events to the stream, in one script.

        Atomic, so a process killed after the save cannot leave the stream without the turn's events;
        and bounded by `deadline_ms` (Redis's clock): a save that reaches Redis after this process
        stopped waiting for it (Redis was paused, the network stalled) is refused by Redis instead
        of landing after the citizen was told to send the message again, which would store it twice.
        """
        if self._save_script is None:
            self._save_script = self.client.register_script(SAVE_TURN)
        marks = [broker.mark(body) for body in bodies]
        args: list[str | int] = [
            document,
            expiry,
            deadline_ms,
            int(broker.dedup_seconds),
            broker.maxlen,
            "1" if processed else "0",
            *bodies,
        ]
        keys = [key, broker.stream, processed or key, *marks]
        saved = await guarded(self._save_script(keys=keys, args=args))
        if int(saved) < 0:
            raise StoreUnavailable("the save reached Redis after its deadline; not stored")

    def _merge(self, prior: DialogueStateTracker, tracker: DialogueStateTracker) -> DialogueStateTracker:
        """Rasa's `_merge_trackers`, without replaying the conversation when sessions line up."""
        stored = list(prior.events)
        start = last_session_start(stored)
        if start and _starts_with(tracker.events, stored[start:]):
            # the stored earlier sessions, then the latest one as the new tracker has it
            merged = tracker.init_copy()
            new = itertools.islice(tracker.events, len(stored) - start, None)
            merged.update_with_events([*stored, *new], override_timestamp=False, domain=None)
            return merged
        return self._merge_trackers(prior, tracker)

    async def close(self) -> None:
        await self.client.close(close_connection_pool=True)
