"""Rasa events shaped exactly as Rasa's tracker store publishes them (``sender_id`` + ``Event.as_dict()``)."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

from redis.asyncio import Redis

STREAM = "civic:events"


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

    Not a pytest-asyncio test: once the session's playwright browser runs (sync API), the main
    thread has a running loop and pytest-asyncio cannot start another one there.
    """
    failure: list[BaseException] = []

    async def run() -> None:
        client = Redis(port=port, db=3, decode_responses=True)
        await client.flushdb()
        try:
            await scenario(client)
        finally:
            await client.flushdb()
            await client.close()

    def target() -> None:
        try:
            asyncio.run(run())
        except BaseException as exc:  # re-raised in the test's thread
            failure.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join(120)
    if failure:
        raise failure[0]
