"""A custom action that cannot be run gets the citizen a clear message (bot/action_fallback.py).

Rasa's own `RemoteAction` calls a real HTTP server standing in for the action server: one that
drops the connection mid-call, one that is not up yet (restarting), one that fails with a 500 and
one that rejects a form slot; the replies come from the shipped domain through our NLG.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from rasa.core.actions.action import ActionExecutionRejection, RemoteAction
from rasa.core.channels import CollectingOutputChannel
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from bot.nlg import AgencyNaturalLanguageGenerator
from bot.stack import free_port

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = [ROOT / "domain.yml", *sorted((ROOT / "data" / "responses").glob("*.yml"))]
ACTION = "action_check_service_status"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@pytest.fixture(autouse=True)
def at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load([str(f) for f in SHIPPED])


class ActionServer:
    """An action server on `port` answering every call with `handler`; counts the calls."""

    def __init__(self, handler: Handler, port: int | None = None) -> None:
        self.port = port or free_port()
        self.calls = 0
        self.handler = handler
        self.runner: web.AppRunner | None = None

    async def start(self) -> None:
        async def webhook(request: web.Request) -> web.StreamResponse:
            self.calls += 1
            await request.read()
            return await self.handler(request)

        app = web.Application()
        app.router.add_post("/webhook", webhook)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()

    @property
    def endpoint(self) -> EndpointConfig:
        return EndpointConfig(url=f"http://127.0.0.1:{self.port}/webhook")


@pytest.fixture
async def servers() -> AsyncIterator[list[ActionServer]]:
    started: list[ActionServer] = []
    yield started
    for server in started:
        await server.stop()


async def serve(servers: list[ActionServer], handler: Handler, port: int | None = None) -> ActionServer:
    server = ActionServer(handler, port)
    await server.start()
    servers.append(server)
    return server


async def run_action(domain: Domain, endpoint: EndpointConfig, language: str = "en") -> list[Any]:
    nlg = AgencyNaturalLanguageGenerator(domain=domain)  # installs the fallback, as Rasa's does
    events = [SlotSet("language", language), UserUttered("is online bill pay working")]
    tracker = DialogueStateTracker.from_events("fallback", events, slots=domain.slots)
    return await RemoteAction(ACTION, endpoint).run(CollectingOutputChannel(), nlg, tracker, domain)


def said(events: list[Any]) -> list[str]:
    return [str(event.text) for event in events if isinstance(event, BotUttered)]


async def dropped(request: web.Request) -> web.StreamResponse:
    """The connection closed mid-call: the action may or may not have run."""
    assert request.transport is not None
    request.transport.close()
    return web.Response()


async def failing(_: web.Request) -> web.StreamResponse:
    return web.Response(status=500, text="boom")


async def greeting(_: web.Request) -> web.StreamResponse:
    return web.json_response({"events": [], "responses": [{"response": "utter_greet"}]})


async def test_a_call_dropped_mid_action_is_not_made_again_and_the_citizen_is_asked_to_resend(
    domain: Domain, servers: list[ActionServer]
) -> None:
    server = await serve(servers, dropped)
    events = await run_action(domain, server.endpoint)
    assert said(events) == [
        "Sorry, something went wrong on our side and I couldn't finish that. Please send your message "
        "again in a minute, or call 311 (555-010-3110 from outside the city), "
        "Monday to Saturday 7 am to 7 pm."
    ]
    assert events[0].metadata["utter_action"] == "utter_action_failed"
    assert server.calls == 1  # it may have run: never twice


async def test_a_failing_action_server_gets_the_apology_in_the_citizens_language(
    domain: Domain, servers: list[ActionServer]
) -> None:
    server = await serve(servers, failing)
    (text,) = said(await run_action(domain, server.endpoint, "es"))
    assert text.startswith("Lo siento, algo salió mal de nuestra parte y no pude terminar eso.")


async def test_an_action_server_still_starting_only_delays_the_answer(
    domain: Domain, servers: list[ActionServer]
) -> None:
    port = free_port()
    endpoint = EndpointConfig(url=f"http://127.0.0.1:{port}/webhook")
    running = asyncio.create_task(run_action(domain, endpoint))
    await asyncio.sleep(1.5)  # refused meanwhile: the supervisor is bringing it back
    assert not running.done()
    server = await serve(servers, greeting, port)
    events = await asyncio.wait_for(running, 15)
    assert said(events) == [
        "Hi! I'm Harbor City's automated assistant. Ask me about city services, or type \"menu\" to see "
        "what I can help with."
    ]
    assert server.calls == 1


async def test_a_slot_the_form_rejects_is_still_rasas_to_handle(
    domain: Domain, servers: list[ActionServer]
) -> None:
    async def rejecting(_: web.Request) -> web.StreamResponse:
        return web.json_response({"action_name": ACTION, "error": "not now"}, status=400)

    server = await serve(servers, rejecting)
    with pytest.raises(ActionExecutionRejection):
        await run_action(domain, server.endpoint)
