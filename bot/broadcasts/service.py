"""The broadcaster process (`python -m bot.broadcasts`): delivery workers, the alerts poller, /health.

It sends with the connectors Rasa runs: the channels switched on in the environment
(`bot.channels.config`), built from the same credentials.yml sections Rasa gets (with `${VAR}`
substituted from the environment by Rasa's own YAML reader), so the address lookup, base URLs
(TWILIO_API_URL, TELEGRAM_API_URL, META_GRAPH_URL) and retries are the chat replies'. No webhook is
served here: receipts arrive on Rasa's webhooks. Several broadcaster processes may run; they share
the queue and the rate limits in Redis.

`/health` answers 200 once Redis answers (the stack's readiness check); `/metrics` needs
METRICS_TOKEN. SIGTERM or SIGINT stops the workers (a send under way finishes or is left to the
reaper's `interrupted`), the poller, then the connectors' sessions.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import redis.asyncio as aioredis
from aiohttp import web
from redis.exceptions import RedisError

from bot import metrics
from bot.background import Background
from bot.broadcasts import delivery
from bot.broadcasts.poller import AlertsPoller
from bot.broadcasts.worker import STATUS_PATH, Broadcaster, DeliveryTexts, load_texts
from bot.channels.base import PlatformOutput, WebhookChannel
from bot.channels.config import BY_NAME, ChannelConfig, credentials_yaml
from bot.settings import Settings

log = logging.getLogger(__name__)

SETTINGS = web.AppKey("settings", Settings)
"""The process's settings."""
REDIS = web.AppKey("redis", aioredis.Redis)
"""The one Redis client of the process (queue, buckets, subscribers)."""
BROADCASTER = web.AppKey("broadcaster", Broadcaster)
"""The workers, heartbeat and reaper."""
CONNECTORS = web.AppKey("connectors", list)
"""The connectors whose outputs send (closed at shutdown)."""


def load_connectors(settings: Settings) -> list[WebhookChannel]:
    """The connectors of the channels switched on, built from the credentials sections Rasa gets
    (only the push channels': the always-on web chat and REST have nothing to send here)."""
    from rasa.shared.utils.io import read_yaml  # substitutes ${VAR} from the environment, as Rasa does

    config = ChannelConfig.from_settings(settings)
    text = credentials_yaml("", config.enabled, config.set_vars)
    values = read_yaml(text)
    connectors: list[WebhookChannel] = []
    for name in config.enabled:
        spec = BY_NAME[name]
        module, _, cls_name = spec.class_path.rpartition(".")
        cls: Any = getattr(importlib.import_module(module), cls_name)
        connectors.append(cls.from_credentials(dict(values.get(spec.class_path) or {})))
    return connectors


def outputs_of(connectors: list[WebhookChannel]) -> dict[str, PlatformOutput]:
    return {connector.name(): connector.get_output_channel() for connector in connectors}


def status_callback(connectors: list[WebhookChannel]) -> str:
    """Twilio's StatusCallback URL: PUBLIC_BASE_URL + /webhooks/twilio/status ("" without it)."""
    twilio = next((c for c in connectors if c.name() == "twilio"), None)
    base = twilio.common.public_base_url if twilio is not None else ""
    return f"{base}{STATUS_PATH}" if base else ""


async def health(request: web.Request) -> web.Response:
    app = request.app
    try:
        await app[REDIS].ping()
    except (RedisError, OSError) as exc:
        return web.json_response({"status": "redis unavailable", "error": type(exc).__name__}, status=503)
    broadcaster = app[BROADCASTER]
    return web.json_response({"status": "ok", "worker": broadcaster.name, "channels": broadcaster.channels})


def _running(connectors: list[WebhookChannel], texts: DeliveryTexts) -> Any:
    async def context(app: web.Application) -> AsyncIterator[None]:
        settings = app[SETTINGS]
        redis: aioredis.Redis = aioredis.Redis.from_url(
            settings.redis.url, socket_timeout=5.0, socket_connect_timeout=2.0
        )
        app[REDIS] = redis
        broadcaster = Broadcaster(
            redis,
            settings.broadcasts,
            outputs_of(connectors),
            texts,
            status_callback=status_callback(connectors),
        )
        app[BROADCASTER] = broadcaster
        app[CONNECTORS] = connectors
        broadcaster.start()
        extra = Background()
        if settings.broadcasts.alerts_poll_seconds > 0:  # every replica polls; a version is claimed once
            extra.start(AlertsPoller(redis, settings).run(extra.stopping), "alerts poller")
        log.info(
            "broadcaster %s: sending on %s", broadcaster.name, ", ".join(broadcaster.channels) or "nothing"
        )
        yield
        log.info("broadcaster %s: stopping", broadcaster.name)
        await extra.stop()
        await broadcaster.stop()
        for connector in connectors:
            await connector.sender.close()
            await connector.store.close()
        await redis.close(close_connection_pool=True)

    return context


async def collect_depths(app: web.Application) -> None:
    redis = app[REDIS]
    depths: dict[str, int] = {}
    for member in await redis.smembers(delivery.ACTIVE_KEY):
        report = await delivery.delivery_report(redis, delivery.as_str(member))
        for channel, row in report["by_channel"].items():
            depths[f"broadcast:{channel}"] = depths.get(f"broadcast:{channel}", 0) + row["queued"]
    metrics.set_queue_depths(depths)


def create_app(
    settings: Settings, connectors: list[WebhookChannel] | None = None, texts: DeliveryTexts | None = None
) -> web.Application:
    """The broadcaster: `connectors` default to the channels switched on in `settings`."""
    found = load_connectors(settings) if connectors is None else connectors
    app = web.Application()
    app[SETTINGS] = settings
    metrics.setup_aiohttp(app, "broadcaster", settings.security.metrics_token, lambda: collect_depths(app))
    app.cleanup_ctx.append(_running(found, texts or load_texts()))
    app.router.add_get("/health", health)
    return app
