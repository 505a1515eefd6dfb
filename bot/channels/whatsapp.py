"""WhatsApp Cloud API: a custom connector on Meta's common pipeline.

Webhooks arrive as `{"object": "whatsapp_business_account", "entry": [{"changes": [{"field":
"messages", "value": {"metadata": {"phone_number_id"}, "contacts", "messages": [...],
"statuses": [...]}}]}]}`, signed with the app secret in `X-Hub-Signature-256`. Only changes
for our own phone number id are handled (a business account may have several numbers on one
app). Message types:

| type | becomes |
|---|---|
| `text` | the text |
| `interactive` (`button_reply`, `list_reply`), `button` (template quick reply) | the button's id / payload |
| `location` | "lat, long" with metadata `{"location": {"lat", "long"}}` |
| `image` with a caption | the caption, metadata `{"media_id": <WhatsApp media id>}` |
| `image` without caption, `audio`, `video`, `document`, `sticker`, `contacts`, ... | the "text only" notice |
| `reaction`, `system`, `statuses` (sent/delivered/read/failed) | nothing |

A media id, not a URL, is passed on: WhatsApp's media URLs need the access token to download.

Replies: `POST {META_GRAPH_URL}/{phone-number-id}/messages`, Bearer token. Texts split at 4096
characters; up to 3 buttons become reply buttons (titles cut to 20 characters), 4 to 10 a list
message (rows of 24 characters, the full title as the row's description); more than 10 are cut
to 10. Interactive bodies are limited to 1024 characters, so a longer text goes first as plain
messages. Nothing is sent outside the 24-hour customer service window.

A rated answer (issue #18) ends with "helpful" / "not helpful" reply buttons. When the answer has
no buttons of its own and fits one interactive body (1024 characters), the two buttons are under
the answer itself; otherwise (buttons of its own, which with the two would pass the limit of 3 and
mix "where next" with "did it help", or a longer text) the answer goes as it would unrated and a
short question follows with the two buttons (`feedback_question`, data/channels/messages.yml).

credentials.yml (key `bot.channels.whatsapp.WhatsAppInput`): `verify_token`, `app_secret`,
`access_token`, `phone_number_id`, `api_url`, and the keys `CommonOptions` reads (the list
button's label is `options_label` in data/channels/messages.yml).
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar

from rasa.core.channels.channel import InputChannel
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.broadcasts import delivery
from bot.channels.base import (
    PAYLOAD,
    TEXT,
    UNSUPPORTED,
    BadPayload,
    CommonOptions,
    Credentials,
    Inbound,
    OnNewMessage,
    PlatformOutput,
    as_dict,
    as_id,
    as_list,
    as_text,
    parse_json_object,
)
from bot.channels.feedback import split_feedback
from bot.channels.meta import DEFAULT_GRAPH_URL, MetaChannel, MetaOutput, bearer
from bot.channels.store import STORE_ERRORS
from bot.channels.text import button_title, lead_and_last, shorten
from bot.location import pin_message

log = logging.getLogger(__name__)

IGNORED_TYPES = frozenset({"reaction", "system", "request_welcome", "ephemeral"})


class WhatsAppOutput(MetaOutput):
    channel: ClassVar[str] = "whatsapp"
    text_limit: ClassVar[int] = 4096
    body_limit: ClassVar[int] = 1024
    max_buttons: ClassVar[int] = 3
    max_rows: ClassVar[int] = 10
    button_title: ClassVar[int] = 20
    row_title: ClassVar[int] = 24
    row_description: ClassVar[int] = 72
    button_id_bytes: ClassVar[int] = 256
    row_id_bytes: ClassVar[int] = 200

    connector: WhatsAppInput

    async def send(self, recipient_id: str, message: dict[str, Any], what: str) -> None:
        to = await self.platform_address(recipient_id)
        body = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to}
        body.update(message)
        await self.sender.post(
            f"{self.common.api_url}/{self.connector.phone_number_id}/messages",
            what=what,
            json_body=body,
            headers=bearer(self.connector.access_token),
        )

    async def send_text_part(self, recipient_id: str, text: str) -> None:
        await self.send(
            recipient_id, {"type": "text", "text": {"preview_url": False, "body": text}}, "send text"
        )

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        """A rated answer that fits one interactive body and has no buttons of its own carries the two
        feedback reply buttons itself; any other goes as it would unrated (text, or its own buttons),
        followed by the short `feedback_question` with the two reply buttons."""
        own, rating = split_feedback(buttons)
        if not rating:
            await self.send_interactive(recipient_id, text, buttons)
            return
        feedback = [b.as_button() for b in rating]
        lead, _ = lead_and_last(text or "", self.text_limit, self.body_limit)
        if not own and not lead and (text or "").strip():
            await self.send_interactive(recipient_id, text, feedback)
            return
        if own:
            await self.send_interactive(recipient_id, text, own)
        else:
            await self.send_text_message(recipient_id, text)
        await self.send_interactive(recipient_id, self.texts.feedback_question, feedback)

    async def send_interactive(self, recipient_id: str, text: str, buttons: list[dict[str, Any]]) -> None:
        """Text ending in reply buttons (up to 3) or a list message (4 to 10)."""
        lead, body = lead_and_last(text or "", self.text_limit, self.body_limit)
        for part in lead:
            await self.send_text_part(recipient_id, part)
        label = self.texts.options_label
        if len(buttons) <= self.max_buttons:
            interactive: dict[str, Any] = {
                "type": "button",
                "body": {"text": body or label},
                "action": {
                    "buttons": [
                        {
                            "type": "reply",
                            "reply": {
                                "id": await self.button_id(button, self.button_id_bytes),
                                "title": shorten(button_title(button), self.button_title),
                            },
                        }
                        for button in buttons
                    ]
                },
            }
        else:
            if len(buttons) > self.max_rows:
                log.warning("whatsapp: %d buttons, listing the first %d", len(buttons), self.max_rows)
            interactive = {
                "type": "list",
                "body": {"text": body or label},
                "action": {
                    "button": shorten(label, self.button_title),
                    "sections": [{"rows": [await self.row(b) for b in buttons[: self.max_rows]]}],
                },
            }
        await self.send(recipient_id, {"type": "interactive", "interactive": interactive}, "send buttons")

    async def row(self, button: dict[str, Any]) -> dict[str, str]:
        title = button_title(button)
        row = {"id": await self.button_id(button, self.row_id_bytes), "title": shorten(title, self.row_title)}
        if row["title"] != title:
            row["description"] = shorten(title, self.row_description)
        return row

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        await self.send(recipient_id, {"type": "image", "image": {"link": image}}, "send image")

    async def send_custom_json(self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any) -> None:
        """A response's `custom` is merged into the Cloud API message (e.g. `type` and its object)."""
        await self.send(recipient_id, dict(json_message), "send custom message")


class WhatsAppInput(MetaChannel, InputChannel):
    webhook_object: ClassVar[str] = "whatsapp_business_account"

    @classmethod
    def name(cls) -> str:
        return "whatsapp"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> WhatsAppInput:
        if not credentials:
            cls.raise_missing_credentials_exception()
        creds = Credentials(cls.name(), credentials)
        return cls(
            creds.text("verify_token", "verify", required=True),
            creds.text("app_secret", "secret", required=True),
            creds.text("access_token", required=True),
            creds.text("phone_number_id", required=True),
            CommonOptions.from_credentials(creds, DEFAULT_GRAPH_URL),
        )

    def __init__(
        self,
        verify_token: str,
        app_secret: str,
        access_token: str,
        phone_number_id: str,
        common: CommonOptions,
    ) -> None:
        self.verify_token, self.app_secret, self.access_token = verify_token, app_secret, access_token
        self.phone_number_id = phone_number_id
        self._setup(common)

    def make_output(self) -> PlatformOutput:
        return WhatsAppOutput(self)

    async def receive(self, request: Request, on_new_message: OnNewMessage) -> HTTPResponse:
        """The common pipeline, then the `statuses` of a signed body count broadcast receipts."""
        answer = await super().receive(request, on_new_message)
        if answer.status == 200 and request.body:
            try:
                for message_id, state, code in self.statuses(parse_json_object(request.body)):
                    await delivery.whatsapp_status(self.store.client, message_id, state, code)
            except STORE_ERRORS as exc:  # the message events are stored; a receipt may be lost
                log.warning("whatsapp: Redis unavailable, receipts not counted: %s", type(exc).__name__)
            except BadPayload:
                pass
        return answer

    def statuses(self, payload: dict[str, Any]) -> list[tuple[str, str, str]]:
        """(message id, status, first error code) of each status for our phone number."""
        found: list[tuple[str, str, str]] = []
        for entry in as_list(payload.get("entry")):
            for change in as_list(as_dict(entry).get("changes")):
                value = as_dict(as_dict(change).get("value"))
                if as_id(as_dict(value.get("metadata")).get("phone_number_id")) != self.phone_number_id:
                    continue
                for status in as_list(value.get("statuses")):
                    status = as_dict(status)
                    errors = [as_dict(e) for e in as_list(status.get("errors"))]
                    code = as_id(errors[0].get("code")) if errors else ""
                    found.append((as_text(status.get("id")), as_text(status.get("status")), code))
        return found

    def entry_events(self, entry: dict[str, Any]) -> list[Inbound]:
        events: list[Inbound] = []
        for change in as_list(entry.get("changes")):
            change = as_dict(change)
            value = as_dict(change.get("value"))
            if change.get("field") != "messages":
                continue
            number = as_id(as_dict(value.get("metadata")).get("phone_number_id"))
            if number != self.phone_number_id:
                log.info("whatsapp: ignored messages for another phone number id")
                continue
            for raw in as_list(value.get("messages")):
                try:
                    event = self.message_event(as_dict(raw))
                except (TypeError, ValueError, AttributeError):
                    log.warning("whatsapp: skipped a message of an unexpected shape")
                    continue
                if event is not None:
                    events.append(event)
        return events

    @staticmethod
    def message_event(message: dict[str, Any]) -> Inbound | None:
        sender, message_id = as_id(message.get("from")), as_text(message.get("id"))
        kind = as_text(message.get("type"))
        if not sender or kind in IGNORED_TYPES:
            return None
        stamp = as_id(message.get("timestamp"))
        timestamp = float(stamp) if stamp.isdigit() else None
        if kind == "text":
            body = as_text(as_dict(message.get("text")).get("body"))
            return Inbound(sender, TEXT, body, message_id, timestamp) if body.strip() else None
        if kind == "interactive":
            interactive = as_dict(message.get("interactive"))
            reply = as_dict(interactive.get("button_reply") or interactive.get("list_reply"))
            chosen = as_text(reply.get("id")) or as_text(reply.get("title"))
            return Inbound(sender, PAYLOAD, chosen, message_id, timestamp) if chosen else None
        if kind == "button":
            button = as_dict(message.get("button"))
            chosen = as_text(button.get("payload")) or as_text(button.get("text"))
            return Inbound(sender, PAYLOAD, chosen, message_id, timestamp) if chosen else None
        if kind == "location":
            place = as_dict(message.get("location"))
            pin = pin_message(place.get("latitude"), place.get("longitude"))
            if pin:
                return Inbound(sender, TEXT, pin[0], message_id, timestamp, pin[1])
            return Inbound(sender, UNSUPPORTED, "", message_id, timestamp)
        if kind == "image":
            image = as_dict(message.get("image"))
            media = {"media_id": as_text(image.get("id"))} if image.get("id") else {}
            caption = as_text(image.get("caption"))
            if caption.strip():
                return Inbound(sender, TEXT, caption, message_id, timestamp, media)
            return Inbound(sender, UNSUPPORTED, "", message_id, timestamp, media)
        return Inbound(sender, UNSUPPORTED, "", message_id, timestamp)
