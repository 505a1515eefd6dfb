"""Telegram: Rasa's TelegramInput, hardened.

What changes from Rasa 3.6.21's connector:

- every update must carry `X-Telegram-Bot-Api-Secret-Token` equal to TELEGRAM_SECRET_TOKEN
  (constant-time); Rasa instead calls getMe on every update and compares the bot's name;
- the webhook is registered when the server starts (the blueprint's `before_server_start`
  listener schedules setWebhook with `url` = PUBLIC_BASE_URL + "/webhooks/telegram/webhook",
  the secret token, and only the update types we handle), not with `asyncio.run` while Rasa
  loads its channels, which leaves aiogram's session on a closed loop; there is no
  unauthenticated `/set_webhook` route;
- duplicates (same `update_id`), edits, group chats, stickers, voice and other media are
  acknowledged without a 500; a shared location becomes metadata `{"location": {"lat",
  "long"}}`, a photo with a caption `{"media_id": <file_id>}` (Telegram's file URLs contain
  the bot token, so no URL is passed on); a button tap is answered (answerCallbackQuery) so the
  citizen's app stops its spinner;
- replies go to `POST {TELEGRAM_API_URL}/bot{token}/sendMessage` with aiohttp, at most one
  message per second per chat (Telegram's limit, paced through Redis so replicas share it),
  buttons as an inline keyboard (one per row; payloads over Telegram's 64-byte `callback_data`
  limit travel as a short Redis token), texts split at 4096 characters; a rated answer's
  "helpful" / "not helpful" buttons (issue #18) share the last row;
- commands: "/start" and "/help" become the intents in `COMMANDS`; any other "/word" is read as
  the word, so a citizen cannot trigger intents by typing them.

credentials.yml (key `bot.channels.telegram.TelegramBotInput`): `access_token`, `verify` (the
bot's username, Rasa's name for it), `secret_token`, `api_url`, `public_base_url`, optional
`webhook_url` (a full URL instead of PUBLIC_BASE_URL + path), `send_interval`, and the keys
`CommonOptions` reads.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import re
import time
from typing import Any, ClassVar

from rasa.core.channels.telegram import TelegramInput
from redis.exceptions import RedisError
from sanic.request import Request

from bot.channels.base import (
    COMMAND,
    PAYLOAD,
    TEXT,
    UNSUPPORTED,
    ChannelConfigError,
    CommonOptions,
    Credentials,
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
from bot.channels.http import PlatformError
from bot.channels.store import ChannelStore, ref
from bot.channels.text import button_title, lead_and_last
from bot.location import pin_message

log = logging.getLogger(__name__)

DEFAULT_TELEGRAM_URL = "https://api.telegram.org"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 (a header name)
SECRET_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")  # what Telegram accepts as secret_token
ALLOWED_UPDATES = ["message", "callback_query"]
UNSUPPORTED_MEDIA = (
    "sticker", "voice", "audio", "video", "video_note", "document", "animation", "contact", "dice", "poll",
)  # fmt: skip
COMMANDS = {"start": "/greet", "help": "/ask_capabilities"}
_CHAT_ID = re.compile(r"^-?\d+$")


# Reserve the chat's next sending slot: max(now, the slot after the last one), on Redis's clock so
# every replica agrees; returns how many milliseconds the caller waits before sending.
_RESERVE_SLOT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local slot = math.max(now, tonumber(redis.call('GET', KEYS[1]) or '0'))
local interval = tonumber(ARGV[1])
redis.call('SET', KEYS[1], slot + interval, 'PX', slot + interval - now + 1000)
return slot - now
"""


class ChatThrottle:
    """At most one message per `interval` seconds to each chat, across every replica.

    Each send reserves the chat's next slot in Redis (one atomic script) and sleeps until it, so
    two replicas answering one chat take turns instead of both sending at once. Should Redis be
    unreachable, the process paces the chat on its own clock rather than dropping the reply.
    """

    def __init__(self, interval: float, store: ChannelStore) -> None:
        self.interval = interval
        self.store = store
        self._local: dict[str, float] = {}

    async def wait(self, chat: str) -> None:
        if self.interval <= 0:
            return
        try:
            waited = await self.store.client.eval(
                _RESERVE_SLOT, 1, self.store.key("pace", chat), round(self.interval * 1000)
            )
            delay = int(waited) / 1000
        except (RedisError, OSError) as exc:
            log.warning("telegram: pacing without Redis (%s)", type(exc).__name__)
            delay = self._local_delay(chat)
        if delay > 0:
            await asyncio.sleep(delay)

    def _local_delay(self, chat: str) -> float:
        now = time.monotonic()
        slot = max(now, self._local.get(chat, 0.0))
        self._local[chat] = slot + self.interval
        if len(self._local) > 1000:
            self._local = {c: t for c, t in self._local.items() if t > now}
        return slot - now


def chat_id(recipient_id: str) -> int | str:
    return int(recipient_id) if _CHAT_ID.match(recipient_id) else recipient_id


class TelegramOutput(PlatformOutput):
    channel: ClassVar[str] = "telegram"
    text_limit: ClassVar[int] = 4096
    callback_bytes: ClassVar[int] = 64

    connector: TelegramBotInput

    async def call(self, method: str, params: dict[str, Any]) -> Any:
        return await self.sender.post(self.connector.method_url(method), what=method, json_body=params)

    async def send(self, recipient_id: str, method: str, params: dict[str, Any]) -> None:
        await self.send_to(await self.platform_address(recipient_id), method, params)

    async def send_to(self, address: str, method: str, params: dict[str, Any]) -> None:
        await self.connector.throttle.wait(address)
        await self.call(method, {"chat_id": chat_id(address), **params})

    async def send_text_part(self, recipient_id: str, text: str) -> None:
        await self.send(recipient_id, "sendMessage", {"text": text})

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        lead, last = lead_and_last(text or "", self.text_limit, self.text_limit)
        for part in lead:
            await self.send_text_part(recipient_id, part)
        own, rating = split_feedback(buttons)
        keyboard = [[await self.key(button)] for button in own]
        if rating:  # a rated answer: "helpful" and "not helpful" side by side, last
            keyboard.append([await self.key(b.as_button()) for b in rating])
        await self.send(
            recipient_id, "sendMessage", {"text": last or "…", "reply_markup": {"inline_keyboard": keyboard}}
        )

    async def key(self, button: dict[str, Any]) -> dict[str, str]:
        """An inline keyboard button; a payload over 64 bytes travels as a Redis token."""
        return {
            "text": button_title(button),
            "callback_data": await self.button_id(button, self.callback_bytes),
        }

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        await self.send(recipient_id, "sendPhoto", {"photo": image})

    async def send_custom_json(self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any) -> None:
        """A response's `custom` is a Bot API call: `method` (default sendMessage) and its parameters."""
        params = dict(json_message)
        method = str(params.pop("method", "sendMessage"))
        if "chat_id" in params:  # a response addressed to a group or channel of its own
            await self.send_to(str(params.pop("chat_id")), method, params)
        else:
            await self.send(recipient_id, method, params)


class TelegramBotInput(WebhookChannel, TelegramInput):
    access_token: str
    verify: str
    webhook_url: str

    @classmethod
    def name(cls) -> str:
        return "telegram"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> TelegramBotInput:
        if not credentials:
            cls.raise_missing_credentials_exception()
        creds = Credentials(cls.name(), credentials)
        return cls(
            creds.text("access_token", required=True),
            creds.text("verify"),
            creds.text("webhook_url"),
            CommonOptions.from_credentials(creds, DEFAULT_TELEGRAM_URL),
            secret_token=creds.text("secret_token", required=True),
            send_interval=creds.number("send_interval", 1.0, whole=False),
        )

    def __init__(
        self,
        access_token: str,
        verify: str,
        webhook_url: str,
        common: CommonOptions,
        *,
        secret_token: str,
        send_interval: float = 1.0,
    ) -> None:
        super().__init__(access_token, verify.lstrip("@"), webhook_url, debug_mode=False)
        if not SECRET_TOKEN.match(secret_token):
            raise ChannelConfigError(
                "telegram: 'secret_token' must be 1-256 characters among A-Z, a-z, 0-9, _ and - "
                "(what Telegram accepts)"
            )
        self.secret_token = secret_token
        self._setup(common)
        self.throttle = ChatThrottle(send_interval, self.store)
        if not self.webhook_url and self.common.public_base_url:
            self.webhook_url = f"{self.common.public_base_url}/webhooks/{self.url_prefix()}/webhook"

    def method_url(self, method: str) -> str:
        return f"{self.common.api_url}/bot{self.access_token}/{method}"

    def make_output(self) -> PlatformOutput:
        return TelegramOutput(self)

    def get_output_channel(self) -> PlatformOutput:
        # Rasa's version sets the webhook with asyncio.run() here; we do it in on_start().
        return WebhookChannel.get_output_channel(self)

    async def on_start(self) -> None:
        if not self.webhook_url:
            log.info("telegram: PUBLIC_BASE_URL is not set, so the webhook is not registered with Telegram")
            return
        params = {
            "url": self.webhook_url,
            "secret_token": self.secret_token,
            "allowed_updates": ALLOWED_UPDATES,
        }
        try:
            await self.sender.post(self.method_url("setWebhook"), what="setWebhook", json_body=params)
        except PlatformError as exc:
            log.error("telegram: could not register the webhook: %s", exc)
            return
        log.info("telegram: webhook registered")

    def verify_request(self, request: Request, body: bytes) -> bool:
        given = request.headers.get(SECRET_HEADER)
        if not given:
            return False
        return hmac.compare_digest(given.encode("utf-8"), self.secret_token.encode("utf-8"))

    def parse_events(self, request: Request, body: bytes) -> list[Inbound]:
        update = parse_json_object(body)
        update_id = as_id(update.get("update_id"))
        if not update_id:
            return []
        try:
            event = self.update_event(update, update_id)
        except (TypeError, ValueError, AttributeError):
            log.warning("telegram: skipped an update of an unexpected shape")
            return []
        return [event] if event is not None else []

    def update_event(self, update: dict[str, Any], update_id: str) -> Inbound | None:
        if "callback_query" in update:
            query = as_dict(update["callback_query"])
            message = as_dict(query.get("message"))
            chat_id = as_id(as_dict(message.get("chat")).get("id")) or as_id(
                as_dict(query.get("from")).get("id")
            )
            data = as_text(query.get("data"))
            if not chat_id:
                return None
            return Inbound(chat_id, PAYLOAD, data, update_id, reply_token=as_id(query.get("id")))
        if "message" not in update:
            return None  # edited_message, channel_post, my_chat_member, ...: nothing to answer
        message = as_dict(update["message"])
        chat = as_dict(message.get("chat"))
        sender = as_id(chat.get("id"))
        if not sender or chat.get("type") != "private":
            return None
        date = message.get("date")
        timestamp = float(date) if isinstance(date, int) and not isinstance(date, bool) else None
        text = as_text(message.get("text"))
        if text.strip():
            if text.startswith("/"):
                return self.command(sender, text, update_id, timestamp)
            return Inbound(sender, TEXT, text, update_id, timestamp)
        if "location" in message:
            place = as_dict(message.get("location"))
            pin = pin_message(place.get("latitude"), place.get("longitude"))
            if pin:
                return Inbound(sender, TEXT, pin[0], update_id, timestamp, pin[1])
        photos = [as_dict(p) for p in as_list(message.get("photo"))]
        if photos:
            largest = max(photos, key=lambda p: p.get("file_size") or p.get("width") or 0)
            media = {"media_id": as_text(largest.get("file_id"))} if largest.get("file_id") else {}
            caption = as_text(message.get("caption"))
            if caption.strip():
                return Inbound(sender, TEXT, caption, update_id, timestamp, media)
            return Inbound(sender, UNSUPPORTED, "", update_id, timestamp, media)
        if any(kind in message for kind in UNSUPPORTED_MEDIA):
            return Inbound(sender, UNSUPPORTED, "", update_id, timestamp)
        return None  # service messages: new chat title, pinned message, ...

    def command(self, sender: str, text: str, update_id: str, timestamp: float | None) -> Inbound:
        """A command: "/start" (also "/start@OurBot", "/start xyz") to its intent, others as plain words."""
        first, _, rest = text.strip().partition(" ")
        name, _, bot = first[1:].partition("@")
        if bot and self.verify and bot.lower() != self.verify.lower():
            log.info("telegram: a command for another bot")
        intent = COMMANDS.get(name.lower())
        if intent:
            return Inbound(sender, COMMAND, intent, update_id, timestamp)
        return Inbound(sender, TEXT, f"{name} {rest}".strip(), update_id, timestamp)

    async def on_event(self, event: Inbound, conversation_id: str, output: PlatformOutput) -> None:
        if not event.reply_token:
            return
        try:
            await self.sender.post(
                self.method_url("answerCallbackQuery"),
                what="answerCallbackQuery",
                json_body={"callback_query_id": event.reply_token},
            )
        except PlatformError as exc:
            log.info("telegram: could not answer the button tap of %s: %s", ref(conversation_id), exc)
