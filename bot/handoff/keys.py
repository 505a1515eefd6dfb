"""Typed keys for what the handoff keeps on the console's aiohttp application.

Shared by the JSON API (`bot.handoff.api`) and the pages (`bot.handoff.pages`): both read the
same resources, opened once by the cleanup contexts `bot.handoff.web.setup` adds. The shell's
keys (Redis, accounts, templates, nav) are `bot.console.keys`.
"""

from __future__ import annotations

from aiohttp import web

from bot.clients.rasa import RasaClient
from bot.handoff.config import HandoffConfig
from bot.handoff.hub import EventHub
from bot.handoff.service import HandoffService
from bot.handoff.store import QueueStore

CONFIG = web.AppKey("handoff_config", HandoffConfig)
"""Rasa's URL and token, data files, inactivity and sweep periods (frozen; from `Settings`)."""

STORE = web.AppKey("handoff_store", QueueStore)
"""The durable queue in Redis: entries, transcripts, claim/close, ratings."""

RASA = web.AppKey("handoff_rasa", RasaClient)
"""Client for Rasa's HTTP API: delivers agent messages and hands conversations back to the bot."""

HUB = web.AppKey("handoff_hub", EventHub)
"""Fan-out of live events (queued, claimed, message, released, closed...) to every open console websocket."""

SERVICE = web.AppKey("handoff_service", HandoffService)
"""Agent operations (claim, send, release, transfer, close) that change the queue and speak through Rasa."""
