"""Turn Rasa's events (the `civic:events` stream) into daily counts, exactly once.

Runs in the console process (`bot.console.app` adds `analytics_consumer` as a cleanup context).
It reads the stream with XRANGE after its own cursor (no consumer group: nothing to acknowledge),
folds a batch of events in memory, and writes the counts, the conversations' working state and the
new cursor in ONE Lua script (`APPLY_BATCH`) that writes only if the cursor is still the one the
batch was read after. So a crash before the script applies nothing (the batch is read again), a
crash after it applied all of it, and a replica that applied the same entries first makes our script
refuse (we then read again from the new cursor): every entry counts once, and re-running over the
same stream changes nothing.

What counts (per UTC day of the event's timestamp; docs/analytics.md):
- conversations (distinct, with a citizen message that day) and messages, by `input_channel`;
- contained: conversations that got an answer (a bot message with a `rating`, contract §1) that day
  and were not handed to a person that day;
- handoffs by reason: an agent's claim (`pause`) or the after-hours ticket form, the reason from the
  request before it (`metadata.handoff_reason` of `utter_handoff_queued` / `utter_handoff_after_hours`);
  the wait from that request to the claim, as a histogram of seconds;
- declined (`utter_out_of_scope`), clarifications (`action_prepare_clarification`);
- answers served per entry, helpful / not helpful (one rating per answer shown; a second tap moves it),
  also by the channel the answer went out on;
- lookups (rated lookup answers and failed lookups) and lookup failures; 311 reports filed; CSAT;
- per message test (entry and variant): exposures, helpful, not helpful, asked again (another answer
  from the same entry or topic within the next two citizen messages), handed off (a handoff request,
  claim or ticket form within the next three).
Feedback taps are citizen messages but not turns of the conversation.
"""

from __future__ import annotations

import datetime
import json
import logging
import re
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from redis.asyncio import Redis
from redis.exceptions import RedisError

from bot.analytics import keys
from bot.background import Background
from bot.console.keys import REDIS
from bot.events import STREAM
from bot.handoff.reasons import is_lookup_failure

log = logging.getLogger(__name__)

Entry = tuple[str, dict[str, Any]]  # (stream entry id, event); an empty event is skipped
BATCH = 500
BLOCK_MS = 1000
CONVERSATION_TTL = 3 * 86400
ANSWER_TTL = 7 * 86400
MAX_EXPOSURES = 8  # pending exposures kept per conversation (the oldest go first)
ASK_AGAIN_TURNS = 2
HANDOFF_TURNS = 3

DECLINE_ACTION = "utter_out_of_scope"
CLARIFY_ACTION = "action_prepare_clarification"
HANDOFF_REQUESTS = frozenset({"utter_handoff_queued", "utter_handoff_after_hours"})
HANDOFF_FORMS = frozenset({"handoff_ticket_form"})
REPORTS_FILED = frozenset({"utter_report_filed", "utter_report_received_token"})
RATING_SLOT = "handoff_rating"
FEEDBACK_INTENT = "feedback"
RATINGS = {"up": "helpful", "down": "not_helpful"}
UNKNOWN_REASON = "unknown"
EXTERNAL_PREFIX = "EXTERNAL: "  # Rasa's text for an intent triggered from outside (not a citizen)
_FEEDBACK_TEXT = re.compile(r"^/feedback(\{.*\})\s*$", re.S)


def utc_day(timestamp: float) -> str:
    return datetime.datetime.fromtimestamp(timestamp, datetime.timezone.utc).date().isoformat()


def wait_bucket(seconds: float) -> int:
    """Seconds to the histogram's bucket: exact under 5 minutes, then 10 s, then whole minutes."""
    whole = max(0, int(seconds))
    if whole < 300:
        return whole
    if whole < 3600:
        return whole - whole % 10
    return whole - whole % 60


def stream_id(value: str) -> tuple[int, int]:
    ms, _, seq = value.partition("-")
    return int(ms), int(seq or 0)


def after(value: str) -> str:
    """The smallest stream id after `value` (XRANGE's start, inclusive)."""
    ms, seq = stream_id(value)
    return f"{ms}-{seq + 1}"


def feedback_of(event: dict[str, Any]) -> tuple[str, str] | None:
    """(answer id, "up"/"down") of a feedback tap, from its entities or its `/feedback{...}` text."""
    parse = event.get("parse_data") or {}
    if ((parse.get("intent") or {}).get("name")) != FEEDBACK_INTENT:
        return None
    found = {str(e.get("entity")): e.get("value") for e in parse.get("entities") or [] if isinstance(e, dict)}
    if not (found.get("answer") and found.get("value")):
        match = _FEEDBACK_TEXT.match(str(event.get("text") or "").strip())
        try:
            found = json.loads(match.group(1)) if match else {}
        except ValueError:
            found = {}
    if not isinstance(found, dict):
        return None
    answer, value = str(found.get("answer") or ""), str(found.get("value") or "").lower()
    return (answer, value) if answer and value in RATINGS else None


def csat_value(value: Any) -> int | None:
    try:
        number = float(str(value))
    except ValueError:
        return None
    return int(number) if number.is_integer() and 1 <= number <= 5 else None


@dataclass
class Fold:
    """One batch's effect: count deltas by key and field, and the working state it read and changed."""

    conversations: dict[str, dict[str, Any]]  # keys.conversation(...) -> state
    answers: dict[str, dict[str, Any] | None]  # keys.answer(...) -> state (None: not known)
    counts: defaultdict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    days: set[str] = field(default_factory=set)
    variant_keys: set[str] = field(default_factory=set)
    experiments: dict[str, float] = field(default_factory=dict)
    changed_answers: set[str] = field(default_factory=set)

    def add(self, day: str, name: str, delta: int = 1) -> None:
        self.days.add(day)
        self.counts[keys.day(day)][name] += delta

    def add_answer(self, day: str, stat: str, entry: str, delta: int = 1) -> None:
        self.days.add(day)
        self.counts[keys.answers(day)][f"{stat}:{entry}"] += delta

    def add_variant(self, entry: str, outcome: str, variant: str, delta: int = 1) -> None:
        key = keys.variants(entry)
        self.variant_keys.add(key)
        self.counts[key][f"{outcome}:{variant}"] += delta

    def event(self, event: dict[str, Any]) -> None:
        sender = str(event.get("sender_id") or "")
        if not sender:
            return
        state = self.conversations.setdefault(keys.conversation(sender), {})
        timestamp = float(event.get("timestamp") or 0.0)
        day = utc_day(timestamp)
        kind = event.get("event")
        if kind == "user":
            self._user(event, state, day)
        elif kind == "bot":
            self._bot(event, state, day, timestamp)
        elif kind == "action" and event.get("name") == DECLINE_ACTION:
            self.add(day, "declined")
        elif kind == "action" and event.get("name") == CLARIFY_ACTION:
            self.add(day, "clarifications")
        elif kind == "slot" and event.get("name") == RATING_SLOT:
            rating = csat_value(event.get("value"))
            if rating is not None:
                self.add(day, "csat_count")
                self.add(day, "csat_sum", rating)
        elif kind == "pause":
            self._handed(state, day, timestamp, claimed=True)
        elif kind == "active_loop" and event.get("name") in HANDOFF_FORMS:
            self._handed(state, day, timestamp, claimed=False)
        elif kind == "restart":
            state.pop("req", None)
            state.pop("exp", None)

    def _user(self, event: dict[str, Any], state: dict[str, Any], day: str) -> None:
        text = str(event.get("text") or "")
        if not text.strip() or text.startswith(EXTERNAL_PREFIX):
            return
        channel = str(event.get("input_channel") or "") or "unknown"
        state["ch"] = channel
        self.add(day, "messages")
        self.add(day, f"channel_messages:{channel}")
        if state.get("day") != day:
            state["day"] = day
            self.add(day, "conversations")
            self.add(day, f"channel_conversations:{channel}")
        rated = feedback_of(event)
        if rated is not None:
            self._rate(*rated)
            return
        pending = []
        for exposure in state.get("exp") or []:
            exposure["n"] += 1
            if exposure["n"] <= HANDOFF_TURNS:
                pending.append(exposure)
        state["exp"] = pending

    def _bot(self, event: dict[str, Any], state: dict[str, Any], day: str, timestamp: float) -> None:
        metadata = event.get("metadata") or {}
        action = str(metadata.get("utter_action") or "")
        rating = metadata.get("rating")
        if isinstance(rating, dict) and rating.get("entry"):
            self._answer(rating, state, day, timestamp)
        elif is_lookup_failure(event):
            self.add(day, "lookups")
            self.add(day, "lookup_failures")
        if action in REPORTS_FILED:
            self.add(day, "reports_filed")
        if action in HANDOFF_REQUESTS:
            if action == "utter_handoff_queued" or not state.get("req"):
                reason = str(metadata.get("handoff_reason") or "") or UNKNOWN_REASON
                state["req"] = {"reason": reason, "t": timestamp}
            self._exposures_handed_off(state)

    def _answer(self, rating: dict[str, Any], state: dict[str, Any], day: str, timestamp: float) -> None:
        entry, variant = str(rating["entry"]), str(rating.get("variant") or "")
        topic = str(rating.get("topic") or "")
        self.add_answer(day, "served", entry)
        if rating.get("kind") == "lookup":
            self.add(day, "lookups")
        if state.get("contained") != day and state.get("handed") != day:
            state["contained"] = day
            self.add(day, "contained")
        for exposure in state.get("exp") or []:
            same = exposure["e"] == entry or (topic and exposure.get("tp") == topic)
            if same and not exposure.get("a") and 1 <= exposure["n"] <= ASK_AGAIN_TURNS:
                exposure["a"] = 1
                self.add_variant(exposure["e"], "asked_again", exposure["v"])
        if variant:
            self.add_variant(entry, "exposures", variant)
            self.experiments.setdefault(entry, timestamp)
            exposures = [*(state.get("exp") or []), {"e": entry, "v": variant, "tp": topic, "n": 0}]
            state["exp"] = exposures[-MAX_EXPOSURES:]
        answer_id = str(rating.get("answer") or "")
        if answer_id:
            key = keys.answer(answer_id)
            if self.answers.get(key) is None:
                channel = str(state.get("ch") or "unknown")
                self.answers[key] = {"d": day, "e": entry, "v": variant, "c": channel, "r": ""}
                self.changed_answers.add(key)

    def _rate(self, answer_id: str, value: str) -> None:
        key = keys.answer(answer_id)
        answer = self.answers.get(key)
        if answer is None or answer.get("r") == value:
            return  # not an answer we served (or expired), or the same tap again
        for old_or_new, delta in ((answer.get("r"), -1), (value, 1)):
            if old_or_new in RATINGS:
                outcome = RATINGS[str(old_or_new)]
                self.add(answer["d"], outcome, delta)
                self.add(answer["d"], f"channel_{outcome}:{answer.get('c') or 'unknown'}", delta)
                self.add_answer(answer["d"], outcome, answer["e"], delta)
                if answer.get("v"):
                    self.add_variant(answer["e"], outcome, answer["v"], delta)
        answer["r"] = value
        self.changed_answers.add(key)

    def _handed(self, state: dict[str, Any], day: str, timestamp: float, claimed: bool) -> None:
        """A person took the conversation (or the citizen left a message after hours)."""
        self._exposures_handed_off(state)
        if state.get("handed") != day:
            state["handed"] = day
            if state.get("contained") == day:
                self.add(day, "contained", -1)
        request = state.pop("req", None)
        if request is None and state.get("ever"):
            return  # taken again (after a release, or kept paused by a new session): counted already
        state["ever"] = 1
        reason = str((request or {}).get("reason") or UNKNOWN_REASON)
        self.add(day, "handoffs")
        self.add(day, f"handoff:{reason}")
        if claimed and request is not None:
            self.add(day, "handoff_wait_count")
            self.add(day, f"wait:{wait_bucket(timestamp - float(request['t']))}")

    def _exposures_handed_off(self, state: dict[str, Any]) -> None:
        for exposure in state.get("exp") or []:
            if not exposure.get("h") and exposure["n"] <= HANDOFF_TURNS:
                exposure["h"] = 1
                self.add_variant(exposure["e"], "handed_off", exposure["v"])


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _load(raw: Any) -> dict[str, Any] | None:
    if raw is None:
        return None
    try:
        value = json.loads(_text(raw))
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def decode(fields: dict[Any, Any]) -> dict[str, Any]:
    """A stream entry's event; {} for an entry without one (trimmed, or not JSON)."""
    raw = fields.get("event", fields.get(b"event"))
    return _load(raw) or {} if raw is not None else {}


# Applies one batch if the cursor is still where the batch was read from (else returns 0: read again).
# KEYS[1]: the cursor, then every key written. ARGV: expected cursor, new cursor, then four groups,
# each a count followed by its items: HINCRBY (key index, field, delta), EXPIREAT (key index, time),
# SET with EX (key index, value, seconds), ZADD NX (key index, score, member).
APPLY_BATCH = """
if (redis.call('GET', KEYS[1]) or '0-0') ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
local a = 3
local n = tonumber(ARGV[a]); a = a + 1
for _ = 1, n do redis.call('HINCRBY', KEYS[tonumber(ARGV[a])], ARGV[a + 1], ARGV[a + 2]); a = a + 3 end
n = tonumber(ARGV[a]); a = a + 1
for _ = 1, n do redis.call('EXPIREAT', KEYS[tonumber(ARGV[a])], ARGV[a + 1]); a = a + 2 end
n = tonumber(ARGV[a]); a = a + 1
for _ = 1, n do redis.call('SET', KEYS[tonumber(ARGV[a])], ARGV[a + 1], 'EX', ARGV[a + 2]); a = a + 3 end
n = tonumber(ARGV[a]); a = a + 1
for _ = 1, n do redis.call('ZADD', KEYS[tonumber(ARGV[a])], 'NX', ARGV[a + 1], ARGV[a + 2]); a = a + 3 end
return 1
"""


# The next entries after ARGV[1] (at most ARGV[2]) as one JSON text: [[id, event or ""], ...]. One
# bulk reply instead of five protocol lines per entry: redis-py's pure-Python parser was most of the
# aggregator's time (and it runs on the console's event loop).
READ_BATCH = """
local out = {}
for i, entry in ipairs(redis.call('XRANGE', KEYS[1], ARGV[1], '+', 'COUNT', ARGV[2])) do
  local body, fields = '', entry[2]
  for j = 1, #fields, 2 do
    if fields[j] == 'event' then body = fields[j + 1] end
  end
  out[i] = {entry[1], body}
end
if #out == 0 then return '[]' end
return cjson.encode(out)
"""


class Writes:
    """A batch's writes as APPLY_BATCH's arguments (keys are numbered in the order first used)."""

    def __init__(self) -> None:
        self.keys: list[str] = [keys.CURSOR]
        self._index: dict[str, int] = {keys.CURSOR: 1}
        self.groups: list[list[Any]] = [[], [], [], []]

    def key(self, name: str) -> int:
        if name not in self._index:
            self.keys.append(name)
            self._index[name] = len(self.keys)
        return self._index[name]

    def args(self, expected: str, cursor: str) -> list[Any]:
        out: list[Any] = [expected, cursor]
        for group, width in zip(self.groups, (3, 2, 3, 3), strict=True):
            out.append(len(group) // width)
            out.extend(group)
        return out


class Aggregator:
    """Applies stream entries to the daily counts, atomically with its cursor (see the module doc)."""

    def __init__(
        self, redis: Redis, retention_days: int = 730, stream: str = STREAM, batch: int = BATCH
    ) -> None:
        self.redis = redis
        self.retention_days = retention_days
        self.stream = stream
        self.batch = batch
        self._script = redis.register_script(APPLY_BATCH)
        self._read = redis.register_script(READ_BATCH)

    async def cursor(self) -> str:
        raw = await self.redis.get(keys.CURSOR)
        return _text(raw) if raw else "0-0"

    async def apply(self, entries: Sequence[Entry]) -> int:
        """Apply the entries after the cursor (in stream order) and move the cursor; how many applied.

        Entries at or before the cursor were applied already (by us before a crash, or by a replica)
        and are skipped, so applying the same batch twice changes nothing. The state is read with
        the cursor in one round trip, and the script writes only if the cursor has not moved since.
        """
        events = [e for _, e in entries if e]
        senders = sorted({keys.conversation(str(e["sender_id"])) for e in events if e.get("sender_id")})
        answer_ids = sorted(_answer_keys(events))
        while True:
            async with self.redis.pipeline(transaction=False) as pipe:
                pipe.get(keys.CURSOR)
                pipe.mget(senders or [keys.CURSOR])
                pipe.mget(answer_ids or [keys.CURSOR])
                raw, conversations, answers = await pipe.execute()
            expected = _text(raw) if raw else "0-0"
            fresh = [(i, e) for i, e in entries if stream_id(i) > stream_id(expected)]
            if not fresh:
                return 0
            fold = Fold(
                conversations={k: _load(v) or {} for k, v in zip(senders, conversations, strict=False)},
                answers={k: _load(v) for k, v in zip(answer_ids, answers, strict=False)},
            )
            for _, event in fresh:
                if event:
                    fold.event(event)
            writes = self._writes(fold)
            if await self._script(keys=writes.keys, args=writes.args(expected, fresh[-1][0])):
                return len(fresh)
            # another process applied some of these first: read its cursor and state again

    def _writes(self, fold: Fold) -> Writes:
        writes = Writes()
        counts, expiries, states, added = writes.groups
        for key, deltas in fold.counts.items():
            for name, delta in deltas.items():
                if delta:
                    counts.extend((writes.key(key), name, delta))
        keep = self.retention_days * 86400
        for day in fold.days:
            start = datetime.datetime.fromisoformat(day).replace(tzinfo=datetime.timezone.utc)
            until = int(start.timestamp()) + keep + 86400
            expiries.extend((writes.key(keys.day(day)), until, writes.key(keys.answers(day)), until))
        for key in fold.variant_keys:
            expiries.extend((writes.key(key), int(time.time()) + keep))
        for entry, first in fold.experiments.items():
            added.extend((writes.key(keys.EXPERIMENTS), first, entry))
        for key, state in fold.conversations.items():
            states.extend((writes.key(key), json.dumps(state, sort_keys=True), CONVERSATION_TTL))
        for key in fold.changed_answers:
            states.extend((writes.key(key), json.dumps(fold.answers[key], sort_keys=True), ANSWER_TTL))
        return writes

    async def run_once(self) -> int:
        """Read the next batch after the cursor and apply it; how many entries were applied."""
        start = after(await self.cursor())
        raw = await self._read(keys=[self.stream], args=[start, self.batch])
        return await self.apply([(str(i), _load(body) or {}) for i, body in json.loads(_text(raw))])

    async def wait_for_events(self, block_ms: int = BLOCK_MS) -> None:
        """Block until the stream has an entry after the cursor (or `block_ms` passed)."""
        await self.redis.xread({self.stream: await self.cursor()}, count=1, block=block_ms)

    async def catch_up(self) -> int:
        """Apply everything the stream holds after the cursor (tests, the bench); how many."""
        total = 0
        while applied := await self.run_once():
            total += applied
        return total


def _answer_keys(events: Iterable[dict[str, Any]]) -> set[str]:
    found = set()
    for event in events:
        if event.get("event") == "user":
            rated = feedback_of(event)
            if rated is not None:
                found.add(keys.answer(rated[0]))
        elif event.get("event") == "bot":
            rating = (event.get("metadata") or {}).get("rating")
            if isinstance(rating, dict) and rating.get("answer"):
                found.add(keys.answer(str(rating["answer"])))
    return found


async def run_forever(aggregator: Aggregator, background: Background) -> None:
    """Apply new events until stopped; Redis outages are logged (type only) and retried."""
    while not background.stopping.is_set():
        try:
            if not await aggregator.run_once():
                await aggregator.wait_for_events()
        except (RedisError, OSError) as exc:
            log.warning("analytics: Redis unavailable (%s); retrying in 2s", type(exc).__name__)
            await background.pause(2.0)


def consumer(retention_days: int) -> Callable[[web.Application], AsyncIterator[None]]:
    """A cleanup context that runs the aggregator in the console's loop, on the shell's Redis client."""

    async def run(app: web.Application) -> AsyncIterator[None]:
        background = Background()
        background.start(run_forever(Aggregator(app[REDIS], retention_days), background), "analytics")
        yield
        await background.stop()

    return run
