"""Live answers on the real stack: a wording published to Redis is what the next citizen reads over REST
within 5 seconds, from the same model (no training, no swap), and publishing the old wording again
restores it just as fast."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.parse
import urllib.request
from dataclasses import replace
from typing import Any

import pytest
import redis
import redis.asyncio as aioredis
from polling_support import wait_until
from stack_support import RestClient, sender_id

from bot.content.generate import entry_variations
from bot.content.model import Entry, all_entries, load_content, load_render_settings
from bot.stack import Stack
from bot.studio.live import LIVE_KEY, VERSION_KEY, LiveAnswer, LiveContent, live_answer, variations_digest

pytestmark = pytest.mark.stack

ENTRY = "city_hall_hours"
QUESTION = "When is City Hall open?"
EDITED = "City Hall, 100 Main Street, is open Monday to Friday from 8 am to 5 pm (studio test)."
LIVE_SECONDS = 5.0  # the promise: published to the next citizen
ASK_EVERY = 0.25  # between two citizens asking: a handful of conversations, not a flood


def rasa_status(stack: Stack) -> dict[str, Any]:
    token = urllib.parse.quote(stack.settings.rasa.token)
    url = f"http://127.0.0.1:{stack.settings.rasa.port}/status?token={token}"
    with urllib.request.urlopen(url, timeout=30) as answer:
        return dict(json.loads(answer.read()))


def publish(stack: Stack, answer: LiveAnswer) -> None:
    """What the studio's Publish does last: the answer into the stack's Redis, version bumped."""

    async def run() -> None:
        client = aioredis.Redis.from_url(stack.settings.redis.url)
        try:
            await LiveContent(client).publish(answer)
        finally:
            await client.close()

    asyncio.run(run())


def withdraw(stack: Stack, response: str) -> None:
    """Remove the live answer (and tell every NLG), so other tests meet the model's own wording."""
    client = redis.Redis.from_url(stack.settings.redis.url)
    try:
        with client.pipeline(transaction=True) as pipe:
            pipe.hdel(LIVE_KEY, response)
            pipe.incr(VERSION_KEY)
            pipe.execute()
    finally:
        client.close()


def next_citizen_reads(rest: RestClient, wanted: str) -> float:
    """Ask as a new citizen until the reply contains `wanted` (at most LIVE_SECONDS); seconds it took."""
    started = time.monotonic()

    def reads() -> bool:
        if wanted in rest.say(sender_id("live"), QUESTION):
            return True
        time.sleep(ASK_EVERY)
        return False

    wait_until(reads, LIVE_SECONDS, f"no citizen read {wanted!r} within {LIVE_SECONDS:.0f}s of publishing")
    return time.monotonic() - started


def test_a_published_answer_reaches_the_next_citizen_within_5_seconds_from_the_same_model(
    stack: Stack, rest: RestClient
) -> None:
    settings = load_render_settings()
    entry: Entry = next(e for e in all_entries(load_content()) if e.id == ENTRY)
    model = rasa_status(stack)["model_file"]
    assert entry.answer in rest.say(sender_id("live"), QUESTION), "the model's own wording first"

    edited = replace(entry, answer=EDITED)
    was = variations_digest(entry_variations(entry, settings))  # the wording the model was trained with
    try:
        publish(stack, live_answer(edited, settings, 2, [was]))
        assert next_citizen_reads(rest, EDITED) <= LIVE_SECONDS
        assert rasa_status(stack)["model_file"] == model, "no retraining, no model swap"

        publish(
            stack,
            live_answer(entry, settings, 3, [was, variations_digest(entry_variations(edited, settings))]),
        )
        next_citizen_reads(rest, entry.answer)
    finally:
        withdraw(stack, entry.response)
    assert rasa_status(stack)["model_file"] == model
