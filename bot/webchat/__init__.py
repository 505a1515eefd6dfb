"""The embeddable web chat widget (static files): our own small client for Rasa's socket.io channel.

Any aiohttp app can serve it with `add_routes`; the demo agency's home page does. The widget
itself (`static/civic-chat.js`) is documented in docs/channels.md, "Web chat".
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

STATIC_DIR = Path(__file__).resolve().parent / "static"
PREFIX = "/webchat"


def add_routes(app: web.Application, prefix: str = PREFIX) -> None:
    """Serve civic-chat.js and civic-chat.css under `prefix` (no directory listing)."""
    app.router.add_static(prefix, STATIC_DIR, show_index=False, follow_symlinks=False)
