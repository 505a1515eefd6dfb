"""Live answers: what the studio publishes reaches citizens within seconds, without retraining.

A publish writes the entry's reply, rendered exactly as the generated responses file would hold it
(``entry_variations``, agency facts not yet filled in), into one Redis hash, and bumps a version
counter in the same transaction. Every Rasa process's NLG (``bot.nlg``) asks for the counter at most
once a second and reads the hash only when it moved, so a publish costs citizens no extra Redis
round trip per message and no model swap (docs/content-studio.md, "Live answers"). The variations
are every language's: a translation's carry its language's condition (`entry_variations`), and the
NLG says the conversation's language among them, so a published Spanish answer is live as fast.

``known`` says which wordings the studio has published or replaced for the entry: the NLG serves a
live answer only while the model's own wording is one of them, so a hand-edit to the content files
that was retrained since is never hidden behind an older live answer.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import redis.asyncio as aioredis

from bot.content.generate import entry_variations
from bot.content.model import Entry, RenderSettings

log = logging.getLogger(__name__)

LIVE_KEY = "civic:content:live:v1"  # hash: response name -> LiveAnswer JSON
VERSION_KEY = "civic:content:live:v1:version"  # INCR'd with every publish
CONTENT_RESPONSE_PREFIXES = ("utter_faq/", "utter_sensitive_")
CHECK_SECONDS = 1.0  # how stale one process's view of the live answers may be
WARN_SECONDS = 60.0  # one warning a minute for the same trouble, not one per message


def is_content_response(name: str) -> bool:
    """Whether `name` is a content entry's answer (FAQ, rumor, referral or crisis lifeline)."""
    return name.startswith(CONTENT_RESPONSE_PREFIXES)


@dataclass(frozen=True)
class LiveAnswer:
    """One entry's published reply, as the NLG serves it instead of the model's own."""

    entry_id: str
    response: str
    kind: str
    topic: str
    sensitive: bool
    source: str
    variations: list[dict[str, Any]]
    retired: bool = False
    valid_from: str = ""
    valid_until: str = ""
    known: tuple[str, ...] = ()
    version: int = 0

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, raw: str | bytes) -> LiveAnswer:
        """The answer stored as `raw`; ``ValueError`` saying what is wrong when it is not one."""
        data = json.loads(raw)
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        texts = ("entry_id", "response", "kind", "topic", "source", "valid_from", "valid_until")
        if bad := [key for key in texts if not isinstance(data.get(key, ""), str)]:
            raise ValueError(f"{', '.join(bad)} must be text")
        if not is_content_response(str(data.get("response", ""))) or not data.get("entry_id"):
            raise ValueError("needs entry_id and a content response name")
        variations = data.get("variations")
        if not isinstance(variations, list) or not variations:
            raise ValueError("variations must be a non-empty list")
        if not all(isinstance(v, dict) and isinstance(v.get("text"), str) for v in variations):
            raise ValueError("every variation needs a text")
        known = data.get("known", [])
        if not isinstance(known, list) or not all(isinstance(k, str) for k in known):
            raise ValueError("known must be a list of digests")
        try:
            return cls(**{**data, "known": tuple(known), "version": int(data.get("version", 0))})
        except TypeError as exc:  # a missing or unexpected key
            raise ValueError(str(exc)) from None


def variations_digest(variations: list[dict[str, Any]]) -> str:
    """A wording's fingerprint: the same variations (in order) give the same digest on every process."""
    canonical = json.dumps(variations, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def live_answer(entry: Entry, settings: RenderSettings, version: int, known: Iterable[str]) -> LiveAnswer:
    """`entry` as published: its reply rendered the one way the generated files render it.

    Its own wording is added to `known` (it is, after all, a wording the studio published).
    """
    variations = [dict(variation) for variation in entry_variations(entry, settings)]
    digests = dict.fromkeys([*known, variations_digest(variations)])
    return LiveAnswer(
        entry_id=entry.id,
        response=entry.response,
        kind=entry.kind,
        topic=entry.topic,
        sensitive=entry.sensitive,
        source=entry.source,
        variations=variations,
        retired=entry.retired,
        valid_from=entry.valid_from,
        valid_until=entry.valid_until,
        known=tuple(digests),
        version=version,
    )


def _text(value: str | bytes) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else value


def parse_answers(raw: Mapping[Any, Any]) -> tuple[dict[str, LiveAnswer], list[str]]:
    """The hash's answers by response name, and what was wrong with the values that are not answers."""
    answers: dict[str, LiveAnswer] = {}
    problems: list[str] = []
    for key, value in raw.items():
        name = _text(key)
        try:
            answer = LiveAnswer.from_json(value)
        except (ValueError, UnicodeDecodeError) as exc:
            problems.append(f"{name}: {exc}")
            continue
        if answer.response != name:
            problems.append(f"{name}: holds the answer of {answer.response}")
            continue
        answers[name] = answer
    return answers, problems


class LiveContent:
    """The live answers in Redis (either a bytes or a ``decode_responses`` client)."""

    def __init__(self, redis: aioredis.Redis) -> None:
        self.redis = redis

    async def publish(self, answer: LiveAnswer) -> int:
        """Store `answer` for its response and bump the version in one transaction; the new version."""
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(LIVE_KEY, answer.response, answer.to_json())
            pipe.incr(VERSION_KEY)
            _, version = await pipe.execute()
        return int(version)

    async def version(self) -> int:
        raw = await self.redis.get(VERSION_KEY)
        return int(raw) if raw else 0

    async def all(self) -> dict[str, LiveAnswer]:
        """Every live answer by response name (a value that is not an answer is left out)."""
        return parse_answers(await self.redis.hgetall(LIVE_KEY))[0]

    async def snapshot(self) -> tuple[int, dict[str, LiveAnswer], list[str]]:
        """The version and the answers read together (one transaction), with any bad values named."""
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.get(VERSION_KEY)
            pipe.hgetall(LIVE_KEY)
            version, raw = await pipe.execute()
        answers, problems = parse_answers(raw)
        return (int(version) if version else 0), answers, problems


@dataclass
class Throttled:
    """A warning said at most once every `seconds` per kind of trouble."""

    seconds: float = WARN_SECONDS
    clock: Callable[[], float] = time.monotonic
    said: dict[str, float] = field(default_factory=dict)

    def warning(self, kind: str, message: str, *args: Any) -> None:
        now = self.clock()
        if now - self.said.get(kind, -self.seconds) >= self.seconds:
            self.said[kind] = now
            log.warning(message, *args)


class LiveReader:
    """One process's cached view of the live answers, for the NLG.

    ``refresh`` asks Redis for the version at most once every `every` seconds and reads the answers
    only when the version moved. When Redis cannot be reached the answers last read stay (none at
    start: the model's own responses), with a warning once a minute; a bad value costs only that
    entry's live answer.
    """

    def __init__(
        self,
        connect: Callable[[], aioredis.Redis],
        every: float = CHECK_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.connect = connect
        self.every = every
        self.clock = clock
        self.version: int | None = None  # None: never read
        self.answers: dict[str, LiveAnswer] = {}
        self.warn = Throttled(clock=clock)
        self._checked_at: float | None = None

    async def refresh(self) -> bool:
        """Look again if the last look is older than `every`; True when the answers changed."""
        now = self.clock()
        if self._checked_at is not None and now - self._checked_at < self.every:
            return False
        self._checked_at = now  # messages arriving during the look use what is known
        try:
            content = LiveContent(self.connect())
            if await content.version() == self.version:
                return False
            version, answers, problems = await content.snapshot()
        except Exception as exc:  # Redis down or slow, a bad version: never the citizen's problem
            self.warn.warning(
                "redis",
                "live answers: Redis unreadable, kept what was read last (%s: %s)",
                type(exc).__name__,
                exc,
            )
            return False
        if problems:
            self.warn.warning(
                "value", "live answers: left out, the model's own reply is said: %s", "; ".join(problems)
            )
        self.version, self.answers = version, answers
        return True
