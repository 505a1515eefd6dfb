"""The REST channel, server to server only: a bearer token, its own namespace of conversations, limits.

Rasa's `RestInput` takes `sender` from the body with no authentication and stores the conversation
under it, so anyone could write into a citizen's conversation (an SMS citizen's is stored under a
keyed hash now, but the REST channel must not reach it by any other road either). This one:

- refuses any call without `Authorization: Bearer <REST_CHANNEL_TOKEN>` (401, constant-time
  comparison) and will not start without a token;
- stores the conversation under `IdentityKey.conversation_id("rest", sender)`, so a sender of
  "+15551234567" is `rest-<hash>`, never the SMS citizen's `twilio-<hash>`; every reply's
  `recipient_id` is that id (a caller reads the tracker with it);
- makes every turn a `rest` turn: the body's `input_channel` and `metadata` are ignored (metadata
  such as `media_url` or a location pin would otherwise be trusted by the actions);
- caps the body (413), answers a message over the character limit with a polite notice (200),
  and rate-limits per conversation and per client address (429 with `Retry-After`);
- reads a "/intent" text as typed text unless a button offered it (`bot/channels/offered.py`).

Streaming (`?stream=true` in Rasa's channel) is not offered: every caller gets the whole turn.
"""

from __future__ import annotations

import hmac
import logging
from asyncio import CancelledError
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.base import BadPayload, ChannelConfigError, OnNewMessage, parse_json_object, read_body
from bot.channels.offered import OfferedPayloads, button_payloads
from bot.channels.ratelimit import client_address, retry_after
from bot.channels.store import STORE_ERRORS, ref
from bot.channels.web import WebChannel, WebChannelOptions
from bot.settings import Settings
from bot.subscriptions.keywords import keyword_reply
from bot.tracker_store import StoreUnavailable

log = logging.getLogger(__name__)

MAX_SENDER_CHARS = 256
STORE_RETRY_SECONDS = 5  # a Redis hiccup is usually over by then; citizens read "in a minute"


class CivicRestOutput(CollectingOutputChannel):
    """Collects the turn's replies for the HTTP answer and remembers the buttons they offer."""

    def __init__(self, offered: OfferedPayloads) -> None:
        super().__init__()
        self.offered = offered

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        await self.offered.remember(recipient_id, button_payloads(message))
        await super().send_response(recipient_id, message)


def bearer_token(request: Request) -> str:
    scheme, _, token = (request.headers.get("authorization") or "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def error(status: int, message: str, headers: dict[str, str] | None = None) -> HTTPResponse:
    return response.json({"error": message}, status=status, headers=headers)


class CivicRestInput(WebChannel, RestInput):
    """`/webhooks/rest/webhook` for trusted servers; see the module's docstring."""

    @classmethod
    def name(cls) -> str:
        return "rest"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> CivicRestInput:
        token = str((credentials or {}).get("token") or Settings.from_env().security.rest_token).strip()
        if not token:
            raise ChannelConfigError(
                "The REST channel needs a token: set REST_CHANNEL_TOKEN (make run generates one)."
            )
        return cls(token, WebChannelOptions.from_credentials(cls.name(), credentials))

    def __init__(self, token: str, options: WebChannelOptions) -> None:
        self.token = token
        self._adopt(options, self.name())

    def conversation_id(self, sender: str) -> str:
        return self.identity.conversation_id(self.name(), sender)

    def authorized(self, request: Request) -> bool:
        given = bearer_token(request)
        return bool(given) and hmac.compare_digest(given.encode("utf-8"), self.token.encode("utf-8"))

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        webhook = Blueprint("civic_rest_webhook", url_prefix=None)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"], stream=True)
        async def receive(request: Request) -> HTTPResponse:
            return await self.receive(request, on_new_message)

        @webhook.listener("after_server_stop")
        async def stop(_app: Any, _loop: Any) -> None:
            await self.store.close()

        return webhook

    async def receive(self, request: Request, on_new_message: OnNewMessage) -> HTTPResponse:
        if not self.authorized(request):
            log.warning("rest: refused a call without a valid token")
            return error(401, "missing or wrong token: send Authorization: Bearer <REST_CHANNEL_TOKEN>")
        limit = self.limits.max_body_bytes
        body = await read_body(request, limit)
        if body is None:
            return error(413, f"request body too large: the limit is {limit} bytes")
        try:
            sender, text = parse_message(body)
        except ValueError as exc:
            return error(400, str(exc))
        conversation_id = self.conversation_id(sender)
        address = client_address(request.ip, request.headers.get("x-forwarded-for"), self.proxies)
        limiter = self.limiter
        wait = await limiter.take(
            (
                limiter.conversation(conversation_id, self.limits.conversation),
                limiter.address(self.name(), address, self.limits.rest_address),
            )
        )
        if wait:
            seconds = retry_after(wait)
            log.info("rest: rate-limited %s for %ds", ref(conversation_id), seconds)
            return error(429, f"too many messages: retry after {seconds} s", {"Retry-After": str(seconds)})
        if len(text) > self.limits.max_message_chars:
            notice = self.notices.too_long(self.limits.max_message_chars)
            return response.json([{"recipient_id": conversation_id, "text": notice}])
        try:
            return response.json(await self.turn(on_new_message, conversation_id, text))
        except StoreUnavailable:
            # the turn was not stored: the caller sends the message again (503, Retry-After)
            log.warning("rest: the conversation store was unavailable for %s", ref(conversation_id))
            apology = [{"recipient_id": conversation_id, "text": self.notices.store_unavailable}]
            return response.json(apology, status=503, headers={"Retry-After": str(STORE_RETRY_SECONDS)})

    async def turn(self, on_new_message: OnNewMessage, conversation_id: str, text: str) -> list[Any]:
        """Rasa's answer to one message, as Rasa's own REST channel gives it; `StoreUnavailable`
        when the conversation could not be read or saved (bot/tracker_store.py)."""
        collector = CivicRestOutput(self.offered)
        try:  # STOP, START, HELP...: answered here, never by Rasa (bot/subscriptions/keywords.py)
            reply = await keyword_reply(self.store.client, conversation_id, self.name(), text)
        except STORE_ERRORS as exc:
            raise StoreUnavailable(str(exc)) from exc
        if reply:
            return [{"recipient_id": conversation_id, "text": reply}]
        message = await self.offered.citizen_text(conversation_id, text)
        try:
            await on_new_message(
                UserMessage(message, collector, conversation_id, input_channel=self.name(), metadata=None)
            )
        except StoreUnavailable:
            raise
        except CancelledError:
            log.error("rest: a message to %s timed out", ref(conversation_id))
        except Exception:
            log.exception("rest: a message to %s failed", ref(conversation_id))
        return collector.messages


def parse_message(body: bytes) -> tuple[str, str]:
    """`sender` and `message` of a body; ValueError (400) says what is wrong with it."""
    try:
        payload = parse_json_object(body)
    except BadPayload as exc:
        raise ValueError(str(exc)) from None
    sender, text = payload.get("sender"), payload.get("message")
    if isinstance(sender, int) and not isinstance(sender, bool):
        sender = str(sender)
    if not isinstance(sender, str) or not sender.strip():
        raise ValueError("`sender` must be a non-empty string")
    if len(sender) > MAX_SENDER_CHARS:
        raise ValueError(f"`sender` is longer than {MAX_SENDER_CHARS} characters")
    if not isinstance(text, str):
        raise ValueError("`message` must be a string")
    return sender.strip(), text
