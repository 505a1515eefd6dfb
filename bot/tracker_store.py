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
- events are deserialised through a table of event classes built once.

It also repairs one state Rasa never leaves by itself: a turn cut short by Rasa's circuit breaker
logs no `action_listen`, and Rasa counts actions back to the last one, so every later message would
trip the breaker again and the conversation would stay mute (bot/dialogue/turn_guard.py keeps new
turns from getting there). `retrieve` ends such a turn with `action_listen`.

Configured in endpoints.yml as `tracker_store: type: bot.tracker_store.CivicRedisTrackerStore`.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from typing import Any

from rasa.core.processor import MAX_NUMBER_OF_PREDICTIONS
from rasa.core.tracker_store import RedisTrackerStore
from rasa.shared.core.constants import ACTION_LISTEN_NAME, ACTION_SESSION_START_NAME
from rasa.shared.core.conversation import Dialogue
from rasa.shared.core.events import ActionExecuted, Event
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.utils.common import all_subclasses

from bot.dialogue.turn_guard import actions_this_turn

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


class CivicRedisTrackerStore(RedisTrackerStore):
    """`RedisTrackerStore` that deserialises less (same storage format and results)."""

    def deserialise_tracker(self, sender_id: str, serialised_tracker: str | bytes) -> DialogueStateTracker:
        parameters = json.loads(serialised_tracker)
        tracker = self.init_tracker(sender_id)
        dialogue = Dialogue(parameters.get("name"), deserialise_events(parameters.get("events", [])))
        tracker.recreate_from_dialogue(dialogue)
        return tracker

    async def _retrieve(self, sender_id: str, fetch_all_sessions: bool) -> DialogueStateTracker | None:
        stored = self.red.get(self.key_prefix + sender_id)
        if stored is None:
            return None
        tracker = self.deserialise_tracker(sender_id, stored)
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
        stored = self.red.get(key)
        serialised = tracker.as_dialogue().as_dict()
        stored_events = json.loads(stored).get("events", []) if stored is not None else []
        if self.event_broker is not None:
            # what Rasa publishes: the events beyond those of the latest stored session
            known = len(stored_events) - last_session_start(stored_events)
            new_events = list(itertools.islice(tracker.events, known, None))
            await self._stream_new_events(self.event_broker, new_events, tracker.sender_id)
        if serialised["events"][: len(stored_events)] != stored_events:
            # the new tracker holds the latest session only: keep the earlier ones
            prior = self.deserialise_tracker(tracker.sender_id, stored)
            serialised = self._merge(prior, tracker).as_dialogue().as_dict()
        self.red.set(key, json.dumps(serialised), ex=timeout or self.record_exp)

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
