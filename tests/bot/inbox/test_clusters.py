"""Clusters made when messages are recorded: what an editor sees grouped, what the trend flags, and the
"did not help" reply (issue #18). Real Redis (database 3, through `in_own_loop`)."""

from __future__ import annotations

import time
from typing import Any

from inbox_support import event, in_own_loop, publish, user
from redis.asyncio import Redis
from test_recorder import drain, recorder_for

from bot.inbox.emerging import emerging_questions
from bot.inbox.selection import Message
from bot.inbox.store import ITEMS, InboxStore

DAY = 86400


def message(n: int, text: str, when: float, intent: str = "nlu_fallback") -> Message:
    return Message(f"m{n}", f"c{n}", "socketio", intent, 0.3, text, when)


async def record(store: InboxStore, texts: list[str], when: float, reason: str = "fallback") -> None:
    for n, text in enumerate(texts):
        await store.add(message(int(when) * 1000 + n, text, when + n), [reason], now=when + n)


async def groups_of(store: InboxStore) -> list[tuple[int, str]]:
    clusters, _ = await store.page(0, 50)
    return [(c.count, c.text) for c in clusters]


async def wordings_of(store: InboxStore) -> list[tuple[int, set[str]]]:
    """Each cluster's count and wordings (its text is its most common wording, any of them on a tie)."""
    clusters, _ = await store.page(0, 50)
    for cluster in clusters:
        assert cluster.text == cluster.items[0].message.text
    return [(c.count, {i.message.text for i in c.items}) for c in clusters]


def test_paraphrases_and_typos_join_one_cluster_and_other_questions_stay_apart(redis_server: int) -> None:
    in_own_loop(redis_server, _paraphrases_and_typos)


async def _paraphrases_and_typos(redis: Redis) -> None:
    store = InboxStore(redis, 30 * DAY)
    await record(
        store,
        [
            "Is the dump open on Sunday?",
            "how do i pay my water bill",
            "is teh dump open on sundays",
            "sunday: is the dump open?",
            "how do i pay a parking ticket",
            "is the dump open sunday",
            "How do I pay my water bill?",
            "can i keep chickens in my yard",
        ],
        time.time() - 60,
    )
    assert await wordings_of(store) == [
        (4, {"Is the dump open on Sunday?", "is teh dump open on sundays", "sunday: is the dump open?",
             "is the dump open sunday"}),
        (2, {"how do i pay my water bill", "How do I pay my water bill?"}),
        (1, {"can i keep chickens in my yard"}),  # the newer first among equals
        (1, {"how do i pay a parking ticket"}),
    ]  # fmt: skip
    first = (await store.page(0, 1))[0][0]
    assert first.reasons == [("fallback", 4)] and first.intents == [("nlu_fallback", 4)]
    # a decision takes the whole cluster out of the inbox; a new wording later starts afresh
    await store.resolve(await store.member_ids(first.id))
    assert [count for count, _ in await groups_of(store)] == [2, 1, 1]
    await record(store, ["is the dump open on sunday"], time.time())
    assert (1, "is the dump open on sunday") in await groups_of(store)


def test_messages_recorded_before_clusters_join_theirs_once(redis_server: int) -> None:
    in_own_loop(redis_server, _migration)


async def _migration(redis: Redis) -> None:
    now = time.time()
    for n, text in enumerate(["where do i vote", "Where do I vote?", "what is my polling place"]):
        # as the inbox stored them before issue #18: no cluster, no answer field
        fields = {**message(n, text, now - 100 + n).as_dict(), "reasons": "fallback,clarification"}
        del fields["answer"]
        await redis.hset(f"inbox:item:m{n}", mapping={k: str(v) for k, v in fields.items()})
        await redis.zadd(ITEMS, {f"m{n}": now - 100 + n})
    store = InboxStore(redis, 30 * DAY)
    assert await store.page(0, 10) == ([], 0)
    assert await store.migrate() == 3
    assert await store.migrate() == 0  # once
    clusters, total = await store.page(0, 10)
    assert total == 2 and [c.count for c in clusters] == [2, 1]
    assert clusters[0].reasons == [("fallback", 2), ("clarification", 2)]
    assert all(item.message.answer == "" for c in clusters for item in c.items)


def test_purged_messages_leave_their_cluster(redis_server: int) -> None:
    in_own_loop(redis_server, _purge)


async def _purge(redis: Redis) -> None:
    now = time.time()
    store = InboxStore(redis, 2 * DAY)
    await record(store, ["is the pool open late"], now - 1.5 * DAY)
    await record(store, ["is the pool open late?", "library card renewal"], now - 60)
    assert await groups_of(store) == [(2, "is the pool open late?"), (1, "library card renewal")]
    assert await store.purge(now=now + DAY) == 1
    assert await groups_of(store) == [(1, "library card renewal"), (1, "is the pool open late?")]
    assert await store.purge(now=now + 3 * DAY) == 2
    assert await store.page(0, 10) == ([], 0)


def test_emerging_questions_flag_a_cluster_that_grew_not_a_steady_one(redis_server: int) -> None:
    in_own_loop(redis_server, _emerging)


async def _emerging(redis: Redis) -> None:
    now = time.time()
    store = InboxStore(redis, 60 * DAY)
    for week in range(1, 5):  # the four weeks before this one
        when = now - (7 * week + 2) * DAY
        await record(store, ["is the water safe to drink"] * 2, when)
        await record(store, ["when is leaf collection"] * 6, when + 3600)
    this_week = now - 2 * DAY
    await record(store, ["is the water safe to drink", "is the tap water safe to drink?"] * 5, this_week)
    await record(store, ["when is leaf collection"] * 6, this_week + 3600)
    await record(store, ["is the zoo open on mondays"], this_week + 7200)  # new, but one message
    await record(store, ["call me at [phone] about the flood"] * 6, this_week + 9000, reason="handoff")

    found = await emerging_questions(redis, now)
    assert len(found) == 1, found
    water = found[0]
    assert (water["this_week"], water["weekly_before"]) == (10, 2.0)
    assert water["examples"] == ["is the water safe to drink", "is the tap water safe to drink?"]
    cid = water["cluster"]
    assert (water["draft_faq_url"], water["draft_rumor_url"]) == (
        f"/inbox/groups/{cid}/draft",
        f"/inbox/groups/{cid}/rumor",
    )
    await store.resolve(await store.member_ids(cid))  # an editor handled it: no longer flagged
    assert await emerging_questions(redis, now) == []


def rated_answer(sender: str, aid: str, entry: str, **extra: Any) -> dict[str, Any]:
    """A bot message as Rasa publishes it for a rated answer (contract §1: `metadata.rating`)."""
    rating = {"answer": aid, "entry": entry, "variant": "", "kind": "faq", "topic": ""}
    return event(
        sender, "bot", text="Bulky items are picked up on request.", metadata={"rating": rating, **extra}
    )


def tap(sender: str, aid: str, value: str) -> dict[str, Any]:
    entities = [{"entity": "answer", "value": aid}, {"entity": "value", "value": value}]
    payload = f'/feedback{{"answer":"{aid}","value":"{value}"}}'
    return user(sender, payload, "feedback", 1.0, entities=entities)


def test_the_reply_after_did_not_help_is_recorded_with_the_answer(redis_server: int) -> None:
    in_own_loop(redis_server, _not_helpful)


async def _not_helpful(redis: Redis) -> None:
    ask = {
        "utter_action": "utter_feedback_ask_detail",
        "feedback_for": {"answer": "a1", "entry": "bulky_item_pickup"},
    }
    await publish(
        redis,
        user(
            "n1",
            "how do i get rid of a couch",
            "faq",
            0.97,
            answer="faq/bulky_item_pickup",
            answer_confidence=0.9,
        ),
        rated_answer("n1", "a1", "bulky_item_pickup"),
        user("n1", "when is recycling", "faq", 0.97, answer="faq/recycling_day", answer_confidence=0.9),
        rated_answer("n1", "a2", "recycling_day"),
        tap("n1", "a1", "down"),  # about the first answer, after a second question
        event("n1", "bot", text="Sorry. What were you looking for?", metadata=ask),
        user(
            "n1",
            "the couch is on the curb at 12 Elm St, can you take it tomorrow",
            "faq",
            0.9,
            answer="faq/bulky_item_pickup",
            answer_confidence=0.9,
        ),
        # a citizen who ignores the buttons and asks on is not recorded for it
        user(
            "n2",
            "how do i get rid of a couch",
            "faq",
            0.97,
            answer="faq/bulky_item_pickup",
            answer_confidence=0.9,
        ),
        rated_answer("n2", "b1", "bulky_item_pickup"),
        user("n2", "and a mattress?", "faq", 0.95, answer="faq/bulky_item_pickup", answer_confidence=0.9),
        tap("n2", "b1", "up"),
    )
    recorder = recorder_for(redis)
    await drain(redis, recorder)
    found = {i.message.text: (list(i.reasons), i.message.answer) for i in await recorder.store.items()}
    assert found == {
        "how do i get rid of a couch": (["thumbs_down"], "bulky_item_pickup"),
        "the couch is on the curb at [address], can you take it tomorrow": (
            ["not_helpful"],
            "bulky_item_pickup",
        ),
    }
    clusters, _ = await recorder.store.page(0, 10)
    assert sorted(a for c in clusters for a in c.answers) == [("bulky_item_pickup", 1)] * 2
