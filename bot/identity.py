"""Conversation ids that are not personal data, and web chat session ids only the server issues.

A platform user id is a phone number on SMS and WhatsApp, so it never becomes a conversation id
(and through it a Redis key): `conversation_id("twilio", "+15551234567")` is the channel plus a
keyed hash (HMAC-SHA256 with `IDENTITY_SECRET`). The channel prefix is also the namespace: a REST
sender "+15551234567" becomes `rest-…`, never the SMS citizen's `twilio-…`.

Web chat session ids are issued by the server: `web-<random>.<signature>`. A client that presents
an id the server did not sign gets a fresh one, so nobody can guess or pick another's room.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from bot.settings import Settings, SettingsError

DIGEST_CHARS = 32  # 128 bits of the HMAC: unguessable, short enough for logs and URLs
WEB_PREFIX = "web-"


class IdentityKey:
    """The server's identity secret and what it derives: conversation ids and signed session ids."""

    def __init__(self, secret: str) -> None:
        if len(secret) < 16:
            raise SettingsError(
                "IDENTITY_SECRET must be at least 16 characters"
                " (make run generates one and keeps it in var/secrets/)"
            )
        self._key = secret.encode("utf-8")

    @classmethod
    def from_settings(cls, settings: Settings) -> IdentityKey:
        return cls(settings.security.identity_secret)

    def _mac(self, *parts: str) -> str:
        message = "\x1f".join(parts).encode("utf-8")
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()[:DIGEST_CHARS]

    def conversation_id(self, channel: str, user_id: str) -> str:
        """The conversation id for a channel's user: `<channel>-<keyed hash>`, never the raw id."""
        return f"{channel}-{self._mac('conversation', channel, user_id)}"

    def issue_session(self) -> str:
        """A fresh web chat session id, signed by this server."""
        nonce = secrets.token_hex(16)
        return f"{WEB_PREFIX}{nonce}.{self._mac('session', nonce)}"

    def valid_session(self, session_id: object) -> bool:
        """True only for an id this server issued (constant-time signature check)."""
        if not isinstance(session_id, str) or not session_id.startswith(WEB_PREFIX):
            return False
        nonce, dot, signature = session_id[len(WEB_PREFIX) :].partition(".")
        if not dot or len(nonce) != 32 or len(signature) != DIGEST_CHARS:
            return False
        return hmac.compare_digest(signature, self._mac("session", nonce))


def channel_of(conversation_id: str) -> str:
    """The channel a conversation id belongs to ("" for ids from before the keyed ids)."""
    prefix, dash, rest = conversation_id.partition("-")
    return prefix if dash and len(rest) >= DIGEST_CHARS else ""
