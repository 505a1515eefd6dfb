"""The handoff on the console app: its resources, background tasks, JSON API and pages.

`setup(app, config)` is called once by `bot.console.app.create_app`, after the shell has put
its Redis client (`bot.console.keys.REDIS`) in a cleanup context that opens before these.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web

from bot.background import Background
from bot.clients.rasa import RasaClient
from bot.console.keys import REDIS
from bot.handoff import keys
from bot.handoff.api import setup_api
from bot.handoff.config import HandoffConfig, load_pace
from bot.handoff.hub import EventHub
from bot.handoff.pages import setup_pages
from bot.handoff.relay import consume_events, sweep_forever, tail_changes
from bot.handoff.service import HandoffService
from bot.handoff.store import QueueStore


async def _resources(app: web.Application) -> AsyncIterator[None]:
    """The queue store on the shell's Redis, and the Rasa client on this app's one HTTP session."""
    config = app[keys.CONFIG]
    async with aiohttp.ClientSession() as session:
        app[keys.STORE] = QueueStore(app[REDIS], pace=load_pace(config.data_dir))
        app[keys.RASA] = RasaClient(session, config.rasa_url, config.rasa_token)
        app[keys.SERVICE] = HandoffService(
            app[keys.STORE], app[keys.RASA], config.data_dir, config.inactivity_minutes, config.retention
        )
        yield


async def _end_live_events(app: web.Application) -> None:
    """On shutdown, end every live-events websocket: aiohttp waits for open handlers (60 s) otherwise."""
    app[keys.HUB].close()


async def _background(app: web.Application) -> AsyncIterator[None]:
    redis, store, background = app[REDIS], app[keys.STORE], Background()
    background.start(consume_events(redis, store, background), "handoff relay")
    background.start(tail_changes(redis, store, app[keys.HUB], background), "handoff changes")
    background.start(sweep_forever(app[keys.SERVICE], app[keys.CONFIG].sweep_seconds, background), "sweep")
    yield
    await background.stop()


def setup(app: web.Application, config: HandoffConfig) -> None:
    """Mount the handoff: the queue's resources and background tasks, ``/api/...`` and the pages."""
    app[keys.CONFIG] = config
    app[keys.HUB] = EventHub()
    app.cleanup_ctx.append(_resources)
    app.cleanup_ctx.append(_background)
    # aiohttp 3.9's signal types predate aiosignal 1.4's ParamSpec-generic Signal.
    app.on_shutdown.append(_end_live_events)  # type: ignore[arg-type]
    setup_api(app)
    setup_pages(app)
