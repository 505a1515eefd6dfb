"""The console's page layout, shared by every feature's pages.

Pages are server-rendered with Jinja2 (autoescape on, so citizen text is always text) into
``base.html``: the header with the nav links and the sign-out button, the skip link, the live
region. A feature ships its own templates extending ``base.html`` (`add_template_dir`), puts a
link in the header (`add_nav`, optionally for one role or a few), guards its handlers with
`require_agent` / `require_role` / `require_any_role`, and renders with `render`, which fills the
layout's context.
Every page response gets the security headers (CSP without inline code, no sniffing, no caching),
and every response reached over https gets ``Strict-Transport-Security``.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from bot.console import session as sessions
from bot.console.keys import ACCOUNTS, NAV, TEMPLATES, NavItem
from bot.console.proxy import is_https

HERE = Path(__file__).resolve().parent
TEMPLATE_DIR = HERE / "templates"
STATIC_DIR = HERE / "static"
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
HSTS = "max-age=31536000; includeSubDomains"


def _plain(value: Any) -> str:
    """Summary values (strings, lists, message dicts) as plain text; autoescape escapes the result."""
    if isinstance(value, list | tuple):
        return "\n".join(_plain(v) for v in value)
    if isinstance(value, dict):
        if "text" in value:
            sender = value.get("sender")
            return f"{sender}: {value['text']}" if sender else str(value["text"])
        return ", ".join(f"{k}: {_plain(v)}" for k, v in value.items())
    return "" if value is None else str(value)


def _when(value: Any) -> str:
    """A timestamp (epoch seconds or ISO 8601) as UTC clock time; the page script shows local time."""
    if value in (None, ""):
        return ""
    try:
        moment = (
            datetime.fromtimestamp(float(value), timezone.utc)
            if isinstance(value, int | float) or str(value).replace(".", "", 1).isdigit()
            else datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        )
    except ValueError:
        return str(value)
    return moment.astimezone(timezone.utc).strftime("%H:%M UTC, %d %b")


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader([jinja2.FileSystemLoader(str(TEMPLATE_DIR))]),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["plain"] = _plain
    env.filters["when"] = _when
    return env


def add_template_dir(app: web.Application, path: Path) -> None:
    """Let a feature's templates (which may extend ``base.html``) be found by `render`."""
    loader = app[TEMPLATES].loader
    assert isinstance(loader, jinja2.ChoiceLoader)
    loader.loaders = [*loader.loaders, jinja2.FileSystemLoader(str(path))]


def add_nav(app: web.Application, url: str, label: str, role: str | tuple[str, ...] | None = None) -> None:
    """A header link for every signed-in account, or only for accounts with `role` (or one of several)."""
    roles = role if isinstance(role, tuple) else (role,)
    app[NAV].extend(NavItem(url, label, each) for each in roles)  # an account has one role: one link


class Forbidden(web.HTTPForbidden):
    """Raised by `require_role`; the layout renders it as a page."""

    def __init__(self, needed_role: str) -> None:
        super().__init__()
        self.needed_role = needed_role


async def require_agent(request: web.Request) -> str:
    """The signed-in agent's name; anyone else is sent to the sign-in page."""
    agent = await sessions.session_agent(request)
    if agent is None:
        raise web.HTTPFound("/login")
    return agent


async def require_role(request: web.Request, role: str) -> str:
    """The signed-in agent's name if their account has `role`; else sign-in or a 403 page."""
    agent = await require_agent(request)
    account = request.app[ACCOUNTS].get(agent)
    if account is None or account.role != role:
        raise Forbidden(role)
    return agent


async def require_any_role(request: web.Request, *roles: str) -> tuple[str, str]:
    """The signed-in agent's name and role if it is one of `roles`; else sign-in or a 403 page."""
    agent = await require_agent(request)
    account = request.app[ACCOUNTS].get(agent)
    if account is None or account.role not in roles:
        raise Forbidden(" or ".join(roles))
    return agent, account.role


def render(request: web.Request, template: str, context: dict[str, Any], status: int = 200) -> web.Response:
    """Render `template` with the layout's context (agent, nav, CSRF token) filled in."""
    session = sessions.cached_session(request)
    agent = session.agent if session else None
    account = request.app[ACCOUNTS].get(agent) if agent else None
    nav = [
        {"url": item.url, "label": item.label, "current": request.path == item.url}
        for item in request.app[NAV]
        if item.role is None or (account is not None and account.role == item.role)
    ]
    full = {"agent": agent, "csrf_token": session.csrf_token if session else "", "nav": nav, **context}
    body = request.app[TEMPLATES].get_template(template).render(full)
    return web.Response(text=body, status=status, content_type="text/html", charset="utf-8")


@web.middleware
async def _errors(request: web.Request, handler: Any) -> web.StreamResponse:
    try:
        return await handler(request)
    except Forbidden as exc:
        context = {"needed_role": exc.needed_role}
        return render(request, "forbidden.html", context, status=403)


async def _security_headers(request: web.Request, response: web.StreamResponse) -> None:
    if is_https(request):  # browsers ignore HSTS over plain http, and it would only confuse there
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    if request.path.startswith("/api/"):
        return
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if response.content_type == "text/html":
        response.headers.setdefault("Cache-Control", "no-store")


def setup_layout(app: web.Application) -> None:
    """The templates, an empty nav, the 403 page, the security headers and the layout's /static files."""
    app[TEMPLATES] = _environment()
    app[NAV] = []
    app.middlewares.append(_errors)
    # aiohttp 3.9's signal types predate aiosignal 1.4's ParamSpec-generic Signal.
    app.on_response_prepare.append(_security_headers)  # type: ignore[arg-type]
    app.router.add_static("/static", STATIC_DIR, name="static", append_version=False)
