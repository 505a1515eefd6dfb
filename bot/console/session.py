"""Console sessions: an opaque id in an HttpOnly cookie, the data in Redis, one CSRF token per session.

Session data lives in Redis with a TTL so a console restart keeps agents signed in and a
stolen-then-expired cookie is worthless. The cookie is ``SameSite=Strict`` and every
cookie-authenticated unsafe request must also carry the session's CSRF token (header
``X-CSRF-Token`` or form field ``csrf_token``). Failed sign-ins are counted in Redis per
account and per client address, so guessing is slow even across console restarts.
"""

from __future__ import annotations

import hmac
import math
import secrets
from dataclasses import dataclass

from aiohttp import web
from redis.asyncio import Redis

from bot.console.keys import ACCOUNTS, REDIS

COOKIE = "civic_console"
LOGIN_CSRF_COOKIE = "civic_console_login"
PREFIX = "handoff:session:"
FAIL_PREFIX = "handoff:login_failures:"
SESSION_TTL_SECONDS = 12 * 3600
MAX_FAILURES = 5
FAILURE_WINDOW_SECONDS = 15 * 60
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

# INCR, and start the window on the first failure (EXPIRE NX needs Redis 7; we support 6.2).
_COUNT_FAILURE = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return count
"""
_SESSION = "handoff_session"  # request-scoped cache of the loaded session
_FORM_TOKEN = "handoff_form_csrf"  # noqa: S105 (a request key: the parsed form csrf_token field)


@dataclass(frozen=True)
class Session:
    """One signed-in agent's session, as stored in Redis."""

    session_id: str
    agent: str
    csrf_token: str


def _redis(request: web.Request) -> Redis:
    return request.app[REDIS]


def secure_cookies(request: web.Request) -> bool:
    """``Secure`` when the console is reached over https (directly or via a proxy that says so)."""
    forwarded = request.headers.get("X-Forwarded-Proto", "")
    return request.secure or forwarded.lower() == "https"


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


async def load_session(request: web.Request) -> Session | None:
    """The session behind the request's cookie (cached on the request), refreshing its TTL."""
    if _SESSION in request:
        return request[_SESSION]
    session: Session | None = None
    session_id = request.cookies.get(COOKIE, "")
    if session_id and len(session_id) <= 128:
        redis = _redis(request)
        data = await redis.hgetall(PREFIX + session_id)
        if data.get("agent") and data.get("csrf"):
            await redis.expire(PREFIX + session_id, SESSION_TTL_SECONDS)
            session = Session(session_id, data["agent"], data["csrf"])
    if session is not None and request.app[ACCOUNTS].get(session.agent) is None:
        session = None  # the account was removed: its sessions end with it
    request[_SESSION] = session
    return session


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


async def start_session(request: web.Request, response: web.StreamResponse, agent: str) -> Session:
    """A fresh session id at every sign-in, so a planted cookie never becomes a signed-in one."""
    session = Session(secrets.token_urlsafe(32), agent, secrets.token_urlsafe(32))
    key = PREFIX + session.session_id
    async with _redis(request).pipeline(transaction=True) as pipe:
        pipe.hset(key, mapping={"agent": session.agent, "csrf": session.csrf_token})
        pipe.expire(key, SESSION_TTL_SECONDS)
        await pipe.execute()
    set_cookie(response, request, COOKIE, session.session_id, SESSION_TTL_SECONDS)
    request[_SESSION] = session
    return session


async def end_session(request: web.Request, response: web.StreamResponse) -> None:
    session = await load_session(request)
    if session is not None:
        await _redis(request).delete(PREFIX + session.session_id)
    response.del_cookie(COOKIE, path="/")
    request[_SESSION] = None


def client_address(request: web.Request) -> str:
    """The peer address; proxies' X-Forwarded-For is not trusted (it is trivially forged)."""
    return request.remote or "unknown"


def _failure_keys(request: web.Request, name: str) -> list[str]:
    return [
        f"{FAIL_PREFIX}account:{name.strip().lower()}",
        f"{FAIL_PREFIX}address:{client_address(request)}",
    ]


async def minutes_locked_out(request: web.Request, name: str) -> int:
    """Whole minutes until sign-in may be tried again for this account or address; 0 when allowed."""
    redis = _redis(request)
    wait_seconds = 0
    for key in _failure_keys(request, name):
        count = int(await redis.get(key) or 0)
        if count >= MAX_FAILURES:
            wait_seconds = max(wait_seconds, await redis.ttl(key))
    return math.ceil(wait_seconds / 60) if wait_seconds > 0 else 0


async def record_failure(request: web.Request, name: str) -> None:
    """Count a failed sign-in against both the account and the address (fixed 15-minute window)."""
    redis = _redis(request)
    for key in _failure_keys(request, name):
        await redis.eval(_COUNT_FAILURE, 1, key, FAILURE_WINDOW_SECONDS)


async def clear_failures(request: web.Request, name: str) -> None:
    await _redis(request).delete(_failure_keys(request, name)[0])
