"""Signing in and out of the console: the sign-in page and form, its JSON twin, and the sign-out button.

The sign-in form carries its own CSRF token (a short-lived cookie, as there is no session yet);
``POST /api/login`` takes JSON only, which a cross-site page cannot send without a CORS preflight
the console never grants. Both take a throttle slot first (`bot.console.throttle`), then check the
password with bcrypt off the event loop; a locked account or address is told when to retry (the
page says it, the JSON answer is 429 with ``Retry-After``). Signing in starts a fresh session.
Every outcome is in the audit log.
"""

from __future__ import annotations

import hmac
import json
import math
import secrets
from dataclasses import dataclass

from aiohttp import web

from bot.console import audit, throttle
from bot.console import session as sessions
from bot.console.accounts import Account
from bot.console.keys import ACCOUNTS
from bot.console.layout import render
from bot.console.proxy import client_address

LOGIN_CSRF_TTL_SECONDS = 3600
MAX_NAME = 64


@dataclass(frozen=True)
class Outcome:
    """A sign-in attempt's result: the account, or why not (`wait_seconds` > 0: locked)."""

    account: Account | None = None
    wait_seconds: int = 0

    @property
    def message(self) -> str:
        if self.wait_seconds:
            minutes = math.ceil(self.wait_seconds / 60)
            return f"Too many sign-in attempts. Try again in {minutes} minute{'' if minutes == 1 else 's'}."
        return "Wrong name or password."


async def sign_in(request: web.Request, name: str, password: str) -> Outcome:
    """Throttle, check the password, audit; the caller starts the session when an account comes back."""
    attempt = await throttle.reserve(request, name)
    if not attempt.allowed:
        if await throttle.first_refusal(request, attempt):
            await audit.record(
                request, "sign_in_refused", name, actor=name, detail=f"{attempt.locked} locked"
            )
        return Outcome(wait_seconds=attempt.wait_seconds)
    account = await request.app[ACCOUNTS].verify(name, password) if name and password else None
    if account is not None:
        await throttle.succeeded(request, name)
        await audit.record(request, "sign_in", account.name, actor=account.name)
        return Outcome(account)
    known = request.app[ACCOUNTS].get(name) is not None
    await audit.record(request, "sign_in_failed", name, actor=name, detail="" if known else "unknown name")
    if attempt.locks_account:
        await audit.record(request, "lockout", name, actor=name, detail="account")
    if attempt.locks_address:
        await audit.record(request, "lockout", client_address(request), actor=name, detail="address")
    return Outcome(wait_seconds=await throttle.wait_seconds(request, name))


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
    """Check the login CSRF token, then `sign_in`."""
    form = await request.post()
    name = str(form.get("name", "")).strip()[:MAX_NAME]
    password = str(form.get("password", ""))
    sent = str(form.get("csrf_token", ""))
    expected = request.cookies.get(sessions.LOGIN_CSRF_COOKIE, "")
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        return _login_page(request, "Your sign-in form expired. Please try again.", name, 403)
    outcome = await sign_in(request, name, password)
    if outcome.account is None:
        response = _login_page(request, outcome.message, name, 429 if outcome.wait_seconds else 401)
        if outcome.wait_seconds:
            response.headers["Retry-After"] = str(outcome.wait_seconds)
        return response
    redirect = web.HTTPFound("/")
    await sessions.start_session(request, redirect, outcome.account)
    redirect.del_cookie(sessions.LOGIN_CSRF_COOKIE, path="/")
    raise redirect


async def api_login(request: web.Request) -> web.StreamResponse:
    """``POST /api/login`` ``{"name", "password"}``: 200 with the session cookie and its CSRF token,
    401 for a wrong name or password, 429 with ``Retry-After`` while locked."""
    if request.content_type != "application/json":
        return web.json_response({"error": "send JSON (Content-Type: application/json)"}, status=415)
    try:
        body = await request.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or not isinstance(body.get("name"), str):
        return web.json_response({"error": 'the body must be {"name": ..., "password": ...}'}, status=400)
    password = body.get("password")
    if not isinstance(password, str):
        return web.json_response({"error": 'the body must be {"name": ..., "password": ...}'}, status=400)
    outcome = await sign_in(request, body["name"].strip()[:MAX_NAME], password)
    if outcome.account is None:
        if outcome.wait_seconds:
            answer = {"error": outcome.message, "retry_after": outcome.wait_seconds}
            headers = {"Retry-After": str(outcome.wait_seconds)}
            return web.json_response(answer, status=429, headers=headers)
        return web.json_response({"error": outcome.message}, status=401)
    response = web.Response(content_type="application/json")
    session = await sessions.start_session(request, response, outcome.account)
    response.text = json.dumps(
        {"agent": session.agent, "role": outcome.account.role, "csrf_token": session.csrf_token}
    )
    return response


async def logout_post(request: web.Request) -> web.StreamResponse:
    agent = await sessions.session_agent(request)
    if agent is None:
        raise web.HTTPFound("/login")
    form = await request.post()
    sessions.remember_form_token(request, str(form.get("csrf_token", "")))
    if not sessions.csrf_ok(request):
        raise web.HTTPForbidden(text="Missing or wrong CSRF token.")
    response = web.HTTPFound("/login")
    await sessions.end_session(request, response)
    await audit.record(request, "sign_out", agent, actor=agent)
    raise response


def setup_login(app: web.Application) -> None:
    """``GET``/``POST /login``, ``POST /api/login`` and ``POST /logout``."""
    app.router.add_get("/login", login_get, name="login")
    app.router.add_post("/login", login_post)
    app.router.add_post("/api/login", api_login)
    app.router.add_post("/logout", logout_post, name="logout")
