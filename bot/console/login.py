"""Signing in and out of the console: the sign-in page and form, and the sign-out button.

The sign-in form carries its own CSRF token (a short-lived cookie, as there is no session yet);
failures are rate-limited per account and per address (`bot.console.session`), and a password
is checked with bcrypt off the event loop. Signing in starts a fresh session and goes to ``/``.
"""

from __future__ import annotations

import hmac
import secrets

from aiohttp import web

from bot.console import session as sessions
from bot.console.keys import ACCOUNTS
from bot.console.layout import render

LOGIN_CSRF_TTL_SECONDS = 3600


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


def setup_login(app: web.Application) -> None:
    """``GET``/``POST /login`` and ``POST /logout``."""
    app.router.add_get("/login", login_get, name="login")
    app.router.add_post("/login", login_post)
    app.router.add_post("/logout", logout_post, name="logout")
