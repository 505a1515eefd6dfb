"""The console app: the shell (sign-in, sessions, layout, health) with the features mounted on it.

`make run` starts it after Rasa (`bot/stack.py`, `python -m bot.console`). The shell opens the
shared Redis client and the audit log (`bot.audit`) in the first cleanup context; then each
feature's `setup` adds its own resources, routes and nav links: the handoff queue
(`bot.handoff.web`) and the review inbox (`bot.inbox.web`). The shell's own audit page comes last.
This is the only module of `bot.console` that imports a feature.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web
from redis.asyncio import Redis

import bot.handoff.web
import bot.inbox.web
from bot.audit import AuditLog
from bot.console import keys
from bot.console.accounts import Accounts
from bot.console.audit import setup_audit
from bot.console.config import ConsoleConfig
from bot.console.deadletters import setup_deadletters
from bot.console.layout import setup_layout
from bot.console.login import setup_login
from bot.console.proxy import networks
from bot.handoff.config import HandoffConfig
from bot.inbox.config import InboxConfig
from bot.settings import Settings


async def _redis(app: web.Application) -> AsyncIterator[None]:
    config = app[keys.CONFIG]
    redis = Redis.from_url(config.redis_url, decode_responses=True, socket_connect_timeout=2.0)
    app[keys.REDIS] = redis
    app[keys.AUDIT] = AuditLog(redis, config.audit_max_entries, config.audit_retention_seconds)
    yield
    await redis.close(close_connection_pool=True)


async def health(request: web.Request) -> web.Response:
    """Liveness for the stack (no data, so no auth)."""
    return web.json_response({"status": "ok"})


def create_app(config: ConsoleConfig, handoff: HandoffConfig, inbox: InboxConfig) -> web.Application:
    """The shell, then the handoff, the inbox and the audit log (their nav links appear in that order)."""
    networks(config.trusted_proxies)  # a bad TRUSTED_PROXIES entry stops the start, naming it
    app = web.Application()
    app[keys.CONFIG] = config
    app[keys.ACCOUNTS] = Accounts(config.agents_file)
    app.cleanup_ctx.append(_redis)
    app.router.add_get("/health", health)
    setup_layout(app)
    setup_login(app)
    bot.handoff.web.setup(app, handoff)
    bot.inbox.web.setup(app, inbox)
    setup_deadletters(app)
    setup_audit(app)
    return app


def app_from_settings(settings: Settings) -> web.Application:
    """`create_app` with every config built from the environment's settings."""
    return create_app(
        ConsoleConfig.from_settings(settings),
        HandoffConfig.from_settings(settings),
        InboxConfig.from_settings(settings),
    )
