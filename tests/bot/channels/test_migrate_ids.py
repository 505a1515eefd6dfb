"""`python -m bot channels migrate-ids` on a real Redis holding what the connectors left before keyed ids.

An SMS citizen's conversation was stored under their phone number: Rasa's tracker (saved by our
tracker store), the window and numbered options (keyed by a sha256 of the number), a handoff
(entry, queues, transcript, rating comment, console update) and the review inbox's records. A
Messenger citizen wrote again after the upgrade, so a tracker exists under both ids. A REST
conversation is not a platform's and stays. After the command no key names either citizen, the
conversations are where the connectors now look (the next SMS continues it, and a reply "2" to
the old options still picks the option), and running it again changes nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import redis
from channel_support import IDENTITY_SECRET, FakePlatform, conversation, mounted
from rasa.core.channels.channel import UserMessage
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from test_twilio import CITIZEN, connector, signed, sms

from bot.channels.store import legacy_key, ref
from bot.tracker_store import CivicRedisTrackerStore

ROOT = Path(__file__).resolve().parents[3]
PSID = "6811452458923456"
OPTIONS = ['/explore_topic{"topic":"trash_recycling"}', '/explore_topic{"topic":"parking"}']


def tracker_store(port: int) -> CivicRedisTrackerStore:
    return CivicRedisTrackerStore(Domain.empty(), host="127.0.0.1", port=port, db=0, key_prefix="civic")


async def save_conversation(port: int, sender: str, channel: str, text: str, start: float) -> None:
    """A conversation as Rasa saved it under `sender` (our tracker store, Rasa's own events)."""
    store = tracker_store(port)
    tracker = store.init_tracker(sender)
    for event in [
        ActionExecuted("action_session_start", timestamp=start),
        ActionExecuted("action_listen", timestamp=start + 1),
        UserUttered(
            text,
            {"name": "ask_collection_day", "confidence": 0.9},
            timestamp=start + 2,
            input_channel=channel,
        ),
        BotUttered(f"Answer to {text}", timestamp=start + 3),
        ActionExecuted("action_listen", timestamp=start + 4),
    ]:
        tracker.update(event)
    await store.save(tracker)


def seed_old_state(client: redis.Redis) -> None:
    """What the handoff console, the inbox and the SMS connector kept under the phone number."""
    client.set(legacy_key("twilio", "options", CITIZEN), json.dumps(OPTIONS), ex=3600)
    client.set(legacy_key("twilio", "window", CITIZEN), "1700000000", ex=3600)
    client.hset(
        f"handoff:entry:{CITIZEN}",
        mapping={"conversation_id": CITIZEN, "channel": "twilio", "reason": "requested", "status": "waiting"},
    )
    client.zadd("handoff:open", {CITIZEN: 1700000000.0, "web-other": 1.0})
    client.zadd("handoff:waiting", {CITIZEN: 1700000000.0})
    client.rpush(
        f"handoff:messages:{CITIZEN}", json.dumps({"sender": "citizen", "text": "I'm at 48 Quarry Lane"})
    )
    client.sadd(f"handoff:seen:{CITIZEN}", "1700000000-0")
    comment = {
        "conversation_id": CITIZEN,
        "agent": "dana",
        "reason": "requested",
        "rating": 2,
        "comment": "slow",
    }
    client.lpush("handoff:rating:comments", json.dumps(comment))
    client.xadd("handoff:changes", {"event": json.dumps({"type": "queued", "conversation_id": CITIZEN})})
    client.xadd("handoff:changes", {"event": json.dumps({"type": "queued", "conversation_id": "web-other"})})
    client.set(f"inbox:conv:{CITIZEN}", json.dumps({"asked": 1}))
    client.zadd("inbox:items", {"item1": 1700000000.0})
    client.hset("inbox:item:item1", mapping={"id": "item1", "conversation": CITIZEN, "channel": "twilio"})


def run_migration(port: int, tmp_path: Path) -> str:
    env = {
        **os.environ,
        "REDIS_URL": f"redis://127.0.0.1:{port}/0",
        "IDENTITY_SECRET": IDENTITY_SECRET,
        "VAR_DIR": str(tmp_path / "var"),
    }
    done = subprocess.run(
        [sys.executable, "-m", "bot", "channels", "migrate-ids"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def snapshot(client: redis.Redis) -> dict[str, Any]:
    return {key: client.dump(key) for key in sorted(client.keys("*"))}


async def test_old_conversations_move_to_keyed_ids_once(
    redis_creds: dict[str, str], platform: FakePlatform, tmp_path: Path
) -> None:
    port = int(redis_creds["redis_port"])
    client = redis.Redis(port=port, decode_responses=True)
    await save_conversation(port, CITIZEN, "twilio", "When is trash day at 48 Quarry Lane?", 1_700_000_000)
    await save_conversation(port, PSID, "facebook", "Is the pool open?", 1_700_000_000)
    sms_id, messenger_id = conversation("twilio", CITIZEN), conversation("facebook", PSID)
    await save_conversation(
        port, messenger_id, "facebook", "And on Sunday?", 1_700_100_000
    )  # after the upgrade
    await save_conversation(port, "rest-user-1", "rest", "hello", 1_700_000_000)
    seed_old_state(client)

    printed = run_migration(port, tmp_path)

    assert f"twilio     {ref(CITIZEN)} -> {sms_id}: " in printed
    assert f"facebook   {ref(PSID)} -> {messenger_id}: address, tracker" in printed
    assert "moved 2 conversation(s); rewrote 1 inbox item(s) and 1 rating comment(s)" in printed
    assert CITIZEN not in printed and PSID not in printed
    keys = client.keys("*")
    assert not [k for k in keys if "5551234567" in k or PSID in k]
    assert "civic:tracker:rest-user-1" in keys  # not a platform's conversation

    store = tracker_store(port)
    sms_tracker = await store.retrieve_full_tracker(sms_id)
    assert sms_tracker is not None and sms_tracker.sender_id == sms_id
    assert sms_tracker.latest_message.text == "When is trash day at 48 Quarry Lane?"
    messenger = await store.retrieve_full_tracker(messenger_id)
    assert messenger is not None
    said = [e.text for e in messenger.events if isinstance(e, UserUttered)]
    assert said == ["Is the pool open?", "And on Sunday?"]  # the old session first

    assert client.get(f"civic:channel:v1:twilio:address:{sms_id}") == CITIZEN
    assert client.get(f"civic:channel:v1:facebook:address:{messenger_id}") == PSID
    assert client.exists(f"civic:channel:v1:twilio:window:{sms_id}")
    assert client.hget(f"handoff:entry:{sms_id}", "conversation_id") == sms_id
    assert client.zscore("handoff:waiting", sms_id) == 1700000000.0
    assert client.zrange("handoff:open", 0, -1) == ["web-other", sms_id]
    assert json.loads(client.lindex(f"handoff:messages:{sms_id}", 0))["text"] == "I'm at 48 Quarry Lane"
    assert json.loads(client.lindex("handoff:rating:comments", 0))["conversation_id"] == sms_id
    assert [json.loads(f["event"])["conversation_id"] for _, f in client.xrange("handoff:changes")] == [
        "web-other"
    ]
    assert client.hget("inbox:item:item1", "conversation") == sms_id
    assert client.exists(f"inbox:conv:{sms_id}")

    before = snapshot(client)
    assert run_migration(port, tmp_path).strip() == (
        "nothing to migrate: no conversation is stored under a platform's user id"
    )
    assert snapshot(client) == before

    # The citizen's next SMS continues the same conversation, and "2" still picks the old option.
    def bot(message: UserMessage) -> list[dict[str, Any]]:
        return []

    async with mounted(connector(platform, redis_creds), bot) as harness:
        await harness.post(*signed(harness, sms("2", "SMafter")))
        assert [(m.text, m.sender_id) for m in harness.received] == [(OPTIONS[1], sms_id)]
    client.close()
