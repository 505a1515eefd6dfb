"""Staff broadcasts and the pinned notice on the console app: its stores, JSON API and pages.

`setup(app, settings)` is called once by `bot.console.app.create_app`, after the shell has put its
Redis client (`bot.console.keys.REDIS`) in a cleanup context that opens before this one. Sending is
not done here: approving queues the broadcast (`bot.broadcasts.delivery`) for the broadcaster process.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

from aiohttp import web

from bot.broadcasts import keys
from bot.broadcasts.api import setup_api
from bot.broadcasts.model import BroadcastStore
from bot.broadcasts.notice import NoticeStore
from bot.broadcasts.pages import setup_pages
from bot.console.keys import REDIS
from bot.console.layout import add_nav, add_template_dir
from bot.content.agency import AGENCY_FILE
from bot.settings import BroadcastSettings
from bot.subscriptions.catalog import CATALOG_FILE
from bot.subscriptions.store import SubscriberStore

HERE = Path(__file__).resolve().parent


async def _stores(app: web.Application) -> AsyncIterator[None]:
    redis = app[REDIS]
    app[keys.STORE] = BroadcastStore(redis)
    app[keys.NOTICES] = NoticeStore(redis)
    app[keys.SUBSCRIBERS] = SubscriberStore(redis)
    yield


def setup(
    app: web.Application,
    settings: BroadcastSettings,
    catalog_file: Path = CATALOG_FILE,
    agency_file: Path = AGENCY_FILE,
) -> None:
    """Mount the broadcasts on the console app, once, after the shell's layout (`bot.console.app`)."""
    app[keys.SETTINGS] = settings
    app[keys.CATALOG_FILE] = catalog_file
    app[keys.AGENCY_FILE] = agency_file
    app.cleanup_ctx.append(_stores)
    add_template_dir(app, HERE / "templates")
    add_nav(app, "/broadcasts", "Broadcasts")
    setup_api(app)
    setup_pages(app)
    app.router.add_static("/broadcasts/static", HERE / "static", append_version=False)
