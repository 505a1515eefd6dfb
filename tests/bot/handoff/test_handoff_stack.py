"""The handoff end to end: real Redis, action server, Rasa (socket.io channel) and the console.

Citizens are python-socketio clients (long-polling, see the issue); agents use the JSON API.
The stack runs with an hours file in a temp dir that the tests rewrite (the actions read it per
call), so one stack serves both staffed and after-hours tests.
"""

from __future__ import annotations

import asyncio
import tarfile
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import socketio
from polling_support import wait_until_async
from stack_support import ROOT, latest_model, stack_settings

from bot.console.accounts import add_account
from bot.identity import IdentityKey
from bot.stack import Service, Stack

pytestmark = pytest.mark.stack
OPEN = "timezone: UTC\nweekly:\n" + "".join(
    f"  {d}: ['00:00-24:00']\n"
    for d in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
)
CLOSED = "timezone: UTC\nweekly: {}\n"
# A turn of Rasa with its actions, or the console relaying one, takes 1-5 s on two shared cores;
# 60 s is over ten times the slowest seen, so only a hang or a lost message runs into it.
TURN_SECONDS = 60.0


def model_has_handoff(path: Path) -> bool:
    with tarfile.open(path) as tar:
        for member in tar.getmembers():
            if member.name.endswith("domain_provider/domain.yml"):
                handle = tar.extractfile(member)
                return handle is not None and b"action_start_handoff" in handle.read()
    return False


@pytest.fixture(scope="module")
def hstack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, dict[str, str], Path]]:
    if not model_has_handoff(latest_model()):
        pytest.fail("the latest model in models/ predates the handoff intents: run `make train`")
    var = tmp_path_factory.mktemp("handoff_var")
    hours = var / "hours.yml"
    hours.write_text(OPEN)
    agents = var / "agents.yml"
    tokens = {name: add_account(agents, name, "agent", f"{name}-password") for name in ("Dana", "Lee")}
    settings = stack_settings(
        var, HANDOFF_AGENTS_FILE=str(agents), HANDOFF_HOURS_FILE=str(hours), HANDOFF_HOURS=""
    )
    # Twenty citizens at once all come from this machine's one address: its web chat bucket is made
    # big enough for them (a real crowd comes from many addresses); each conversation's is as usual.
    with Stack(settings, root=ROOT, extra_env={"RATE_WEB_ADDRESS_BURST": "1000"}) as running:
        yield running, tokens, hours


class Citizen:
    """A web chat user on Rasa's socket.io channel, collecting everything the bot sends."""

    def __init__(self, base: str, identity: IdentityKey) -> None:
        self.base = base
        self.identity = identity
        self.session_id: str | None = None  # issued by the server at connect()
        self.client = socketio.AsyncClient(reconnection=False)
        self.received: list[str] = []
        self.client.on("bot_uttered", self._got)

    async def _got(self, data: dict[str, Any]) -> None:
        self.received.append(str(data.get("text", "")))

    async def connect(self) -> Citizen:
        confirmed: asyncio.Queue[str] = asyncio.Queue()
        self.client.on("session_confirm", confirmed.put)
        await self.client.connect(self.base, socketio_path="/socket.io")
        await self.client.emit("session_request", {"session_id": self.session_id})
        self.session_id = str(await asyncio.wait_for(confirmed.get(), 30))
        return self

    @property
    def conversation_id(self) -> str:
        """The conversation (tracker, queue entry) of the session: a keyed hash of its id."""
        assert self.session_id, "connect() first"
        return self.identity.conversation_id("socketio", self.session_id)

    async def say(self, text: str) -> None:
        await self.client.emit("user_uttered", {"message": text, "session_id": self.session_id})

    async def expect(
        self, predicate: Callable[[list[str]], bool], timeout: float = TURN_SECONDS
    ) -> list[str]:
        """Everything received, once `predicate` holds for it; fails after `timeout` seconds."""
        await wait_until_async(
            lambda: predicate(self.received),
            timeout,
            lambda: f"the citizen never got it; they got {self.received}",
        )
        return self.received

    async def close(self) -> None:
        await self.client.disconnect()


class Agent:
    def __init__(self, session: aiohttp.ClientSession, base: str, token: str) -> None:
        self.session, self.base, self.headers = session, base, {"Authorization": f"Bearer {token}"}

    async def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        async with self.session.request(method, self.base + path, json=body, headers=self.headers) as resp:
            return resp.status, await resp.json()

    async def conversation(self, cid: str) -> dict[str, Any]:
        return (await self.call("GET", f"/api/conversations/{cid}"))[1]


async def until(check: Callable[[], Awaitable[bool]], timeout: float = TURN_SECONDS, what: str = "") -> None:
    """Return once `check()` is true; fails after `timeout` seconds."""
    await wait_until_async(check, timeout, f"timed out waiting for {what}")


def urls(stack: Stack) -> tuple[str, str]:
    return f"http://127.0.0.1:{stack.settings.rasa.port}", f"http://127.0.0.1:{stack.settings.handoff.port}"


async def handed_off(stack: Stack, agent: Agent) -> Citizen:
    rasa, _ = urls(stack)
    citizen = await Citizen(rasa, IdentityKey.from_settings(stack.settings)).connect()
    await citizen.say("I want to talk to a real person")
    await citizen.expect(lambda got: any("number" in t and "line" in t for t in got))
    await until(lambda: _queued(agent, citizen.conversation_id), what="the queue entry")
    return citizen


async def _queued(agent: Agent, cid: str) -> bool:
    status, _ = await agent.call("GET", f"/api/conversations/{cid}")
    return status == 200


async def test_story_claim_talk_close_rating(hstack: Any) -> None:
    stack, tokens, _ = hstack
    async with aiohttp.ClientSession() as http:
        dana = Agent(http, urls(stack)[1], tokens["Dana"])
        citizen = await handed_off(stack, dana)
        cid = citizen.conversation_id
        _, queue = await dana.call("GET", "/api/queue")
        entry = next(e for e in queue if e["conversation_id"] == cid)
        assert (
            entry["status"] == "waiting" and entry["reason"] == "requested" and entry["channel"] == "socketio"
        )
        assert "I want to talk to a real person" in entry["summary"]["last_messages"]
        assert (await dana.call("POST", f"/api/conversations/{cid}/claim"))[0] == 200
        await citizen.expect(lambda got: any("Dana" in t and "joined" in t for t in got))
        before = len(citizen.received)
        await citizen.say("my trash was not collected <b>twice</b>")
        await until(
            lambda: _has(dana, cid, "citizen", "my trash was not collected <b>twice</b>"),
            what="citizen message",
        )
        # The console has the message, so Rasa had finished (and saved) its turn: anything the bot said
        # to it was sent before the agent's reply, which Rasa sends afterwards on the same socket.
        assert (
            await dana.call("POST", f"/api/conversations/{cid}/messages", {"text": "Sorry! I'll log it."})
        )[0] == 200
        await citizen.expect(lambda got: "Sorry! I'll log it." in got)
        assert citizen.received[before:] == ["Sorry! I'll log it."], "the bot must stay quiet with a person"
        assert (await dana.call("POST", f"/api/conversations/{cid}/close"))[0] == 200
        got = await citizen.expect(lambda got: any("rate" in t.lower() for t in got))
        assert any("back" in t for t in got)
        await citizen.say("4 stars")
        await citizen.expect(lambda got: any("feedback" in t.lower() or "add" in t.lower() for t in got[-2:]))
        await citizen.say("skip")
        await citizen.expect(lambda got: any("Thank you for your feedback" in t for t in got))
        _, ratings = await dana.call("GET", "/api/ratings")
        assert ratings["agents"]["Dana"]["count"] >= 1 and ratings["reasons"]["requested"]["count"] >= 1
        await citizen.close()


async def _has(agent: Agent, cid: str, sender: str, text: str) -> bool:
    view = await agent.conversation(cid)
    return any(m["sender"] == sender and m["text"] == text for m in view.get("messages", []))


async def test_restart_while_a_person_has_the_chat_does_not_unpause(hstack: Any) -> None:
    stack, tokens, _ = hstack
    async with aiohttp.ClientSession() as http:
        dana = Agent(http, urls(stack)[1], tokens["Dana"])
        citizen = await handed_off(stack, dana)
        await claimed(citizen, dana)
        before = len(citizen.received)
        await citizen.say("/restart")
        await citizen.say("hello?")
        await until(
            lambda: _has(dana, citizen.conversation_id, "citizen", "hello?"), what="message after /restart"
        )
        await reply_and_expect_only_it(citizen, dana, before)
        assert (await tracker(stack, citizen.conversation_id))["paused"] is True
        await citizen.close()


async def claimed(citizen: Citizen, agent: Agent) -> None:
    """The agent claims the chat and the citizen is told; Rasa pauses the conversation."""
    assert (await agent.call("POST", f"/api/conversations/{citizen.conversation_id}/claim"))[0] == 200
    await citizen.expect(lambda got: any("joined" in t for t in got))


async def reply_and_expect_only_it(citizen: Citizen, agent: Agent, before: int) -> None:
    """The agent replies; fails unless that reply is all the citizen got after `before`.

    The positive signal for "the bot said nothing": once the console has the citizen's last message,
    Rasa had finished that turn, so any bot reply to it went out before the agent's, on the same socket.
    """
    cid = citizen.conversation_id
    assert (await agent.call("POST", f"/api/conversations/{cid}/messages", {"text": "Agent here."}))[0] == 200
    await citizen.expect(lambda got: "Agent here." in got[before:])
    new = citizen.received[before:]
    assert new == ["Agent here."], f"the bot spoke while a person has the chat: {new}"


async def tracker(stack: Stack, cid: str) -> dict[str, Any]:
    rasa, _ = urls(stack)
    async with aiohttp.ClientSession() as http:
        url = f"{rasa}/conversations/{cid}/tracker?token={stack.settings.rasa.token}"
        async with http.get(url) as resp:
            return await resp.json()


async def _rasa_has(stack: Stack, cid: str, text: str) -> bool:
    """True once Rasa's tracker of `cid` holds the citizen's message `text`."""
    events = (await tracker(stack, cid))["events"]
    return any(e.get("event") == "user" and e.get("text") == text for e in events)


async def test_session_expiry_keeps_the_conversation_with_the_person(hstack: Any) -> None:
    """Rasa starts a new session when the last `user` event is older than session_expiration_time (60 min).

    We append a `user` event stamped two hours ago through the tracker events API (no side effects),
    so the citizen's next message starts a new session, which our action_session_start keeps paused.
    """
    stack, tokens, _ = hstack
    rasa, _ = urls(stack)
    async with aiohttp.ClientSession() as http:
        dana = Agent(http, urls(stack)[1], tokens["Dana"])
        citizen = await handed_off(stack, dana)
        cid = citizen.conversation_id
        await claimed(citizen, dana)
        old = {"event": "user", "text": "(earlier)", "timestamp": time.time() - 7200, "parse_data": {}}
        url = f"{rasa}/conversations/{cid}/tracker/events?token={stack.settings.rasa.token}"
        async with http.post(url, json=old) as resp:
            assert resp.status == 200
        before = len(citizen.received)
        await citizen.say("are you still there?")
        await until(lambda: _has(dana, cid, "citizen", "are you still there?"), what="message after expiry")
        await reply_and_expect_only_it(citizen, dana, before)
        state = await tracker(stack, cid)
        assert state["paused"] is True
        assert sum(1 for e in state["events"] if e["event"] == "session_started") >= 2
        await citizen.close()


async def test_twenty_concurrent_chats_every_message_once_and_in_order(hstack: Any) -> None:
    stack, tokens, _ = hstack
    rounds = 4
    async with aiohttp.ClientSession() as http:
        agents = [Agent(http, urls(stack)[1], tokens[name]) for name in ("Dana", "Lee")]
        citizens = await asyncio.gather(*(handed_off(stack, agents[i % 2]) for i in range(20)))

        async def chat(i: int, citizen: Citizen) -> None:
            agent = agents[i % 2]
            cid = citizen.conversation_id
            assert (await agent.call("POST", f"/api/conversations/{cid}/claim"))[0] == 200
            for r in range(rounds):
                await citizen.say(f"c{i}-{r}")
                status, _ = await agent.call(
                    "POST", f"/api/conversations/{cid}/messages", {"text": f"a{i}-{r}"}
                )
                assert status == 200
            await citizen.expect(lambda got: f"a{i}-{rounds - 1}" in got)
            await until(
                lambda: _has(agent, cid, "citizen", f"c{i}-{rounds - 1}"), what="last citizen message"
            )

        await asyncio.gather(*(chat(i, c) for i, c in enumerate(citizens)))
        for i, citizen in enumerate(citizens):
            agent_texts = [t for t in citizen.received if t.startswith(f"a{i}-")]
            assert agent_texts == [f"a{i}-{r}" for r in range(rounds)]
            assert not any(
                t.startswith("a") and not t.startswith(f"a{i}-") for t in citizen.received if "-" in t
            )
            view = await agents[i % 2].conversation(citizen.conversation_id)
            said = [
                m["text"] for m in view["messages"] if m["sender"] == "citizen" and m["text"].startswith("c")
            ]
            assert said == [f"c{i}-{r}" for r in range(rounds)]
            written = [m["text"] for m in view["messages"] if m["sender"] == "agent"]
            assert written == [f"a{i}-{r}" for r in range(rounds)]
        for citizen in citizens:
            await agents[0].call("POST", f"/api/conversations/{citizen.conversation_id}/close")
            await citizen.close()


async def test_console_restart_mid_chat_loses_nothing(hstack: Any) -> None:
    stack, tokens, _ = hstack
    console = next(s for s in stack.services if s.name == "handoff console")
    async with aiohttp.ClientSession() as http:
        dana = Agent(http, urls(stack)[1], tokens["Dana"])
        citizen = await handed_off(stack, dana)
        cid = citizen.conversation_id
        await dana.call("POST", f"/api/conversations/{cid}/claim")
        await citizen.say("before the restart")
        await until(lambda: _has(dana, cid, "citizen", "before the restart"), what="first message")
        await asyncio.to_thread(console.stop)
        await citizen.say("while the console is down")
        await citizen.say("still down")
        # Rasa has handled both (its turns are saved, their events published) while the console is down
        await until(lambda: _rasa_has(stack, cid, "still down"), what="Rasa to take the messages")
        restarted = Service(
            console.name, console.argv, console.env, console.ready, console.log_path, console.url
        )
        stack.services[stack.services.index(console)] = restarted
        restarted.start(stack.root)
        await until(lambda: asyncio.to_thread(restarted.ready), what="console back")
        await until(lambda: _has(dana, cid, "citizen", "still down"), what="messages sent while down")
        view = await dana.conversation(cid)
        said = [m["text"] for m in view["messages"] if m["sender"] == "citizen"]
        assert said[-3:] == ["before the restart", "while the console is down", "still down"]
        assert view["status"] == "claimed" and view["agent"] == "Dana"
        assert (await dana.call("POST", f"/api/conversations/{cid}/messages", {"text": "I'm back"}))[0] == 200
        await citizen.expect(lambda got: "I'm back" in got)
        await dana.call("POST", f"/api/conversations/{cid}/close")
        await citizen.close()


async def test_after_hours_leaves_a_ticket(hstack: Any) -> None:
    stack, tokens, hours = hstack
    hours.write_text(CLOSED)
    try:
        rasa, console = urls(stack)
        async with aiohttp.ClientSession() as http:
            dana = Agent(http, console, tokens["Dana"])
            citizen = await Citizen(rasa, IdentityKey.from_settings(stack.settings)).connect()
            await citizen.say("can I talk to a human please")
            await citizen.expect(lambda got: any("leave a message" in t for t in got))
            await citizen.expect(lambda got: any("What would you like us to know" in t for t in got))
            await citizen.say("The streetlight on Pier Street has been out for a week.")
            await citizen.expect(lambda got: any("reach you" in t for t in got))
            await citizen.say("pat@example.org")
            await citizen.expect(lambda got: any("message is saved" in t for t in got))
            _, queue = await dana.call("GET", "/api/queue")
            ticket = next(e for e in queue if e["conversation_id"] == citizen.conversation_id)
            assert ticket["status"] == "ticket"
            assert ticket["ticket"] == {
                "message": "The streetlight on Pier Street has been out for a week.",
                "contact": "pat@example.org",
            }
            # what the agent reads first: why, where from, what was said; no agent holds a new ticket
            assert (ticket["reason"], ticket["channel"], ticket["agent"]) == ("requested", "socketio", None)
            assert "can I talk to a human please" in ticket["summary"]["last_messages"]
            await citizen.close()
    finally:
        hours.write_text(OPEN)


# ---- waiting in line: answers, ways out; the rating's ways out ---------------------------------------


async def test_a_question_while_waiting_is_answered_the_place_kept_and_the_agent_sees_it(hstack: Any) -> None:
    stack, tokens, _ = hstack
    async with aiohttp.ClientSession() as http:
        dana = Agent(http, urls(stack)[1], tokens["Dana"])
        citizen = await handed_off(stack, dana)
        cid = citizen.conversation_id
        await citizen.say("how do I pay a parking ticket?")
        await citizen.expect(lambda got: any("Finance counter" in t for t in got))
        await citizen.say("hello?")
        await citizen.expect(lambda got: any("still in line" in t for t in got))
        _, queue = await dana.call("GET", "/api/queue")
        assert any(e["conversation_id"] == cid and e["status"] == "waiting" for e in queue)
        # the agent who takes the chat reads the question and the bot's answer
        await until(lambda: _has(dana, cid, "citizen", "how do I pay a parking ticket?"), what="question")
        view = await dana.conversation(cid)
        assert any(m["sender"] == "bot" and "Finance counter" in m["text"] for m in view["messages"])
        await claimed(citizen, dana)
        assert (await tracker(stack, cid))["paused"] is True
        await dana.call("POST", f"/api/conversations/{cid}/close")
        await citizen.close()


@pytest.mark.parametrize("exit_text", ["actually never mind", "menu", "start over", "/restart"])
async def test_leaving_the_line_takes_the_chat_out_of_the_agents_queue(hstack: Any, exit_text: str) -> None:
    stack, tokens, _ = hstack
    async with aiohttp.ClientSession() as http:
        dana = Agent(http, urls(stack)[1], tokens["Dana"])
        citizen = await handed_off(stack, dana)
        cid = citizen.conversation_id
        await citizen.say(exit_text)
        await citizen.expect(lambda got: any("left the line" in t for t in got))
        _, queue = await dana.call("GET", "/api/queue")
        assert cid not in [e["conversation_id"] for e in queue]
        assert (await dana.conversation(cid))["status"] == "closed"
        status, body = await dana.call("POST", f"/api/conversations/{cid}/claim")
        assert status == 409 and "closed" in body["error"]
        # back with the bot, not paused: a question is answered
        await citizen.say("is city hall open today?")
        await citizen.expect(lambda got: any("City Hall" in t for t in got[-2:]))
        assert (await tracker(stack, cid))["paused"] is False
        await citizen.close()


async def rating_asked(stack: Stack, agent: Agent) -> Citizen:
    """A citizen whose chat an agent took and closed: the bot has asked for the rating."""
    citizen = await handed_off(stack, agent)
    await claimed(citizen, agent)
    assert (await agent.call("POST", f"/api/conversations/{citizen.conversation_id}/close"))[0] == 200
    await citizen.expect(lambda got: any("How did we do?" in t for t in got))
    return citizen


async def test_cancel_in_the_rating_leaves_it_politely(hstack: Any) -> None:
    stack, tokens, _ = hstack
    async with aiohttp.ClientSession() as http:
        citizen = await rating_asked(stack, Agent(http, urls(stack)[1], tokens["Dana"]))
        before = len(citizen.received)
        await citizen.say("cancel")
        got = await citizen.expect(lambda got: any("no rating" in t for t in got[before:]))
        assert not any("1 to 5" in t for t in got[before:])
        await citizen.close()


async def test_a_question_in_the_rating_is_answered_and_the_rating_not_asked_again(hstack: Any) -> None:
    stack, tokens, _ = hstack
    async with aiohttp.ClientSession() as http:
        citizen = await rating_asked(stack, Agent(http, urls(stack)[1], tokens["Dana"]))
        before = len(citizen.received)
        await citizen.say("how do I pay a parking ticket?")
        await citizen.expect(lambda got: any("Finance counter" in t for t in got[before:]))
        await until(lambda: _form_over(stack, citizen.conversation_id), what="the rating form to end")
        assert not any("How did we do?" in t for t in citizen.received[before:])
        await citizen.close()


async def _form_over(stack: Stack, cid: str) -> bool:
    """True once Rasa's turn is over (it listens) with no form active."""
    state = await tracker(stack, cid)
    return not state["active_loop"] and state["latest_action_name"] == "action_listen"


async def test_menu_and_start_over_in_the_rating(hstack: Any) -> None:
    stack, tokens, _ = hstack
    async with aiohttp.ClientSession() as http:
        agent = Agent(http, urls(stack)[1], tokens["Dana"])
        citizen = await rating_asked(stack, agent)
        before = len(citizen.received)
        await citizen.say("menu")
        await citizen.expect(lambda got: any("Pick one" in t for t in got[before:]))
        await citizen.close()
        citizen = await rating_asked(stack, agent)
        before = len(citizen.received)
        await citizen.say("start over")
        await citizen.expect(lambda got: any("start over" in t for t in got[before:]))
        assert not any("How did we do?" in t for t in citizen.received[before:])
        await citizen.close()


async def test_a_rating_then_a_question_instead_of_a_comment_keeps_the_rating(hstack: Any) -> None:
    stack, tokens, _ = hstack
    async with aiohttp.ClientSession() as http:
        lee = Agent(http, urls(stack)[1], tokens["Lee"])
        _, ratings = await lee.call("GET", "/api/ratings")
        count = ratings["agents"].get("Lee", {}).get("count", 0)
        citizen = await rating_asked(stack, lee)
        await citizen.say("4")
        await citizen.expect(lambda got: any("add" in t.lower() for t in got[-1:]))
        before = len(citizen.received)
        await citizen.say("is city hall open today?")
        await citizen.expect(lambda got: any("City Hall" in t for t in got[before:]))
        _, ratings = await lee.call("GET", "/api/ratings")
        assert ratings["agents"]["Lee"]["count"] == count + 1
        await citizen.close()
