"""Typed keys for what the broadcasts feature keeps on the console's aiohttp application.

Set by `bot.broadcasts.web.setup` (SETTINGS, CATALOG_FILE, AGENCY_FILE) and by its cleanup context
(the stores, on the shell's Redis client, `bot.console.keys.REDIS`); read by the API and the pages.
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from bot.broadcasts.model import BroadcastStore
from bot.broadcasts.notice import NoticeStore
from bot.settings import BroadcastSettings
from bot.subscriptions.store import SubscriberStore

SETTINGS = web.AppKey("broadcasts_settings", BroadcastSettings)
"""How many distinct editors must agree before a broadcast goes out (`approvals`), and the rest."""

CATALOG_FILE = web.AppKey("broadcasts_catalog_file", Path)
"""The topics and districts (`data/subscriptions/catalog.yml`), re-read when staff edit it."""

AGENCY_FILE = web.AppKey("broadcasts_agency_file", Path)
"""The agency's facts (`data/agency.yml`): a broadcast is worded in its `languages_offered`."""

STORE = web.AppKey("broadcasts_store", BroadcastStore)
"""The broadcasts in Redis."""

NOTICES = web.AppKey("broadcasts_notices", NoticeStore)
"""The pinned emergency notice."""

SUBSCRIBERS = web.AppKey("broadcasts_subscribers", SubscriberStore)
"""Who subscribed to what: the audience counts shown before approval."""
