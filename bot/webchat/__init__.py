"""The embeddable web chat widget (static files): our own small client for Rasa's socket.io channel.

Any aiohttp app can serve it with `add_routes`; the demo agency's home page does. The widget
itself (`static/civic-chat.js`) is documented in docs/channels.md, "Web chat".

The widget sends one payload of its own, not offered by any button: its language switch,
`/switch_language{"language":"es"}`, at the start of a conversation in a language other than
English and when the citizen picks another language. `language_switch` tells the socket.io
channel whether a message is exactly that, for a language the agency offers.
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from bot.language.switch import SWITCH_INTENT, language_switch, switch_payload

__all__ = ["SWITCH_INTENT", "add_routes", "language_switch", "switch_payload"]

STATIC_DIR = Path(__file__).resolve().parent / "static"
PREFIX = "/webchat"


def add_routes(app: web.Application, prefix: str = PREFIX) -> None:
    """Serve civic-chat.js and civic-chat.css under `prefix` (no directory listing)."""
    app.router.add_static(prefix, STATIC_DIR, show_index=False, follow_symlinks=False)
