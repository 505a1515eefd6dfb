"""Two Rasa replicas on one Redis (`RASA_REPLICAS=2`): any message of any conversation may go to either.

- a web chat citizen whose socket is on replica A hears an agent's reply that the console delivered
  through replica B's HTTP API (the socket.io channel's Redis manager carries the emit across);
- a conversation whose REST messages alternate between the replicas is one conversation, in order,
  each message answered once;
- both replicas are printed, each with its own log;
- a published model reaches both replicas (pulled from the model server) without a restart.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from polling_support import wait_until_async
from socketio_support import Page, tracker_events
from stack_support import ROOT, RestClient, repacked_model, sender_id, stack_settings

from bot.cli import _print_urls
from bot.clients.rasa import RasaClient
from bot.identity import IdentityKey
from bot.model_ops.reload import publish_and_follow
from bot.stack import Stack

pytestmark = pytest.mark.stack

REPLY_SECONDS = 30.0  # one turn of the bot under load on a small machine, with margin
QUESTIONS = [
    "hello",
    "when is city hall open",
    "how do I pay a parking ticket",
    "what can you do",
    "when is trash pickup",
    "thanks",
]


def free_ports(count: int) -> int:
    """The first of `count` consecutive free loopback ports (the replicas' RASA_PORT, +1 ...)."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            first = int(probe.getsockname()[1])
        if first + count > 65535:
            continue
        try:
            held = []
            for port in range(first, first + count):
                sock = socket.socket()
                held.append(sock)
                sock.bind(("127.0.0.1", port))
            return first
        except OSError:
            continue
        finally:
            for sock in held:
                sock.close()
    raise RuntimeError(f"no {count} consecutive free ports")


def replica_ports(replicas: int) -> dict[str, str]:
    """Every port of a stack with `replicas` Rasa servers from one block of consecutive free ports,
    so no other service's port can be one the replicas take (RASA_PORT + 1 ...)."""
    first = free_ports(replicas + 5)
    names = ["ACTION_PORT", "DEMO_AGENCY_PORT", "HANDOFF_PORT", "MODEL_SERVER_PORT", "REDIS_PORT"]
    ports = {name: str(first + replicas + i) for i, name in enumerate(names)}
    return {"RASA_REPLICAS": str(replicas), "RASA_PORT": str(first), **ports}


@pytest.fixture(scope="module")
def replicas(tmp_path_factory: pytest.TempPathFactory, model_path: Path) -> Iterator[Stack]:
    var = tmp_path_factory.mktemp("var")
    settings = stack_settings(var, **replica_ports(2))
    with Stack(settings, root=ROOT) as running:
        yield running


def rest_of(stack: Stack, url: str) -> RestClient:
    return RestClient(url, stack.settings.security.rest_token)


async def test_a_citizen_on_one_replica_hears_an_agent_reply_sent_through_the_other(
    replicas: Stack,
) -> None:
    replica_a, replica_b = replicas.rasa_urls
    page = Page(replica_a)
    session_id = await page.open()
    try:
        await page.client.emit("user_uttered", {"message": "hello", "session_id": session_id})
        await wait_until_async(lambda: page.heard, REPLY_SECONDS, "no greeting from replica A")
        conversation = IdentityKey.from_settings(replicas.settings).conversation_id("socketio", session_id)
        reply = "This is Dana from the city. Which street is the pothole on?"
        async with aiohttp.ClientSession() as http:
            rasa_b = RasaClient(http, replica_b, replicas.settings.rasa.token)
            await rasa_b.say(conversation, reply, {"handoff": {"id": "m1", "role": "agent", "agent": "Dana"}})
        await wait_until_async(
            lambda: reply in page.texts(),
            REPLY_SECONDS,
            lambda: f"replica A's page heard only {page.texts()}",
        )
        assert page.texts().count(reply) == 1
    finally:
        await page.client.disconnect()


def _turns(events: list[dict[str, Any]]) -> list[tuple[str, int]]:
    """Each user message with how many bot messages answered it (before the next user message)."""
    turns: list[tuple[str, int]] = []
    for event in events:
        if event.get("event") == "user":
            turns.append((str(event.get("text")), 0))
        elif event.get("event") == "bot" and turns:
            turns[-1] = (turns[-1][0], turns[-1][1] + 1)
    return turns


async def test_alternating_replicas_keep_one_ordered_conversation(replicas: Stack) -> None:
    clients = [rest_of(replicas, url) for url in replicas.rasa_urls]
    senders = [sender_id("replicas") for _ in range(4)]

    def converse(sender: str) -> None:
        for i, question in enumerate(QUESTIONS):
            clients[i % 2].send(sender, question)  # the REST client waits for each answer

    await asyncio.gather(*(asyncio.to_thread(converse, sender) for sender in senders))
    token = replicas.settings.rasa.token
    for sender in senders:
        conversation = clients[0].conversations.get(sender) or clients[1].conversation_id(sender)
        for url in replicas.rasa_urls:  # both replicas read the same conversation
            events = await asyncio.to_thread(tracker_events, url, token, conversation)
            turns = _turns(events)
            assert [text for text, _ in turns] == QUESTIONS
            assert all(answers >= 1 for _, answers in turns), turns
            sessions = [
                e for e in events if e.get("event") == "action" and e.get("name") == "action_session_start"
            ]
            assert len(sessions) == 1, "the conversation was restarted"


def test_every_replica_is_printed_and_logs_on_its_own(
    replicas: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    _print_urls(replicas)
    printed = capsys.readouterr().out
    first = replicas.settings.rasa.port
    for port in (first, first + 1):
        assert f"127.0.0.1:{port}/socket.io" in printed
        assert f"127.0.0.1:{port}/webhooks/rest/webhook" in printed
    names = [service.name for service in replicas.services]
    assert {"rasa-1", "rasa-2"} <= set(names)
    logs = {service.name: service.log_path for service in replicas.services}
    assert logs["rasa-1"].name == "rasa-1.log" and logs["rasa-2"].name == "rasa-2.log"
    assert logs["rasa-1"].exists() and logs["rasa-2"].exists()


async def test_a_published_model_reaches_every_replica_without_a_restart(
    replicas: Stack, model_path: Path, tmp_path: Path
) -> None:
    """`bot model publish` (what `bot model reload` ends with): both replicas switch within a minute."""
    conversation = sender_id("rollout")
    clients = [rest_of(replicas, url) for url in replicas.rasa_urls]
    assert "Where is it?" in clients[0].say(conversation, "report a pothole")
    pids = {service.name: service.pid() for service in replicas.services}
    candidate = await asyncio.to_thread(repacked_model, model_path, tmp_path / "rollout-candidate.tar.gz")
    assert replicas.redis is not None

    said: list[str] = []
    assert await publish_and_follow(replicas.redis.url, candidate, 60.0, said.append), said

    async with aiohttp.ClientSession() as http:
        for url in replicas.rasa_urls:
            assert await RasaClient(http, url, replicas.settings.rasa.token).running_model() == candidate.name
    assert {service.name: service.pid() for service in replicas.services} == pids, "a service restarted"
    # The other replica carries the conversation on: the report still waits for its address.
    assert "Tell me a bit about it" in clients[1].say(conversation, "12 Elm Street")
