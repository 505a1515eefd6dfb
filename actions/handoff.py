"""Handing a conversation to a person, and what happens around it (tickets, ratings, session traps).

Thin: decisions are in `bot.handoff.reasons`, the queue is `bot.handoff.store`, hours are
`bot.handoff.hours`. Logs never carry the conversation id (on SMS it is a phone number), only
`conversation_ref`.

While in line (the slot `handoff_waiting`), the citizen still talks to the bot: questions are answered
and they keep their place; `action_handoff_waiting` answers what the rules send it while they wait
(leaving the line, the menu, starting over, "are you still there?"). Rasa pauses the conversation only
when an agent claims it (`bot.handoff.service`).

The conversation's language (`conversation_language`) goes with it into the queue, so agents see it
and the console speaks it; the place in line and the next staffed time are worded in it.

`action_session_start` and `action_restart` override Rasa's defaults: while a person has the
conversation, a new session (Rasa's expiry) keeps it paused and `/restart` does nothing, so the
citizen is never silently handed back to the bot; `/restart` while waiting leaves the line first.
"""

from __future__ import annotations

import functools
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
from rasa_sdk.types import DomainDict
from redis.exceptions import RedisError

from actions import resources as shared
from actions.common import NOT_AN_ANSWER, EventList, conversation_ref, latest_intent, latest_text
from actions.parsing import is_cancel, is_menu, is_restart
from bot.handoff import reasons
from bot.handoff.config import DATA_DIR, QueuePace, load_pace
from bot.handoff.hours import load_hours
from bot.handoff.service import WAITING_SLOT
from bot.handoff.store import QueueStore, iso
from bot.handoff.texts import next_open_text, spoken, wait_words
from bot.language.conversation import conversation_language

log = logging.getLogger(__name__)
REASON_TTL = 3600
SKIPPED = "skipped"
# A rating is a short answer ("4", "4 stars", "I'd say 4"); a longer message with a digit in it is
# a question ("is city hall open on the 4th?").
RATING_WORDS = 4
# Channels that can only answer the request that carried the citizen's message: an agent's
# reply could never reach the citizen, so a person is not offered there (docs/handoff.md).
NO_LATER_MESSAGES = frozenset({"rest"})
MENU_RESPONSE = "utter_capabilities"
LISTEN = FollowupAction("action_listen")  # ends the turn: the action said all there is to say
RATING_FORM = "handoff_rating_form"
# What the rating form leaves to the rules (they answer it; the form then ends quietly). At the
# comment step anything else is the comment.
ANSWERED_ELSEWHERE = NOT_AN_ANSWER | {
    "faq",
    "faq_live",
    "ask_alerts",
    "ask_facility_hours",
    "ask_collection_day",
    "ask_service_status",
    "check_request_status",
    "report_problem",
    "explore_topic",
    "ask_capabilities",
    "restart",
}


@functools.cache
def _pace() -> QueuePace:
    """data/handoff/queue.yml, read once (restart the action server to apply a change)."""
    return load_pace(DATA_DIR)


async def _store() -> QueueStore:
    return QueueStore((await shared.current()).redis, pace=_pace())


def exit_asked(tracker: Tracker) -> str | None:
    """ "restart", "menu" or "cancel" when the whole message asks to leave what is going on, else None;
    in the conversation's words ("empezar de nuevo", "menú", "cancelar")."""
    said, intent, language = latest_text(tracker), latest_intent(tracker), _language(tracker)
    if intent == "restart" or is_restart(said, language):
        return "restart"
    if is_menu(said, language):
        return "menu"
    if intent == "cancel" or is_cancel(said, language):
        return "cancel"
    return None


async def waiting_words(store: QueueStore, conversation_id: str, language: str) -> dict[str, Any] | None:
    """Place in line, `{ahead}` and `{wait}` in `language` for the replies; None when the chat is not
    waiting."""
    position = await store.position(conversation_id)
    if position is None:
        return None
    minutes = await store.wait_minutes(position)
    words = wait_words(DATA_DIR, position, minutes, language)
    return {"position": position, "wait_minutes": minutes, **words}


def _language(tracker: Tracker) -> str:
    """The conversation's language, as the handoff speaks it: one the agency offers, else English
    (the slot is the citizen's to set, through a message's entities)."""
    return spoken(conversation_language(tracker.slots))


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
            store = QueueStore(resources.redis, pace=_pace())
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
        cid, language = str(tracker.sender_id), _language(tracker)
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
            language=language,
        )
        words = await waiting_words(store, cid, language)
        if words is None:  # an agent has taken it already: they are reading
            return [SlotSet(WAITING_SLOT, False)]
        if created:
            await store.set_told_wait(cid, words["wait_minutes"])
            log.info("handoff queued (conversation %s, reason %s)", conversation_ref(tracker), reason)
        response = "utter_handoff_queued" if created else "utter_handoff_already_queued"
        # `handoff_reason` lands in the bot event's metadata: the analytics count handoffs by reason.
        dispatcher.utter_message(response=response, handoff_reason=reason, **words)
        # Not paused: while in line the bot still answers (and lets them leave the line); the console
        # pauses the conversation when an agent claims it.
        return [SlotSet(WAITING_SLOT, True)]

    async def _after_hours(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        store: QueueStore,
        reason: str,
        next_open: datetime | None,
    ) -> EventList:
        when = next_open_text(DATA_DIR, next_open, _language(tracker))
        dispatcher.utter_message(response="utter_handoff_after_hours", next_open=when, handoff_reason=reason)
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
        return {"ticket_contact": "" if reasons.is_skip(said, _language(tracker)) else said or None}

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
                language=_language(tracker),
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
    """A 1-5 rating (button or text such as "4", "four", "4 stars") and an optional comment.

    "cancel", "start over", "menu" or "skip" end the form (`action_store_rating` says what fits).
    A question or anything else that is not a rating is left to the rules, which answer it; when
    the form comes back after that, nothing is left to ask and it ends quietly, so a citizen who would
    rather ask something than rate is never held in a loop of "pick a number from 1 to 5".
    """

    def name(self) -> str:
        return "validate_handoff_rating_form"

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[str]:
        if back_after_an_answer(tracker):
            return []
        return domain_slots

    async def extract_handoff_rating(self, dispatcher: Any, tracker: Tracker, domain: Any) -> dict[str, Any]:
        if tracker.get_slot("requested_slot") != "handoff_rating" or back_after_an_answer(tracker):
            return {}
        said, intent = latest_text(tracker), latest_intent(tracker)
        if intent == "rate" or (len(said.split()) <= RATING_WORDS and reasons.parse_rating(said) is not None):
            return {"handoff_rating": said}
        if exit_asked(tracker) or reasons.is_skip(said, _language(tracker)):
            return {"handoff_rating": SKIPPED, "handoff_comment": ""}
        return {}

    async def extract_handoff_comment(self, dispatcher: Any, tracker: Tracker, domain: Any) -> dict[str, Any]:
        if tracker.get_slot("requested_slot") != "handoff_comment" or back_after_an_answer(tracker):
            return {}
        said = latest_text(tracker).strip()
        if exit_asked(tracker) or reasons.is_skip(said, _language(tracker)):
            return {"handoff_comment": ""}
        if latest_intent(tracker) in ANSWERED_ELSEWHERE:
            return {}
        return {"handoff_comment": said}

    async def validate_handoff_rating(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Any
    ) -> dict:
        """A valid rating is counted at once: the citizen may ask something else instead of commenting."""
        entities = (tracker.latest_message or {}).get("entities") or []
        if value == SKIPPED:
            return {"handoff_rating": SKIPPED}
        rating = reasons.parse_rating(str(value or ""), entities)
        if rating is None:
            dispatcher.utter_message(response="utter_rating_invalid")
            return {"handoff_rating": None}
        try:
            store = await _store()
            agent, reason = await _rated(store, str(tracker.sender_id))
            await store.add_rating(str(tracker.sender_id), agent, reason, rating)
        except (RedisError, OSError) as exc:
            ref = conversation_ref(tracker)
            log.warning("rating not saved (conversation %s): %s", ref, type(exc).__name__)
        return {"handoff_rating": str(rating)}

    def validate_handoff_comment(self, value: Any, dispatcher: Any, tracker: Tracker, domain: Any) -> dict:
        return {"handoff_comment": value if isinstance(value, str) else None}


def back_after_an_answer(tracker: Tracker) -> bool:
    """The rating form runs again after the rules answered a message it left to them."""
    return tracker.active_loop_name == RATING_FORM and answered_this_turn(tracker)


def answered_this_turn(tracker: Tracker) -> bool:
    """The rating form turned this turn's message down (the rules answered it)."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return False
        if event.get("event") == "action_execution_rejected" and event.get("name") == RATING_FORM:
            return True
    return False


async def _rated(store: QueueStore, conversation_id: str) -> tuple[str, str]:
    entry = await store.get(conversation_id)
    return (entry.agent, entry.reason) if entry else ("", "")


class ActionStoreRating(Action):
    """Keep the comment and say what fits how the rating form ended (the rating is counted already)."""

    def name(self) -> str:
        return "action_store_rating"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> EventList:
        reset = [SlotSet("handoff_rating", None), SlotSet("handoff_comment", None)]
        rating = reasons.parse_rating(str(tracker.get_slot("handoff_rating") or ""))
        comment = str(tracker.get_slot("handoff_comment") or "")
        if rating is not None and comment:
            try:
                store = await _store()
                agent, reason = await _rated(store, str(tracker.sender_id))
                await store.add_comment(str(tracker.sender_id), agent, reason, rating, comment)
            except (RedisError, OSError) as exc:
                log.warning(
                    "comment not saved (conversation %s): %s", conversation_ref(tracker), type(exc).__name__
                )
        if answered_this_turn(tracker):
            return reset  # the rules have just answered what the citizen asked instead
        asked = exit_asked(tracker)
        if asked == "restart":
            return [*reset, FollowupAction("action_restart")]
        if asked == "menu":
            dispatcher.utter_message(response=MENU_RESPONSE)
        elif rating is not None:
            dispatcher.utter_message(response="utter_rating_thanks")
        elif asked == "cancel":
            dispatcher.utter_message(response="utter_rating_left")
        else:
            dispatcher.utter_message(response="utter_anything_else")
        return reset


class ActionHandoffWaiting(Action):
    """While in line for a person: leave the line ("cancel", "start over", "menu"), or hear where they stand.

    The rules send here what the citizen may say to the person rather than to the bot (a greeting,
    "are you still there?", something the bot cannot answer): the person will read it when they
    join, and the citizen keeps their place. Questions the bot can answer never come here.
    """

    def name(self) -> str:
        return "action_handoff_waiting"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> EventList:
        cid, asked = str(tracker.sender_id), exit_asked(tracker)
        try:
            store = await _store()
            if asked is not None:
                if await store.leave(cid):
                    log.info("left the handoff queue (conversation %s)", conversation_ref(tracker))
                return self._left(dispatcher, asked)
            words = await waiting_words(store, cid, _language(tracker))
        except (RedisError, OSError) as exc:
            ref = conversation_ref(tracker)
            log.warning("queue unavailable (conversation %s): %s", ref, type(exc).__name__)
            dispatcher.utter_message(response="utter_handoff_unavailable")
            return [SlotSet(WAITING_SLOT, False), LISTEN]
        if words is None:
            dispatcher.utter_message(response="utter_handoff_not_waiting")
            return [SlotSet(WAITING_SLOT, False), LISTEN]
        if latest_intent(tracker) == "ask_capabilities":
            dispatcher.utter_message(response=MENU_RESPONSE)
        else:
            dispatcher.utter_message(response="utter_handoff_still_waiting", **words)
        return [LISTEN]

    @staticmethod
    def _left(dispatcher: CollectingDispatcher, asked: str) -> EventList:
        dispatcher.utter_message(response="utter_handoff_left")
        if asked == "restart":
            return [SlotSet(WAITING_SLOT, False), FollowupAction("action_restart")]
        if asked == "menu":
            dispatcher.utter_message(response=MENU_RESPONSE)
        else:
            dispatcher.utter_message(response="utter_handoff_left_what_else")
        return [SlotSet(WAITING_SLOT, False), LISTEN]


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
    """Rasa's restart, except while a person has the conversation: then nothing happens.

    In line for a person (not yet taken), starting over leaves the line first.
    """

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
        if tracker.get_slot(WAITING_SLOT):
            try:
                if await (await _store()).leave(str(tracker.sender_id)):
                    dispatcher.utter_message(response="utter_handoff_left")
            except (RedisError, OSError) as exc:
                log.warning(
                    "queue unavailable (conversation %s): %s", conversation_ref(tracker), type(exc).__name__
                )
        if _has_response(domain, "utter_restart"):
            dispatcher.utter_message(response="utter_restart")
        return [Restarted()]
