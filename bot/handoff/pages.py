"""The agent console's web pages: sign-in, the live queue and one conversation.

Pages are server-rendered with Jinja2 (autoescape on, so citizen text is always text) and
then kept live by ``static/console.js`` through the JSON API and its websocket. Actions
(claim, reply, transfer, release, close) go to the same JSON API with the session cookie
and the session's CSRF token, so there is one implementation of each operation.

Later pages reuse the layout and auth: `add_nav` puts a link in the header (optionally
for one role only), `add_template_dir` lets a package ship its own templates extending
``base.html``, `require_role` guards a handler and `render` fills the layout's context.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import jinja2
import yaml
from aiohttp import web

from bot.handoff import session as sessions
from bot.handoff.keys import ACCOUNTS, CONFIG
from bot.handoff.views import conversation_view, queue_view

HERE = Path(__file__).resolve().parent
TEMPLATE_DIR = HERE / "templates"
STATIC_DIR = HERE / "static"
LOGIN_CSRF_TTL_SECONDS = 3600
SENDER_LABELS = {"citizen": "Citizen", "bot": "Bot", "agent": "Agent"}
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


@dataclass(frozen=True)
class NavItem:
    url: str
    label: str
    role: str | None = None  # None: every signed-in account sees it


TEMPLATES = web.AppKey("handoff_templates", jinja2.Environment)
"""The console's Jinja2 environment (autoescape on); `add_template_dir` adds search paths."""

NAV = web.AppKey("handoff_nav", list[NavItem])
"""Header links, in order; `add_nav` appends (the editor Inbox registers itself here)."""


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
    """Let another package's templates (which may extend ``base.html``) be found by `render`."""
    loader = app[TEMPLATES].loader
    assert isinstance(loader, jinja2.ChoiceLoader)
    loader.loaders = [*loader.loaders, jinja2.FileSystemLoader(str(path))]


def add_nav(app: web.Application, url: str, label: str, role: str | None = None) -> None:
    """A header link for every signed-in account, or only for accounts with `role`."""
    app[NAV].append(NavItem(url, label, role))


class Forbidden(web.HTTPForbidden):
    """Raised by `require_role`; `_errors` renders it as a page."""

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


# ---- sign-in ------------------------------------------------------------------------------------


def _login_page(request: web.Request, error: str = "", name: str = "", status: int = 200) -> web.Response:
    token = request.cookies.get(sessions.LOGIN_CSRF_COOKIE, "")
    if not (16 <= len(token) <= 128):
        token = secrets.token_urlsafe(32)
    response = render(request, "login.html", {"error": error, "name": name, "login_csrf": token}, status)
    sessions.set_cookie(response, request, sessions.LOGIN_CSRF_COOKIE, token, LOGIN_CSRF_TTL_SECONDS)
    return response


async def login_get(request: web.Request) -> web.StreamResponse:
    if await sessions.session_agent(request) is not None:
        raise web.HTTPFound("/")
    return _login_page(request)


async def login_post(request: web.Request) -> web.StreamResponse:
    """Check the login CSRF token, the rate limit, then the password (bcrypt, off the loop)."""
    form = await request.post()
    name = str(form.get("name", "")).strip()[:64]
    password = str(form.get("password", ""))[:1024]
    sent = str(form.get("csrf_token", ""))
    expected = request.cookies.get(sessions.LOGIN_CSRF_COOKIE, "")
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        return _login_page(request, "Your sign-in form expired. Please try again.", name, 403)
    minutes = await sessions.minutes_locked_out(request, name)
    if minutes:
        return _too_many(request, name, minutes)
    account = await request.app[ACCOUNTS].verify(name, password) if name and password else None
    if account is None:
        await sessions.record_failure(request, name)
        minutes = await sessions.minutes_locked_out(request, name)
        if minutes:
            return _too_many(request, name, minutes)
        return _login_page(request, "Wrong name or password.", name, 401)
    await sessions.clear_failures(request, name)
    response = web.HTTPFound("/")
    await sessions.start_session(request, response, account.name)
    response.del_cookie(sessions.LOGIN_CSRF_COOKIE, path="/")
    raise response


def _too_many(request: web.Request, name: str, minutes: int) -> web.Response:
    unit = "minute" if minutes == 1 else "minutes"
    message = f"Too many sign-in attempts. Try again in {minutes} {unit}."
    response = _login_page(request, message, name, 429)
    response.headers["Retry-After"] = str(minutes * 60)
    return response


async def logout_post(request: web.Request) -> web.StreamResponse:
    if await sessions.session_agent(request) is None:
        raise web.HTTPFound("/login")
    form = await request.post()
    sessions.remember_form_token(request, str(form.get("csrf_token", "")))
    if not sessions.csrf_ok(request):
        raise web.HTTPForbidden(text="Missing or wrong CSRF token.")
    response = web.HTTPFound("/login")
    await sessions.end_session(request, response)
    raise response


# ---- queue and conversation ---------------------------------------------------------------------


async def queue_page(request: web.Request) -> web.StreamResponse:
    await require_agent(request)
    entries = await queue_view(request.app)
    return render(request, "queue.html", {"entries": entries})


async def conversation_page(request: web.Request) -> web.StreamResponse:
    agent = await require_agent(request)
    conversation = await conversation_view(request.app, request.match_info["conversation_id"])
    if conversation is None:
        raise web.HTTPNotFound(text="No such conversation in the queue.")
    colleagues = [name for name in request.app[ACCOUNTS].names() if name != agent]
    context = {
        "conversation": conversation,
        "canned": canned_replies(request.app),
        "colleagues": colleagues,
        "sender_labels": SENDER_LABELS,
    }
    return render(request, "conversation.html", context)


def canned_replies(app: web.Application) -> list[dict[str, str]]:
    """Canned replies from ``canned_replies.yml`` (re-read per page, so staff edits apply at once)."""
    path = app[CONFIG].data_dir / "canned_replies.yml"
    if not path.exists():
        return []
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    items = raw.get("canned_replies", raw.get("replies", raw)) if isinstance(raw, dict) else raw
    if isinstance(items, dict):
        items = [{"title": k, "text": v} for k, v in items.items()]
    replies = []
    for item in items or []:
        if isinstance(item, dict) and item.get("text"):
            replies.append({"title": str(item.get("title") or item["text"])[:80], "text": str(item["text"])})
    return replies


# ---- wiring -------------------------------------------------------------------------------------


@web.middleware
async def _errors(request: web.Request, handler: Any) -> web.StreamResponse:
    try:
        return await handler(request)
    except Forbidden as exc:
        context = {"needed_role": exc.needed_role}
        return render(request, "forbidden.html", context, status=403)


async def _security_headers(request: web.Request, response: web.StreamResponse) -> None:
    if request.path.startswith("/api/"):
        return
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if response.content_type == "text/html":
        response.headers.setdefault("Cache-Control", "no-store")


def setup_pages(app: web.Application) -> None:
    """Mount the console pages and static files on the console app (called by `create_app`)."""
    app[TEMPLATES] = _environment()
    app[NAV] = [NavItem("/", "Queue")]
    app.middlewares.append(_errors)
    app.on_response_prepare.append(_security_headers)
    app.router.add_get("/login", login_get, name="login")
    app.router.add_post("/login", login_post)
    app.router.add_post("/logout", logout_post, name="logout")
    app.router.add_get("/", queue_page, name="queue")
    app.router.add_get("/conversations/{conversation_id}", conversation_page, name="conversation")
    app.router.add_static("/static", STATIC_DIR, name="static", append_version=False)
