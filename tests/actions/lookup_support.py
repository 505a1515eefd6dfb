"""Helpers for the live-lookup action tests: a clock, real servers, trackers, rendering, a form driver."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import ClientSession, web
from aiohttp.test_utils import TestServer
from rasa.core.actions.action import ActionExecutionRejection, action_for_name_or_text
from rasa.core.channels import CollectingOutputChannel
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActionExecutionRejected,
    BotUttered,
    Event,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity
from rasa.utils.endpoints import EndpointConfig
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.nlg import AgencyNaturalLanguageGenerator

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
# domain.yml and the response files Rasa merges into it.
DOMAIN_FILES = [ROOT / "domain.yml", *sorted((ROOT / "data" / "responses").glob("*.yml"))]
API_KEY = "demo-key"
ADMIN_TOKEN = "demo-admin"
# Wednesday 25 November 2026, 10:00 in Harbor City (the eve of Thanksgiving).
START = datetime(2026, 11, 25, 15, 0, tzinfo=timezone.utc)


class Clock:
    """One clock for the demo agency and the actions, moved by the test."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)

    def set_local(self, text: str) -> None:
        """ "2026-11-25 16:29" in Harbor City time."""
        self.now = datetime.fromisoformat(text).replace(tzinfo=ZoneInfo("America/New_York"))


# --- the demo agency and another city --------------------------------------------------------------


@dataclass
class Demo:
    base_url: str
    clock: Clock
    server: TestServer
    hits: list[tuple[str, str]] = field(default_factory=list)

    @property
    def open311(self) -> str:
        return f"{self.base_url}/open311/v2"

    def hits_on(self, method: str, path: str) -> int:
        return sum(1 for hit in self.hits if hit == (method, path))

    async def admin(self, path: str, body: dict[str, Any] | None = None) -> Any:
        async with ClientSession() as session:
            async with session.post(
                f"{self.base_url}/admin/{path}",
                json=body or {},
                headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
            ) as response:
                assert response.status < 300, await response.text()
                return await response.json()

    async def get(self, path: str) -> Any:
        async with ClientSession() as session:
            async with session.get(f"{self.base_url}{path}") as response:
                return await response.json()

    async def stop(self) -> None:
        """The agency goes down: connections to its port are refused from now on."""
        await self.server.close()


@dataclass
class OtherCity:
    """A minimal Open311 server of another city: other service codes, numeric JSON ids, batch tokens.

    `mode` breaks it: "ok", "500", "slow" (requests and POSTs sleep past any timeout), "malformed".
    """

    base_url: str = ""
    mode: str = "ok"
    hits: list[tuple[str, str]] = field(default_factory=list)

    @property
    def open311(self) -> str:
        return f"{self.base_url}/open311/v2"

    async def services(self, request: web.Request) -> web.Response:
        self.hits.append(("GET", request.path))
        return web.Response(
            body=(FIXTURES / "open311" / "services.json").read_bytes(), content_type="application/json"
        )

    async def request(self, request: web.Request) -> web.Response:
        self.hits.append(("GET", request.path))
        if self.mode == "500":
            return web.json_response([{"code": 500, "description": "Internal error"}], status=500)
        if self.mode == "slow":
            await asyncio.sleep(10)
        if self.mode == "malformed":
            return web.Response(
                text='[{"service_request_id": 638344, "status": ', content_type="application/json"
            )
        if request.match_info["id"] != "638344":
            body = (FIXTURES / "open311" / "error_404_request.json").read_bytes()
            return web.Response(body=body, status=404, content_type="application/json")
        return web.Response(
            body=(FIXTURES / "open311" / "request_638344.json").read_bytes(), content_type="application/json"
        )

    async def create(self, request: web.Request) -> web.Response:
        self.hits.append(("POST", request.path))
        await request.post()
        if self.mode == "slow":
            await asyncio.sleep(10)
        return web.Response(body=(FIXTURES / "open311" / "post_token.json").read_bytes(), status=201,
                            content_type="application/json")  # fmt: skip

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/open311/v2/services.json", self.services)
        app.router.add_get("/open311/v2/requests/{id}.json", self.request)
        app.router.add_post("/open311/v2/requests.json", self.create)
        return app


def agency_env(demo: Demo, redis_url: str, **overrides: str) -> dict[str, str]:
    env = {
        "OPEN311_BASE_URL": demo.open311,
        "OPEN311_API_KEY": API_KEY,
        "ALERTS_URL": f"{demo.base_url}/alerts.geojson",
        "FACILITIES_URL": demo.base_url,
        "COLLECTION_URL": demo.base_url,
        "SERVICE_STATUS_URL": demo.base_url,
        "REDIS_URL": redis_url,
    }
    env.update(overrides)
    return env


def entity(name: str, value: Any, text: str = "") -> dict[str, Any]:
    start = text.find(str(value)) if text else 0
    return {"entity": name, "value": value, "start": max(start, 0), "end": max(start, 0) + len(str(value))}


def user_turn(
    text: str,
    intent: str = "inform",
    entities: list[dict[str, Any]] | None = None,
    metadata: dict[str, Any] | None = None,
) -> list[Event]:
    parse = {"name": intent, "confidence": 1.0}
    return [ActionExecuted(ACTION_LISTEN_NAME), UserUttered(text, parse, entities or [], metadata=metadata)]


def sdk_tracker(
    domain: Domain,
    text: str,
    intent: str = "inform",
    *,
    entities: list[dict[str, Any]] | None = None,
    metadata: dict[str, Any] | None = None,
    slots: dict[str, Any] | None = None,
    history: list[Event] | None = None,
    sender_id: str = "citizen-1",
) -> Tracker:
    """The rasa_sdk Tracker Rasa would send for this turn (built by Rasa's own DialogueStateTracker)."""
    events = [*(history or []), *(SlotSet(k, v) for k, v in (slots or {}).items())]
    events += user_turn(text, intent, entities, metadata)
    tracker = DialogueStateTracker.from_events(sender_id, events, slots=domain.slots)
    return Tracker.from_dict(tracker.current_state(EventVerbosity.AFTER_RESTART))


@dataclass
class Reply:
    texts: list[str]
    events: list[dict[str, Any]]
    messages: list[dict[str, Any]]

    @property
    def text(self) -> str:
        return "\n".join(self.texts)

    @property
    def responses(self) -> list[str]:
        return [m.get("response") for m in self.messages]

    def slots(self) -> dict[str, Any]:
        return {e["name"]: e["value"] for e in self.events if e.get("event") == "slot"}


async def render(domain: Domain, messages: list[dict[str, Any]]) -> list[str]:
    """What the citizen reads: the NLG of endpoints.yml fills each response; no {placeholder} may be left."""
    nlg = AgencyNaturalLanguageGenerator(domain=domain)
    tracker = DialogueStateTracker.from_events("render", [], slots=domain.slots)
    texts = []
    for message in messages:
        values = {k: v for k, v in message.items() if k not in ("response", "template")}
        generated = await nlg.generate(message["response"], tracker, "rest", **values)
        assert generated is not None, f"no response {message['response']} in the domain"
        text = generated.get("text") or ""
        assert "{" not in text, f"unfilled placeholder in {message['response']}: {text}"
        texts.append(text)
    return texts


async def run_action(action: Action, tracker: Tracker, domain: Domain) -> Reply:
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker, domain.as_dict())
    return Reply(await render(domain, dispatcher.messages), events, dispatcher.messages)


# --- an action server and Rasa's FormAction ------------------------------------------------------------


class Conversation:
    """A conversation driven turn by turn: the test plays the policy, Rasa runs the actions."""

    def __init__(self, domain: Domain, endpoint: str, sender_id: str = "citizen-1") -> None:
        self.domain = domain
        self.endpoint = EndpointConfig(url=endpoint)
        self.tracker = DialogueStateTracker.from_events(sender_id, [], slots=domain.slots)
        self.nlg = AgencyNaturalLanguageGenerator(domain=domain)
        self.channel = CollectingOutputChannel()

    def user(self, text: str, intent: str = "inform", **kwargs: Any) -> None:
        for event in user_turn(text, intent, kwargs.get("entities"), kwargs.get("metadata")):
            self.tracker.update(event, self.domain)

    async def run(self, name: str) -> list[str] | None:
        """The bot's texts, or None when the action rejected the turn (a form that got no answer)."""
        action = action_for_name_or_text(name, self.domain, self.endpoint)
        try:
            events = await action.run(self.channel, self.nlg, self.tracker, self.domain)
        except ActionExecutionRejection:
            self.tracker.update(ActionExecutionRejected(name), self.domain)
            return None
        self.tracker.update(ActionExecuted(name), self.domain)
        for event in events:
            self.tracker.update(event, self.domain)
        texts = [e.text or "" for e in events if isinstance(e, BotUttered)]
        assert not any("{" in t for t in texts), texts
        return texts

    def buttons(self) -> list[dict[str, Any]]:
        bot = [e for e in self.tracker.events if isinstance(e, BotUttered)]
        return (bot[-1].data or {}).get("buttons") or [] if bot else []

    def slot(self, name: str) -> Any:
        return self.tracker.get_slot(name)

    @property
    def active_loop(self) -> str | None:
        return self.tracker.active_loop_name


def dumps(value: Any) -> str:
    return json.dumps(value, default=str)
