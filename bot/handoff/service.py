"""What an agent can do to a conversation, and the rules the console applies on its own.

Each operation changes the queue (`QueueStore`) and speaks through Rasa (`RasaClient`) in the order that
keeps the citizen informed: a chat is marked closed only after Rasa has taken it back. What the console
says is a `bot` event whose metadata (`HANDOFF_METADATA`) carries its id, role and agent.

Retention (docs/privacy.md): the sweep also ends waits longer than `Retention.wait_expiry_hours` (the
citizen is told and offered to leave a message), removes tickets left longer than
`Retention.ticket_days`, and strips the conversation id from rating comments older than
`Retention.rating_id_days`.

A waiting citizen still talks to the bot (it answers questions and lets them leave the line; the slot
`WAITING_SLOT` tells its rules they are in line). Rasa pauses the conversation only when an agent claims
it, which also ends any form the citizen had started; releasing it un-pauses it and puts them back in line.

The console's own notices (who joined, the wait grew) are said in the conversation's language, kept
with its entry, or in the one an agent picked for it (`set_reply_language`).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from bot.clients.rasa import RasaClient, RasaUnavailable
from bot.handoff.config import Retention
from bot.handoff.store import Outcome, QueueStore
from bot.handoff.texts import offered_languages, text, wait_words

log = logging.getLogger(__name__)
CLOSED_INTENT = "EXTERNAL_handoff_closed"
EXPIRED_INTENT = "EXTERNAL_handoff_expired"
WAIT_EXPIRED_INTENT = "EXTERNAL_handoff_wait_expired"
WAIT_EXPIRED = "wait_expired"  # `closed_how` of a wait that ran past the expiry
CLOSING_INTENTS = {"expired": EXPIRED_INTENT, WAIT_EXPIRED: WAIT_EXPIRED_INTENT}
PENDING_REASON_TTL = 3600
HANDOFF_METADATA = "handoff"
WAITING_SLOT = "handoff_waiting"
# A retried agent message (same client_message_id) waits this long for the attempt still in flight;
# an attempt in flight longer than SENDING_STALE_SECONDS is over (Rasa's call timed out, or the
# console died), and Rasa's tracker tells whether its message got through.
WAIT_FOR_EARLIER_SECONDS = 15.0
SENDING_STALE_SECONDS = 60.0


class Conflict(Exception):
    """The request is valid but the conversation's state forbids it (HTTP 409); the message says why."""


class NotFound(Exception):
    """No such conversation in the queue (HTTP 404)."""


class NotOffered(ValueError):
    """A language the agency does not offer (HTTP 400); the message names those it does."""


def once_id(conversation_id: str, client_message_id: str) -> str:
    """The message id an agent's message with `client_message_id` is delivered under, every attempt."""
    return hashlib.sha256(f"{conversation_id}\n{client_message_id}".encode()).hexdigest()[:32]


def _check(outcome: Outcome, agent: str) -> None:
    if outcome.result == "missing":
        raise NotFound
    if outcome.result == "closed":
        raise Conflict("This conversation is closed already.")
    if outcome.result == "taken":
        raise Conflict(f"{outcome.holder} is handling this conversation; {agent} cannot take it over.")


@dataclass
class HandoffService:
    store: QueueStore
    rasa: RasaClient
    data_dir: Path
    inactivity_minutes: float = 30.0
    retention: Retention = field(default_factory=Retention)

    async def say(
        self, conversation_id: str, text: str, *, role: str, agent: str = "", message_id: str = ""
    ) -> str:
        """Deliver `text` to the citizen as a `bot` event; returns the id kept in its metadata."""
        message_id = message_id or uuid.uuid4().hex
        metadata = {HANDOFF_METADATA: {"id": message_id, "role": role, "agent": agent}}
        await self.rasa.say(conversation_id, text, metadata)
        return message_id

    async def claim(self, conversation_id: str, agent: str) -> Outcome:
        """Take a chat; a waiting one is paused in Rasa too (if Rasa fails, the claim is undone)."""
        outcome = await self.store.claim(conversation_id, agent)
        _check(outcome, agent)
        if outcome.previous == "waiting":
            try:
                await self.rasa.pause(conversation_id, {WAITING_SLOT: False})
            except RasaUnavailable:
                await self.store.release(conversation_id, agent, force=True)
                raise
            await self._announce(conversation_id, agent)
        return outcome

    async def _announce(self, conversation_id: str, agent: str) -> None:
        """Tell the citizen who joined; the claim stands even when Rasa cannot deliver the notice."""
        entry = await self.store.get(conversation_id)
        language = entry.speaks if entry else ""
        notice = text(self.data_dir, "agent_joined", language=language, agent=agent)
        try:
            message_id = await self.say(conversation_id, notice, role="notice", agent=agent)
        except RasaUnavailable as exc:
            log.warning("claim notice not delivered: %s", exc)
            return
        await self.store.record(conversation_id, "bot", notice, time.time(), dedupe=message_id, touch=False)

    async def send(
        self,
        conversation_id: str,
        agent: str,
        message: str,
        *,
        force: bool = False,
        client_message_id: str = "",
    ) -> dict[str, str]:
        """Deliver an agent's message; with `client_message_id`, once however often it is retried."""
        entry = await self.store.get(conversation_id)
        if entry is None:
            raise NotFound
        if entry.status != "claimed":
            raise Conflict(f"Claim this conversation before replying (it is {entry.status}).")
        if entry.agent != agent and not force:
            raise Conflict(f"{entry.agent} is handling this conversation; only they can reply.")
        if not client_message_id:
            return await self._deliver(conversation_id, agent, message, uuid.uuid4().hex)
        message_id = once_id(conversation_id, client_message_id)
        if await self._delivered_before(conversation_id, client_message_id, message_id):
            return {"id": message_id}
        try:
            sent = await self._deliver(conversation_id, agent, message, message_id)
        except BaseException:
            await self.store.abandon_send(conversation_id, client_message_id)
            raise
        await self.store.mark_sent(conversation_id, client_message_id, message_id)
        return sent

    async def _deliver(
        self, conversation_id: str, agent: str, message: str, message_id: str
    ) -> dict[str, str]:
        await self.say(conversation_id, message, role="agent", agent=agent, message_id=message_id)
        await self.store.record(
            conversation_id, "agent", message, time.time(), dedupe=message_id, agent=agent
        )
        return {"id": message_id}

    async def _delivered_before(self, conversation_id: str, client_message_id: str, message_id: str) -> bool:
        """Reserve this message's delivery; True when an earlier request delivered it already.

        A request still in flight is waited for; one in flight past SENDING_STALE_SECONDS is taken
        over (as is one that failed: Rasa may have stored it before the error), and delivered
        again only if Rasa's tracker does not hold its message.
        """
        deadline = time.monotonic() + WAIT_FOR_EARLIER_SECONDS
        while True:
            mark = await self.store.reserve_send(conversation_id, client_message_id, time.time())
            if mark is None:
                return False
            if mark.startswith("sent:"):
                return True
            started = float(mark.partition(":")[2] or 0)
            if mark and time.time() - started > SENDING_STALE_SECONDS:
                if await self.store.take_over_send(conversation_id, client_message_id, mark, time.time()):
                    try:
                        delivered = await self._in_tracker(conversation_id, message_id)
                    except BaseException:
                        await self.store.abandon_send(conversation_id, client_message_id)
                        raise
                    if not delivered:
                        return False
                    await self.store.mark_sent(conversation_id, client_message_id, message_id)
                    return True
            elif time.monotonic() > deadline:
                raise Conflict("This message is still being sent; it will not be sent twice.")
            else:
                await asyncio.sleep(0.2)

    async def _in_tracker(self, conversation_id: str, message_id: str) -> bool:
        events = (await self.rasa.tracker(conversation_id)).get("events") or []
        return any(
            ((event.get("metadata") or {}).get(HANDOFF_METADATA) or {}).get("id") == message_id
            for event in events
            if event.get("event") == "bot"
        )

    async def set_reply_language(self, conversation_id: str, language: str) -> None:
        """Say the console's notices and offer canned replies in `language` (any agent may: it
        changes what the citizen is told, not who holds the chat)."""
        offered = offered_languages()
        if language not in offered:
            raise NotOffered(f"pick one of the languages offered: {', '.join(offered)}")
        entry = await self.store.get(conversation_id)
        if entry is None:
            raise NotFound
        if not await self.store.set_reply_language(conversation_id, language):
            raise Conflict("This conversation is closed already.")

    async def release(self, conversation_id: str, agent: str, *, force: bool = False) -> Outcome:
        outcome = await self.store.release(conversation_id, agent, force=force)
        _check(outcome, agent)
        if outcome.previous == "claimed":
            await self.rasa.resume(conversation_id, {WAITING_SLOT: True})
        return outcome

    async def transfer(self, conversation_id: str, agent: str, to: str, *, force: bool = False) -> Outcome:
        entry = await self.store.get(conversation_id)
        if entry is None:
            raise NotFound
        if entry.status == "waiting":
            raise Conflict("Claim this conversation before transferring it.")
        outcome = await self.store.transfer(conversation_id, agent, to, force=force)
        _check(outcome, agent)
        return outcome

    async def close(
        self, conversation_id: str, agent: str, *, force: bool = False, how: str = "closed"
    ) -> Outcome:
        """Hand the chat back: resume the bot, let it speak (rating), then take it out of the queue."""
        entry = await self.store.get(conversation_id)
        if entry is None:
            raise NotFound
        if entry.status == "closed":
            raise Conflict("This conversation is closed already.")
        if entry.agent and entry.agent != agent and not force:
            raise Conflict(f"{entry.agent} is handling this conversation; only they can close it.")
        if entry.status == "waiting":  # the citizen may be in a form: end it, as a claim does
            await self.rasa.pause(conversation_id, {WAITING_SLOT: False})
        if entry.status in ("waiting", "claimed"):
            await self.rasa.resume(conversation_id)
            await self.rasa.trigger(conversation_id, CLOSING_INTENTS.get(how, CLOSED_INTENT))
        outcome = await self.store.close(conversation_id, agent, how=how, force=True)
        _check(outcome, agent)
        return outcome

    async def sweep(self, now: float | None = None) -> None:
        """Retention, the inactivity rule for claimed chats, "the wait grew" notices for waiting ones."""
        now = time.time() if now is None else now
        await self.apply_retention(now)
        idle_before = now - self.inactivity_minutes * 60
        for entry in await self.store.queue():
            if entry.status == "claimed" and entry.last_activity < idle_before:
                log.info("returning an idle conversation to the bot (agent %s)", entry.agent)
                await self.close(entry.conversation_id, entry.agent, force=True, how="expired")
            elif entry.counts(now, self.store.pace):
                position = await self.store.position(entry.conversation_id, now)
                if position is None:
                    continue
                minutes = await self.store.wait_minutes(position, now)
                if minutes > entry.told_wait:
                    words = wait_words(self.data_dir, position, minutes, entry.speaks)
                    notice = text(
                        self.data_dir, "wait_grew", language=entry.speaks, position=position, **words
                    )
                    message_id = await self.say(entry.conversation_id, notice, role="notice")
                    await self.store.record(
                        entry.conversation_id, "bot", notice, time.time(), dedupe=message_id, touch=False
                    )
                    await self.store.set_told_wait(entry.conversation_id, minutes)

    async def apply_retention(self, now: float) -> None:
        """End waits past the expiry (the citizen is offered to leave a message), drop old tickets,
        de-identify old rating comments, trim old change events."""
        days = 86400
        expired_before = now - self.retention.wait_expiry_hours * 3600
        for entry in await self.store.waiting_since_before(expired_before):
            log.info("a wait for a person ran past HANDOFF_WAIT_EXPIRY_HOURS; offering a ticket")
            await self.store.set_pending_reason(entry.conversation_id, entry.reason, PENDING_REASON_TTL)
            await self.close(entry.conversation_id, "", force=True, how=WAIT_EXPIRED)
        if await self.store.expire_tickets(now - self.retention.ticket_days * days):
            log.info("removed tickets past TICKET_RETENTION_DAYS")
        await self.store.deidentify_comments(now - self.retention.rating_id_days * days)
        await self.store.trim_changes(now - self.retention.changes_days * days)
