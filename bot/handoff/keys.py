"""Typed keys for everything the handoff console keeps on its aiohttp application.

Shared by the JSON API (`bot.handoff.api`) and the console pages (`bot.handoff.pages`):
both read the same resources, opened once in `bot.handoff.app.create_app`'s cleanup contexts.
"""

from __future__ import annotations

from aiohttp import web
from redis.asyncio import Redis

from bot.handoff.accounts import Accounts
from bot.handoff.config import HandoffConfig
from bot.handoff.hub import EventHub
from bot.handoff.rasa import RasaClient
from bot.handoff.service import HandoffService
from bot.handoff.store import QueueStore

CONFIG = web.AppKey("handoff_config", HandoffConfig)
"""Ports, URLs, file paths and timeouts of this console (frozen; built from `bot.settings.Settings`)."""

REDIS = web.AppKey("handoff_redis", Redis)
"""The shared `redis.asyncio.Redis` client (decode_responses=True); opened and closed by a cleanup context."""

STORE = web.AppKey("handoff_store", QueueStore)
"""The durable queue in Redis: entries, transcripts, claim/close, ratings: use it, not REDIS."""

ACCOUNTS = web.AppKey("handoff_accounts", Accounts)
"""Agent accounts from HANDOFF_AGENTS_FILE, re-read when the file changes: password/token checks, roles."""

RASA = web.AppKey("handoff_rasa", RasaClient)
"""Client for Rasa's HTTP API: delivers agent messages and hands conversations back to the bot."""

HUB = web.AppKey("handoff_hub", EventHub)
"""Fan-out of live events (queued, claimed, message, released, closed...) to every open console websocket."""

SERVICE = web.AppKey("handoff_service", HandoffService)
"""Agent operations (claim, send, release, transfer, close) that change the queue and speak through Rasa."""
