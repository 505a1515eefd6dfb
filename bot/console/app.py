"""The console app: the shell (sign-in, sessions, layout, health) with the features mounted on it.

`make run` starts it after Rasa (`bot/stack.py`, `python -m bot.console`). The shell opens the
shared Redis client and the audit log (`bot.audit`) in the first cleanup context; then each
feature's `setup` adds its own resources, routes and nav links: the handoff queue
(`bot.handoff.web`), the review inbox (`bot.inbox.web`) and the broadcasts with the pinned notice
(`bot.broadcasts.web`). The shell's own audit page comes last.
This is the only module of `bot.console` that imports a feature.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from aiohttp import web
from redis.asyncio import Redis

import bot.analytics.aggregator
import bot.analytics.web
import bot.broadcasts.web
import bot.experiments.web
import bot.handoff.web
import bot.inbox.emerging
import bot.inbox.web
import bot.studio.web
from bot import metrics
from bot.audit import AuditLog
from bot.channels.intake import DeadLetters
from bot.console import keys
from bot.console.accounts import Accounts
from bot.console.audit import setup_audit
from bot.console.config import ConsoleConfig
from bot.console.deadletters import setup_deadletters
from bot.console.layout import setup_layout
from bot.console.login import setup_login
from bot.console.proxy import networks
from bot.handoff import keys as handoff_keys
from bot.handoff.config import HandoffConfig
from bot.inbox.config import InboxConfig
from bot.settings import BroadcastSettings, MeasurementSettings, Settings
from bot.studio.config import StudioConfig


async def _redis(app: web.Application) -> AsyncIterator[None]:
    config = app[keys.CONFIG]
    redis = Redis.from_url(config.redis_url, decode_responses=True, socket_connect_timeout=2.0)
    app[keys.REDIS] = redis
    app[keys.AUDIT] = AuditLog(redis, config.audit_max_entries, config.audit_retention_seconds)
    yield
    await redis.close(close_connection_pool=True)


async def health(request: web.Request) -> web.Response:
    """Liveness, and the stack's services as its supervisor last wrote them (no personal data, so
    no auth): which run, how often each was restarted, and its last exit. Pids, addresses and log
    paths stay in the file."""
    body: dict[str, Any] = {"status": "ok"}
    services = await asyncio.to_thread(supervised_services, request.app[keys.CONFIG].stack_status_file)
    if services is not None:
        body["services"] = services
        if not all(service["running"] for service in services):
            body["status"] = "degraded"
    return web.json_response(body)


def supervised_services(status_file: Path | None) -> list[dict[str, Any]] | None:
    """The services of var/stack-status.json, without pids, URLs or log paths; None without one."""
    if status_file is None or not status_file.is_file():
        return None
    try:
        services = json.loads(status_file.read_text())["services"]
    except (OSError, ValueError, KeyError):
        return None
    shown = ("name", "running", "restarts", "last_exit_code", "last_exit_at")
    return [{key: service.get(key) for key in shown} for service in services]


def queue_depths(app: web.Application) -> metrics.Collect:
    """The console's queues for /metrics: chats waiting for an agent, messages given up on."""

    async def collect() -> None:
        waiting = await app[handoff_keys.STORE].waiting_count()
        dead = await DeadLetters(app[keys.REDIS]).count()
        metrics.set_queue_depths({"handoff_waiting": waiting, "dead_letters": dead})

    return collect


def create_app(
    config: ConsoleConfig,
    handoff: HandoffConfig,
    inbox: InboxConfig,
    broadcasts: BroadcastSettings | None = None,
    measurement: MeasurementSettings | None = None,
    studio: StudioConfig | None = None,
) -> web.Application:
    """The shell, then the handoff, the inbox and the audit log (their nav links appear in that order)."""
    networks(config.trusted_proxies)  # a bad TRUSTED_PROXIES entry stops the start, naming it
    app = web.Application()
    metrics.setup_aiohttp(app, "console", config.metrics_token, queue_depths(app))
    app[keys.CONFIG] = config
    app[keys.ACCOUNTS] = Accounts(config.agents_file)
    app.cleanup_ctx.append(_redis)
    app.router.add_get("/health", health)
    setup_layout(app)
    setup_login(app)
    bot.handoff.web.setup(app, handoff)
    bot.inbox.web.setup(app, inbox)
    retention = (measurement or MeasurementSettings()).analytics_retention_days
    app.cleanup_ctx.append(bot.analytics.aggregator.consumer(retention))
    bot.broadcasts.web.setup(app, broadcasts or BroadcastSettings())
    # The inbox's clusters, handed over; their languages are the agency's beside the inbox's content.
    agency_file = inbox.content_dir.parent / "agency.yml"
    bot.analytics.web.setup(app, bot.inbox.emerging.emerging_questions, agency_file=agency_file)
    tests = (measurement or MeasurementSettings()).min_exposures_per_variant
    bot.experiments.web.setup(app, inbox.content_dir, tests)
    studio = studio or StudioConfig(
        content_dir=inbox.content_dir,
        rasa_url=handoff.rasa_url,
        rasa_token=handoff.rasa_token,
        redis_url=config.redis_url,
        trains=False,  # a console built without the environment's settings (tests) never trains
    )
    bot.studio.web.setup(app, studio)
    setup_deadletters(app)
    setup_audit(app)
    return app


def app_from_settings(settings: Settings) -> web.Application:
    """`create_app` with every config built from the environment's settings."""
    return create_app(
        ConsoleConfig.from_settings(settings),
        HandoffConfig.from_settings(settings),
        InboxConfig.from_settings(settings),
        settings.broadcasts,
        measurement=settings.measurement,
        studio=StudioConfig.from_settings(settings),
    )
