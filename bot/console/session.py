"""Console sessions: an opaque id in an HttpOnly cookie, the data in Redis, one CSRF token per session.

Session data lives in Redis, so a console restart keeps agents signed in and a stolen-then-expired
cookie is worthless. A session ends after CONSOLE_SESSION_IDLE_MINUTES without a request (the key's
TTL, renewed by each request) and CONSOLE_SESSION_MAX_HOURS after sign-in whatever the activity;
every sign-in gets a new id (the cookie a browser brought, if any, is deleted). A session keeps its
account's `stamp`, so changing the password or removing the account ends all its sessions at their
next request. The cookie is ``SameSite=Strict`` (``Secure`` over https) and every
cookie-authenticated unsafe request must also carry the session's CSRF token (header
``X-CSRF-Token`` or form field ``csrf_token``).
"""

from __future__ import annotations

import hmac
import math
import secrets
import time
from dataclasses import dataclass

from aiohttp import web
from redis.asyncio import Redis

from bot.console.accounts import Account
from bot.console.keys import ACCOUNTS, CONFIG, REDIS
from bot.console.proxy import is_https

COOKIE = "civic_console"
LOGIN_CSRF_COOKIE = "civic_console_login"
PREFIX = "handoff:session:"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

_SESSION = "handoff_session"  # request-scoped cache of the loaded session
_FORM_TOKEN = "handoff_form_csrf"  # noqa: S105 (a request key: the parsed form csrf_token field)


@dataclass(frozen=True)
class Session:
    """One signed-in agent's session, as stored in Redis."""

    session_id: str
    agent: str
    csrf_token: str
    stamp: str = ""
    started: float = 0.0


def _redis(request: web.Request) -> Redis:
    return request.app[REDIS]


def secure_cookies(request: web.Request) -> bool:
    """``Secure`` when the console is reached over https (directly or through a trusted proxy)."""
    return is_https(request)


def set_cookie(
    response: web.StreamResponse, request: web.Request, name: str, value: str, max_age: int
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="Strict",
        secure=secure_cookies(request),
    )


def _remaining_ms(request: web.Request, started: float, now: float) -> int:
    """How long the session may live from now: the idle period, but never past its absolute end."""
    config = request.app[CONFIG]
    left = min(config.session_idle_seconds, config.session_max_seconds - (now - started))
    return int(left * 1000)


async def _valid(request: web.Request, session_id: str, *, renew: bool) -> Session | None:
    """The live session `session_id`, or None (an expired or revoked one is deleted)."""
    if not session_id or len(session_id) > 128:
        return None
    redis, key, now = _redis(request), PREFIX + session_id, time.time()
    data = await redis.hgetall(key)
    if not (data.get("agent") and data.get("csrf")):
        return None
    session = Session(
        session_id, data["agent"], data["csrf"], data.get("stamp", ""), float(data.get("started", 0))
    )
    account = request.app[ACCOUNTS].get(session.agent)
    left_ms = _remaining_ms(request, session.started, now)
    if account is None or not hmac.compare_digest(account.stamp, session.stamp) or left_ms <= 0:
        await redis.delete(key)  # removed account, changed password, or past the absolute limit
        return None
    if renew:
        await redis.pexpire(key, left_ms)
    return session


async def load_session(request: web.Request) -> Session | None:
    """The session behind the request's cookie (cached on the request), renewing its idle period."""
    if _SESSION in request:
        return request[_SESSION]
    session = await _valid(request, request.cookies.get(COOKIE, ""), renew=True)
    request[_SESSION] = session
    return session


async def still_valid(request: web.Request, session: Session) -> bool:
    """Whether `session` is still live, without renewing it (a long-lived websocket checks this)."""
    return await _valid(request, session.session_id, renew=False) is not None


def cached_session(request: web.Request) -> Session | None:
    """The session `load_session` found for this request, without touching Redis again."""
    return request.get(_SESSION)


async def session_agent(request: web.Request) -> str | None:
    """The signed-in agent's name from the session cookie, else None."""
    session = await load_session(request)
    return session.agent if session else None


def remember_form_token(request: web.Request, token: str) -> None:
    """Let `csrf_ok` see a form's ``csrf_token`` field once a handler has parsed the form."""
    request[_FORM_TOKEN] = token


def csrf_ok(request: web.Request) -> bool:
    """True when a cookie-authenticated unsafe request carries its session's CSRF token.

    Checks the ``X-CSRF-Token`` header, else a ``csrf_token`` form field that the handler
    parsed and passed to `remember_form_token`. Needs `load_session` (or `session_agent`)
    to have run on this request first; without a session there is nothing to match.
    """
    if request.method not in UNSAFE_METHODS:
        return True
    session: Session | None = request.get(_SESSION)
    if session is None:
        return False
    sent = request.headers.get(CSRF_HEADER) or request.get(_FORM_TOKEN) or ""
    return hmac.compare_digest(sent.encode(), session.csrf_token.encode())


async def start_session(request: web.Request, response: web.StreamResponse, account: Account) -> Session:
    """A fresh session id at every sign-in, so a planted or older cookie never becomes a signed-in one."""
    redis, now = _redis(request), time.time()
    brought = request.cookies.get(COOKIE, "")
    if brought and len(brought) <= 128:
        await redis.delete(PREFIX + brought)
    session = Session(secrets.token_urlsafe(32), account.name, secrets.token_urlsafe(32), account.stamp, now)
    key = PREFIX + session.session_id
    mapping: dict[str | bytes, str] = {
        "agent": session.agent,
        "csrf": session.csrf_token,
        "stamp": session.stamp,
        "started": str(now),
    }
    async with redis.pipeline(transaction=True) as pipe:
        pipe.hset(key, mapping=mapping)
        pipe.pexpire(key, _remaining_ms(request, now, now))
        await pipe.execute()
    max_age = math.ceil(request.app[CONFIG].session_max_seconds)
    set_cookie(response, request, COOKIE, session.session_id, max_age)
    request[_SESSION] = session
    return session


async def end_session(request: web.Request, response: web.StreamResponse) -> None:
    session = await load_session(request)
    if session is not None:
        await _redis(request).delete(PREFIX + session.session_id)
    response.del_cookie(COOKIE, path="/")
    request[_SESSION] = None
