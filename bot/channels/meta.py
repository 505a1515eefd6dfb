"""What Messenger, Instagram and WhatsApp share: Meta's signature, verification handshake and 24-hour window.

- Every POST carries `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body, keyed with
  the app secret>`; it is checked in constant time before the body is even parsed.
- Subscribing the webhook is a GET with `hub.mode=subscribe`, `hub.verify_token` (ours) and
  `hub.challenge`, which is echoed; any other token gets 403.
- A business may answer freely only within 24 hours of the person's last message. Each message
  opens (or extends) that window in Redis; a reply outside it is not sent, and logged.
- Messenger and Instagram deliver `entry[].messaging[]` events of the same shape, parsed here by
  `messaging_events`; `MessagingOutput` sends through their common Send API (`POST /me/messages`).
  Buttons are quick replies; a rated answer's "helpful" / "not helpful" pair (issue #18) are its
  last two, kept when more than 13 buttons must be cut.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from typing import Any, ClassVar

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.base import (
    PAYLOAD,
    TEXT,
    UNSUPPORTED,
    WINDOW_SECONDS,
    Inbound,
    PlatformOutput,
    WebhookChannel,
    as_dict,
    as_id,
    as_list,
    as_text,
    parse_json_object,
)
from bot.channels.feedback import split_feedback
from bot.channels.store import ref
from bot.channels.text import button_title, lead_and_last, shorten
from bot.location import pin_message

log = logging.getLogger(__name__)

DEFAULT_GRAPH_URL = "https://graph.facebook.com/v18.0"
SIGNATURE_HEADER = "X-Hub-Signature-256"


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def signature_valid(secret: str, body: bytes, header: str | None) -> bool:
    if not secret or not header:
        return False
    return hmac.compare_digest(signature(secret, body).encode("ascii"), header.strip().encode("utf-8"))


def token_equal(given: str | None, expected: str) -> bool:
    if not given or not expected:
        return False
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class MetaChannel(WebhookChannel):
    """Signature, handshake and window for the three Meta connectors."""

    ack_body: ClassVar[str] = "EVENT_RECEIVED"
    webhook_object: ClassVar[str] = ""  # the `object` of the payloads this channel handles

    verify_token: str
    app_secret: str
    access_token: str

    def verify_request(self, request: Request, body: bytes) -> bool:
        return signature_valid(self.app_secret, body, request.headers.get(SIGNATURE_HEADER))

    def add_routes(self, blueprint: Blueprint) -> None:
        @blueprint.route("/webhook", methods=["GET"])
        async def handshake(request: Request) -> HTTPResponse:
            return self.handshake(request)

    def handshake(self, request: Request) -> HTTPResponse:
        challenge = request.args.get("hub.challenge", "")
        if (
            request.args.get("hub.mode") == "subscribe"
            and token_equal(request.args.get("hub.verify_token"), self.verify_token)
            and 0 < len(challenge) <= 256
        ):
            log.info("%s: webhook subscription verified", self.name())
            return response.text(challenge)
        log.warning("%s: webhook verification refused: wrong verify token or mode", self.name())
        return response.text("verification failed", status=403)

    def parse_events(self, request: Request, body: bytes) -> list[Inbound]:
        payload = parse_json_object(body)
        if payload.get("object") != self.webhook_object:
            log.info("%s: ignored a webhook for object %r", self.name(), payload.get("object"))
            return []
        events: list[Inbound] = []
        for entry in as_list(payload.get("entry")):
            events.extend(self.entry_events(as_dict(entry)))
        return events

    def entry_events(self, entry: dict[str, Any]) -> list[Inbound]:
        raise NotImplementedError

    async def on_event(self, event: Inbound, conversation_id: str, output: PlatformOutput) -> None:
        await self.store.open_window(conversation_id, event.timestamp or time.time(), WINDOW_SECONDS)


class MetaOutput(PlatformOutput):
    connector: MetaChannel

    async def may_send(self, recipient_id: str) -> bool:
        if await self.store.window_open(recipient_id):
            return True
        log.warning(
            "%s: not replying to %s: their last message is over 24 hours old (outside the messaging window)",
            self.channel,
            ref(recipient_id),
        )
        return False


# --- Messenger and Instagram: entry[].messaging[] -------------------------------------------------


def messaging_events(entry: dict[str, Any], channel: str) -> list[Inbound]:
    events: list[Inbound] = []
    for raw in as_list(entry.get("messaging")):
        try:
            event = messaging_event(as_dict(raw))
        except (TypeError, ValueError, AttributeError):
            log.warning("%s: skipped a messaging event of an unexpected shape", channel)
            continue
        if event is not None:
            events.append(event)
    return events


def messaging_event(raw: dict[str, Any]) -> Inbound | None:
    """One `messaging` item as an Inbound, or None for what needs no answer (receipts, echoes, reactions)."""
    sender = as_id(as_dict(raw.get("sender")).get("id"))
    if not sender:
        return None
    stamp = raw.get("timestamp")
    timestamp = stamp / 1000 if isinstance(stamp, (int, float)) and not isinstance(stamp, bool) else None
    if "message" in raw:
        return _message(as_dict(raw["message"]), sender, timestamp)
    if "postback" in raw:
        postback = as_dict(raw["postback"])
        payload, title = as_text(postback.get("payload")), as_text(postback.get("title"))
        message_id = as_text(postback.get("mid")) or f"postback:{sender}:{stamp}"
        if payload:
            return Inbound(sender, PAYLOAD, payload, message_id, timestamp)
        if title:
            return Inbound(sender, TEXT, title, message_id, timestamp)
    return None  # delivery, read, reaction, optin, referral, standby, message_edit, ...


def _message(message: dict[str, Any], sender: str, timestamp: float | None) -> Inbound | None:
    if message.get("is_echo") or message.get("is_deleted"):
        return None
    mid = as_text(message.get("mid"))
    quick_reply = as_text(as_dict(message.get("quick_reply")).get("payload"))
    if quick_reply:
        return Inbound(sender, PAYLOAD, quick_reply, mid, timestamp)
    text = as_text(message.get("text"))
    attachments = [as_dict(a) for a in as_list(message.get("attachments"))]
    for attachment in attachments:
        if attachment.get("type") == "location":
            coordinates = as_dict(as_dict(attachment.get("payload")).get("coordinates"))
            pin = pin_message(coordinates.get("lat"), coordinates.get("long"))
            if pin:
                return Inbound(sender, TEXT, pin[0], mid, timestamp, pin[1])
    media = {}
    url = next(
        (as_text(as_dict(a.get("payload")).get("url")) for a in attachments if a.get("type") == "image"), ""
    )
    if url:
        media = {"media_url": url}
    if text.strip():
        return Inbound(sender, TEXT, text, mid, timestamp, media)
    if attachments or message.get("is_unsupported") or message.get("sticker_id"):
        return Inbound(sender, UNSUPPORTED, "", mid, timestamp, media)
    return None


class MessagingOutput(MetaOutput):
    """Messenger's and Instagram's Send API: `POST {graph}/me/messages`, Bearer token."""

    messaging_type: ClassVar[str | None] = "RESPONSE"
    max_quick_replies: ClassVar[int] = 13
    quick_reply_title: ClassVar[int] = 20
    payload_bytes: ClassVar[int] = 1000

    async def send_message(self, recipient_id: str, message: dict[str, Any], what: str) -> None:
        body: dict[str, Any] = {"recipient": {"id": await self.platform_address(recipient_id)}}
        if self.messaging_type:
            body["messaging_type"] = self.messaging_type
        body["message"] = message
        await self.sender.post(
            f"{self.common.api_url}/me/messages",
            what=what,
            json_body=body,
            headers=bearer(self.connector.access_token),
        )

    async def send_text_part(self, recipient_id: str, text: str) -> None:
        await self.send_message(recipient_id, {"text": text}, "send text")

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        if len(buttons) > self.max_quick_replies:
            log.warning(
                "%s: %d buttons, sending the first %d", self.channel, len(buttons), self.max_quick_replies
            )
        # A rated answer's two feedback buttons come last and are never the ones cut.
        own, rating = split_feedback(buttons)
        room = max(0, self.max_quick_replies - len(rating))
        buttons = [*own[:room], *(b.as_button() for b in rating)]
        lead, last = lead_and_last(text or "", self.text_limit, self.text_limit)
        for part in lead:
            await self.send_text_part(recipient_id, part)
        replies = [
            {
                "content_type": "text",
                "title": shorten(button_title(button), self.quick_reply_title),
                "payload": await self.button_id(button, self.payload_bytes),
            }
            for button in buttons[: self.max_quick_replies]
        ]
        message = {"text": last or "\u2063", "quick_replies": replies} if replies else {"text": last}
        await self.send_message(recipient_id, message, "send quick replies")

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        await self.send_message(
            recipient_id, {"attachment": {"type": "image", "payload": {"url": image}}}, "send image"
        )

    async def send_custom_json(self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any) -> None:
        """A response's `custom` is sent as the Send API's `message` object, as is."""
        await self.send_message(recipient_id, dict(json_message), "send custom message")
