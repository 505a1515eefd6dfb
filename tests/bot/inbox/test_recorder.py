"""Recording: unsure messages reach the inbox redacted, with the reason; confident ones do not."""

from __future__ import annotations

import time

from inbox_support import RECORD_SECONDS, action, event, in_own_loop, publish, user
from polling_support import wait_until_async
from redis.asyncio import Redis

from bot.background import Background
from bot.events import ensure_group
from bot.inbox.recorder import Recorder, consume_once, run_forever
from bot.inbox.store import InboxStore
from bot.privacy.redact import Redactor

STREAM, GROUP = "civic:events", "inbox"
DAY = 86400


def recorder_for(redis: Redis, retention_days: float = 30) -> Recorder:
    return Recorder(InboxStore(redis, int(retention_days * DAY)), Redactor(), threshold=0.6)


async def drain(redis: Redis, recorder: Recorder, consumer: str = "console") -> None:
    await ensure_group(redis, GROUP, STREAM)
    while await consume_once(redis, recorder, STREAM, GROUP, consumer, block_ms=50):
        pass


async def reasons_by_text(recorder: Recorder) -> dict[str, list[str]]:
    return {item.message.text: list(item.reasons) for item in await recorder.store.items()}


def test_each_kind_of_unsure_message_is_recorded_with_its_reason(redis_server: int) -> None:
    in_own_loop(redis_server, _test_each_kind_of_unsure_message_is_recorded_with_its_reason)


async def _test_each_kind_of_unsure_message_is_recorded_with_its_reason(redis: Redis) -> None:
    await publish(
        redis,
        user(
            "c1",
            "how do i pay my water bill",
            "faq",
            0.98,
            answer="faq/pay_water_bill",
            answer_confidence=0.95,
        ),
        user(
            "c2",
            "can the city fix my fence, call 555-867-5309",
            "faq",
            0.9,
            answer="faq/x",
            answer_confidence=0.3,
        ),
        user("c3", "blorp the zoning thing", "nlu_fallback", 0.4),
        action("c3", "action_prepare_clarification"),
        user("c4", "whats my checking balance", "out_of_scope", 0.97),
        action("c4", "utter_out_of_scope"),
        user(
            "c5",
            "my trash was skipped again at 12 Elm St",
            "faq",
            0.99,
            answer="faq/missed",
            answer_confidence=0.9,
        ),
        action("c5", "action_start_handoff"),
        event("c5", "pause"),
        user("c5", "hi, this is the agent chat", "greet", 0.2),
        event("c5", "resume"),
        event("c5", "slot", name="handoff_rating", value="1"),
        user("c6", "when is bulky pickup", "faq", 0.99, answer="faq/bulky", answer_confidence=0.99),
        user(
            "c6",
            '/feedback{"value":"down"}',
            "feedback",
            1.0,
            entities=[{"entity": "value", "value": "down"}],
        ),
    )
    recorder = recorder_for(redis)
    await drain(redis, recorder)
    found = await reasons_by_text(recorder)
    assert found == {
        "can the city fix my fence, call [phone]": ["low_confidence"],
        "blorp the zoning thing": ["fallback", "clarification"],
        "whats my checking balance": ["declined"],
        "my trash was skipped again at [address]": ["handoff", "low_rating"],
        "when is bulky pickup": ["thumbs_down"],
    }
    item = next(i for i in await recorder.store.items() if i.message.conversation == "c2")
    assert (item.message.channel, item.message.intent, item.message.confidence) == ("socketio", "faq/x", 0.3)


def test_a_message_seen_twice_is_recorded_once(redis_server: int) -> None:
    in_own_loop(redis_server, _test_a_message_seen_twice_is_recorded_once)


async def _test_a_message_seen_twice_is_recorded_once(redis: Redis) -> None:
    unsure = user("c1", "parking tickets??", "faq", 0.4, answer="faq/parking", answer_confidence=0.4)
    await publish(redis, unsure, unsure)
    recorder = recorder_for(redis)
    await drain(redis, recorder)
    assert len(await recorder.store.items()) == 1


def test_messages_past_the_retention_period_are_dropped(redis_server: int) -> None:
    in_own_loop(redis_server, _test_messages_past_the_retention_period_are_dropped)


async def _test_messages_past_the_retention_period_are_dropped(redis: Redis) -> None:
    now = time.time()
    await publish(
        redis,
        user("old", "old question", "nlu_fallback", 0.3, timestamp=now - 3 * DAY),
        user("new", "new question", "nlu_fallback", 0.3, timestamp=now - 1 * DAY),
    )
    recorder = recorder_for(redis, retention_days=2)
    await drain(redis, recorder)
    assert [i.message.text for i in await recorder.store.items()] == ["new question"]
    assert await recorder.store.purge(now=now + 1.5 * DAY) == 1
    assert await recorder.store.items(now=now + 1.5 * DAY) == []


def test_a_restarted_consumer_resumes_without_losing_or_repeating(redis_server: int) -> None:
    in_own_loop(redis_server, _test_a_restarted_consumer_resumes_without_losing_or_repeating)


async def _test_a_restarted_consumer_resumes_without_losing_or_repeating(redis: Redis) -> None:
    recorder = recorder_for(redis)
    await publish(redis, user("a", "first unsure", "nlu_fallback", 0.3))
    await drain(redis, recorder)
    await recorder.store.resolve([i.message.id for i in await recorder.store.items()])
    await publish(redis, user("b", "second unsure", "nlu_fallback", 0.3))
    await drain(redis, recorder_for(redis))  # a new process, same consumer group
    assert [i.message.text for i in await recorder.store.items()] == ["second unsure"]


def test_the_background_consumer_records_while_running(redis_server: int) -> None:
    in_own_loop(redis_server, _test_the_background_consumer_records_while_running)


async def _test_the_background_consumer_records_while_running(redis: Redis) -> None:
    recorder = recorder_for(redis)
    background = Background()
    background.start(run_forever(redis, recorder, STREAM, GROUP, "console", background), "inbox")
    try:
        await publish(redis, user("live", "is the dump open sunday", "nlu_fallback", 0.3))
        assert await recorded(recorder) == ["is the dump open sunday"]
        # a Redis restarted without its data has lost the consumer group: recording carries on
        await redis.flushdb()
        await publish(redis, user("later", "zoning hearing blorp", "nlu_fallback", 0.3))
        assert await recorded(recorder) == ["zoning hearing blorp"]
    finally:
        await background.stop()


async def recorded(recorder: Recorder) -> list[str]:
    """The inbox's texts once something is there (the consumer runs in the background).

    Fails if nothing was recorded within RECORD_SECONDS.
    """

    async def texts() -> list[str]:
        return [i.message.text for i in await recorder.store.items()]

    return await wait_until_async(texts, RECORD_SECONDS, "the background consumer recorded nothing")


def test_a_declined_message_is_kept_with_why_it_was_declined(redis_server: int) -> None:
    in_own_loop(redis_server, _test_a_declined_message_is_kept_with_why_it_was_declined)


async def _test_a_declined_message_is_kept_with_why_it_was_declined(redis: Redis) -> None:
    close = user("d1", "parking or permits", "nlu_fallback", 0.4, answer="faq/parking", answer_confidence=0.8)
    close["parse_data"]["intent_ranking"] += [
        {"name": "faq", "confidence": 0.5},
        {"name": "ask_alerts", "confidence": 0.47},
    ]
    far = user("d2", "best pizza near me", "out_of_scope", 1.0)
    far["parse_data"]["domain_gate"] = {"score": 31.0, "out_of_domain": True}
    confident = user("d3", "when is bulky pickup", "faq", 0.99, answer="faq/bulky", answer_confidence=0.99)
    await publish(
        redis,
        close,
        action("d1", "action_prepare_clarification"),
        far,
        action("d2", "utter_out_of_scope"),
        confident,
        action("d3", "utter_out_of_scope"),  # the dialogue declined a confident parse: nothing tells why
    )
    recorder = recorder_for(redis)
    await drain(redis, recorder)
    found = {i.message.text: (list(i.reasons), i.message.decline) for i in await recorder.store.items()}
    assert found == {
        "parking or permits": (["fallback", "clarification"], "ambiguous"),
        "best pizza near me": (["declined"], "out_of_domain"),
        "when is bulky pickup": (["declined"], "unknown"),
    }
