"""The broadcaster's workers: take recipients from the delivery queue and send, once each.

Per channel, `workers_per_channel` loops in every broadcaster process. A loop first sends any
one-off push (`send_direct`: an SMS code), then takes a token from its platform's shared bucket
(`buckets.py`), then claims the next recipient of a broadcast queued on its channel
(`delivery.take`: pop + claim in one script), checks the subscriber again (a STOP since the
snapshot: `skipped`, reason `stopped`) and the platform's rules, and sends through the channel's
own output (the connector Rasa uses, with its address lookup and retries of 429/5xx). The outcome
is settled once (`delivery.settle`); a refusal for good deactivates the subscriber.

Skip reasons: `stopped`, `inactive`, `unsubscribed` (the subscriber changed since the snapshot),
`outside_24h_window` (Messenger, Instagram: never sent outside it), `no_template` (WhatsApp outside
the window without WHATSAPP_ALERT_TEMPLATE), `cancelled`. Failure reasons: the platform's refusal
(`blocked`, `unsubscribed_at_carrier`, `invalid_number`, ...), `no_address` (no platform address
kept for the conversation), `timeout` (no answer: maybe delivered, never sent again),
`interrupted` (the worker died during the send: maybe delivered, never sent again), `channel_off`,
`platform_error` (429/5xx after every retry, three times).

Each subscriber gets the broadcast in their language (`Subscriber.language`): its texts in it
(`Broadcast.in_language`) and this file's wording in it (data/broadcasts/messages.yml's
`translations:` block), each the original where it has none in that language. WhatsApp's template
outside the 24-hour window goes in the reader's language only where it is approved in it
(WHATSAPP_TEMPLATE_LANGS), else wholly in English.

Every process keeps a heartbeat (`civic:bc:v1:dlv:worker:<name>`, `HEARTBEAT_TTL` seconds). The
reaper, in every process, settles the claims of workers whose heartbeat expired as `interrupted`,
puts a broadcast with queued recipients back on its channels' ready sets, and marks a broadcast
whose recipients are all settled `sent`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis
from prometheus_client import Counter
from redis.exceptions import LockError, RedisError

from bot.background import Background
from bot.broadcasts import delivery
from bot.broadcasts.buckets import SendBuckets
from bot.broadcasts.model import PENDING, SENDING, SENT, Broadcast, BroadcastStore
from bot.broadcasts.received import remember_received
from bot.channels.base import PlatformOutput
from bot.channels.http import PlatformError, recording
from bot.channels.intake import consumer_name
from bot.channels.store import conversation_key, ref
from bot.channels.text import split_text
from bot.channels.twilio import TwilioOutput
from bot.channels.whatsapp import WhatsAppOutput
from bot.content.agency import SOURCE_LANGUAGE, load_agency
from bot.datafile import load_yaml_file
from bot.language.texts import localized, translated_languages
from bot.settings import BroadcastSettings
from bot.subscriptions.store import ACTIVE, INACTIVE, PUSH_CHANNELS, STOPPED, SubscriberStore

log = logging.getLogger(__name__)

TEXTS_FILE = Path(__file__).resolve().parents[2] / "data" / "broadcasts" / "messages.yml"
HEARTBEAT_TTL = 6.0  # seconds without a heartbeat before a worker's claims count as interrupted
HEARTBEAT_EVERY = 1.5
REAP_EVERY = 2.0
IDLE_POLL = 0.2  # seconds between looks at an empty queue
MAX_ATTEMPTS = 3  # a recipient refused for now (429/5xx after the sender's retries) is queued again
STORE_ERRORS = (RedisError, OSError, asyncio.TimeoutError)
SENT_, FAILED, SKIPPED, RETRY, DEACTIVATE = "sent", "failed", "skipped", "retry", "deactivate"
RECEIPT_CHANNELS = ("twilio", "whatsapp")  # platforms whose receipts we count (delivered)
STATUS_PATH = "/webhooks/twilio/status"

SENDS = Counter(
    "civic_broadcast_sends", "Broadcast recipients settled, by channel and outcome", ["channel", "outcome"]
)
DIRECT = Counter(
    "civic_broadcast_direct", "One-off pushes (SMS codes ...), by kind and outcome", ["kind", "outcome"]
)

# KEYS: ready set, todo list; ARGV: broadcast. Leaves the ready set only when nothing is queued.
DROP_READY = (
    "if redis.call('LLEN', KEYS[2]) == 0 then return redis.call('SREM', KEYS[1], ARGV[1]) end return 0"
)


class TextsError(ValueError):
    """data/broadcasts/messages.yml is missing, not YAML, or lacks a text."""


@dataclass(frozen=True)
class DeliveryTexts:
    """How a broadcast reads on the platforms (data/broadcasts/messages.yml). Not
    `bot.broadcasts.texts.BroadcastTexts`, which words relayed alerts and replies to a broadcast."""

    message: str
    link_line: str
    sms_opt_out: str
    translations: Mapping[str, DeliveryTexts] = field(default_factory=dict)

    def in_language(self, code: str) -> DeliveryTexts:
        """The wording for a subscriber who reads `code` (English when the file has none in it)."""
        return self.translations.get(code, self)

    def chat_text(self, broadcast: Broadcast) -> str:
        text = self.message.replace("{title}", broadcast.title).replace("{text}", broadcast.text).strip()
        if broadcast.link:
            text += "\n\n" + self.link_line.replace("{link}", broadcast.link)
        return text


def _wording(raw: Mapping[str, Any], path: Path, language: str) -> DeliveryTexts:
    agency, values = load_agency().in_language(language), {}
    for name in ("message", "link_line", "sms_opt_out"):
        text = raw.get(name)
        if not isinstance(text, str) or not text.strip():
            raise TextsError(f"{path} has no text {name!r}")
        values[name] = agency.expand(text.strip())
    return DeliveryTexts(values["message"], values["link_line"], values["sms_opt_out"])


def parse_texts(raw: Any, path: Path) -> DeliveryTexts:
    if not isinstance(raw, dict):
        raise TextsError(f'{path} must be `name: "text"` lines')
    english = _wording(localized(raw, SOURCE_LANGUAGE), path, SOURCE_LANGUAGE)
    others = {code: _wording(localized(raw, code), path, code) for code in translated_languages(raw)}
    return replace(english, translations={c: t for c, t in others.items() if c != SOURCE_LANGUAGE})


def load_texts(path: Path = TEXTS_FILE) -> DeliveryTexts:
    return load_yaml_file(path, parse_texts, TextsError)


@dataclass(frozen=True)
class Outcome:
    kind: str  # sent, failed, skipped, retry, deactivate (failed, and the subscriber made inactive)
    reason: str = ""


_CODE = re.compile(r"code (\d+)(?:/(\d+))?")


def refusal(channel: str, error: PlatformError) -> Outcome:
    """What a platform's refusal means for this recipient (the platforms' documented error codes)."""
    status, detail = error.status, error.detail.lower()
    found = _CODE.search(detail)
    code, subcode = (int(found.group(1)), int(found.group(2) or 0)) if found else (0, 0)
    if status == 0:
        if detail.startswith("no connection"):
            return Outcome(RETRY)
        if "no platform address" in detail:
            return Outcome(FAILED, "no_address")
        return Outcome(FAILED, "timeout")  # it may have been delivered: never sent again
    if channel == "twilio":
        known = {21610: "unsubscribed_at_carrier", 21211: "invalid_number", 21614: "not_mobile"}
        if code in known:
            return Outcome(DEACTIVATE, known[code])
    elif channel == "telegram":
        if status == 403:  # bot was blocked by the user, user is deactivated, bot was kicked
            return Outcome(DEACTIVATE, "deactivated" if "deactivated" in detail else "blocked")
        if status == 400 and "chat not found" in detail:
            return Outcome(DEACTIVATE, "chat_not_found")
    else:  # Meta: Messenger, Instagram, WhatsApp Cloud API
        if code in (4, 613, 80007, 130429, 131056):  # throughput and pair rate limits
            return Outcome(RETRY)
        if code == 131047 or (code == 10 and subcode in (2018278, 2534022)):
            return Outcome(FAILED, "outside_24h_window")  # the citizen can still write again
        if code == 551 or (code == 100 and subcode == 2018001):
            return Outcome(DEACTIVATE, "unavailable")
        if code == 131026:
            return Outcome(DEACTIVATE, "undeliverable")
    if status == 429 or status >= 500:
        return Outcome(RETRY)
    return Outcome(FAILED, "refused")


def message_id(channel: str, answer: Any) -> str:
    """The platform's id of a sent message, from its answer ("" when it has none)."""
    if not isinstance(answer, dict):
        return ""
    if channel == "twilio":
        return str(answer.get("sid") or "")
    if channel == "whatsapp":
        messages = answer.get("messages")
        first = messages[0] if isinstance(messages, list) and messages else {}
        return str(first.get("id") or "") if isinstance(first, dict) else ""
    if channel == "telegram":
        result = answer.get("result")
        return str(result.get("message_id") or "") if isinstance(result, dict) else ""
    return str(answer.get("message_id") or "")


def template_parameter(text: str) -> str:
    """WhatsApp refuses new lines, tabs and more than 4 spaces in a row in a template parameter."""
    return re.sub(r" {4,}", "   ", re.sub(r"[\r\n\t]+", " ", text)).strip()


class Broadcaster:
    """The workers, heartbeat and reaper of one broadcaster process."""

    def __init__(
        self,
        redis: aioredis.Redis,
        settings: BroadcastSettings,
        outputs: dict[str, PlatformOutput],
        texts: DeliveryTexts,
        *,
        status_callback: str = "",
        clock: Any = time.time,
    ) -> None:
        self.redis = redis
        self.settings = settings
        self.outputs = outputs
        self.texts = texts
        self.status_callback = status_callback  # Twilio's StatusCallback URL ("": no receipts)
        self.clock = clock
        self.name = consumer_name()
        self.buckets = SendBuckets(redis, settings)
        self.subscribers = SubscriberStore(redis)
        self.broadcasts = BroadcastStore(redis, clock)
        self.background = Background()
        self._cache: dict[str, Broadcast] = {}

    @property
    def channels(self) -> list[str]:
        return [c for c in PUSH_CHANNELS if c in self.outputs]

    def heartbeat_key(self, worker: str) -> str:
        return f"{delivery.DLV}worker:{worker}"

    def start(self) -> None:
        self.background.start(self.heartbeat(), "broadcast heartbeat")
        self.background.start(self.reaper(), "broadcast reaper")
        for channel in self.channels:
            for number in range(self.settings.workers_per_channel):
                self.background.start(self.work(channel), f"broadcast {channel} {number}")

    async def stop(self) -> None:
        await self.background.stop()

    # --- loops ---------------------------------------------------------------------------------

    async def heartbeat(self) -> None:
        while True:
            try:
                await self.redis.set(self.heartbeat_key(self.name), "1", px=int(HEARTBEAT_TTL * 1000))
            except STORE_ERRORS as exc:
                log.warning("broadcaster: heartbeat not written: %s", type(exc).__name__)
            if await self.background.pause(HEARTBEAT_EVERY):
                return

    async def reaper(self) -> None:
        while not await self.background.pause(REAP_EVERY):
            try:
                await self.reap()
            except STORE_ERRORS as exc:
                log.warning("broadcaster: reaper skipped a round: %s", type(exc).__name__)

    async def work(self, channel: str) -> None:
        while not self.background.stopping.is_set():
            try:
                busy = await self.step(channel)
            except STORE_ERRORS as exc:
                log.warning("broadcaster: %s worker waits for Redis: %s", channel, type(exc).__name__)
                busy = False
            if not busy and await self.background.pause(IDLE_POLL):
                return

    async def step(self, channel: str) -> bool:
        """Send one thing on `channel`; False when there was nothing to send."""
        raw = await self.redis.lpop(delivery.direct_key(channel))
        if raw:
            await self.buckets.wait(channel)
            await self.send_direct(channel, json.loads(raw))
            return True
        for member in await self.redis.srandmember(delivery.ready_key(channel), 4):
            broadcast_id = delivery.as_str(member)
            todo = delivery.todo_key(broadcast_id, channel)
            if not await self.redis.llen(todo):
                await self.redis.eval(DROP_READY, 2, delivery.ready_key(channel), todo, broadcast_id)
                await self.finish_if_done(broadcast_id)
                continue
            await self.buckets.wait(channel)
            cid = await delivery.take(self.redis, broadcast_id, channel, self.name)
            if cid is None:
                continue
            await self.deliver(broadcast_id, channel, cid)
            return True
        return False

    # --- one recipient -------------------------------------------------------------------------

    async def broadcast(self, broadcast_id: str) -> Broadcast | None:
        if broadcast_id not in self._cache:
            found = await self.broadcasts.get(broadcast_id)
            if found is None:
                return None
            self._cache[broadcast_id] = found
        return self._cache[broadcast_id]

    async def deliver(self, broadcast_id: str, channel: str, cid: str) -> None:
        broadcast = await self.broadcast(broadcast_id)
        if broadcast is None:
            outcome = Outcome(FAILED, "no_broadcast")
        else:
            try:
                outcome = await self.send_one(broadcast, channel, cid)
            except Exception:  # a bug must not leave the claim open: settled, logged in full
                log.exception("broadcaster: %s send to %s failed", channel, ref(cid))
                outcome = Outcome(FAILED, "error")
        if outcome.kind == RETRY:
            attempts = await self.redis.hincrby(delivery.key(broadcast_id, "attempts"), cid, 1)
            if attempts < MAX_ATTEMPTS:
                await delivery.release(self.redis, broadcast_id, channel, cid)
                return
            outcome = Outcome(FAILED, "platform_error")
        if outcome.kind == DEACTIVATE:
            await self.subscribers.deactivate(cid, f"{channel}: {outcome.reason}")
            outcome = Outcome(FAILED, outcome.reason)
        if await delivery.settle(self.redis, broadcast_id, channel, cid, outcome.kind, outcome.reason):
            SENDS.labels(channel, outcome.kind).inc()
        if outcome.kind == SENT_:
            await remember_received(self.redis, cid, broadcast_id)
        if not await self.redis.llen(delivery.todo_key(broadcast_id, channel)):
            await self.finish_if_done(broadcast_id)

    async def send_one(self, broadcast: Broadcast, channel: str, cid: str) -> Outcome:
        subscriber = await self.subscribers.get(cid)
        if subscriber is None:
            return Outcome(SKIPPED, "unsubscribed")
        if subscriber.status != ACTIVE:
            return Outcome(
                SKIPPED, {STOPPED: "stopped", INACTIVE: "inactive"}.get(subscriber.status, "stopped")
            )
        if broadcast.topic not in subscriber.topics():
            return Outcome(SKIPPED, "unsubscribed")
        output = self.outputs.get(channel)
        if output is None:
            return Outcome(FAILED, "channel_off")
        if await output.address(cid) is None:
            return Outcome(FAILED, "no_address")
        language = subscriber.language
        with recording() as answers:
            try:
                skipped = await self.platform_send(broadcast, channel, cid, output, language=language)
            except PlatformError as exc:
                if not answers:
                    outcome = refusal(channel, exc)
                    log.info("broadcaster: %s to %s: %s %s", channel, ref(cid), outcome.kind, outcome.reason)
                    return outcome
                log.warning("broadcaster: %s to %s: a later part failed: %s", channel, ref(cid), exc.status)
                skipped = None
        if skipped is not None:
            return skipped
        sent_id = message_id(channel, answers[0]) if answers else ""
        if sent_id and channel in RECEIPT_CHANNELS:
            await delivery.remember_message(self.redis, channel, sent_id, broadcast.id, cid)
        return Outcome(SENT_)

    async def platform_send(
        self,
        broadcast: Broadcast,
        channel: str,
        cid: str,
        output: PlatformOutput,
        *,
        language: str = SOURCE_LANGUAGE,
    ) -> Outcome | None:
        """Send `broadcast` by the platform's rules, in `language` where it has that language's text;
        an Outcome when it must not be sent, else None."""
        worded = broadcast.in_language(language)
        if isinstance(output, TwilioOutput):
            await self.send_sms(worded, cid, output, language=language)
            return None
        if channel in ("facebook", "instagram", "whatsapp") and not await self.window_open(channel, cid):
            if not isinstance(output, WhatsAppOutput):
                return Outcome(SKIPPED, "outside_24h_window")
            if not self.settings.whatsapp_alert_template:
                return Outcome(SKIPPED, "no_template")
            await output.send(cid, self.template(broadcast, language), "send template")
            return None
        await output.send_text_message(cid, self.texts.in_language(language).chat_text(worded))
        return None

    async def window_open(self, channel: str, cid: str) -> bool:
        """Meta's 24-hour window, read strictly (the chat's reading fails open; a broadcast must not)."""
        return bool(await self.redis.exists(conversation_key(channel, "window", cid)))

    def template_language(self, language: str) -> str | None:
        """WhatsApp's code for the alert template in `language`, None when it is not approved in it."""
        if language == SOURCE_LANGUAGE:
            return self.settings.whatsapp_template_lang
        return self.settings.whatsapp_template_langs.get(language)

    def template(self, broadcast: Broadcast, language: str = SOURCE_LANGUAGE) -> dict[str, Any]:
        """The approved template in the reader's language with the broadcast's texts in it; in
        English, with the English texts, when the template has no version in that language (Meta
        refuses a template in a language it was not approved in, and a Spanish text in an English
        template reads as a mistake)."""
        code = self.template_language(language)
        if code is None:
            code, language = self.settings.whatsapp_template_lang, SOURCE_LANGUAGE
        worded = broadcast.in_language(language)
        parameters = [template_parameter(worded.title), template_parameter(worded.text)]
        return {
            "type": "template",
            "template": {
                "name": self.settings.whatsapp_alert_template,
                "language": {"code": code},
                "components": [
                    {"type": "body", "parameters": [{"type": "text", "text": p} for p in parameters]}
                ],
            },
        }

    async def send_sms(
        self, broadcast: Broadcast, cid: str, output: TwilioOutput, *, language: str = SOURCE_LANGUAGE
    ) -> None:
        """The short text; a subscriber's first broadcast by SMS ends with the opt-out line.

        The first is claimed atomically (two broadcasts sent at once must not both carry it) and
        stays this broadcast's, so a retry of its delivery still carries it.
        """
        first_key = f"{delivery.DLV}sms_first:{cid}"
        text = broadcast.sms_text().strip()
        claimed = await self.redis.set(first_key, broadcast.id, nx=True)
        if claimed or await self.redis.get(first_key) in (broadcast.id, broadcast.id.encode()):
            text = f"{text}\n\n{self.texts.in_language(language).sms_opt_out}"
        extra = {"StatusCallback": self.status_callback} if self.status_callback else {}
        for part in split_text(text, output.text_limit):
            await output.send(cid, {"Body": part, **extra}, "send SMS")

    async def send_direct(self, channel: str, item: dict[str, Any]) -> None:
        """A one-off push: sent once through the channel's output, counted in no broadcast."""
        cid, kind, text = str(item.get("cid", "")), str(item.get("kind", "direct")), str(item.get("text", ""))
        output = self.outputs.get(channel)
        if output is None or not text:
            log.warning("broadcaster: a %s push to %s dropped: channel %s is off", kind, ref(cid), channel)
            DIRECT.labels(kind, "dropped").inc()
            return
        try:
            await output.send_text_message(cid, text)
        except PlatformError as exc:
            log.warning("broadcaster: a %s push to %s failed: HTTP %s", kind, ref(cid), exc.status or "-")
            DIRECT.labels(kind, "failed").inc()
            return
        DIRECT.labels(kind, "sent").inc()

    # --- settling what the dead left -----------------------------------------------------------

    async def reap(self) -> None:
        for member in await self.redis.smembers(delivery.ACTIVE_KEY):
            broadcast_id = delivery.as_str(member)
            claims = await self.redis.hgetall(delivery.key(broadcast_id, "inflight"))
            for raw_cid, raw_worker in claims.items():
                worker, cid = delivery.as_str(raw_worker), delivery.as_str(raw_cid)
                if worker != self.name and not await self.redis.exists(self.heartbeat_key(worker)):
                    channel = cid.split("-", 1)[0]
                    if await delivery.settle(self.redis, broadcast_id, channel, cid, FAILED, "interrupted"):
                        log.warning("broadcaster: a send to %s was interrupted (worker gone)", ref(cid))
                        SENDS.labels(channel, FAILED).inc()
            for channel in PUSH_CHANNELS:
                if await self.redis.llen(delivery.todo_key(broadcast_id, channel)):
                    await self.redis.sadd(delivery.ready_key(channel), broadcast_id)
            await self.finish_if_done(broadcast_id)

    async def finish_if_done(self, broadcast_id: str) -> None:
        """Every recipient settled: the broadcast is `sent` (unless cancelled), and its per-recipient
        keys expire after `KEEP_SECONDS`."""
        report = await delivery.delivery_report(self.redis, broadcast_id)
        if not report["done"] or not await self.redis.sismember(delivery.ACTIVE_KEY, broadcast_id):
            return
        try:
            async with self.broadcasts.lock(broadcast_id):
                found = await self.broadcasts.get(broadcast_id)
                # PENDING too: approving queues first and marks it sending right after
                if found is not None and found.status in (PENDING, SENDING):
                    await self.broadcasts.put(replace(found, status=SENT, finished_at=self.clock()))
        except LockError:
            return  # someone else holds it: the reaper comes back
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.srem(delivery.ACTIVE_KEY, broadcast_id)
            for kind in ("state", "inflight", "attempts"):
                pipe.expire(delivery.key(broadcast_id, kind), delivery.KEEP_SECONDS)
            for channel in PUSH_CHANNELS:
                pipe.srem(delivery.ready_key(channel), broadcast_id)
            await pipe.execute()
        self._cache.pop(broadcast_id, None)
        log.info("broadcaster: broadcast %s done: %s", broadcast_id, report["counts"])
