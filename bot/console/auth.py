"""Who is calling: an API token (`Authorization: Bearer`) or the console's session cookie.

A request that presents a token is judged by the token alone (a wrong token is 401 even with a
valid cookie). Cookie-authenticated unsafe methods must pass the session's CSRF check; a websocket
must come from the console's own origin (a browser sends ``Origin`` on every websocket handshake,
so another site's page cannot ride an agent's cookie), and is re-checked while it stays open.
"""

from __future__ import annotations

from aiohttp import web

from bot.console.accounts import Account
from bot.console.keys import ACCOUNTS
from bot.console.proxy import same_origin
from bot.console.session import COOKIE, cached_session, csrf_ok, session_agent, still_valid

UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def unauthorized(reason: str) -> web.HTTPUnauthorized:
    return web.HTTPUnauthorized(
        text=f'{{"error": "{reason}"}}',
        content_type="application/json",
        headers={"WWW-Authenticate": "Bearer"},
    )


async def request_account(request: web.Request) -> Account | None:
    """The calling account, or None; raises 403 for a cookie-authenticated unsafe call without CSRF token."""
    accounts = request.app[ACCOUNTS]
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, token = header.partition(" ")
        return accounts.by_token(token.strip()) if scheme.lower() == "bearer" else None
    name = await session_agent(request)
    if name is None:
        return None
    if request.method in UNSAFE and not csrf_ok(request):
        raise web.HTTPForbidden(
            text='{"error": "missing or wrong X-CSRF-Token header"}', content_type="application/json"
        )
    return accounts.get(name)


async def require_account(request: web.Request) -> Account:
    account = await request_account(request)
    if account is None:
        if request.headers.get("Authorization"):
            raise unauthorized("invalid API token")
        raise unauthorized("authentication required: Authorization: Bearer <token>")
    return account


def check_websocket_origin(request: web.Request) -> None:
    """403 for a websocket handshake from another origin, or carrying the cookie without any origin.

    Call before authenticating: a handshake with neither token nor cookie still gets its 401 then.
    """
    has_origin = "Origin" in request.headers
    by_cookie = not request.headers.get("Authorization") and COOKIE in request.cookies
    if (has_origin and not same_origin(request)) or (not has_origin and by_cookie):
        raise web.HTTPForbidden(
            text='{"error": "the live events only answer pages of the console itself (Origin)"}',
            content_type="application/json",
        )


async def still_authorized(request: web.Request, account: Account) -> bool:
    """Whether the caller of a long-lived request (the websocket) may still act as `account`:
    its token still names it, or its session is still live (not expired, signed out or revoked)."""
    accounts = request.app[ACCOUNTS]
    if request.headers.get("Authorization"):
        _, _, token = request.headers["Authorization"].partition(" ")
        current = accounts.by_token(token.strip())
        return current is not None and current.name == account.name
    session = cached_session(request)
    return session is not None and await still_valid(request, session)
