"""Conversations stored under raw platform ids, moved to keyed conversation ids (`channels migrate-ids`).

Before `bot/identity.py`, a messaging conversation's id was the platform's user id: an SMS
citizen's tracker was `civic:tracker:+15551234567`. This moves every such conversation to
`IdentityKey.conversation_id(channel, platform id)`, the id the connectors now give Rasa, so the
citizen's next message continues it. Which channel an old id belongs to comes from the data
itself: the `input_channel` of the tracker's latest user event, else the `channel` of its
handoff entry or review-inbox items. Ids of other channels (REST, the web chat) are left alone.

For each conversation, in this order (the tracker last, so an interrupted run is finished by the
next one; every step is a no-op once done, so running it again changes nothing):

- the inbox items that name it get the new id (`inbox:item:<id>` field `conversation`), the
  handoff rating comments too, and the console's live-update records (`handoff:changes`) that
  name it are deleted (they were read when they happened);
- the channel data: the address (`civic:channel:v1:<channel>:address:<new id>` = the platform
  id, what replies are sent to), the messaging window and the SMS options (kept before under a
  sha256 of the platform id; their payloads count as offered, so a reply "2" still works);
- the handoff records (`handoff:entry|messages|seen|pending_reason:<id>` and the `open` and
  `waiting` queues) and the inbox's per-conversation state (`inbox:conv:<id>`); a stale Rasa
  lock (`civic:lock:<id>`) is deleted;
- the tracker, renamed (with its expiry); if the citizen already wrote since the upgrade, the
  old sessions go before the new ones.

Left as they are: entries of the event stream `civic:events` (a log; it is trimmed by age, and
`privacy erase` removes a citizen's). Run it while Rasa and the console are stopped: a message
handled at the same moment could be written under either id.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis
import yaml

from bot.channels.config import CHANNELS
from bot.channels.offered import OFFERED_TTL, offered_key
from bot.channels.store import ADDRESS_TTL, conversation_key, legacy_key, ref
from bot.identity import IdentityKey

PLATFORM_CHANNELS = frozenset(spec.name for spec in CHANNELS)
KEYED_ID = re.compile(r"^[a-z][a-z0-9_]*-[0-9a-f]{32}$")
ENDPOINTS = Path("endpoints.yml")
HANDOFF = "handoff"  # QueueStore's default prefix (bot/handoff/store.py)
INBOX_ITEMS = "inbox:items"  # bot/inbox/store.py


def is_keyed(conversation_id: str) -> bool:
    return bool(KEYED_ID.match(conversation_id))


def store_prefix(endpoints: Path = ENDPOINTS) -> str:
    """endpoints.yml's tracker store `key_prefix` ("civic"): Rasa keys trackers `<prefix>:tracker:<id>`."""
    try:
        config = yaml.safe_load(endpoints.read_text(encoding="utf-8")) or {}
    except OSError:
        config = {}
    prefix = str((config.get("tracker_store") or {}).get("key_prefix") or "civic")
    return prefix if prefix.isalnum() else "civic"


@dataclass(frozen=True)
class Keys:
    """Where Rasa and the console keep per-conversation records."""

    tracker: str = "civic:tracker:"
    lock: str = "civic:lock:"
    handoff: str = HANDOFF

    @classmethod
    def from_endpoints(cls, endpoints: Path = ENDPOINTS) -> Keys:
        prefix = store_prefix(endpoints)
        return cls(tracker=f"{prefix}:tracker:", lock=f"{prefix}:lock:")

    def handoff_key(self, *parts: str) -> str:
        return ":".join((self.handoff, *parts))


@dataclass
class Moved:
    """One conversation moved: from which platform id (shown as a hash) to which id, and what moved."""

    channel: str
    old: str
    new: str
    what: list[str] = field(default_factory=list)

    def line(self) -> str:
        return f"{self.channel:<10} {ref(self.old)} -> {self.new}: {', '.join(self.what) or 'nothing left'}"


@dataclass
class Report:
    moved: list[Moved] = field(default_factory=list)
    inbox_items: int = 0
    comments: int = 0
    changes_removed: int = 0

    def lines(self) -> list[str]:
        if not self.moved:
            return ["nothing to migrate: no conversation is stored under a platform's user id"]
        out = [m.line() for m in self.moved]
        out.append(
            f"moved {len(self.moved)} conversation(s); rewrote {self.inbox_items} inbox item(s) and "
            f"{self.comments} rating comment(s); removed {self.changes_removed} console update record(s)"
        )
        return out


def latest_platform_channel(events: Iterable[Any]) -> str:
    """The messaging channel of the latest user event ("" when none came from one)."""
    channel = ""
    for event in events:
        if isinstance(event, dict) and event.get("event") == "user":
            name = str(event.get("input_channel") or "")
            if name in PLATFORM_CHANNELS:
                channel = name
    return channel


def move_key(client: redis.Redis, source: str, target: str) -> bool:
    """`source` renamed to `target`, or merged into an existing `target` (which wins); True if it existed."""
    kind = client.type(source)
    if kind == "none":
        return False
    if not client.exists(target):
        client.rename(source, target)
        return True
    ttl = merged_ttl(client.ttl(source), client.ttl(target))
    if kind == "list":  # a transcript: the old lines first
        items = client.lrange(source, 0, -1)
        if items:
            client.lpush(target, *reversed(items))
    elif kind == "set":
        client.sunionstore(target, [target, source])
    elif kind == "hash":
        for name, value in client.hgetall(source).items():
            client.hsetnx(target, name, value)
    elif kind == "zset":
        client.zunionstore(target, [target, source], aggregate="MIN")
    client.delete(source)
    if ttl is None:
        client.persist(target)
    else:
        client.expire(target, ttl)
    return True


def merged_ttl(*ttls: int) -> int | None:
    """The expiry of merged keys (Redis TTL/PTTL values): None when one never expires, else the longest."""
    if any(ttl == -1 for ttl in ttls):
        return None
    return max((ttl for ttl in ttls if ttl > 0), default=None)


def scan(client: redis.Redis, pattern: str) -> Iterator[str]:
    yield from client.scan_iter(match=pattern, count=500)


class IdMigration:
    """Finds the conversations under raw platform ids and moves them; see the module's docstring."""

    def __init__(self, client: redis.Redis, identity: IdentityKey, keys: Keys | None = None) -> None:
        self.client = client  # decode_responses=True
        self.identity = identity
        self.keys = keys or Keys.from_endpoints()

    # --- what to move ---------------------------------------------------------------------------

    def plan(self) -> dict[str, str]:
        """Old id -> channel, for every conversation still stored under a platform id."""
        found: dict[str, str] = {}
        for key in scan(self.client, f"{self.keys.tracker}*"):
            old = key[len(self.keys.tracker) :]
            if is_keyed(old):
                continue
            stored = self.client.get(key)
            try:
                events = json.loads(stored or "{}").get("events", [])
            except (ValueError, AttributeError):
                continue
            channel = latest_platform_channel(events)
            if channel:
                found[old] = channel
        for key in scan(self.client, self.keys.handoff_key("entry", "*")):
            old = key[len(self.keys.handoff_key("entry", "")) :]
            channel = self.client.hget(key, "channel") or ""
            if not is_keyed(old) and channel in PLATFORM_CHANNELS:
                found.setdefault(old, channel)
        for item in self.inbox_items():
            old, channel = item.get("conversation", ""), item.get("channel", "")
            if old and not is_keyed(old) and channel in PLATFORM_CHANNELS:
                found.setdefault(old, channel)
        return found

    def inbox_items(self) -> Iterator[dict[str, str]]:
        for item_id in self.client.zrange(INBOX_ITEMS, 0, -1):
            fields = self.client.hgetall(f"inbox:item:{item_id}")
            if fields:
                yield {"id": item_id, **fields}

    # --- moving ---------------------------------------------------------------------------------

    def run(self) -> Report:
        plan = self.plan()
        renamed = {old: self.identity.conversation_id(channel, old) for old, channel in plan.items()}
        report = Report()
        if not plan:
            return report
        report.inbox_items = self.rewrite_inbox_items(renamed)
        report.comments = self.rewrite_comments(renamed)
        report.changes_removed = self.drop_changes(set(renamed))
        for old, channel in sorted(plan.items(), key=lambda item: (item[1], ref(item[0]))):
            moved = Moved(channel, old, renamed[old])
            moved.what += self.move_channel_data(channel, old, moved.new)
            moved.what += self.move_handoff(old, moved.new)
            moved.what += self.move_inbox_state(old, moved.new)
            if self.client.delete(self.keys.lock + old):
                moved.what.append("stale lock removed")
            if self.move_tracker(old, moved.new):
                moved.what.append("tracker")
            report.moved.append(moved)
        return report

    def move_channel_data(self, channel: str, old: str, new: str) -> list[str]:
        what = []
        address = conversation_key(channel, "address", new)
        if not self.client.exists(address):
            self.client.set(address, old, ex=ADDRESS_TTL)
        what.append("address")
        for kind in ("window", "options"):
            if move_key(self.client, legacy_key(channel, kind, old), conversation_key(channel, kind, new)):
                what.append(kind)
        if "options" in what:  # they were offered before offered payloads were remembered
            self.offer_options(conversation_key(channel, "options", new), new)
        return what

    def offer_options(self, options_key: str, new: str) -> None:
        try:
            payloads = [str(p) for p in json.loads(self.client.get(options_key) or "[]")]
        except (ValueError, TypeError):
            return
        intents = [p.strip() for p in payloads if p.strip().startswith("/")]
        if intents:
            self.client.sadd(offered_key(new), *intents)
            self.client.expire(offered_key(new), OFFERED_TTL)

    def move_handoff(self, old: str, new: str) -> list[str]:
        what = []
        key = self.keys.handoff_key
        for kind in ("entry", "messages", "seen", "pending_reason"):
            if move_key(self.client, key(kind, old), key(kind, new)):
                what.append(f"handoff {kind}")
        if self.client.exists(key("entry", new)):
            self.client.hset(key("entry", new), "conversation_id", new)
        for queue in ("open", "waiting"):
            score = self.client.zscore(key(queue), old)
            if score is not None:
                self.client.zadd(key(queue), {new: score}, nx=True)
                self.client.zrem(key(queue), old)
                what.append(f"handoff {queue} queue")
        return what

    def move_inbox_state(self, old: str, new: str) -> list[str]:
        return ["inbox state"] if move_key(self.client, f"inbox:conv:{old}", f"inbox:conv:{new}") else []

    def move_tracker(self, old: str, new: str) -> bool:
        source, target = self.keys.tracker + old, self.keys.tracker + new
        stored = self.client.get(source)
        if stored is None:
            return False
        dialogue = json.loads(stored)
        ttls = [self.client.pttl(source)]
        existing = self.client.get(target)
        if existing is not None:  # the citizen wrote since the upgrade: old sessions first
            dialogue["events"] = [*dialogue.get("events", []), *json.loads(existing).get("events", [])]
            ttls.append(self.client.pttl(target))
        dialogue["name"] = new
        with self.client.pipeline(transaction=True) as pipe:
            pipe.set(target, json.dumps(dialogue), px=merged_ttl(*ttls))
            pipe.delete(source)
            pipe.execute()
        return True

    def rewrite_inbox_items(self, renamed: dict[str, str]) -> int:
        count = 0
        for item in self.inbox_items():
            new = renamed.get(item.get("conversation", ""))
            if new:
                self.client.hset(f"inbox:item:{item['id']}", "conversation", new)
                count += 1
        return count

    def rewrite_comments(self, renamed: dict[str, str]) -> int:
        key = self.keys.handoff_key("rating", "comments")
        count = 0
        for index, raw in enumerate(self.client.lrange(key, 0, -1)):
            try:
                comment = json.loads(raw)
            except ValueError:
                continue
            new = renamed.get(str(comment.get("conversation_id", ""))) if isinstance(comment, dict) else None
            if new:
                self.client.lset(key, index, json.dumps({**comment, "conversation_id": new}))
                count += 1
        return count

    def drop_changes(self, old_ids: set[str]) -> int:
        key = self.keys.handoff_key("changes")
        stale = []
        for entry_id, fields in self.client.xrange(key):
            try:
                event = json.loads(fields.get("event") or "{}")
            except ValueError:
                continue
            if isinstance(event, dict) and event.get("conversation_id") in old_ids:
                stale.append(entry_id)
        if stale:
            self.client.xdel(key, *stale)
        return len(stale)
