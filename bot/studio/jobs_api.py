"""The studio's retrain routes: start one (editors), follow one (editors and approvers).

``POST /api/content/train`` (optional ``{"reason"}``) -> 202 ``{"job": id}``: the retrain is queued,
or joins the one already waiting. ``GET /api/content/jobs/{id}`` and ``GET /api/content/jobs/latest``
-> the job (``state``, ``progress``, ``phase``, ``gate``, ``message``, ...), 404 when there is none.
Callers present the console's API token (``Authorization: Bearer``) or a signed-in session, with its
CSRF token on the POST (``bot.console.auth``); agents get 403. Starting a retrain is audit-logged.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from bot.console import audit
from bot.console.accounts import Account
from bot.console.auth import require_account
from bot.studio.keys import JOBS

EDITOR, APPROVER = "editor", "approver"
AUDIT_ACTION = "content_train"
DEFAULT_REASON = "requested in the studio"
REASON_LIMIT = 200


def _json_error(status: type[web.HTTPException], message: str) -> web.HTTPException:
    return status(text=json.dumps({"error": message}), content_type="application/json")


async def _account(request: web.Request, roles: frozenset[str]) -> Account:
    account = await require_account(request)
    if account.role not in roles:
        raise _json_error(web.HTTPForbidden, f"the {' or '.join(sorted(roles))} role is required")
    return account


async def _reason(request: web.Request) -> str:
    """The optional ``reason`` of the JSON body (an empty body is fine); 400 for anything unreadable."""
    if not request.can_read_body:
        return DEFAULT_REASON
    try:
        body: Any = await request.json()
    except ValueError:
        raise _json_error(web.HTTPBadRequest, 'the body must be JSON, such as {"reason": "..."}') from None
    reason = body.get("reason") if isinstance(body, dict) else None
    if reason is not None and not isinstance(reason, str):
        raise _json_error(web.HTTPBadRequest, "reason must be a text")
    return " ".join((reason or DEFAULT_REASON).split())[:REASON_LIMIT] or DEFAULT_REASON


async def train_post(request: web.Request) -> web.Response:
    account = await _account(request, frozenset({EDITOR}))
    reason = await _reason(request)
    job_id = await request.app[JOBS].start(account.name, reason)
    await audit.record(request, AUDIT_ACTION, job_id, actor=account.name, detail=reason)
    return web.json_response({"job": job_id}, status=202)


async def job_get(request: web.Request) -> web.Response:
    await _account(request, frozenset({EDITOR, APPROVER}))
    job = await request.app[JOBS].get(request.match_info["job_id"])
    if job is None:
        raise _json_error(web.HTTPNotFound, "no such retrain")
    return web.json_response(job)


async def latest_get(request: web.Request) -> web.Response:
    await _account(request, frozenset({EDITOR, APPROVER}))
    job = await request.app[JOBS].latest()
    if job is None:
        raise _json_error(web.HTTPNotFound, "no retrain has been requested yet")
    return web.json_response(job)


def setup_jobs_api(app: web.Application) -> None:
    """Mount the retrain routes (`bot.studio.web.setup` calls this)."""
    app.router.add_post("/api/content/train", train_post)
    app.router.add_get("/api/content/jobs/latest", latest_get)
    app.router.add_get("/api/content/jobs/{job_id}", job_get)
