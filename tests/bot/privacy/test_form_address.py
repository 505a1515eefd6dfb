"""The address a citizen gave a form never reaches the inbox, whatever its shape.

The inbox recorder reads the real event shapes from a real Redis: the user's message, then the slot
the form set from it (Rasa publishes the slot after the message), then later messages that repeat it.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from redis.asyncio import Redis

from bot.inbox.recorder import Recorder
from bot.inbox.store import InboxStore
from bot.privacy.redact import Redactor

PLACE = "the blue house past the mill"


def unsure(sender: str, text: str) -> dict[str, Any]:
    parse = {"text": text, "intent": {"name": "nlu_fallback", "confidence": 0.3}, "entities": []}
    return {
        "sender_id": sender,
        "event": "user",
        "timestamp": time.time(),
        "text": text,
        "parse_data": parse,
        "input_channel": "socketio",
    }


def slot(sender: str, name: str, value: str) -> dict[str, Any]:
    return {"sender_id": sender, "event": "slot", "timestamp": time.time(), "name": name, "value": value}


@pytest.fixture
async def redis(redis_server: int) -> AsyncIterator[Redis]:
    client = Redis(port=redis_server, db=5, decode_responses=True)
    await client.flushdb()
    yield client
    await client.flushdb()
    await client.close()


async def test_the_form_address_is_redacted_from_the_message_that_gave_it_and_later_ones(
    redis: Redis,
) -> None:
    recorder = Recorder(InboxStore(redis, 30 * 86400), Redactor(), threshold=0.6)
    await recorder.handle(unsure("c1", f"trash skipped at {PLACE}, call 555-867-5309"))
    await recorder.handle(slot("c1", "address", PLACE))
    await recorder.handle(unsure("c1", "why is The Blue House Past The Mill always last"))
    await recorder.handle(unsure("c2", f"is {PLACE} a landmark?"))  # another citizen: not their address
    texts = sorted(item.message.text for item in await recorder.store.items())
    assert texts == [
        f"is {PLACE} a landmark?",
        "trash skipped at [address], call [phone]",
        "why is [address] always last",
    ]
    for key in await redis.keys("inbox:item:*"):
        item = await redis.hgetall(key)
        assert item["conversation"] == "c2" or "blue house" not in item["text"].lower()
