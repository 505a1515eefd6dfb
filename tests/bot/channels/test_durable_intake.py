"""Durable intake (`bot/channels/intake.py`) through a mounted connector, a real Redis and a stand-in
platform: per-conversation order, a redelivery answered once, retries then a dead letter that an
editor's retry brings back, and a delivery left half-done by a dead process finished by the next.
"""

from __future__ import annotations

import asyncio
from typing import Any

import redis.asyncio as aioredis
from channel_support import FakePlatform, RecordingAgent, conversation, first, mounted
from rasa.core.channels.channel import UserMessage
from test_facebook import PSID, SEND, connector, page, sent_texts, signed, text_event

from bot.channels.intake import GROUP, DeadLetters, stream_key

OTHER = "7022541234567890"


class GatedAgent(RecordingAgent):
    """Holds every turn whose text is in `gates` until the test opens its gate."""

    def __init__(self, gates: dict[str, asyncio.Event]) -> None:
        super().__init__(lambda message: [{"text": f"You said: {message.text}"}])
        self.gates = gates
        self.started: list[str] = []

    async def handle_message(self, message: UserMessage) -> None:
        self.started.append(message.text or "")
        gate = self.gates.get(message.text or "")
        if gate is not None:
            await gate.wait()
        await super().handle_message(message)


class FailingAgent(RecordingAgent):
    """Raises for every turn while `failing` (as Rasa does when its tracker store cannot read)."""

    def __init__(self) -> None:
        super().__init__(lambda message: [{"text": f"You said: {message.text}"}])
        self.failing = True
        self.attempts = 0

    async def handle_message(self, message: UserMessage) -> None:
        self.attempts += 1
        if self.failing:
            raise ConnectionError("Redis read timed out")
        await super().handle_message(message)


def client(redis_creds: dict[str, str]) -> aioredis.Redis:
    return aioredis.Redis(port=int(redis_creds["redis_port"]), decode_responses=True)


async def until(condition: Any, seconds: float = 10.0) -> None:
    for _ in range(int(seconds / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the condition did not hold in time")


async def test_a_conversation_is_answered_in_order_while_others_go_ahead(
    platform: FakePlatform, redis_creds: dict[str, str]
) -> None:
    gate = asyncio.Event()
    agent = GatedAgent({"first": gate})
    async with mounted(connector(platform, redis_creds), agent=agent) as harness:
        await harness.post(*signed(page([text_event("first", "m_1")])), settle=False)
        await until(lambda: agent.started == ["first"])
        await harness.post(*signed(page([text_event("second", "m_2")])), settle=False)
        await harness.post(*signed(page([text_event("elsewhere", "m_3", sender=OTHER)])), settle=False)
        await until(lambda: "You said: elsewhere" in [t.split("\n")[0] for t in sent_texts(platform)])
        assert agent.started == ["first", "elsewhere"]  # "second" waits for "first"
        assert await harness.connector.intake.depth() == 2  # what /metrics reports: running and waiting
        gate.set()
        await harness.settle()
        assert await harness.connector.intake.depth() == 0
    mine = [h.json["message"]["text"] for h in platform.on(SEND) if h.json["recipient"]["id"] != OTHER]
    assert mine == [first("You said: first"), "You said: second"]


async def test_a_copy_redelivered_while_the_first_is_in_flight_is_answered_once(
    platform: FakePlatform, redis_creds: dict[str, str]
) -> None:
    gate = asyncio.Event()
    agent = GatedAgent({"hello": gate})
    delivery = signed(page([text_event("hello", "m_dup")]))
    async with mounted(connector(platform, redis_creds), agent=agent) as harness:
        assert (await harness.post(*delivery, settle=False))[0] == 200
        await until(lambda: agent.started == ["hello"])
        assert (await harness.post(*delivery, settle=False))[0] == 200
        gate.set()
        await harness.settle()
        assert (await harness.post(*delivery))[0] == 200  # and once it is done
        assert [m.text for m in harness.received] == ["hello"]
    assert sent_texts(platform) == [first("You said: hello")]


async def test_a_message_that_keeps_failing_is_a_dead_letter_until_an_editor_retries_it(
    platform: FakePlatform, redis_creds: dict[str, str]
) -> None:
    agent = FailingAgent()
    creds = {"intake_max_attempts": "3", "intake_retry_backoff": "0.01"}
    async with mounted(connector(platform, redis_creds, **creds), agent=agent) as harness:
        assert (await harness.post(*signed(page([text_event("pothole on Elm", "m_1")]))))[0] == 200
        assert agent.attempts == 3
        assert sent_texts(platform) == []
        redis = client(redis_creds)
        letters = DeadLetters(redis)
        [letter] = await letters.all()
        assert letter.error == "ConnectionError: Redis read timed out"
        assert letter.attempts == 3 and letter.summary == "pothole on Elm"
        assert letter.conversation == conversation("facebook", PSID)

        agent.failing = False
        assert await letters.retry(letter)
        assert not await letters.retry(letter)  # a second click does not send it twice
        await until(lambda: bool(sent_texts(platform)))
        await redis.close()
    assert sent_texts(platform) == [first("You said: pothole on Elm")]
    assert await DeadLetters(client(redis_creds)).all() == []


async def test_an_entry_a_dead_process_left_pending_is_processed_by_the_next(
    platform: FakePlatform, redis_creds: dict[str, str]
) -> None:
    fast = {"intake_lease_seconds": "1"}
    channel = connector(platform, redis_creds, **fast)
    convo = conversation("facebook", PSID)
    # what a process did before kill -9: stored the delivery (the 200 went out), took it, died
    [entry_id] = await channel.intake.append([(convo, {"event": event_json("pothole")}, "")], 3600)
    redis = client(redis_creds)
    stream = channel.intake.stream(convo)
    await redis.xgroup_create(stream, GROUP, id="0", mkstream=True)
    taken = await redis.xreadgroup(GROUP, "dead-process", {stream: ">"}, count=10)
    assert [entry for entry, _ in taken[0][1]] == [entry_id]
    await redis.set(f"civic:intake:v1:facebook:lease:{stream.rsplit(':', 1)[1]}", "dead-process", px=1000)
    async with mounted(connector(platform, redis_creds, **fast)) as harness:
        await until(lambda: bool(harness.received), seconds=15)
        await harness.settle()
    assert sent_texts(platform) == [first("You said: pothole")]
    assert await redis.xlen(stream) == 0
    await redis.close()
    await channel.intake.stop(0)


def event_json(text: str) -> str:
    import json

    return json.dumps({"sender_id": PSID, "kind": "text", "text": text, "message_id": ""})


def test_the_stream_key_names_the_channel_and_shard() -> None:
    assert stream_key("facebook", 3) == "civic:intake:v1:facebook:3"
