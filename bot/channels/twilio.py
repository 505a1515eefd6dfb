"""SMS (and WhatsApp through Twilio): Rasa's TwilioInput, hardened.

What changes from Rasa 3.6.21's connector:

- every request must carry a valid `X-Twilio-Signature`: base64 HMAC-SHA1, keyed with the auth
  token, of the URL Twilio called followed by every POST parameter (sorted by name) as name and
  value. The URL is the one the request was made to, or `PUBLIC_BASE_URL` + path when the
  assistant runs behind a proxy (Twilio signs the public URL). Rasa checks nothing;
- duplicates (same `MessageSid`), status callbacks (no `Body`), empty messages and oversize
  bodies are acknowledged, never a 500 (Rasa raises in debug mode); a WhatsApp location
  (`Latitude`/`Longitude`) becomes metadata `{"location": {"lat", "long"}}`, MMS media
  `{"media_url": MediaUrl0}` (with a text; media alone gets the "text only" notice);
- replies go to `POST {TWILIO_API_URL}/2010-04-01/Accounts/{sid}/Messages.json` with basic auth
  (`To`, `From`, `Body`), through aiohttp instead of the blocking twilio SDK (whose retry loop
  in Rasa never resets its counter between conversations);
- SMS has no buttons: options are sent as numbered lines, remembered per conversation in Redis,
  and a reply "2" is turned back into the second button's payload (for the next message only);
- long answers are split at sentence boundaries into messages of at most 1600 characters
  (Twilio's limit; the carrier splits those into segments);
- a rated answer (issue #18) asks "Was this helpful? Reply Y or N" (`sms_prompt` in
  data/feedback/messages.yml) only when FEEDBACK_SMS=true: every SMS costs money. Its own options
  stay numbered above the question, and a reply "Y"/"yes"/"N"/"no" (case and punctuation ignored)
  to that message, and to the next one only, becomes the feedback button's payload. With
  FEEDBACK_SMS off the feedback buttons are dropped before anything is sent: the SMS is the one
  an unrated answer would get, not a character (or segment) longer.

The output channel is named `twilio`, so Rasa picks the `channel: twilio` variations of
responses (the content's SMS short answers). A `TWILIO_NUMBER` starting with `MG` is used as a
Messaging Service SID; replies to `whatsapp:` senders come from `whatsapp:` + the number.

credentials.yml (key `bot.channels.twilio.TwilioSmsInput`): `account_sid`, `auth_token`,
`twilio_number` (Rasa's names), `api_url`, `public_base_url`, and the keys `CommonOptions` reads
(the line after numbered options is `options_prompt` in data/channels/messages.yml).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import re
from collections import defaultdict
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import aiohttp
from rasa.core.channels.twilio import TwilioInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.broadcasts import delivery
from bot.channels.base import (
    PAYLOAD,
    TEXT,
    UNSUPPORTED,
    BadPayload,
    ChannelConfigError,
    CommonOptions,
    Credentials,
    Inbound,
    PlatformOutput,
    WebhookChannel,
    read_body,
)
from bot.channels.feedback import split_feedback, without_feedback, yes_no
from bot.channels.store import STORE_ERRORS
from bot.channels.text import button_payload, button_title, numbered_options, parse_choice
from bot.content.agency import SOURCE_LANGUAGE
from bot.feedback.answers import RATING_KEY, UP
from bot.feedback.texts import FeedbackFileError
from bot.feedback.texts import load_texts as load_feedback_texts
from bot.location import pin_message
from bot.settings import Env, MeasurementSettings, SettingsError

log = logging.getLogger(__name__)

DEFAULT_TWILIO_URL = "https://api.twilio.com"
SIGNATURE_HEADER = "X-Twilio-Signature"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
DEFAULT_PORTS = {"https": 443, "http": 80}
CORRUPTED_AT = re.compile(r"(?<=\w)¡(?=\w)")


def form_params(body: bytes) -> list[tuple[str, str]]:
    try:
        return parse_qsl(body.decode("utf-8"), keep_blank_values=True)
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadPayload("malformed form data") from exc


def signature(auth_token: str, url: str, params: list[tuple[str, str]]) -> str:
    """Twilio's request signature (what its RequestValidator computes) for a form POST."""
    values: dict[str, set[str]] = defaultdict(set)
    for name, value in params:
        values[name].add(value)
    data = url + "".join(name + value for name in sorted(values) for value in sorted(values[name]))
    digest = hmac.new(auth_token.encode("utf-8"), data.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def url_variants(url: str) -> list[str]:
    """The URL as given, with the default port made explicit, and without it (Twilio may sign either)."""
    parts = urlsplit(url)
    default = DEFAULT_PORTS.get(parts.scheme)
    host = parts.hostname or ""
    variants = [url]
    if default is not None and parts.port in (None, default):
        auth = parts.netloc.rpartition("@")[0]
        prefix = f"{auth}@" if auth else ""
        for netloc in (f"{prefix}{host}:{default}", f"{prefix}{host}"):
            variant = urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
            if variant not in variants:
                variants.append(variant)
    return variants


def signature_valid(auth_token: str, url: str, params: list[tuple[str, str]], header: str | None) -> bool:
    if not auth_token or not header:
        return False
    given = header.strip().encode("utf-8")
    return any(
        hmac.compare_digest(signature(auth_token, candidate, params).encode("ascii"), given)
        for candidate in url_variants(url)
    )


class TwilioOutput(PlatformOutput):
    channel: ClassVar[str] = "twilio"
    text_limit: ClassVar[int] = 1600

    connector: TwilioSmsInput

    def origin(self, address: str) -> dict[str, str]:
        number = self.connector.twilio_number
        if number.startswith("MG"):
            return {"MessagingServiceSid": number}
        if address.startswith("whatsapp:") and not number.startswith("whatsapp:"):
            number = f"whatsapp:{number}"
        return {"From": number}

    async def send(self, recipient_id: str, params: dict[str, Any], what: str) -> None:
        connector = self.connector
        address = await self.platform_address(recipient_id)
        form = {"To": address, **self.origin(address), **params}
        await self.sender.post(
            f"{self.common.api_url}/2010-04-01/Accounts/{connector.account_sid}/Messages.json",
            what=what,
            form=form,
            auth=aiohttp.BasicAuth(connector.account_sid or "", connector.auth_token or ""),
        )

    async def send_text_part(self, recipient_id: str, text: str) -> None:
        await self.send(recipient_id, {"Body": text}, "send SMS")

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        if not self.connector.feedback_sms:  # sent as if never rated: no question, no extra segment
            message = without_feedback(message)
        await super().send_response(recipient_id, message)

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        own, rating = split_feedback(buttons)
        given = kwargs.get(RATING_KEY)
        language = (
            str(given.get("language") or SOURCE_LANGUAGE) if isinstance(given, dict) else SOURCE_LANGUAGE
        )
        prompt = self.sms_prompt(language) if len(rating) == 2 else ""
        if self.connector.feedback_sms:  # the Y/N of an earlier message is no answer to this one
            pair = (rating[0].payload, rating[1].payload) if prompt else None
            await self.store.remember_yes_no(recipient_id, pair, self.common.options_ttl)
        listed = (text or "").strip()
        if own:
            payloads = [button_payload(b) for b in own]
            await self.store.remember_options(recipient_id, payloads, self.common.options_ttl)
            listed = numbered_options(listed, [button_title(b) for b in own], self.texts.options_prompt)
        await self.send_text_message(recipient_id, "\n".join(line for line in (listed, prompt) if line))

    def sms_prompt(self, language: str = SOURCE_LANGUAGE) -> str:
        """The feedback question ("Reply Y or N") in the reader's language, re-read when staff edit it;
        "" if the file broke."""
        try:
            return load_feedback_texts(language=language).sms_prompt
        except FeedbackFileError as exc:
            log.error("twilio: a rated answer sent without its feedback question: %s", exc)
            return ""

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        await self.send(recipient_id, {"MediaUrl": image}, "send MMS")

    async def send_custom_json(self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any) -> None:
        """A response's `custom` is sent as Messages API parameters (e.g. `ContentSid`), `To`/`From` added."""
        await self.send(recipient_id, {k: str(v) for k, v in json_message.items()}, "send custom message")


class TwilioSmsInput(WebhookChannel, TwilioInput):
    ack_body: ClassVar[str] = EMPTY_TWIML
    ack_content_type: ClassVar[str] = "text/xml; charset=utf-8"

    account_sid: str
    auth_token: str
    twilio_number: str
    feedback_sms: bool  # FEEDBACK_SMS=true: rated answers ask "Reply Y or N" (each SMS costs money)

    @classmethod
    def name(cls) -> str:
        return "twilio"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> TwilioSmsInput:
        if not credentials:
            cls.raise_missing_credentials_exception()
        creds = Credentials(cls.name(), credentials)
        return cls(
            creds.text("account_sid", required=True),
            creds.text("auth_token", required=True),
            creds.text("twilio_number", required=True),
            CommonOptions.from_credentials(creds, DEFAULT_TWILIO_URL),
        )

    def __init__(self, account_sid: str, auth_token: str, twilio_number: str, common: CommonOptions) -> None:
        super().__init__(account_sid, auth_token, twilio_number, debug_mode=False)
        self._setup(common)
        self.feedback_sms = sms_feedback_enabled()

    def make_output(self) -> PlatformOutput:
        return TwilioOutput(self)

    def add_routes(self, blueprint: Blueprint) -> None:
        """`/webhooks/twilio/status`: the status callbacks of broadcast messages (signed like messages)."""

        @blueprint.route("/status", methods=["POST"])
        async def status(request: Request) -> HTTPResponse:
            return await self.status_callback(request)

    async def status_callback(self, request: Request) -> HTTPResponse:
        body = await read_body(request, self.common.max_body_bytes)
        if body is None:
            return response.json({"error": "request body too large"}, status=413)
        if not self.verify_request(request, body):
            log.warning("twilio: refused a status callback without a valid signature")
            return response.json({"error": "invalid or missing signature"}, status=403)
        params = dict(form_params(body))
        sid, state = params.get("MessageSid", ""), params.get("MessageStatus", "")
        try:
            await delivery.twilio_status(self.store.client, sid, state, params.get("ErrorCode", ""))
        except STORE_ERRORS as exc:
            log.warning("twilio: Redis unavailable, a status callback is retried: %s", type(exc).__name__)
            return response.json({"error": "temporarily unavailable"}, status=503)
        return response.text(self.ack_body, content_type=self.ack_content_type)

    def signed_url(self, request: Request) -> str:
        if not self.common.public_base_url:
            return request.url
        query = f"?{request.query_string}" if request.query_string else ""
        return f"{self.common.public_base_url}{request.path}{query}"

    def verify_request(self, request: Request, body: bytes) -> bool:
        try:
            params = form_params(body)
        except BadPayload:
            return False
        return signature_valid(
            self.auth_token, self.signed_url(request), params, request.headers.get(SIGNATURE_HEADER)
        )

    def parse_events(self, request: Request, body: bytes) -> list[Inbound]:
        if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            raise BadPayload("expected form data (application/x-www-form-urlencoded)")
        params: dict[str, str] = {}
        for name, value in form_params(body):
            params.setdefault(name, value)
        sender, message_id = params.get("From", ""), params.get("MessageSid") or params.get("SmsSid", "")
        if not sender or ("Body" not in params and "Latitude" not in params and not params.get("NumMedia")):
            return []  # a status callback (MessageStatus, no Body) or something else that is no message
        media = {"media_url": params["MediaUrl0"]} if params.get("MediaUrl0") else {}
        pin = pin_message(params.get("Latitude"), params.get("Longitude")) if "Latitude" in params else None
        if pin:
            return [Inbound(sender, TEXT, pin[0], message_id, metadata=pin[1])]
        if params.get("ButtonPayload"):
            return [Inbound(sender, PAYLOAD, params["ButtonPayload"], message_id)]
        # "@" arrives as "¡" from some carriers (GSM 03.38), as Rasa's connector knows; but only inside
        # a word ("ana¡example.com"): one that opens a word is Spanish ("¡Alto!", "¡Hola!").
        text = CORRUPTED_AT.sub("@", params.get("Body", ""))
        if text.strip():
            return [Inbound(sender, TEXT, text, message_id, metadata=media)]
        if media or params.get("NumMedia", "0") not in ("", "0"):
            return [Inbound(sender, UNSUPPORTED, "", message_id, metadata=media)]
        return []

    async def user_text(self, event: Inbound, conversation_id: str) -> str:
        """A reply "2" to numbered options is the second option's payload, a "Y" or "N" to the
        feedback question its button's payload (if they were offered)."""
        options = await self.store.take_options(conversation_id)
        pair = await self.store.take_yes_no(conversation_id) if self.feedback_sms else None
        if event.kind == TEXT and not event.metadata.get("location"):
            choice = parse_choice(event.text)
            if choice is not None and 1 <= choice <= len(options):
                return await self.payload_text(conversation_id, options[choice - 1])
            value = yes_no(event.text) if pair is not None else None
            if pair is not None and value is not None:
                return await self.payload_text(conversation_id, pair[0] if value == UP else pair[1])
        return await super().user_text(event, conversation_id)


def sms_feedback_enabled() -> bool:
    """FEEDBACK_SMS in Rasa's environment; when on, its question must be readable at start."""
    try:
        enabled = MeasurementSettings.from_env(Env(dict(os.environ))).feedback_sms
        if enabled:
            load_feedback_texts()
    except (SettingsError, FeedbackFileError) as exc:
        raise ChannelConfigError(f"twilio: {exc}") from None
    return enabled
