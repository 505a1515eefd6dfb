"""Handing a conversation to a person, and what happens around it (tickets, ratings, session traps).

Thin: decisions are in `bot.handoff.reasons`, the queue is `bot.handoff.store`, hours are
`bot.handoff.hours`. Logs never carry the conversation id (on SMS it is a phone number), only
`conversation_ref`.

`action_session_start` and `action_restart` override Rasa's defaults: while a person has the
conversation, a new session (Rasa's expiry) keeps it paused and `/restart` does nothing, so a
waiting citizen is never silently handed back to the bot.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import (
    ActionExecuted,
    ConversationPaused,
    FollowupAction,
    Restarted,
    SessionStarted,
    SlotSet,
)
from rasa_sdk.executor import CollectingDispatcher
from redis.exceptions import RedisError

from actions import resources as shared
from actions.common import EventList, conversation_ref, latest_intent, latest_text
from bot.handoff import reasons
from bot.handoff.config import DATA_DIR
from bot.handoff.hours import load_hours
from bot.handoff.store import QueueStore, iso
from bot.handoff.texts import text

log = logging.getLogger(__name__)
REASON_TTL = 3600
NOT_SAID = "(none)"
SKIPPED = "skipped"
# A rating is a short answer ("4", "4 stars", "I'd say 4"); a longer message with a digit in it is
# a question ("is city hall open on the 4th?").
RATING_WORDS = 4
# Channels that can only answer the request that carried the citizen's message: an agent's
# reply could never reach the citizen, so a person is not offered there (docs/handoff.md).
NO_LATER_MESSAGES = frozenset({"rest"})


async def _store() -> QueueStore:
    return QueueStore((await shared.current()).redis)


def _channel(tracker: Tracker) -> str:
    return str(tracker.get_latest_input_channel() or "unknown")


def _has_response(domain: dict[str, Any], name: str) -> bool:
    return name in (domain.get("responses") or {})


class ActionStartHandoff(Action):
    """Queue the conversation for a person (in staffed hours), else offer to leave a message."""

    def name(self) -> str:
        return "action_start_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> EventList:
        reason = reasons.handoff_reason(
            latest_intent(tracker), tracker.get_slot("clarification"), tracker.events
        )
        if reason is None:
            return []
        if _channel(tracker) in NO_LATER_MESSAGES:
            dispatcher.utter_message(response="utter_handoff_unavailable")
            return []
        try:
            resources = await shared.current()
            store = QueueStore(resources.redis)
            hours = load_hours(resources.handoff.hours_file, always=resources.handoff.always_staffed)
            now = datetime.now(timezone.utc)
            if not hours.is_open(now):
                return await self._after_hours(dispatcher, tracker, store, reason, hours.next_open(now))
            return await self._queue(dispatcher, tracker, store, reason)
        except (RedisError, OSError) as exc:
            log.warning(
                "handoff unavailable (conversation %s): %s", conversation_ref(tracker), type(exc).__name__
            )
            dispatcher.utter_message(response="utter_handoff_unavailable")
            return []

    async def _queue(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, store: QueueStore, reason: str
    ) -> EventList:
        cid = str(tracker.sender_id)
        events, channel = tracker.events, _channel(tracker)
        history = [
            {"sender": m["sender"], "text": m["text"], "timestamp": _iso(m["ts"])}
            for m in reasons.transcript(reasons.current_session(events))
        ]
        created = await store.enqueue(
            cid,
            channel=channel,
            reason=reason,
            summary=reasons.summary(reason, channel, events, tracker.slots),
            history=history,
            seeded_until=reasons.latest_timestamp(events),
        )
        position = await store.position(cid) or 1
        minutes = await store.wait_minutes(position)
        if created:
            await store.set_told_wait(cid, minutes)
            log.info("handoff queued (conversation %s, reason %s)", conversation_ref(tracker), reason)
        response = "utter_handoff_queued" if created else "utter_handoff_already_queued"
        dispatcher.utter_message(response=response, position=position, wait_minutes=minutes)
        # Paused, Rasa stops without listening; the turn must still end with `action_listen`, where
        # every rule (the default `/restart` rule and EXTERNAL_handoff_* included) starts.
        return [ConversationPaused(), ActionExecuted("action_listen")]

    async def _after_hours(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        store: QueueStore,
        reason: str,
        next_open: datetime | None,
    ) -> EventList:
        when = next_open.strftime(text(DATA_DIR, "next_open_format")) if next_open else NOT_SAID
        dispatcher.utter_message(response="utter_handoff_after_hours", next_open=when)
        if reason == "sensitive":
            return []
        await store.redis.set(store.key("pending_reason", str(tracker.sender_id)), reason, ex=REASON_TTL)
        return [FollowupAction("handoff_ticket_form")]


def _iso(timestamp: Any) -> str:
    return iso(float(timestamp or 0))


class ValidateHandoffTicketForm(FormValidationAction):
    """The message and (optionally) a way to reach the citizen, taken from what they type."""

    def name(self) -> str:
        return "validate_handoff_ticket_form"

    async def extract_ticket_message(self, dispatcher: Any, tracker: Tracker, domain: Any) -> dict[str, Any]:
        if tracker.get_slot("requested_slot") != "ticket_message":
            return {}
        return {"ticket_message": latest_text(tracker).strip() or None}

    async def extract_ticket_contact(self, dispatcher: Any, tracker: Tracker, domain: Any) -> dict[str, Any]:
        if tracker.get_slot("requested_slot") != "ticket_contact":
            return {}
        said = latest_text(tracker).strip()
        return {"ticket_contact": "" if reasons.is_skip(said) else said or None}

    def validate_ticket_message(self, value: Any, dispatcher: Any, tracker: Tracker, domain: Any) -> dict:
        return {"ticket_message": value if isinstance(value, str) and value.strip() else None}

    def validate_ticket_contact(self, value: Any, dispatcher: Any, tracker: Tracker, domain: Any) -> dict:
        return {"ticket_contact": value if isinstance(value, str) else None}


class ActionSubmitTicket(Action):
    """Save the after-hours message as a `ticket` in the queue."""

    def name(self) -> str:
        return "action_submit_ticket"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> EventList:
        reset = [SlotSet("ticket_message", None), SlotSet("ticket_contact", None)]
        cid = str(tracker.sender_id)
        try:
            store = await _store()
            reason = await store.redis.get(store.key("pending_reason", cid))
            reason = (reason.decode() if isinstance(reason, bytes) else reason) or "requested"
            channel = _channel(tracker)
            await store.add_ticket(
                cid,
                channel=channel,
                summary=reasons.summary(reason, channel, tracker.events, tracker.slots),
                text=str(tracker.get_slot("ticket_message") or ""),
                contact=str(tracker.get_slot("ticket_contact") or ""),
            )
        except (RedisError, OSError) as exc:
            log.warning(
                "ticket not saved (conversation %s): %s", conversation_ref(tracker), type(exc).__name__
            )
            dispatcher.utter_message(response="utter_handoff_unavailable")
            return reset
        dispatcher.utter_message(response="utter_ticket_saved")
        return reset


class ValidateHandoffRatingForm(FormValidationAction):
    """A 1-5 rating (button or text such as "4", "four", "4 stars") and an optional comment."""

    def name(self) -> str:
        return "validate_handoff_rating_form"

    async def extract_handoff_rating(self, dispatcher: Any, tracker: Tracker, domain: Any) -> dict[str, Any]:
        """A rating; anything else ends the form without one, so a citizen who would rather ask
        something than rate is never held in a loop of "pick a number from 1 to 5"."""
        if tracker.get_slot("requested_slot") != "handoff_rating":
            return {}
        said, intent = latest_text(tracker), latest_intent(tracker)
        if intent == "rate" or (len(said.split()) <= RATING_WORDS and reasons.parse_rating(said) is not None):
            return {"handoff_rating": said}
        return {"handoff_rating": SKIPPED, "handoff_comment": ""}

    async def extract_handoff_comment(self, dispatcher: Any, tracker: Tracker, domain: Any) -> dict[str, Any]:
        if tracker.get_slot("requested_slot") != "handoff_comment":
            return {}
        said = latest_text(tracker).strip()
        return {"handoff_comment": "" if reasons.is_skip(said) else said}

    def validate_handoff_rating(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Any
    ) -> dict:
        entities = (tracker.latest_message or {}).get("entities") or []
        if value == SKIPPED:
            return {"handoff_rating": SKIPPED}
        rating = reasons.parse_rating(str(value or ""), entities)
        if rating is None:
            dispatcher.utter_message(response="utter_rating_invalid")
            return {"handoff_rating": None}
        return {"handoff_rating": str(rating)}

    def validate_handoff_comment(self, value: Any, dispatcher: Any, tracker: Tracker, domain: Any) -> dict:
        return {"handoff_comment": value if isinstance(value, str) else None}


class ActionStoreRating(Action):
    """Add the rating to the agent's and the reason's totals."""

    def name(self) -> str:
        return "action_store_rating"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> EventList:
        reset = [SlotSet("handoff_rating", None), SlotSet("handoff_comment", None)]
        rating = reasons.parse_rating(str(tracker.get_slot("handoff_rating") or ""))
        if rating is not None:
            try:
                store = await _store()
                entry = await store.get(str(tracker.sender_id))
                agent, reason = (entry.agent, entry.reason) if entry else ("", "")
                comment = str(tracker.get_slot("handoff_comment") or "")
                await store.add_rating(str(tracker.sender_id), agent, reason, rating, comment)
            except (RedisError, OSError) as exc:
                log.warning(
                    "rating not saved (conversation %s): %s", conversation_ref(tracker), type(exc).__name__
                )
        dispatcher.utter_message(response="utter_rating_thanks" if rating else "utter_anything_else")
        return reset


class ActionSessionStart(Action):
    """Rasa's session start (carry slots over, listen), but a conversation with a person stays paused."""

    def name(self) -> str:
        return "action_session_start"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> EventList:
        events: EventList = [SessionStarted()]
        if (domain.get("session_config") or {}).get("carry_over_slots_to_new_session", True):
            events += [
                SlotSet(name, value)
                for name, value in tracker.slots.items()
                if value is not None and name != "requested_slot"
            ]
        if tracker.is_paused():
            events.append(ConversationPaused())
        events.append(ActionExecuted("action_listen"))
        return events


class ActionRestart(Action):
    """Rasa's restart, except while a person has the conversation: then nothing happens."""

    def name(self) -> str:
        return "action_restart"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> EventList:
        if tracker.is_paused():
            log.info("restart ignored: conversation %s is with a person", conversation_ref(tracker))
            # Rasa keeps predicting after a `restart` intent even in a paused conversation; listening
            # ends that turn, so the bot stays silent.
            return [FollowupAction("action_listen")]
        if _has_response(domain, "utter_restart"):
            dispatcher.utter_message(response="utter_restart")
        return [Restarted()]
