"""Instagram messaging (Messenger API for Instagram): a custom connector on Meta's common pipeline.

Webhooks arrive as `{"object": "instagram", "entry": [{"messaging": [...]}]}` with the same
event shapes as Messenger (text, `quick_reply`, `postback` from ice breakers, attachments,
`is_echo`, `read`, `reaction`), signed with the app secret in `X-Hub-Signature-256`. Replies go
to `POST {META_GRAPH_URL}/me/messages` with the Instagram access token as Bearer token; buttons
become quick replies (up to 13, titles cut to 20 characters); texts are split at 1000
characters, Instagram's limit. Instagram does not share locations, and media (photos, stickers,
shared posts, voice) get the "text only" notice.

credentials.yml (key `bot.channels.instagram.InstagramInput`): `verify_token`, `app_secret`,
`access_token`, `api_url`, and the keys `CommonOptions` reads.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rasa.core.channels.channel import InputChannel

from bot.channels.base import CommonOptions, Credentials, Inbound, PlatformOutput
from bot.channels.meta import DEFAULT_GRAPH_URL, MessagingOutput, MetaChannel, messaging_events


class InstagramOutput(MessagingOutput):
    channel: ClassVar[str] = "instagram"
    text_limit: ClassVar[int] = 1000
    messaging_type: ClassVar[str | None] = None


class InstagramInput(MetaChannel, InputChannel):
    webhook_object: ClassVar[str] = "instagram"

    @classmethod
    def name(cls) -> str:
        return "instagram"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InstagramInput:
        if not credentials:
            cls.raise_missing_credentials_exception()
        creds = Credentials(cls.name(), credentials)
        return cls(
            creds.text("verify_token", "verify", required=True),
            creds.text("app_secret", "secret", required=True),
            creds.text("access_token", required=True),
            CommonOptions.from_credentials(creds, DEFAULT_GRAPH_URL),
        )

    def __init__(self, verify_token: str, app_secret: str, access_token: str, common: CommonOptions) -> None:
        self.verify_token, self.app_secret, self.access_token = verify_token, app_secret, access_token
        self._setup(common)

    def entry_events(self, entry: dict[str, Any]) -> list[Inbound]:
        return messaging_events(entry, self.name())

    def make_output(self) -> PlatformOutput:
        return InstagramOutput(self)
