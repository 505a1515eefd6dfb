"""Two processes writing one conversation lose no update, and the event stream holds each event once.

Two real processes (replica_worker.py), each with its own tracker store, lock store and event
broker on one real Redis, take turns on the same conversation as two Rasa replicas would when a
citizen's messages arrive at both. The lock makes each read-modify-write a whole turn.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import redis
from stack_support import ROOT

from bot.events import STREAM

WORKER = Path(__file__).with_name("replica_worker.py")
TURNS = 25


def test_two_replicas_writing_one_conversation_lose_nothing_and_stream_each_event_once(
    redis_server: int,
) -> None:
    client = redis.Redis(port=redis_server, decode_responses=True)
    client.flushdb()
    argv = [sys.executable, str(WORKER), str(redis_server), "rest-shared"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    names = ("replica-a", "replica-b")
    workers = [subprocess.Popen([*argv, name, str(TURNS)], cwd=ROOT, env=env) for name in names]
    client.rpush("test:go", 1, 1)
    for worker in workers:
        assert worker.wait(300) == 0

    events = json.loads(client.get("civic:tracker:rest-shared"))["events"]
    said = [e["text"] for e in events if e["event"] == "user"]
    for name in names:
        assert [text for text in said if text.startswith(name)] == [f"{name} {i}" for i in range(TURNS)]
    # the turns interleaved (both replicas really wrote the conversation while the other did)
    assert said != sorted(said)

    streamed = [json.loads(fields["event"]) for _, fields in client.xrange(STREAM)]
    stored = Counter(json.dumps(e, sort_keys=True) for e in events)
    without_sender = [{k: v for k, v in e.items() if k != "sender_id"} for e in streamed]
    published = Counter(json.dumps(e, sort_keys=True) for e in without_sender)
    assert published == stored  # every stored event once: none missing, none doubled
    client.flushdb()
