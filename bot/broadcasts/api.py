"""The broadcasts' JSON API under /api/broadcasts and /api/notice (documented in docs/broadcasts.md).

Same callers as the handoff API: an API token (`Authorization: Bearer`) or the console's session
cookie with its CSRF header (`bot.console.auth`). Any signed-in account reads; editors create,
approve, cancel, pin and unpin (agents get 403). Errors are JSON `{"error": reason}`: 400 for a
field to fix, 403 for a role or the two-person rule, 404 for an unknown broadcast or no notice,
409 when the broadcast's status forbids the operation.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from bot.broadcasts import staff
from bot.broadcasts.keys import NOTICES, STORE
from bot.console.accounts import Account
from bot.console.auth import require_account

EDITOR = "editor"
MAX_LIST = 200


def error(status: int, reason: str) -> web.Response:
    return web.json_response({"error": reason}, status=status)


async def _editor(request: web.Request) -> Account:
    account = await require_account(request)
    if account.role != EDITOR:
        raise web.HTTPForbidden(
            text=json.dumps({"error": "the editor role is required"}), content_type="application/json"
        )
    return account


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except (ValueError, UnicodeDecodeError):
        body = None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(
            text=json.dumps({"error": "the body must be a JSON object"}), content_type="application/json"
        )
    return body


def _whole(raw: str, name: str, default: int, maximum: int) -> int:
    try:
        value = int(raw) if raw else default
    except ValueError:
        value = -1
    if not 0 <= value <= maximum:
        raise web.HTTPBadRequest(
            text=json.dumps({"error": f"{name} must be a whole number from 0 to {maximum}"}),
            content_type="application/json",
        )
    return value


async def create(request: web.Request) -> web.Response:
    account = await _editor(request)
    try:
        broadcast = await staff.create(request, await _body(request), account.name)
    except staff.Refused as exc:
        return error(exc.status, exc.reason)
    readers = await staff.audience_languages(request.app, broadcast)
    body = {
        "id": broadcast.id,
        "status": broadcast.status,
        "audience": broadcast.audience,
        "languages": readers,
        "untranslated": staff.untranslated_note(readers),
    }
    return web.json_response(body, status=201)


async def approve(request: web.Request) -> web.Response:
    account = await _editor(request)
    try:
        broadcast = await staff.approve(request, request.match_info["broadcast_id"], account.name)
    except staff.Refused as exc:
        return error(exc.status, exc.reason)
    body = {
        "status": broadcast.status,
        "approvals": list(broadcast.approvals),
        "approvals_needed": broadcast.approvals_needed,
    }
    return web.json_response(body)


async def cancel(request: web.Request) -> web.Response:
    account = await _editor(request)
    try:
        broadcast = await staff.cancel(request, request.match_info["broadcast_id"], account.name)
    except staff.Refused as exc:
        return error(exc.status, exc.reason)
    return web.json_response({"status": broadcast.status})


async def one(request: web.Request) -> web.Response:
    await require_account(request)
    try:
        broadcast = await staff.get(request.app, request.match_info["broadcast_id"])
    except staff.Refused as exc:
        return error(exc.status, exc.reason)
    return web.json_response(await staff.report(request.app, broadcast))


async def newest(request: web.Request) -> web.Response:
    await require_account(request)
    limit = _whole(request.query.get("limit", ""), "limit", 50, MAX_LIST)
    offset = _whole(request.query.get("offset", ""), "offset", 0, 1_000_000)
    found = await request.app[STORE].newest(limit, offset)
    return web.json_response({"broadcasts": [b.public() for b in found], "limit": limit, "offset": offset})


async def audience(request: web.Request) -> web.Response:
    """``GET /api/broadcasts/audience?topic=water&areas=downtown,eastside&channels=twilio``."""
    await require_account(request)
    query = {name: request.query.get(name, "") for name in ("topic", "areas", "channels")}
    try:
        counts = await staff.audience_of(request.app, query)
    except staff.Refused as exc:
        return error(exc.status, exc.reason)
    return web.json_response({"audience": counts})


async def pin_notice(request: web.Request) -> web.Response:
    account = await _editor(request)
    try:
        notice = await staff.pin(request, await _body(request), account.name)
    except staff.Refused as exc:
        return error(exc.status, exc.reason)
    return web.json_response(staff.notice_json(notice), status=201)


async def get_notice(request: web.Request) -> web.Response:
    await require_account(request)
    notice = await request.app[NOTICES].current()
    if notice is None:
        return error(404, "no notice is pinned")
    return web.json_response(staff.notice_json(notice))


async def unpin_notice(request: web.Request) -> web.Response:
    account = await _editor(request)
    await staff.unpin(request, account.name)
    return web.Response(status=204)


def setup_api(app: web.Application) -> None:
    one_broadcast = "/api/broadcasts/{broadcast_id}"
    app.router.add_post("/api/broadcasts", create)
    app.router.add_get("/api/broadcasts", newest)
    app.router.add_get("/api/broadcasts/audience", audience)  # before the id route, which would match it
    app.router.add_get(one_broadcast, one)
    app.router.add_post(one_broadcast + "/approve", approve)
    app.router.add_post(one_broadcast + "/cancel", cancel)
    app.router.add_post("/api/notice", pin_notice)
    app.router.add_get("/api/notice", get_notice)
    app.router.add_delete("/api/notice", unpin_notice)
