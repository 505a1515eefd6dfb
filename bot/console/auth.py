"""Who is calling: an API token (`Authorization: Bearer`) or the console's session cookie.

A request that presents a token is judged by the token alone (a wrong token is 401 even with a
valid cookie). Cookie-authenticated unsafe methods must pass the session's CSRF check.
"""

from __future__ import annotations

from aiohttp import web

from bot.console.accounts import Account
from bot.console.keys import ACCOUNTS
from bot.console.session import csrf_ok, session_agent

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
