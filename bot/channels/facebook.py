"""Facebook Messenger: Rasa's FacebookInput, hardened.

What changes from Rasa 3.6.21's connector:

- the signature is `X-Hub-Signature-256` (SHA-256), compared in constant time; Rasa checks the
  SHA-1 `X-Hub-Signature` with `==` and answers an unsigned call 200 "not validated";
- a wrong verify token in the subscription handshake is 403, not 200;
- every event of every entry of a batch is handled, in order (Rasa's returns after the first);
- duplicates (same `mid`), bodies over 64 KB, malformed JSON, receipts, reactions and echoes are
  handled as the pipeline in `bot.channels.base` describes, never with a 500;
- a shared location becomes metadata `{"location": {"lat", "long"}}`, an image `{"media_url"}`;
- replies go through the Graph API with aiohttp (`POST {META_GRAPH_URL}/me/messages`, Bearer
  token), not the blocking fbmessenger SDK; buttons become quick replies (up to 13, titles cut
  to 20 characters); texts over 2000 characters are split at sentence boundaries; nothing is sent
  to a person whose last message is older than 24 hours.

credentials.yml (key `bot.channels.facebook.MessengerInput`): `verify`, `secret`,
`page-access-token` (Rasa's names), `api_url`, and the keys `CommonOptions` reads.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rasa.core.channels.facebook import FacebookInput

from bot.channels.base import CommonOptions, Credentials, Inbound, PlatformOutput
from bot.channels.meta import (
    DEFAULT_GRAPH_URL,
    MessagingOutput,
    MetaChannel,
    messaging_events,
    signature_valid,
)


class MessengerOutput(MessagingOutput):
    channel: ClassVar[str] = "facebook"
    text_limit: ClassVar[int] = 2000


class MessengerInput(MetaChannel, FacebookInput):
    webhook_object: ClassVar[str] = "page"

    @classmethod
    def name(cls) -> str:
        return "facebook"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> MessengerInput:
        if not credentials:
            cls.raise_missing_credentials_exception()
        creds = Credentials(cls.name(), credentials)
        return cls(
            creds.text("verify", "verify_token", required=True),
            creds.text("secret", "app_secret", required=True),
            creds.text("page-access-token", "access_token", required=True),
            CommonOptions.from_credentials(creds, DEFAULT_GRAPH_URL),
        )

    def __init__(self, fb_verify: str, fb_secret: str, fb_access_token: str, common: CommonOptions) -> None:
        super().__init__(fb_verify, fb_secret, fb_access_token)
        self.verify_token, self.app_secret, self.access_token = fb_verify, fb_secret, fb_access_token
        self._setup(common)

    def entry_events(self, entry: dict[str, Any]) -> list[Inbound]:
        return messaging_events(entry, self.name())

    def make_output(self) -> PlatformOutput:
        return MessengerOutput(self)

    @staticmethod
    def validate_hub_signature(app_secret: str, request_payload: bytes, hub_signature_header: str) -> bool:
        """Rasa's helper, made constant-time and SHA-256 only (kept for code that calls it)."""
        return signature_valid(app_secret, request_payload, hub_signature_header)
