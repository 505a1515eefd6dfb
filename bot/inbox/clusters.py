"""Clusters of inbox messages, kept up to date as each message is recorded, so no page regroups.

Why not the sentence embedding: Rasa keeps the MiniLM vector as a message *feature*, and the events
on ``civic:events`` carry only the parse's output properties (intent, entities, ranking, the
selector, the gates' reports), so no embedding reaches the inbox. Each message's folded text
(`bot.content.similar.fold_for_similarity`) gets a MinHash signature of its character trigrams
instead; the signature's LSH bands (``BANDS`` of ``ROWS`` values) name the buckets that hold the few
clusters worth comparing (each language has its own buckets: a Spanish message never joins an
English cluster), and the inbox's own rule (`closeness`: shared trigrams, then difflib,
as ``content check``'s near-duplicate rule) decides, against each candidate's first message.
Comparing (difflib, the costly part) runs in a worker thread: the console's loop also serves agents
and the relay.

Keys (under ``inbox:``) hold message ids and counts, never text, so erasing or purging a message
(its ``inbox:item:<id>`` hash) removes its words everywhere:

- ``inbox:clusters`` sorted set, cluster id -> count * 1e10 + last seen (the pages, most frequent first);
- ``inbox:clusters:language:<code>`` the same, of one language's clusters (the pages' language filter);
- ``inbox:cluster:<cid>`` hash: ``head`` (the message compared with), ``count``, ``last``, ``language``;
- ``inbox:cluster:<cid>:members`` sorted set of message ids by time;
- ``inbox:cluster:<cid>:wordings`` sorted set, a wording's hash -> messages; ``...:sample`` its latest id;
- ``inbox:cluster:<cid>:tally`` hash: ``reason:<r>``, ``intent:<i>``, ``decline:<d>``, ``answer:<entry>``;
- ``inbox:cluster:<cid>:days`` hash, UTC day number -> messages recorded (counts only, ``HISTORY_DAYS``);
- ``inbox:trend:<day>`` sorted set, cluster id -> missed or declined messages that day (`emerging`);
- ``inbox:lsh:<band>:<bucket>`` set of cluster ids (English); ``inbox:lsh:<code>:<band>:<bucket>``
  another language's.
"""

from __future__ import annotations

import asyncio
import difflib
import hashlib
import random
import zlib
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
from redis.asyncio import Redis

from bot.content.agency import SOURCE_LANGUAGE
from bot.content.similar import fold_for_similarity
from bot.inbox.selection import MISSED, REASONS, Message

CLUSTERS = "inbox:clusters"
ROWS, BANDS = 2, 16  # Jaccard 0.25 (trigram Dice 0.4, the rule's floor) is a candidate 64% of the time
CANDIDATES = 20  # clusters compared at most, those sharing the most bands first
HISTORY_DAYS = 42  # per-day counts kept for the emerging-questions trend (six weeks)
COUNT_WEIGHT = 1e10  # the pages' order: count first, then the latest message (a Unix time < 1e10)
_PRIME = np.uint64(4294967291)  # the largest prime below 2**32: a * h + b stays below 2**64
_rng = random.Random(18)
_A = np.array([[_rng.randrange(1, int(_PRIME))] for _ in range(ROWS * BANDS)], dtype=np.uint64)
_B = np.array([[_rng.randrange(0, int(_PRIME))] for _ in range(ROWS * BANDS)], dtype=np.uint64)
DAY = 86400
SIMILAR = 0.75


def trigrams(text: str) -> set[str]:
    padded = f" {text} "
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


def closeness(a: str, b: str) -> float:
    """How alike two normalised texts are (trigram Dice), or 0.0 when they are not the same question."""
    if a == b:
        return 1.0
    left, right = trigrams(a), trigrams(b)
    dice = 2 * len(left & right) / (len(left) + len(right)) if left and right else 0.0
    if dice < 0.4:
        return 0.0
    if dice >= SIMILAR or difflib.SequenceMatcher(None, a, b, autojunk=False).ratio() >= SIMILAR:
        return dice
    return 0.0


def close(a: str, b: str) -> bool:
    """Whether two normalised texts are the same question for an editor's purposes."""
    return closeness(a, b) > 0.0


def cluster_key(cid: str, part: str = "") -> str:
    return f"inbox:cluster:{cid}" + (f":{part}" if part else "")


def language_key(language: str) -> str:
    """The sorted set of one language's clusters (as ``CLUSTERS``, for the pages' language filter)."""
    return f"{CLUSTERS}:language:{language}"


def _lsh_prefix(language: str) -> str:
    """English keeps the buckets it had before other languages (clusters made then still match)."""
    return "inbox:lsh:" if language == SOURCE_LANGUAGE else f"inbox:lsh:{language}:"


def trend_key(day: int) -> str:
    return f"inbox:trend:{day}"


def day_of(when: float) -> int:
    return int(when // DAY)


def buckets(text: str, language: str = SOURCE_LANGUAGE) -> list[str]:
    """The LSH bucket keys of a message's folded text in its language (MinHash with numpy: some 50
    microseconds); each language's are its own, so only clusters of the same language are compared."""
    prefix = _lsh_prefix(language)
    folded = fold_for_similarity(text)
    grams = trigrams(folded) if folded else set()
    if not grams:
        return [f"{prefix}empty"]
    hashes = np.array([zlib.crc32(g.encode()) for g in grams], dtype=np.uint64)
    signature = ((_A * hashes[None, :] + _B) % _PRIME).min(axis=1).tolist()
    return [
        f"{prefix}{band}:" + ".".join(f"{v:x}" for v in signature[band * ROWS : (band + 1) * ROWS])
        for band in range(BANDS)
    ]


def nearest(text: str, candidates: Iterable[tuple[str, str]]) -> str | None:
    """The id of the candidate (id, text) that is the same question as ``text``, the closest first."""
    key = fold_for_similarity(text)
    scored = [(closeness(key, fold_for_similarity(head)), cid) for cid, head in candidates]
    best = max(scored, default=(0.0, ""))
    return best[1] if best[0] > 0.0 else None


def wording(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def tally(message: Message, reasons: Iterable[str]) -> Counter[str]:
    """What one message adds to its cluster's counters."""
    found: Counter[str] = Counter(f"reason:{r}" for r in reasons)
    for name, value in (("intent", message.intent), ("decline", message.decline), ("answer", message.answer)):
        if value:
            found[f"{name}:{value}"] += 1
    return found


@dataclass(frozen=True)
class Counts:
    """A cluster's counters as the pages show them, most frequent first, and its messages' language."""

    count: int
    latest: float
    reasons: list[tuple[str, int]]
    intents: list[tuple[str, int]]
    declines: list[tuple[str, int]]
    answers: list[tuple[str, int]]
    language: str = SOURCE_LANGUAGE

    @classmethod
    def parse(cls, meta: dict[str, str], counters: dict[str, str]) -> Counts:
        def part(prefix: str) -> list[tuple[str, int]]:
            start = prefix + ":"
            pairs = [(k[len(start) :], int(v)) for k, v in counters.items() if k.startswith(start)]
            order = {reason: n for n, reason in enumerate(REASONS)}  # the reasons' own order on a tie
            return sorted(
                [(k, v) for k, v in pairs if v > 0], key=lambda kv: (-kv[1], order.get(kv[0], 0), kv[0])
            )

        return cls(
            count=int(meta.get("count") or 0),
            latest=float(meta.get("last") or 0.0),
            reasons=part("reason"),
            intents=part("intent"),
            declines=part("decline"),
            answers=part("answer"),
            language=meta.get("language") or SOURCE_LANGUAGE,
        )


# KEYS: a message's LSH buckets; ARGV[1]: how many candidates. Returns cluster id, head text, ... for
# the clusters sharing the most buckets that still have their head message: one round trip.
_CANDIDATES = """
local hits, order = {}, {}
for _, key in ipairs(KEYS) do
  for _, cid in ipairs(redis.call('SMEMBERS', key)) do
    if hits[cid] == nil then hits[cid] = 0; order[#order + 1] = cid end
    hits[cid] = hits[cid] + 1
  end
end
table.sort(order, function(a, b) if hits[a] ~= hits[b] then return hits[a] > hits[b] end return a < b end)
local found = {}
for i = 1, math.min(#order, tonumber(ARGV[1])) do
  local head = redis.call('HGET', 'inbox:cluster:' .. order[i], 'head')
  local text = head and redis.call('HGET', 'inbox:item:' .. head, 'text')
  if text then found[#found + 1] = order[i]; found[#found + 1] = text end
end
return found
"""


class ClusterIndex:
    """Assigns messages to clusters and keeps each cluster's counters; one writer at a time per process."""

    def __init__(self, redis: Redis, keep_seconds: int) -> None:
        self.redis = redis
        self.keep_seconds = keep_seconds  # how long a cluster outlives its last message (the retention)
        self.lock = asyncio.Lock()
        self._candidates = redis.register_script(_CANDIDATES)

    async def assign(self, message: Message) -> str:
        """The cluster ``message`` joins: the nearest existing one of its language, else a new one
        named after it."""
        keys = buckets(message.text, message.language)  # a fraction of a millisecond: no thread hop
        found = await self._candidates(keys=keys, args=[CANDIDATES])
        heads = [(str(found[i]), str(found[i + 1])) for i in range(0, len(found), 2)]
        cid = await asyncio.to_thread(nearest, message.text, heads) if heads else None
        if cid is None:
            cid = message.id
            async with self.redis.pipeline(transaction=False) as pipe:
                pipe.hset(cluster_key(cid), mapping={"head": message.id, "language": message.language})
                for key in keys:
                    pipe.sadd(key, cid)
                    pipe.expire(key, self.keep_seconds + HISTORY_DAYS * DAY)
                await pipe.execute()
        return cid

    async def update(
        self,
        cid: str,
        old: tuple[Message, tuple[str, ...]] | None,
        new: tuple[Message, tuple[str, ...]] | None,
        prelude: Callable[[Any], None] | None = None,
    ) -> None:
        """Move the cluster's counters from what was counted for a message (``old``) to ``new``.

        ``old`` None: the message joins; ``new`` None: it leaves (handled, purged). A cluster left
        empty leaves the pages; its per-day counts stay for the trend (counts only). ``prelude``
        adds the caller's own writes to the same round trip.
        """
        delta = Counter(tally(*new) if new else {})
        delta.subtract(tally(*old) if old else {})
        message = (new or old or (None, ()))[0]
        assert message is not None
        joined, left = old is None and new is not None, new is None and old is not None
        keep = self.keep_seconds + HISTORY_DAYS * DAY
        async with self.redis.pipeline(transaction=False) as pipe:
            if prelude is not None:
                prelude(pipe)
            for field, change in delta.items():
                if change:
                    pipe.hincrby(cluster_key(cid, "tally"), field, change)
            if old and (left or old[0].text != message.text):
                pipe.zincrby(cluster_key(cid, "wordings"), -1, wording(old[0].text))
            if new and (joined or (old and old[0].text != new[0].text)):
                pipe.zincrby(cluster_key(cid, "wordings"), 1, wording(new[0].text))
                pipe.hset(cluster_key(cid, "sample"), wording(new[0].text), message.id)
            if joined:
                day = day_of(message.time)
                pipe.zadd(cluster_key(cid, "members"), {message.id: message.time})
                pipe.hincrby(cluster_key(cid, "days"), str(day), 1)
                pipe.hdel(cluster_key(cid, "days"), str(day - HISTORY_DAYS))
                pipe.expire(cluster_key(cid, "days"), keep)
            if left:
                pipe.zrem(cluster_key(cid, "members"), message.id)
            if new and MISSED & set(new[1]) and not (old and MISSED & set(old[1])):
                pipe.zincrby(trend_key(day_of(message.time)), 1, cid)
                pipe.expire(trend_key(day_of(message.time)), HISTORY_DAYS * DAY)
            pipe.hincrby(cluster_key(cid), "count", 1 if joined else -1 if left else 0)
            pipe.hget(cluster_key(cid), "last")
            pipe.hget(cluster_key(cid), "head")
            *_, count, last, head = await pipe.execute()
        if count <= 0:
            await self.drop(cid, message.language)
            return
        latest = max(float(last or 0.0), message.time if joined else 0.0)
        async with self.redis.pipeline(transaction=False) as pipe:
            if left and head == message.id:  # compare newcomers with a message still kept
                pipe.zrevrange(cluster_key(cid, "members"), 0, 0)
            if joined and not head:
                pipe.hset(cluster_key(cid), "head", message.id)
            pipe.hset(cluster_key(cid), "last", latest)
            pipe.zadd(CLUSTERS, {cid: count * COUNT_WEIGHT + int(latest)})
            pipe.zadd(language_key(message.language), {cid: count * COUNT_WEIGHT + int(latest)})
            if joined:
                for part in ("", "members", "wordings", "sample", "tally"):
                    pipe.expire(cluster_key(cid, part), self.keep_seconds)
            results = await pipe.execute()
        if left and head == message.id and results[0]:
            await self.redis.hset(cluster_key(cid), "head", results[0][0])

    async def drop(self, cid: str, language: str = "") -> None:
        """The cluster leaves the pages (its messages were handled or purged); its day counts stay."""
        language = language or await self.redis.hget(cluster_key(cid), "language") or SOURCE_LANGUAGE
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.zrem(CLUSTERS, cid)
            pipe.zrem(language_key(language), cid)
            pipe.delete(*[cluster_key(cid, part) for part in ("", "members", "wordings", "sample", "tally")])
            await pipe.execute()
