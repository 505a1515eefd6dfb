"""One aiohttp session and one Redis client per action-server process, and the agency clients on them.

They open and close with the rasa_sdk 3.6 plugin hook. rasa_sdk 3.6.2 imports a top-level
package called `rasa_sdk_plugins` (ours is at the repository root) and calls its
`init_hooks(manager)`, which registers this module; `bot.serve.actions` (our entry point) then calls
`attach_sanic_app_extensions(app)` below, which adds two Sanic listeners: `before_server_start`
opens the resources in the worker's event loop, `after_server_stop` closes them. Nothing opens
at import time.

Without the plugin (the package is not importable, e.g. `rasa run actions` started from
another directory) `current()` opens them lazily on first use in the running loop, and the
process exit releases them. Tests open them with `open_resources(config, clock=...)`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import aiohttp
import pluggy
import redis.asyncio as aioredis

from bot.agency_config import AgencyConfig
from bot.cache import LookupCache, utc_now
from bot.clients.alerts import AlertsClient
from bot.clients.collection import CollectionClient
from bot.clients.facilities import FacilitiesClient
from bot.clients.open311 import Open311Client
from bot.clients.service_status import ServiceStatusClient
from bot.settings import HandoffSettings, Settings

log = logging.getLogger(__name__)
hookimpl = pluggy.HookimplMarker("rasa_sdk")
REDIS_SOCKET_TIMEOUT = 1.0  # a slow Redis must not eat the citizen's 3 seconds
# AGENCY_TIMEOUT_SECONDS is the whole budget of one lookup, enforced by actions.common.bounded. The
# clients' own per-attempt timeout is a little longer, so that deadline always decides: when both
# fire at once, aiohttp turns the cancellation into its own timeout and the client retries instead.
ATTEMPT_SLACK = 0.5
USER_AGENT = "CivicAssistant/0.1 (action server)"


@dataclass
class Resources:
    """The shared session and Redis client, the cache on it, one client per agency API, handoff settings."""

    config: AgencyConfig
    session: aiohttp.ClientSession
    redis: aioredis.Redis
    clock: Callable[[], datetime] = utc_now
    handoff: HandoffSettings = field(default_factory=HandoffSettings)
    cache: LookupCache = field(init=False)
    open311: Open311Client = field(init=False)
    alerts: AlertsClient = field(init=False)
    facilities: FacilitiesClient = field(init=False)
    collection: CollectionClient = field(init=False)
    service_status: ServiceStatusClient = field(init=False)

    def __post_init__(self) -> None:
        config, session, timeout = self.config, self.session, self.config.timeout_seconds + ATTEMPT_SLACK
        self.cache = LookupCache(self.redis, clock=self.clock)
        self.open311 = Open311Client(
            session,
            config.open311_base_url,
            api_key=config.open311_api_key,
            jurisdiction_id=config.open311_jurisdiction_id,
            timeout=timeout,
            timezone=config.timezone,
        )
        self.alerts = AlertsClient(
            session, config.alerts_url, format=config.alerts_format, timeout=timeout, user_agent=USER_AGENT
        )
        self.facilities = FacilitiesClient(
            session, config.facilities_url, timeout=timeout, timezone=config.timezone
        )
        self.collection = CollectionClient(session, config.collection_url, timeout=timeout)
        self.service_status = ServiceStatusClient(session, config.service_status_url, timeout=timeout)

    def now(self) -> datetime:
        return self.clock()

    @property
    def closed(self) -> bool:
        return self.session.closed

    async def close(self) -> None:
        await self.session.close()
        await self.redis.close(close_connection_pool=True)


_current: Resources | None = None
_lock: asyncio.Lock | None = None


async def open_resources(
    config: AgencyConfig | None = None,
    *,
    settings: Settings | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> Resources:
    """Open this process's resources (closing any previous ones); call from inside the event loop.

    `settings` defaults to the environment's, read here once per process (tests pass their own).
    """
    global _current
    await close_resources()
    settings = settings or Settings.from_env()
    config = config or AgencyConfig.from_settings(settings)
    session = aiohttp.ClientSession(headers={"User-Agent": USER_AGENT})
    client = aioredis.Redis.from_url(
        config.redis_url, socket_timeout=REDIS_SOCKET_TIMEOUT, socket_connect_timeout=REDIS_SOCKET_TIMEOUT
    )
    _current = Resources(config, session, client, clock, settings.handoff)
    if config.uses_demo:
        log.info("live lookups: some agency APIs are the demo agency on 127.0.0.1 (see docs/agency-apis.md)")
    return _current


async def close_resources() -> None:
    global _current, _lock
    resources, _current, _lock = _current, None, None
    if resources is not None and not resources.closed:
        await resources.close()


async def current() -> Resources:
    """The open resources, opened now if nothing opened them yet (no plugin, or a test)."""
    global _lock
    if _current is not None and not _current.closed:
        return _current
    if _lock is None:
        _lock = asyncio.Lock()
    async with _lock:
        if _current is None or _current.closed:
            log.info("opening action-server resources on first use")
            return await open_resources()
        return _current


async def _open_listener(app: Any, loop: Any) -> None:
    await open_resources()


async def _close_listener(app: Any, loop: Any) -> None:
    await close_resources()


@hookimpl
def attach_sanic_app_extensions(app: Any) -> None:
    """rasa_sdk plugin hook: open the resources when a worker starts, close them when it stops."""
    app.register_listener(_open_listener, "before_server_start")
    app.register_listener(_close_listener, "after_server_stop")
