"""The webhook pipeline every connector shares, and the base of their output channels.

A POST to `/webhooks/<channel>/webhook` goes through, in this order:

1. size: the body is read in chunks and refused with 413 past `max_body_bytes` (64 KB), before
   anything else looks at it;
2. signature: `verify_request()` (HMAC of the raw body, constant-time); 403 when it fails, and
   nothing of the request reaches a conversation;
3. parsing: `parse_events()` turns the body into `Inbound` events, in the order the platform
   sent them (every event of a batch, not only the first); malformed JSON or form data is 400,
   an event we do not handle (receipts, reactions, echoes, unknown kinds) is simply not one;
4. intake: the sender becomes the conversation id, and each event is appended to the channel's
   Redis stream (`intake.py`) unless its platform message id was already received within
   `dedup_ttl` (a redelivered copy: the first is durable, or done); then the platform gets its
   200, at once, so a slow NLU or action never makes it time out. Redis refusing is a 503 (the
   platform redelivers): nothing is acknowledged that is not stored;
5. each event, in this process's intake worker (in arrival order per conversation, acknowledged
   in the stream after the turn is stored, retried, dead-lettered after `INTAKE_MAX_ATTEMPTS`):
   the sender's conversation id (`IdentityKey.conversation_id(channel, platform id)`: no phone
   number or platform id is ever a tracker key or Redis key), and the platform id is kept as the
   conversation's address; a media message we cannot read gets the `unsupported` notice, a text
   or payload over the size limits the `too_long` notice (data/channels/messages.yml); a button
   payload "/..." is an intent only if it was offered to this conversation (`OfferedPayloads`);
   a text, button or shared location becomes a Rasa `UserMessage` (locations and media ids in
   `metadata`).

The output channels are given conversation ids (by Rasa's processor, and by Rasa's HTTP API
when the console pushes an agent's message with `output_channel=latest`) and look the address up
before calling the platform: unknown, nothing is sent. They remember the "/..." payloads of the
buttons they send, and add the privacy notice to the first reply of each conversation.

Everything a connector needs besides its secrets comes from its credentials (see `CommonOptions`):
the identity secret (`identity_secret`, required), Redis (`redis_host`, `redis_port`, `redis_db`,
`redis_password`), the platform's base URL (`api_url`), and optional limits. Sanic's
`before_server_start` starts the intake worker; `idle()` waits until every event received here
is done (tests use it); `after_server_stop` stops the worker (unfinished entries stay in the
stream for the next owner) and closes the HTTP session and the Redis client.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Awaitable, Callable, Coroutine, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any, ClassVar

from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.shared.exceptions import RasaException
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.http import PlatformError, PlatformSender
from bot.channels.intake import Fields, Intake, IntakeOptions
from bot.channels.offered import button_payloads
from bot.channels.store import ADDRESS_TTL, STORE_ERRORS, ChannelStore, is_stash_token, ref
from bot.channels.text import button_payload, fits_bytes, split_text, typed_text
from bot.channels.wording import TEXTS_FILE, ChannelTexts, TextsError, load_texts_with_translations
from bot.identity import IdentityKey
from bot.language.conversation import REPLY_LANGUAGE_KEY, reply_language
from bot.processed_mark import PROCESSED_MARK, DeliveryMark
from bot.settings import Env, RedisAddress, SettingsError
from bot.subscriptions.keywords import keyword_reply

log = logging.getLogger(__name__)

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]

DEFAULT_MAX_BODY = 64 * 1024
MAX_TEXT_CHARS = 2000  # a text or button payload longer than this never reaches Rasa
MAX_METADATA_BYTES = 4096  # a location or a media reference is far smaller
WINDOW_SECONDS = 24 * 3600
SHUTDOWN_GRACE = 10.0

# COMMAND: Telegram's /start and /help, mapped to intents by the connector itself (never checked
# against the offered buttons).
TEXT, PAYLOAD, COMMAND, UNSUPPORTED = "text", "payload", "command", "unsupported"


class ChannelConfigError(RasaException):
    """A connector's credentials are missing or invalid; Rasa refuses to start with the message."""


class BadPayload(ValueError):
    """The body is not what the platform sends (not JSON, not an object, undecodable form): 400."""


class Credentials:
    """Typed reads of one connector's section of credentials.yml (values arrive as strings)."""

    def __init__(self, channel: str, values: dict[str, Any] | None) -> None:
        self.channel = channel
        self.values = values or {}

    def text(self, *keys: str, required: bool = False, default: str = "") -> str:
        for key in keys:
            value = self.values.get(key)
            if value is not None and str(value).strip():
                return str(value).strip()
        if required:
            raise ChannelConfigError(
                f"The {self.channel} channel needs '{keys[0]}' in its credentials (the environment "
                f"variable behind it is empty or unset); see docs/channels.md."
            )
        return default

    def redis(self, default: RedisAddress | None = None) -> RedisAddress:
        """The section's Redis (`redis_host`, `redis_port`, `redis_db`, `redis_password`); `default`
        (else 127.0.0.1) when it names no host."""
        if not self.text("redis_host") and default is not None:
            return default
        return RedisAddress(
            host=self.text("redis_host", default="127.0.0.1"),
            port=self.number("redis_port", 6379),
            db=self.number("redis_db", 0),
            password=self.text("redis_password"),
        )

    def number(self, key: str, default: float, *, whole: bool = True) -> Any:
        """A number >= 0, read by the settings' one parser (so the same wording as for env vars)."""
        values = Env({key: self.text(key)})
        try:
            return values.whole(key, int(default)) if whole else values.number(key, default)
        except SettingsError as exc:
            raise ChannelConfigError(f"{self.channel}: {exc}") from None


@dataclass(frozen=True)
class CommonOptions:
    """What every connector reads from its credentials besides the platform's secrets."""

    api_url: str
    identity_secret: str = field(default="", repr=False)
    redis: RedisAddress = field(default_factory=RedisAddress)
    public_base_url: str = ""
    max_body_bytes: int = DEFAULT_MAX_BODY
    max_text_chars: int = MAX_TEXT_CHARS
    max_metadata_bytes: int = MAX_METADATA_BYTES
    dedup_ttl: int = 7 * 24 * 3600  # WhatsApp redelivers for up to 7 days
    options_ttl: int = 3600
    button_ttl: int = 7 * 24 * 3600
    address_ttl: int = ADDRESS_TTL
    retry_attempts: int = 4
    retry_backoff: float = 0.5
    intake: IntakeOptions = field(default_factory=IntakeOptions)
    texts: ChannelTexts = field(default_factory=load_texts_with_translations)

    @classmethod
    def from_credentials(cls, creds: Credentials, default_api_url: str) -> CommonOptions:
        return cls(
            api_url=creds.text("api_url", default=default_api_url).rstrip("/"),
            identity_secret=creds.text("identity_secret", required=True),
            redis=creds.redis(),
            public_base_url=creds.text("public_base_url").rstrip("/"),
            max_body_bytes=creds.number("max_body_bytes", DEFAULT_MAX_BODY),
            max_text_chars=creds.number("max_text_chars", MAX_TEXT_CHARS),
            max_metadata_bytes=creds.number("max_metadata_bytes", MAX_METADATA_BYTES),
            dedup_ttl=creds.number("dedup_ttl", 7 * 24 * 3600),
            options_ttl=creds.number("options_ttl", 3600),
            button_ttl=creds.number("button_ttl", 7 * 24 * 3600),
            address_ttl=creds.number("address_ttl", ADDRESS_TTL),
            retry_attempts=creds.number("retry_attempts", 4),
            retry_backoff=creds.number("retry_backoff", 0.5, whole=False),
            intake=intake_options(creds),
            texts=channel_texts(creds),
        )


def intake_options(creds: Credentials) -> IntakeOptions:
    """INTAKE_MAX_ATTEMPTS from Rasa's environment (docs/configuration.md); credentials may override."""
    try:
        attempts = Env(os.environ).whole("INTAKE_MAX_ATTEMPTS", 5, minimum=1)
    except SettingsError as exc:
        raise ChannelConfigError(f"{creds.channel}: {exc}") from None
    return IntakeOptions(
        max_attempts=max(1, creds.number("intake_max_attempts", attempts)),
        retry_backoff=creds.number("intake_retry_backoff", 1.0, whole=False),
        lease_seconds=creds.number("intake_lease_seconds", 20.0, whole=False) or 20.0,
    )


def channel_texts(creds: Credentials) -> ChannelTexts:
    """data/channels/messages.yml (or `texts_file`), with any text the credentials override (in
    English: the file's translations stay as written)."""
    try:
        texts = load_texts_with_translations(Path(creds.text("texts_file", default=str(TEXTS_FILE))))
    except TextsError as exc:
        raise ChannelConfigError(f"{creds.channel}: {exc}") from None
    overrides: dict[str, Any] = {
        name: creds.text(key)
        for key, name in (
            ("unsupported_text", "unsupported"),
            ("options_prompt", "options_prompt"),
            ("options_label", "options_label"),
        )
        if creds.text(key)
    }
    return replace(texts, **overrides)


@dataclass(frozen=True)
class Inbound:
    """One thing a citizen did that deserves an answer, as parsed from a webhook."""

    sender_id: str  # the platform's user id (a phone number on SMS): the address, never a key
    kind: str  # TEXT (typed, or a shared location), PAYLOAD (a button), COMMAND, UNSUPPORTED (media)
    text: str = ""
    message_id: str = ""  # the platform's id, for duplicates; "" when it has none
    timestamp: float | None = None  # epoch seconds, when the platform says
    metadata: dict[str, Any] = field(default_factory=dict)
    reply_token: str = ""  # Telegram: the callback query to answer


def parse_json_object(body: bytes) -> dict[str, Any]:
    try:
        payload = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadPayload("malformed JSON") from exc
    if not isinstance(payload, dict):
        raise BadPayload("the body must be a JSON object")
    return payload


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def as_id(value: Any) -> str:
    """A platform id given as a string or a number ("" for anything else)."""
    if isinstance(value, bool):
        return ""
    if isinstance(value, (str, int)):
        return str(value)
    return ""


# The addresses of the conversations being handled or answered in this task: replies to the
# message in hand need no Redis lookup (and still go out when Redis is down).
_ADDRESSES: ContextVar[Mapping[str, str]] = ContextVar("channel_addresses", default=MappingProxyType({}))


# The replies of the turn being handled from the intake, held until Rasa stored the turn: a turn
# whose save fails is run again by the intake, and must not have answered the citizen already.
_HELD: ContextVar[list[tuple[str, dict[str, Any]]] | None] = ContextVar("channel_held_replies", default=None)


# The language of the reply being sent (the NLG stamps it, bot/nlg.py): the connector's own words
# around it (privacy notice, option prompts, feedback question) are in the same language.
_REPLY_LANGUAGE: ContextVar[str | None] = ContextVar("channel_reply_language", default=None)


@contextmanager
def addressed(conversation_id: str, address: str) -> Iterator[None]:
    """Within the block, `conversation_id`'s address is known without asking Redis."""
    token = _ADDRESSES.set(MappingProxyType({**_ADDRESSES.get(), conversation_id: address}))
    try:
        yield
    finally:
        _ADDRESSES.reset(token)


async def read_body(request: Request, limit: int) -> bytes | None:
    """The raw body, or None as soon as it is known to exceed `limit` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    if request.body or request.stream is None:
        return request.body if len(request.body) <= limit else None
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = await request.stream.read()
        if chunk is None:
            break
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    request.body = b"".join(chunks)
    return request.body


class WebhookChannel:
    """Mixin for the connectors (put it first in the bases, before Rasa's InputChannel subclass)."""

    ack_body: ClassVar[str] = "ok"
    ack_content_type: ClassVar[str] = "text/plain; charset=utf-8"

    common: CommonOptions
    identity: IdentityKey
    store: ChannelStore
    sender: PlatformSender

    @classmethod
    def name(cls) -> str:  # overridden by every connector
        raise NotImplementedError

    def _setup(self, common: CommonOptions) -> None:
        try:
            self.identity = IdentityKey(common.identity_secret)
        except SettingsError:
            raise ChannelConfigError(
                f"The {self.name()} channel needs 'identity_secret' in its credentials: "
                "IDENTITY_SECRET of at least 16 characters (make run keeps one in var/secrets/); "
                "see docs/channels.md."
            ) from None
        self.common = common
        self.store = ChannelStore(common.redis, self.name())
        self.intake = Intake(self.store.connect, self.name(), common.intake)
        self.sender = PlatformSender(
            self.name(), attempts=common.retry_attempts, backoff=common.retry_backoff
        )
        self._tasks: set[asyncio.Task[Any]] = set()
        self._output: PlatformOutput | None = None

    # --- what each connector provides ---------------------------------------------------------

    def verify_request(self, request: Request, body: bytes) -> bool:
        raise NotImplementedError

    def parse_events(self, request: Request, body: bytes) -> list[Inbound]:
        raise NotImplementedError

    def make_output(self) -> PlatformOutput:
        raise NotImplementedError

    def add_routes(self, blueprint: Blueprint) -> None:
        """Routes besides health and the POST webhook (Meta's GET verification)."""

    async def on_start(self) -> None:
        """Run once the server's loop runs (Telegram registers its webhook)."""

    async def on_event(self, event: Inbound, conversation_id: str, output: PlatformOutput) -> None:
        """Before an event is handled, after the duplicate check."""

    def conversation_id(self, platform_id: str) -> str:
        """The conversation of a platform user on this channel: no personal data in it."""
        return self.identity.conversation_id(self.name(), platform_id)

    async def user_text(self, event: Inbound, conversation_id: str) -> str:
        """The text Rasa gets: an offered button's payload, a command's intent, or what was typed."""
        if event.kind == COMMAND:
            return event.text
        if event.kind == PAYLOAD:
            payload = event.text.strip()
            if is_stash_token(payload):
                payload = await self.store.unstash(payload) or ""
                if not payload:
                    log.warning("%s: an expired or unknown button from %s", self.name(), ref(conversation_id))
            return await self.payload_text(conversation_id, payload)
        return typed_text(event.text)

    async def payload_text(self, conversation_id: str, payload: str) -> str:
        """A button's payload: an intent only when the conversation was offered it, else text."""
        if not payload:
            return ""
        text = await self.store.offered.citizen_text(conversation_id, payload)
        if text != payload.strip():
            log.info("%s: a payload %s was not offered; read as text", self.name(), ref(conversation_id))
        return text

    def too_large(self, event: Inbound) -> bool:
        """Over the text or metadata limit: the citizen is told, and Rasa never sees it."""
        if len(event.text) > self.common.max_text_chars:
            return True
        if not event.metadata:
            return False
        return len(json.dumps(event.metadata).encode("utf-8")) > self.common.max_metadata_bytes

    # --- Rasa's InputChannel interface ----------------------------------------------------------

    def get_output_channel(self) -> PlatformOutput:
        if self._output is None:
            self._output = self.make_output()
        return self._output

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        webhook = Blueprint(f"civic_{self.name()}_webhook", url_prefix=None)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"], stream=True)
        async def receive(request: Request) -> HTTPResponse:
            return await self.receive(request, on_new_message)

        self.add_routes(webhook)

        @webhook.listener("before_server_start")
        async def start(_app: Any, _loop: Any) -> None:
            self.spawn(self.on_start())
            self.intake.start(lambda fields: self.handle_entry(fields, on_new_message))

        @webhook.listener("after_server_stop")
        async def stop(_app: Any, _loop: Any) -> None:
            await self.shutdown()

        return webhook

    # --- the pipeline -------------------------------------------------------------------------

    async def receive(self, request: Request, on_new_message: OnNewMessage) -> HTTPResponse:
        limit = self.common.max_body_bytes
        body = await read_body(request, limit)
        if body is None:
            log.warning("%s: refused a webhook body over %d bytes", self.name(), limit)
            return response.json({"error": f"request body too large: the limit is {limit} bytes"}, status=413)
        if not self.verify_request(request, body):
            log.warning("%s: refused a webhook call without a valid signature", self.name())
            return response.json({"error": "invalid or missing signature"}, status=403)
        try:
            events = self.parse_events(request, body)
        except BadPayload as exc:
            log.warning("%s: refused a malformed webhook body: %s", self.name(), exc)
            return response.json({"error": str(exc)}, status=400)
        except Exception:
            # A shape our parser did not foresee: acknowledged (a 5xx makes the platform retry
            # the same body, and Meta eventually disables the webhook), and logged in full.
            log.exception("%s: could not read a signed webhook body; acknowledged and dropped", self.name())
            events = []
        if events:
            try:
                await self.enqueue(events)
            except STORE_ERRORS as exc:
                log.warning("%s: Redis unavailable, webhook refused (503): %s", self.name(), exc)
                return response.json({"error": "temporarily unavailable, please retry"}, status=503)
        return response.text(self.ack_body, content_type=self.ack_content_type)

    async def enqueue(self, events: list[Inbound]) -> None:
        """Append the events to the intake streams (not a duplicate delivery's); raises on a Redis error."""
        entries = [
            (
                self.conversation_id(event.sender_id),
                {"event": json.dumps(asdict(event))},
                self.store.seen_key(event.message_id) if event.message_id else "",
            )
            for event in events
        ]
        added = await self.intake.append(entries, self.common.dedup_ttl)
        for (conversation, _, _), entry_id in zip(entries, added, strict=True):
            if entry_id is None:
                log.info("%s: dropped a duplicate delivery from %s", self.name(), ref(conversation))

    def spawn(self, work: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def idle(self) -> None:
        """Wait until every event received here so far (and start-up work) is done or dead-lettered."""
        while self._tasks or await self.intake.busy():
            if self._tasks:
                await asyncio.gather(*list(self._tasks), return_exceptions=True)
            else:
                await asyncio.sleep(0.01)

    async def shutdown(self) -> None:
        await self.intake.stop(SHUTDOWN_GRACE)
        try:
            await asyncio.wait_for(asyncio.gather(*list(self._tasks), return_exceptions=True), SHUTDOWN_GRACE)
        except asyncio.TimeoutError:
            log.warning("%s: stopped with start-up work still running", self.name())
        await self.sender.close()
        await self.store.close()

    async def handle_entry(self, fields: Fields, on_new_message: OnNewMessage) -> None:
        """One intake entry; an error propagates so that the intake retries it."""
        event = Inbound(**json.loads(fields["event"]))
        conversation = fields.get("conversation") or self.conversation_id(event.sender_id)
        output = self.get_output_channel()
        held: list[tuple[str, dict[str, Any]]] = []
        with addressed(conversation, event.sender_id):
            delivery = DeliveryMark(fields.get("seen", ""))
            token, mark = _HELD.set(held), PROCESSED_MARK.set(delivery)
            try:
                await self.handle_event(event, conversation, output, on_new_message)
            finally:
                _HELD.reset(token)
                PROCESSED_MARK.reset(mark)
            if not delivery.marked:  # a turn that stored nothing (the save marks the others)
                await self.intake.processed(fields)
            for recipient_id, message in held:  # the turn is stored: now the citizen hears it, once
                try:
                    await output.send_response(recipient_id, message)
                except Exception:  # never fail (and so repeat) a stored turn over one reply
                    log.exception("%s: a reply to %s failed", self.name(), ref(recipient_id))

    async def handle_event(
        self, event: Inbound, conversation: str, output: PlatformOutput, on_new_message: OnNewMessage
    ) -> None:
        await self.store.remember_address(conversation, event.sender_id, self.common.address_ttl)
        await self.on_event(event, conversation, output)
        if event.kind == UNSUPPORTED or self.too_large(event):
            # in the language of the conversation's last reply: this message never reaches Rasa
            language = await self.store.language(conversation)
            texts = self.common.texts.in_language(language)
            if event.kind == UNSUPPORTED:
                text = texts.unsupported
            else:
                log.info("%s: a message over the size limits from %s", self.name(), ref(conversation))
                text = texts.too_long_for(self.common.max_text_chars)
            await output.send_response(conversation, {"text": text, REPLY_LANGUAGE_KEY: language})
            return
        # STOP, START, HELP...: answered here, never by Rasa; a Redis error makes the intake retry.
        if event.kind == TEXT:
            reply = await keyword_reply(self.store.client, conversation, self.name(), event.text)
            if reply:
                await output.send_response(conversation, {"text": reply})
                return
        text = await self.user_text(event, conversation)
        if not text:
            return
        await on_new_message(
            UserMessage(
                text,
                output,
                conversation,
                input_channel=self.name(),
                message_id=event.message_id or None,
                metadata=event.metadata or None,
            )
        )


class PlatformOutput(OutputChannel):
    """Base of the output channels: long texts split at the platform's limit, failures logged, not raised.

    `recipient_id` is always a conversation id; `platform_address()` turns it into the platform's
    user id right before a platform call. `name()` is the channel's name, which is what Rasa
    matches response variations against (`channel: twilio` gives SMS users the short answers).
    """

    channel: ClassVar[str] = ""
    text_limit: ClassVar[int] = 2000

    def __init__(self, connector: WebhookChannel) -> None:
        super().__init__()
        self.connector = connector

    @classmethod
    def name(cls) -> str:
        return cls.channel

    @property
    def common(self) -> CommonOptions:
        return self.connector.common

    @property
    def store(self) -> ChannelStore:
        return self.connector.store

    @property
    def sender(self) -> PlatformSender:
        return self.connector.sender

    async def may_send(self, recipient_id: str) -> bool:
        """False when the platform forbids a normal message now (Meta's 24-hour window)."""
        return True

    async def address(self, recipient_id: str) -> str | None:
        """The platform user id of a conversation: known in hand while answering, else from Redis."""
        return _ADDRESSES.get().get(recipient_id) or await self.store.address(recipient_id)

    async def platform_address(self, recipient_id: str) -> str:
        """The address a platform call goes to; a PlatformError (logged, nothing sent) when unknown."""
        address = await self.address(recipient_id)
        if address is None:
            raise PlatformError(self.channel, "send", 0, "no platform address is known for this conversation")
        return address

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        held = _HELD.get()
        if held is not None:  # a turn from the intake: sent once it is stored (handle_entry)
            held.append((recipient_id, dict(message)))
            return
        address = await self.address(recipient_id)
        if address is None:
            log.warning(
                "%s: nothing sent to %s: no platform address is known for this conversation",
                self.channel,
                ref(recipient_id),
            )
            return
        if not await self.may_send(recipient_id):
            return
        message = dict(message)
        language = reply_language(message)
        if language is not None:  # for what the connector says before the next reply (handle_event)
            await self.store.remember_language(recipient_id, language, self.common.address_ttl)
        token = _REPLY_LANGUAGE.set(language)
        try:
            await self.store.offered.remember(recipient_id, button_payloads(message))
            await self.add_privacy_notice(recipient_id, message)
            with addressed(recipient_id, address):
                await super().send_response(recipient_id, message)
        except PlatformError as exc:
            # a platform's error may quote the address ("Invalid 'To' Phone Number: +1555...")
            detail = str(exc).replace(address, ref(address))
            log.warning("%s: a reply to %s was not delivered: %s", self.channel, ref(recipient_id), detail)
        finally:
            _REPLY_LANGUAGE.reset(token)

    @property
    def texts(self) -> ChannelTexts:
        """The connector's own words in the language of the reply being sent (English outside one)."""
        return self.common.texts.in_language(_REPLY_LANGUAGE.get())

    async def add_privacy_notice(self, recipient_id: str, message: dict[str, Any]) -> None:
        """The first text sent to a conversation ends with the privacy notice (once per conversation)."""
        text, notice = message.get("text"), self.texts.privacy_notice
        if not isinstance(text, str) or not text.strip() or not notice:
            return
        if await self.store.first_reply(recipient_id, self.common.address_ttl):
            message["text"] = f"{text.rstrip()}\n\n{notice}"

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        for part in split_text(text or "", self.text_limit):
            await self.send_text_part(recipient_id, part)

    async def send_text_part(self, recipient_id: str, text: str) -> None:
        raise NotImplementedError

    async def send_quick_replies(
        self, recipient_id: str, text: str, quick_replies: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        await self.send_text_with_buttons(recipient_id, text, quick_replies, **kwargs)

    async def button_id(self, button: dict[str, Any], max_bytes: int) -> str:
        """The id a platform button carries: the payload, or a short token for it when it is too long."""
        payload = button_payload(button)
        if fits_bytes(payload, max_bytes):
            return payload
        token = await self.store.stash(payload, self.common.button_ttl)
        if token is not None:
            return token
        title = str(button.get("title") or "")
        return title.encode("utf-8")[:max_bytes].decode("utf-8", "ignore")
