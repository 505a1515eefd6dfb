"""The demo agency: every live lookup the assistant uses, served from editable data files.

Plays the part of Harbor City's systems so the assistant can be developed and
tested without a real agency: Open311 under /open311/v2, alerts as GeoJSON and
CAP ATOM, facilities, collection schedule and online-service status. Formats are
in docs/agency-apis.md. Its home page (`/`) is an example agency page with the web chat.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

from aiohttp import web

from bot import metrics
from bot.demo_agency import admin, alerts, home, lookups, open311
from bot.demo_agency.config import DemoConfig
from bot.demo_agency.keys import CONFIG, DATA, STATE
from bot.demo_agency.store import DataFiles, State

DATA_DIR = Path(__file__).resolve().parent / "data"
STATE_FILE = "events.jsonl"


async def _state(app: web.Application) -> AsyncIterator[None]:
    """Read the data files once (a broken data dir fails at start-up) and replay the state log."""
    app[DATA].check()
    state = State(app[CONFIG].state_dir / STATE_FILE)
    state.load()
    app[STATE] = state
    yield


def create_app(
    data_dir: Path, config: DemoConfig, rasa_url: str = "http://127.0.0.1:5005", metrics_token: str = ""
) -> web.Application:
    """The demo agency over `data_dir`; created requests and admin edits go to `config.state_dir`.

    `rasa_url` is where the home page's web chat finds Rasa's socket.io, as the browser sees it;
    `metrics_token` reads `/metrics` (bot/metrics.py).
    """
    app = web.Application()
    metrics.setup_aiohttp(app, "demo_agency", metrics_token)
    app[CONFIG] = config
    app[DATA] = DataFiles(data_dir)
    app.cleanup_ctx.append(_state)
    open311.add_routes(app)
    alerts.add_routes(app)
    lookups.add_routes(app)
    admin.add_routes(app)
    home.add_routes(app, rasa_url)
    return app
