"""The handoff console: aiohttp app factory, shared resources and background tasks.

`make run` starts it after Rasa (`bot/stack.py`, `python -m bot.handoff`). Resources open in cleanup
contexts in the app's loop; the JSON API is `bot.handoff.api`, the pages `bot.handoff.pages`.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web
from redis.asyncio import Redis

from bot.background import Background
from bot.handoff import keys
from bot.handoff.accounts import Accounts
from bot.handoff.api import setup_api
from bot.handoff.config import HandoffConfig
from bot.handoff.hub import EventHub
from bot.handoff.rasa import RasaClient
from bot.handoff.relay import consume_events, sweep_forever, tail_changes
from bot.handoff.service import HandoffService
from bot.handoff.store import QueueStore

log = logging.getLogger(__name__)


async def _resources(app: web.Application) -> AsyncIterator[None]:
    config = app[keys.CONFIG]
    redis = Redis.from_url(config.redis_url, decode_responses=True, socket_connect_timeout=2.0)
    session = aiohttp.ClientSession()
    app[keys.REDIS] = redis
    app[keys.STORE] = QueueStore(redis)
    app[keys.RASA] = RasaClient(session, config.rasa_url, config.rasa_token)
    app[keys.SERVICE] = HandoffService(
        app[keys.STORE], app[keys.RASA], config.data_dir, config.inactivity_minutes
    )
    yield
    app[keys.HUB].close()
    await session.close()
    await redis.close(close_connection_pool=True)


async def _background(app: web.Application) -> AsyncIterator[None]:
    redis, store, background = app[keys.REDIS], app[keys.STORE], Background()
    background.start(consume_events(redis, store, background), "handoff relay")
    background.start(tail_changes(redis, store, app[keys.HUB], background), "handoff changes")
    background.start(sweep_forever(app[keys.SERVICE], app[keys.CONFIG].sweep_seconds, background), "sweep")
    yield
    await background.stop()


async def health(request: web.Request) -> web.Response:
    """Liveness for the stack (no data, so no auth)."""
    return web.json_response({"status": "ok"})


def create_app(config: HandoffConfig) -> web.Application:
    app = web.Application()
    app[keys.CONFIG] = config
    app[keys.ACCOUNTS] = Accounts(config.agents_file)
    app[keys.HUB] = EventHub()
    app.cleanup_ctx.append(_resources)
    app.cleanup_ctx.append(_background)
    app.router.add_get("/health", health)
    setup_api(app)
    try:
        from bot.handoff.pages import setup_pages
    except ImportError:
        log.info("console pages are not installed; serving the JSON API only")
    else:
        setup_pages(app)
    try:
        from bot.inbox.web import setup_inbox
    except ImportError:
        log.info("the review inbox is not installed")
    else:
        setup_inbox(app)
    return app
