"""Rasa events shaped exactly as Rasa's tracker store publishes them (``sender_id`` + ``Event.as_dict()``)."""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

from civic_testing import run_in_thread
from redis.asyncio import Redis

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
