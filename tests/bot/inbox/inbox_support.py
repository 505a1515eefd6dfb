"""Helpers for the inbox tests (imported as `inbox_support`).

- Rasa events shaped exactly as Rasa's tracker store publishes them (``sender_id`` + ``Event.as_dict()``),
  and publishing them the way the project's event broker does.
- `Console`: how the inbox tests reach the console they serve (`conftest.py`): its pages, JSON API and
  event stream.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis as redis_sync
from polling_support import wait_until
from redis.asyncio import Redis
from stack_support import run_in_thread

STREAM = "civic:events"
CONSUMER_BLOCK_SECONDS = 1.0  # consume_once's default block_ms, as the console's run_forever uses it
CONSUMER_RETRY_SECONDS = 2.0  # run_forever's pause after a Redis error (e.g. its consumer group was lost)
# Until a running consumer has recorded a published event: a blocked read plus a retry after an error,
# three times over (margin for two cores busy with the rest of the suite).
RECORD_SECONDS = 3 * (CONSUMER_BLOCK_SECONDS + CONSUMER_RETRY_SECONDS)
# A whole recorder scenario: at most two such waits plus its own Redis calls, doubled for margin.
SCENARIO_SECONDS = 2 * 2 * RECORD_SECONDS


def user(
    sender: str,
    text: str,
    intent: str,
    confidence: float,
    *,
    answer: str = "",
    answer_confidence: float = 0.0,
    entities: list[dict[str, Any]] | None = None,
    channel: str = "socketio",
    timestamp: float | None = None,
) -> dict[str, Any]:
    parse: dict[str, Any] = {
        "text": text,
        "intent": {"name": intent, "confidence": confidence},
        "entities": entities or [],
        "intent_ranking": [{"name": intent, "confidence": confidence}],
        "response_selector": {"all_retrieval_intents": ["faq"], "default": {"response": {}, "ranking": []}},
    }
    if answer:
        parse["response_selector"]["faq"] = {
            "response": {"intent_response_key": answer, "confidence": answer_confidence},
            "ranking": [],
        }
    return {
        "sender_id": sender,
        "event": "user",
        "timestamp": time.time() if timestamp is None else timestamp,
        "metadata": {},
        "text": text,
        "parse_data": parse,
        "input_channel": channel,
        "message_id": "m" + str(time.monotonic_ns()),
    }


def action(sender: str, name: str) -> dict[str, Any]:
    return {
        "sender_id": sender,
        "event": "action",
        "timestamp": time.time(),
        "name": name,
        "policy": "RulePolicy",
    }


def event(sender: str, kind: str, **fields: Any) -> dict[str, Any]:
    return {"sender_id": sender, "event": kind, "timestamp": time.time(), **fields}


async def publish(redis: Redis, *events: dict[str, Any]) -> None:
    """What the project's event broker does: XADD with the event's JSON in field ``event``."""
    for item in events:
        await redis.xadd(STREAM, {"event": json.dumps(item)})


def in_own_loop(port: int, scenario: Callable[[Redis], Awaitable[None]]) -> None:
    """Run an async scenario on a clean database in a thread with its own event loop.

    Re-raises the scenario's failure; fails if it still runs after SCENARIO_SECONDS (a consumer loop
    that never ends). Not a pytest-asyncio test: once the session's playwright browser runs (sync
    API), the main thread has a running loop and pytest-asyncio cannot start another one there.
    """

    async def run() -> None:
        client = Redis(port=port, db=3, decode_responses=True)
        await client.flushdb()
        try:
            await scenario(client)
        finally:
            await client.flushdb()
            await client.close()

    run_in_thread(run, SCENARIO_SECONDS, f"the scenario {scenario.__name__}")


# --- the console the tests serve ------------------------------------------------------------------

CONSOLE_DB = 9  # this package's own database on the shared test Redis
PASSWORDS = {"ella": "ella-editor-pw", "sam": "sam-agent-pw"}


@dataclass
class Console:
    url: str
    redis_url: str
    project: Path
    tokens: dict[str, str]

    @property
    def content_dir(self) -> Path:
        return self.project / "data/content"

    def publish(self, *events: dict[str, Any]) -> None:
        client = redis_sync.Redis.from_url(self.redis_url)
        for event in events:
            client.xadd("civic:events", {"event": json.dumps(event)})
        client.close()

    def api(self, method: str, path: str, body: Any = None, who: str = "ella") -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        headers = {"Authorization": f"Bearer {self.tokens[who]}", "Content-Type": "application/json"}
        request = urllib.request.Request(self.url + path, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")

    def wait_for_groups(
        self, count: int, settled: Callable[[list[dict[str, Any]]], bool] = lambda groups: True
    ) -> list[dict[str, Any]]:
        """The inbox's groups once there are at least `count` (>= 1) and `settled` holds for them
        (a message's later events, such as its clarification, are recorded after the message
        itself); fails after RECORD_SECONDS."""
        seen: list[dict[str, Any]] = []

        def enough() -> list[dict[str, Any]] | None:
            seen[:] = self.api("GET", "/api/inbox/groups")[1]["groups"]
            return list(seen) if len(seen) >= count and settled(seen) else None

        return wait_until(enough, RECORD_SECONDS, lambda: f"expected {count} inbox groups, got {seen}")
