"""Everything Redis holds about one citizen, found by reading each store's own key layout.

`find(redis, subject)` returns `Trace`s: a whole key, one stream entry, one list element, one set or
sorted-set member, or one hash field, each with the kind it is reported under. `bot.privacy.erase`
removes them and `bot.privacy.export` reads them, so both always cover the same data.

Where a citizen's data lives (every `civic:`, `inbox:` and `handoff:` family in the code):

- tracker: `civic:tracker:<id>` (Rasa's tracker store, endpoints.yml `key_prefix: civic`);
- lock: `civic:lock:<id>` (Rasa's lock store);
- events: entries of the stream `civic:events` whose `sender_id` is the conversation (bot/events);
- inbox: `inbox:item:<message id>` and its place in `inbox:items`, `inbox:done:<message id>`,
  `inbox:conv:<id>` (bot/inbox/store.py); an erased message also leaves its group's counts
  (`bot.privacy.erase`; groups hold message ids, never text);
- analytics: `civic:analytics:v1:conv:<hash of the id>`, the aggregator's few-day working state
  (bot/analytics/keys.py; the daily aggregates hold counts only);
- handoff: `handoff:entry:<id>` (queue entry, ticket, claim), `handoff:messages:<id>`,
  `handoff:seen:<id>`, `handoff:pending_reason:<id>`, members of `handoff:open` and `handoff:waiting`
  (bot/handoff/store.py, actions/handoff.py);
- handoff changes: entries of the stream `handoff:changes` about the conversation;
- ratings: comments in `handoff:rating:comments` (the per-agent counts name no conversation);
- channel: `civic:channel:v1:<channel>:<kind>:<id>` (address, window, options, privacy notice,
  reply language) and, from before keyed ids, `...:<kind>:<sha256 of the platform id>`
  (bot/channels/store.py);
- offered buttons: `civic:offered:<id>` (bot/channels/offered.py);
- rate limits: `civic:rate:conversation:<id>` (bot/channels/ratelimit.py);
- cached lookups: `civic:lookup:v1:collection:<hash of an address the citizen gave>` and
  `...:request_status:<hash of a number they gave>` (bot/cache.py via actions/common.py);
- report guards: `civic:report-submit:v1:<hash of the conversation and a confirmation time>`
  (actions/forms/submit_report.py);
- audit: entries of `civic:audit` whose target is the conversation (bot/audit.py);
- other: any other key whose name, or stream entry, list element, member or field whose text,
  contains the conversation id (`sweep`): whatever is added later is still found.

- subscriptions: `civic:subs:v1:sub:<id>`, `...:consent:<id>` (the consent log), its membership of
  `...:members:all` and of the `...:idx:<topic>:<area>` sets, the web chat's SMS opt-in code
  `...:optin:<id>`, the confirmation last shown `...:shown:<id>` and the SMS conversation it confirmed
  `...:linked:<id>` (bot/subscriptions/store.py,
  bot/subscriptions/optin.py, actions/subscriptions.py);

Conversations from before keyed ids were stored under the platform id
itself; with `--user` that legacy id is looked for too (in the known families only: a phone number
may appear in someone else's messages, and those are theirs).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from redis.asyncio import Redis

from bot.analytics import keys as analytics_keys
from bot.cache import cache_key
from bot.channels.store import PREFIX as CHANNEL_PREFIX
from bot.channels.store import digest
from bot.events import STREAM
from bot.inbox.selection import ADDRESS_SLOTS, message_id
from bot.model_ops.store import PREFIX as MODEL_PREFIX
from bot.subscriptions.store import PREFIX as SUBS_PREFIX

ENDPOINTS = Path("endpoints.yml")
DEFAULT_PREFIX = "civic"
AUDIT_STREAM = "civic:audit"
HANDOFF = "handoff"
REPORT_GUARD_PREFIX = "civic:report-submit:v1"  # actions/forms/submit_report.py GUARD_PREFIX
CONFIRM_REPORT = "action_confirm_report"
SUBSCRIPTIONS = "subscriptions"
INBOX_ITEM = "inbox:item:"
LEGACY_CHANNEL_KINDS = ("window", "options")
SWEEP_MIN_CHARS = 20  # only ids this long are searched for inside values (never a bare phone number)
BATCH = 500
REQUEST_NUMBER = re.compile(r"(?<!\d)\d{5,12}(?!\d)")


@dataclass(frozen=True)
class Subject:
    """Whose data: their conversation id, and the channel and platform id it was derived from."""

    conversation_id: str
    channel: str = ""
    user_id: str = ""

    @property
    def conversation_ids(self) -> tuple[str, ...]:
        """The keyed id, and the platform id itself (what a conversation from before keyed ids used)."""
        legacy = (self.user_id,) if self.user_id and self.user_id != self.conversation_id else ()
        return (self.conversation_id, *legacy)

    def as_dict(self) -> dict[str, str]:
        return {"conversation_id": self.conversation_id, "channel": self.channel}


@dataclass(frozen=True)
class Trace:
    """One thing held about the citizen: `op` says what it is ("key", "stream", "list", "zset",
    "set", "hash"), `key` where, `item` which entry, element, member or field (empty for a key)."""

    kind: str
    op: str
    key: str
    item: str = ""


@dataclass
class Found:
    traces: list[Trace] = field(default_factory=list)
    _seen: set[tuple[str, str, str]] = field(default_factory=set)

    def add(self, kind: str, op: str, key: str, item: str = "") -> None:
        if (op, key, item) not in self._seen and not (op != "key" and ("key", key, "") in self._seen):
            self._seen.add((op, key, item))
            self.traces.append(Trace(kind, op, key, item))

    def has_key(self, key: str) -> bool:
        return ("key", key, "") in self._seen


def store_prefixes(endpoints: Path = ENDPOINTS) -> tuple[str, str]:
    """The tracker and lock key prefixes Rasa uses with endpoints.yml's `key_prefix` (Rasa adds
    "tracker:" and "lock:" to an alphanumeric prefix)."""
    raw: Any = yaml.safe_load(endpoints.read_text(encoding="utf-8")) if endpoints.exists() else {}
    raw = raw if isinstance(raw, dict) else {}

    def prefix(section: str, kind: str) -> str:
        given = str((raw.get(section) or {}).get("key_prefix") or DEFAULT_PREFIX)
        return f"{given}:{kind}:" if given.isalnum() else f"{kind}:"

    return prefix("tracker_store", "tracker"), prefix("lock_store", "lock")


def report_guard_key(conversation_id: str, confirmed_at: Any) -> str:
    """actions/forms/submit_report.py `guard_key` (the action server's module; bot does not import it)."""
    digest_ = hashlib.sha256(f"{conversation_id}\x1f{confirmed_at!r}".encode()).hexdigest()[:40]
    return f"{REPORT_GUARD_PREFIX}:{digest_}"


async def _scan(redis: Redis, pattern: str) -> list[str]:
    return [key async for key in redis.scan_iter(match=pattern, count=BATCH)]


async def stream_entries(redis: Redis, stream: str) -> AsyncIterator[tuple[str, dict[str, str]]]:
    """Every entry of a stream, oldest first, in batches."""
    start = "-"
    while True:
        batch = await redis.xrange(stream, min=start, max="+", count=BATCH)
        for entry_id, fields in batch:
            yield entry_id, fields
        if len(batch) < BATCH:
            return
        start = f"({batch[-1][0]}"


def _json(text: str | None) -> Any:
    try:
        return json.loads(text or "")
    except ValueError:
        return None


async def conversation_events(
    redis: Redis, subject: Subject, tracker_prefix: str, found: Found
) -> list[dict[str, Any]]:
    """The citizen's events as the tracker (all sessions) and the event stream hold them; the stream
    entries are added to `found` on the way (the stream is read once: it may be long)."""
    events: list[dict[str, Any]] = []
    for conversation_id in subject.conversation_ids:
        stored = _json(await redis.get(tracker_prefix + conversation_id))
        if isinstance(stored, dict):
            events += [{**e, "sender_id": conversation_id} for e in stored.get("events") or []]
    ids = set(subject.conversation_ids)
    async for entry_id, fields in stream_entries(redis, STREAM):
        event = _json(fields.get("event"))
        if isinstance(event, dict) and event.get("sender_id") in ids:
            events.append(event)
            found.add("events", "stream", STREAM, entry_id)
    return events


def given_values(events: Iterable[dict[str, Any]]) -> tuple[set[str], set[str]]:
    """Addresses and request numbers the citizen gave (slots, entities, their texts): what the
    lookup cache keys were made from."""
    addresses: set[str] = set()
    numbers: set[str] = set()
    for event in events:
        if event.get("event") == "slot" and isinstance(event.get("value"), str):
            if event.get("name") in ADDRESS_SLOTS:
                addresses.add(event["value"])
            elif event.get("name") == "request_id":
                numbers.update(REQUEST_NUMBER.findall(event["value"]))
        if event.get("event") == "user":
            for entity in (event.get("parse_data") or {}).get("entities") or []:
                if entity.get("entity") == "address" and isinstance(entity.get("value"), str):
                    addresses.add(entity["value"])
            numbers.update(REQUEST_NUMBER.findall(str(event.get("text") or "")))
    return addresses, numbers


async def _known_families(
    redis: Redis, subject: Subject, found: Found, events: list[dict[str, Any]], endpoints: Path
) -> None:
    tracker, lock = store_prefixes(endpoints)
    for cid in subject.conversation_ids:
        candidates = [
            ("tracker", tracker + cid),
            ("lock", lock + cid),
            ("inbox", f"inbox:conv:{cid}"),
            ("analytics", analytics_keys.conversation(cid)),
            ("handoff", f"{HANDOFF}:entry:{cid}"),
            ("handoff", f"{HANDOFF}:messages:{cid}"),
            ("handoff", f"{HANDOFF}:seen:{cid}"),
            ("handoff", f"{HANDOFF}:pending_reason:{cid}"),
            ("offered buttons", f"civic:offered:{cid}"),
            ("rate limits", f"civic:rate:conversation:{cid}"),
            *(
                (SUBSCRIPTIONS, f"{SUBS_PREFIX}{kind}:{cid}")
                for kind in ("sub", "consent", "optin", "shown", "linked")
            ),
        ]
        if await redis.sismember(f"{SUBS_PREFIX}members:all", cid):
            found.add(SUBSCRIPTIONS, "set", f"{SUBS_PREFIX}members:all", cid)
        for key in await _scan(redis, f"{SUBS_PREFIX}idx:*"):
            if await redis.sismember(key, cid):
                found.add(SUBSCRIPTIONS, "set", key, cid)
        candidates += [("channel", key) for key in await _scan(redis, f"{CHANNEL_PREFIX}:*:{_glob(cid)}")]
        for queue in ("open", "waiting"):
            if await redis.zscore(f"{HANDOFF}:{queue}", cid) is not None:
                found.add("handoff", "zset", f"{HANDOFF}:{queue}", cid)
        for kind, key in candidates:
            if await redis.exists(key):
                found.add(kind, "key", key)
    if subject.user_id:
        for kind in LEGACY_CHANNEL_KINDS:
            for key in await _scan(redis, f"{CHANNEL_PREFIX}:*:{kind}:{digest(subject.user_id)}"):
                found.add("channel", "key", key)
    addresses, numbers = given_values(events)
    lookups = [cache_key("collection", a) for a in addresses] + [
        cache_key("request_status", n) for n in numbers
    ]
    guards = [
        report_guard_key(str(e["sender_id"]), e.get("timestamp"))
        for e in events
        if e.get("event") == "action" and e.get("name") == CONFIRM_REPORT
    ]
    for kind, keys in (("cached lookups", lookups), ("report guards", guards)):
        for key in keys:
            if await redis.exists(key):
                found.add(kind, "key", key)


def _glob(text: str) -> str:
    """`text` as a literal in a SCAN pattern."""
    return re.sub(r"([*?\[\]\\])", r"\\\1", text)


async def _inbox(redis: Redis, subject: Subject, found: Found, events: list[dict[str, Any]]) -> None:
    ids = set(subject.conversation_ids)
    for item_id in await redis.zrange("inbox:items", 0, -1):
        if await redis.hget(f"inbox:item:{item_id}", "conversation") in ids:
            found.add("inbox", "key", f"{INBOX_ITEM}{item_id}")
            found.add("inbox", "zset", "inbox:items", item_id)
    for event in events:
        text = str(event.get("text") or "").strip()
        if event.get("event") == "user" and text:
            item_id = message_id(str(event["sender_id"]), float(event.get("timestamp") or 0.0), text)
            for key in (f"inbox:done:{item_id}", f"{INBOX_ITEM}{item_id}"):
                if await redis.exists(key):
                    found.add("inbox", "key", key)
            if await redis.zscore("inbox:items", item_id) is not None:
                found.add("inbox", "zset", "inbox:items", item_id)


async def _streams(redis: Redis, subject: Subject, found: Found) -> None:
    """Entries naming the conversation in a field the stream's writer gives it."""
    ids = set(subject.conversation_ids)
    async for entry_id, fields in stream_entries(redis, f"{HANDOFF}:changes"):
        event = _json(fields.get("event"))
        if isinstance(event, dict) and event.get("conversation_id") in ids:
            found.add("handoff changes", "stream", f"{HANDOFF}:changes", entry_id)
    async for entry_id, fields in stream_entries(redis, AUDIT_STREAM):
        if fields.get("target") in ids:
            found.add("audit", "stream", AUDIT_STREAM, entry_id)
    for raw in await redis.lrange(f"{HANDOFF}:rating:comments", 0, -1):
        comment = _json(raw)
        if isinstance(comment, dict) and comment.get("conversation_id") in ids:
            found.add("ratings", "list", f"{HANDOFF}:rating:comments", raw)


# Key families that hold nothing a citizen said and need not be read (the model store's values
# are model files: bytes, not text).
NO_PERSONAL_DATA = (f"{MODEL_PREFIX}:",)


async def sweep(redis: Redis, subject: Subject, found: Found) -> None:
    """Anything else that names the conversation: a key family added after this module was written."""
    needles = [cid for cid in subject.conversation_ids if len(cid) >= SWEEP_MIN_CHARS]
    if not needles:
        return

    def mentions(text: str) -> bool:
        return any(n in text for n in needles)

    async for key in redis.scan_iter(count=BATCH):
        if found.has_key(key) or key.startswith(NO_PERSONAL_DATA):
            continue
        if mentions(key):
            found.add("other", "key", key)
            continue
        kind = await redis.type(key)
        if kind == "string":
            if mentions(str(await redis.get(key) or "")):
                found.add("other", "key", key)
        elif kind == "stream":
            async for entry_id, fields in stream_entries(redis, key):
                if mentions(json.dumps(fields)):
                    found.add("other", "stream", key, entry_id)
        elif kind == "list":
            for raw in await redis.lrange(key, 0, -1):
                if mentions(raw):
                    found.add("other", "list", key, raw)
        elif kind in ("set", "zset"):
            members = await (redis.smembers(key) if kind == "set" else redis.zrange(key, 0, -1))
            for member in members:
                if mentions(member):
                    found.add("other", kind, key, member)
        elif kind == "hash":
            for name, value in (await redis.hgetall(key)).items():
                if mentions(name) or mentions(value):
                    found.add("other", "hash", key, name)


async def find(
    redis: Redis, subject: Subject, *, full: bool = True, endpoints: Path = ENDPOINTS
) -> list[Trace]:
    """Every trace of the subject; `full` also sweeps all of Redis for the conversation id (slower).

    `redis` must decode responses.
    """
    found = Found()
    tracker, _ = store_prefixes(endpoints)
    events = await conversation_events(redis, subject, tracker, found)
    await _known_families(redis, subject, found, events, endpoints)
    await _inbox(redis, subject, found, events)
    await _streams(redis, subject, found)
    if full:
        await sweep(redis, subject, found)
    return found.traces
