"""SMS double opt-in for citizens who subscribe from a chat with no push (web chat, REST, Messenger).

The citizen types a mobile number; a 6-digit code goes to it by SMS (through the broadcaster,
`bot.broadcasts.delivery.send_direct`) and must be typed back in the chat: only then is the SMS
conversation (`twilio-<HMAC of the number>`, never the number) subscribed. The code is kept as an
HMAC (keyed with IDENTITY_SECRET), for `BroadcastSettings.sms_code_minutes`, and allows
`MAX_TRIES` wrong answers. The number itself is kept only where the SMS connector keeps every
citizen's number (`civic:channel:v1:twilio:address:<cid>`), so the broadcaster can send to it:
for the code's lifetime until it is verified, then as long as any SMS conversation's address.

Key: `civic:subs:v1:optin:<chat conversation id>`: hash with the code's HMAC, the SMS conversation
id, the tries so far, the number's last two digits (to say "ending in 34"), and the topics, areas
and confirmation wording the citizen agreed to.

Every code is a text message the agency pays for, sent to a number anyone may type: a chat may ask
for `CODES_PER_CHAT` codes an hour and a number may receive `CODES_PER_NUMBER` a day
(`civic:subs:v1:optin_sent:<chat id>`, `...:optin_to:<SMS conversation id>`), so the opt-in can
be used neither to pump SMS costs nor to pester someone else's phone.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis

from bot.broadcasts.delivery import send_direct
from bot.channels.store import ADDRESS_TTL, conversation_key
from bot.identity import IdentityKey
from bot.subscriptions.store import PREFIX

SMS = "twilio"
MAX_TRIES = 5
CODES_PER_CHAT, CHAT_WINDOW = 3, 3600  # codes one chat may ask for, per hour
CODES_PER_NUMBER, NUMBER_WINDOW = 3, 24 * 3600  # codes one number may receive, per day
CODE_DIGITS = 6
VERIFIED, WRONG, FAILED, EXPIRED = "verified", "wrong", "failed", "expired"


def optin_key(conversation_id: str) -> str:
    return f"{PREFIX}optin:{conversation_id}"


class TooManyCodes(Exception):
    """This chat asked for, or this number was sent, as many codes as allowed for now."""


# KEYS: the chat's counter, the number's; ARGV: their limits and windows. 1 and both counted, or 0.
COUNT_CODE = """
local chat = tonumber(redis.call('GET', KEYS[1]) or '0')
local number = tonumber(redis.call('GET', KEYS[2]) or '0')
if chat >= tonumber(ARGV[1]) or number >= tonumber(ARGV[3]) then return 0 end
if redis.call('INCR', KEYS[1]) == 1 then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
if redis.call('INCR', KEYS[2]) == 1 then redis.call('EXPIRE', KEYS[2], ARGV[4]) end
return 1
"""


def normalise_phone(text: str, default_country: str = "1") -> str | None:
    """A mobile number as E.164 ("+15550101234"), or None. Ten digits are a US number (+1)."""
    cleaned = re.sub(r"[\s().\-]", "", text.strip())
    if not re.fullmatch(r"\+?\d{7,15}", cleaned):
        return None
    digits = cleaned.lstrip("+")
    if cleaned.startswith("+"):
        return f"+{digits}" if 8 <= len(digits) <= 15 else None
    if len(digits) == 10:
        return f"+{default_country}{digits}"
    if len(digits) == 11 and digits.startswith(default_country):
        return f"+{digits}"
    return None


def typed_code(text: str) -> str | None:
    """The 6 digits the citizen typed back ("123 456", "code: 123456"), or None."""
    digits = re.sub(r"[\s\-]", "", text)
    found = re.findall(rf"(?<!\d)\d{{{CODE_DIGITS}}}(?!\d)", digits)
    return found[0] if len(found) == 1 else None


@dataclass(frozen=True)
class Pending:
    """What the citizen agreed to and where the code went."""

    sms_conversation_id: str
    last_digits: str
    topics: tuple[str, ...]
    areas: tuple[str, ...]
    wording: str


@dataclass(frozen=True)
class Outcome:
    status: str  # VERIFIED, WRONG, FAILED, EXPIRED
    tries_left: int = 0
    pending: Pending | None = None


class OptIn:
    """The codes of one Redis (bytes or decoded replies both work)."""

    def __init__(self, redis: aioredis.Redis, identity: IdentityKey, secret: str, minutes: float) -> None:
        self.redis = redis
        self.identity = identity
        self._secret = secret.encode("utf-8")
        self.ttl = max(60, int(minutes * 60))

    def _mac(self, conversation_id: str, code: str) -> str:
        return hmac.new(
            self._secret, f"optin\x1f{conversation_id}\x1f{code}".encode(), hashlib.sha256
        ).hexdigest()

    async def send_code(
        self,
        conversation_id: str,
        phone: str,
        topics: Sequence[str],
        areas: Sequence[str],
        wording: str,
        code_text: Any,
    ) -> Pending:
        """Keep a fresh code for this chat and queue it by SMS; `code_text(code)` is the SMS's text.
        `TooManyCodes` past the limits (nothing is sent)."""
        sms_cid = self.identity.conversation_id(SMS, phone)
        counters = (f"{PREFIX}optin_sent:{conversation_id}", f"{PREFIX}optin_to:{sms_cid}")
        limits = (CODES_PER_CHAT, CHAT_WINDOW, CODES_PER_NUMBER, NUMBER_WINDOW)
        if not await self.redis.eval(COUNT_CODE, 2, *counters, *limits):
            raise TooManyCodes(sms_cid)
        code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
        pending = Pending(sms_cid, phone[-2:], tuple(topics), tuple(areas), wording)
        address = conversation_key(SMS, "address", sms_cid)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(address, phone, ex=self.ttl, nx=True)  # an existing SMS conversation keeps its own
            pipe.delete(optin_key(conversation_id))
            pipe.hset(
                optin_key(conversation_id),
                mapping={
                    "mac": self._mac(conversation_id, code),
                    "sms": sms_cid,
                    "tries": 0,
                    "last": pending.last_digits,
                    "topics": json.dumps(pending.topics),
                    "areas": json.dumps(pending.areas),
                    "wording": wording,
                },
            )
            pipe.expire(optin_key(conversation_id), self.ttl)
            await pipe.execute()
        await send_direct(self.redis, sms_cid, code_text(code), kind="sms_code")
        return pending

    async def pending(self, conversation_id: str) -> Pending | None:
        raw = await self.redis.hgetall(optin_key(conversation_id))
        if not raw:
            return None
        values = {_text(k): _text(v) for k, v in raw.items()}
        return Pending(
            values.get("sms", ""),
            values.get("last", ""),
            tuple(json.loads(values.get("topics", "[]"))),
            tuple(json.loads(values.get("areas", "[]"))),
            values.get("wording", ""),
        )

    async def check(self, conversation_id: str, code: str) -> Outcome:
        """The typed code against the kept one: right (the code is used up), wrong, too many, expired."""
        key = optin_key(conversation_id)
        pending = await self.pending(conversation_id)
        mac = _text(await self.redis.hget(key, "mac") or "")
        if pending is None or not mac:
            return Outcome(EXPIRED)
        if hmac.compare_digest(mac, self._mac(conversation_id, code)):
            if not await self.redis.delete(key):  # used by a concurrent message meanwhile
                return Outcome(EXPIRED)
            await self.redis.expire(
                conversation_key(SMS, "address", pending.sms_conversation_id), ADDRESS_TTL
            )
            return Outcome(VERIFIED, pending=pending)
        tries = int(await self.redis.hincrby(key, "tries", 1))
        if tries >= MAX_TRIES:
            await self.redis.delete(key)
            return Outcome(FAILED)
        return Outcome(WRONG, tries_left=MAX_TRIES - tries)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
