"""Read Rasa's events from the ``civic:events`` stream and record unsure messages in the inbox.

Runs inside the console app (``bot.inbox.web.setup`` adds it as a cleanup context), in its own
consumer group ``inbox``: the handoff relay reads the same stream in its group, and a
restarted console resumes after the last event it acknowledged (what the stopped process left
pending is claimed and handled first, see ``bot/events/consumers.py``).
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from bot.background import Background
from bot.events import ensure_group
from bot.events.consumers import CLAIM_EVERY_SECONDS, claim_abandoned, consumer_name
from bot.inbox import selection
from bot.inbox.selection import Message
from bot.inbox.store import InboxStore
from bot.privacy.redact import Redactor

log = logging.getLogger(__name__)
PURGE_EVERY_SECONDS = 600.0
KNOWN_KEPT = 5  # addresses a conversation gave its forms, remembered to redact them (the latest few)
RATED_KEPT = 3  # rated answers a conversation was shown, remembered for a later thumbs-down (the latest)


class Recorder:
    """Applies the selection rules to one event at a time, keeping per-conversation state in Redis."""

    def __init__(self, store: InboxStore, redactor: Redactor, threshold: float) -> None:
        self.store = store
        self.redactor = redactor
        self.threshold = threshold

    async def handle(self, event: dict[str, Any]) -> None:
        sender = str(event.get("sender_id") or "")
        if not sender:
            return
        state = await self.store.conversation(sender)
        before = json.dumps(state, sort_keys=True)
        await self._apply(event, state)
        if json.dumps(state, sort_keys=True) != before:
            await self.store.save_conversation(sender, state)

    async def _record(self, raw: dict[str, Any] | None, reason: str, answer: str = "") -> None:
        if raw:
            message = Message.from_dict({**raw, "answer": answer or raw.get("answer") or ""})
            await self.store.add(message, [reason])

    async def _apply(self, event: dict[str, Any], state: dict[str, Any]) -> None:
        kind = event.get("event")
        if kind == "user":
            await self._user(event, state)
        elif kind == "bot":
            self._bot(event, state)
        elif kind == "action" and event.get("name") in selection.ACTION_REASONS:
            reason = selection.ACTION_REASONS[str(event["name"])]
            last = state.get("last")
            if reason == selection.DECLINED and last and not last.get("decline"):
                last = {**last, "decline": selection.UNKNOWN}  # declined after a parse that did not
            await self._record(last, reason)
        elif selection.handoff_started(event) and not state.get("paused"):
            await self._record(state.get("last"), selection.HANDOFF)
            state["handoff"] = state.get("last")
        if kind == "slot" and event.get("name") in selection.ADDRESS_SLOTS:
            await self._known_address(event.get("value"), state)
        if selection.low_rating(event):
            await self._record(state.get("handoff") or state.get("last"), selection.LOW_RATING)
        if kind == "pause":
            state["paused"] = True
        elif kind == "resume":
            state["paused"] = False
        elif kind == "active_loop":
            state["loop"] = event.get("name") or ""
        elif kind == "restart":
            state.clear()

    async def _known_address(self, value: Any, state: dict[str, Any]) -> None:
        """Remember an address a form got (for this conversation's later messages) and redact it from
        the message just recorded: the slot is set after the message that carried it."""
        if not isinstance(value, str) or not value.strip():
            return
        known = [*[k for k in state.get("known") or [] if k != value][-(KNOWN_KEPT - 1) :], value]
        state["known"] = known
        last = state.get("last")
        if last:
            text = self.redactor.redact(str(last.get("text") or ""), known)
            if text != last.get("text"):
                state["last"] = {**last, "text": text}
                if (state.get("handoff") or {}).get("id") == last["id"]:
                    state["handoff"] = state["last"]
                await self.store.retext(str(last["id"]), text)

    def _bot(self, event: dict[str, Any], state: dict[str, Any]) -> None:
        """Remember which question a rated answer answered, and whether the bot asked what was missing."""
        rated = selection.rated_answer(event)
        if rated:
            answer, entry = rated
            kept = [r for r in state.get("rated") or [] if r.get("answer") != answer][-(RATED_KEPT - 1) :]
            state["rated"] = [*kept, {"answer": answer, "entry": entry, "question": state.get("last")}]
        detail = selection.asked_for_detail(event)
        if detail is not None:
            state["detail"] = detail

    async def _user(self, event: dict[str, Any], state: dict[str, Any]) -> None:
        wanted_detail = state.pop("detail", None)
        if selection.is_feedback(event):
            if selection.thumbs_down(event):
                aid = selection.feedback_answer(event)
                rated = next((r for r in state.get("rated") or [] if aid and r.get("answer") == aid), None)
                question = (rated or {}).get("question") or state.get("last")
                await self._record(question, selection.THUMBS_DOWN, (rated or {}).get("entry", ""))
            return
        if state.get("paused") or state.get("loop"):
            return  # talking to a person, or filling in a form: not questions for the bot
        message = selection.user_message(event, self.redactor, state.get("known") or ())
        if message is None:
            return
        state["last"] = message.as_dict()
        reasons = selection.parse_reasons(message, self.threshold)
        if wanted_detail is not None and not message.text.startswith("/"):
            message = Message.from_dict({**message.as_dict(), "answer": wanted_detail})
            reasons = [*reasons, selection.NOT_HELPFUL]  # what they were looking for, answered or not
        if reasons:
            await self.store.add(message, reasons)


def _decode(fields: dict[str, str]) -> dict[str, Any] | None:
    try:
        event = json.loads(fields.get("event", ""))
    except ValueError:
        return None
    return event if isinstance(event, dict) else None


async def consume_once(
    redis: Redis, recorder: Recorder, stream: str, group: str, consumer: str, block_ms: int = 1000
) -> int:
    """Handle one batch: this consumer's unacknowledged events first, then new ones."""
    handled = 0
    for start in ("0", ">"):
        batches = await redis.xreadgroup(
            group, consumer, {stream: start}, count=200, block=None if start == "0" else block_ms
        )
        for _, entries in batches or []:
            for entry_id, fields in entries:
                event = _decode(fields)
                if event is not None:
                    await recorder.handle(event)
                await redis.xack(stream, group, entry_id)
                handled += 1
        if handled:
            break
    return handled


async def run_forever(
    redis: Redis, recorder: Recorder, stream: str, group: str, role: str, background: Background
) -> None:
    """Consume until stopped; Redis outages are logged (never with message text) and retried.

    The process reads as `role` plus its own tag (`consumer_name`), and claims what a stopped
    reader left pending, so replicas and restarts neither share nor strand entries.
    """
    consumer = consumer_name(role)
    last_purge = last_claim = 0.0
    while not background.stopping.is_set():
        try:
            await ensure_group(redis, group, stream)
            while not background.stopping.is_set():
                if time.monotonic() - last_claim > CLAIM_EVERY_SECONDS:
                    last_claim = time.monotonic()
                    await claim_abandoned(redis, stream, group, consumer)
                await consume_once(redis, recorder, stream, group, consumer)
                if time.monotonic() - last_purge > PURGE_EVERY_SECONDS:
                    dropped = await recorder.store.purge()
                    last_purge = time.monotonic()
                    if dropped:
                        log.info("inbox: dropped %d message(s) past the retention period", dropped)
        except (RedisError, OSError) as exc:  # a lost group (NOGROUP) is made again on the retry
            log.warning("inbox: Redis unavailable (%s); retrying in 2s", type(exc).__name__)
            await background.pause(2.0)
