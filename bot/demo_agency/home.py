"""The demo agency's home page: an example Harbor City page with the web chat widget embedded.

The page and the widget are served here (no CDN). The only thing that changes per deployment is
where the citizen's browser finds Rasa's socket.io (`rasa_url`, from RASA_PUBLIC_URL through the
stack); the Content-Security-Policy allows exactly that origin for the WebSocket. The widget's
privacy notice links to the agency's privacy page (`web_privacy` in data/agency.yml).
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from string import Template
from urllib.parse import urlparse

from aiohttp import web

from bot import webchat
from bot.content.agency import load_agency

HERE = Path(__file__).resolve().parent
SITE_DIR = HERE / "site"  # static files of the page
TEMPLATE = HERE / "templates" / "home.html"
AGENCY_FILE = HERE.parents[1] / "data" / "agency.yml"


def privacy_url(agency_file: Path = AGENCY_FILE) -> str:
    """The agency's privacy page as a link ("" when data/agency.yml names none)."""
    page = load_agency(agency_file).facts.get("web_privacy", "")
    return f"https://{page}" if page and "://" not in page else page


def websocket_origin(rasa_url: str) -> str:
    """`http://host:port` -> `ws://host:port` (https -> wss), the origin the widget connects to."""
    parsed = urlparse(rasa_url)
    scheme = "wss" if parsed.scheme == "https" else "ws"
    return f"{scheme}://{parsed.netloc}"


def security_headers(rasa_url: str) -> dict[str, str]:
    """Scripts, styles and connections from this site and the Rasa server only; no framing."""
    policy = "; ".join(
        (
            "default-src 'self'",
            f"connect-src 'self' {websocket_origin(rasa_url)}",
            "img-src 'self' https: data:",
            "script-src 'self'",
            "style-src 'self'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )
    return {
        "Content-Security-Policy": policy,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
    }


def render_home(rasa_url: str, privacy: str | None = None) -> str:
    template = Template(TEMPLATE.read_text(encoding="utf-8"))
    return template.substitute(
        rasa_url=escape(rasa_url, quote=True),
        webchat=webchat.PREFIX,
        privacy_url=escape(privacy_url() if privacy is None else privacy, quote=True),
    )


def add_routes(app: web.Application, rasa_url: str) -> None:
    """`/` (the page), `/site/*` (its stylesheet) and the widget's files under /webchat."""
    page = render_home(rasa_url)
    headers = security_headers(rasa_url)

    async def home(request: web.Request) -> web.Response:
        return web.Response(text=page, content_type="text/html", charset="utf-8", headers=headers)

    app.router.add_get("/", home)
    app.router.add_static("/site", SITE_DIR, show_index=False, follow_symlinks=False)
    webchat.add_routes(app)
