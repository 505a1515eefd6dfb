"""The content studio as JSON: the same operations as the pages, for the console's API tokens.

A caller is an API token (``Authorization: Bearer``) or a signed-in session, which must send its
CSRF token (``X-CSRF-Token``) with every PUT and POST (`bot.console.auth.require_account`).
Editors do everything; approvers read, approve and send back; agents get 403, strangers 401.
Refusals are JSON ``{"error", "problems": [{"field", "message", "error"}]}``: 400 for problems
with the change (each on its field), 403 for a change that needs another person's approval or
one's own approval, 404 for an unknown entry or version, 409 for nothing to publish or review.
Every change is audit-logged (`bot.console.audit`).

    GET  /api/content/entries?q=&topic=&kind=&department=&stale=1   {"entries": [...]}
    POST /api/content/entries                       {"id", "topic", "kind", fields...} -> 201, a draft
    GET  /api/content/entries/{id}                  the entry, its draft, state, window, problems
    PUT  /api/content/entries/{id}                  {fields..., "note"?} -> the saved draft
    POST /api/content/entries/{id}/publish          {"note"?} (editors; 403 when it needs approval)
    POST /api/content/entries/{id}/approve          (another account than the author's)
    POST /api/content/entries/{id}/send-back        {"comment"}
    POST /api/content/entries/{id}/retire           {"note"?}
    GET  /api/content/entries/{id}/history          {"entry_id", "versions": [oldest first]}
    POST /api/content/entries/{id}/revert           {"version": n, "note"?}

A publish that changes what the model must learn (questions, a new, retired or restored entry)
answers with the retrain's ``job`` id (``GET /api/content/jobs/{id}``, `bot.studio.jobs_api`).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from bot.console import audit
from bot.console.accounts import Account
from bot.console.auth import require_account
from bot.content.entrycheck import FieldProblem
from bot.studio.keys import STUDIO
from bot.studio.service import Audit, StudioError, StudioProblems

EDITOR = "editor"
APPROVER = "approver"
REVIEWERS = (EDITOR, APPROVER)
ENTRY = "/api/content/entries/{entry_id:[a-z][a-z0-9_]*}"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def json_error(status: int, message: str, problems: list[dict[str, Any]] | None = None) -> web.Response:
    return web.json_response({"error": message, "problems": problems or []}, status=status)


def auditor(request: web.Request, actor: str) -> Audit:
    """The studio's audit hook for this request: records ``actor``'s action from the caller's address."""

    async def record(action: str, target: str, detail: str) -> None:
        await audit.record(request, action, target, actor=actor, detail=detail)

    return record


async def _caller(request: web.Request, *roles: str) -> Account:
    """The calling account if its role is one of ``roles``: 401 without credentials, 403 otherwise."""
    account = await require_account(request)
    if account.role not in roles:
        raise web.HTTPForbidden(
            text=json.dumps({"error": f"the {' or '.join(roles)} role is required", "problems": []}),
            content_type="application/json",
        )
    return account


async def _body(request: web.Request) -> dict[str, Any]:
    """The JSON object sent (an empty body reads as {}); 400 for anything else."""
    if not request.can_read_body:
        return {}
    try:
        body = await request.json()
    except ValueError:
        raise StudioProblems([], "the body must be a JSON object") from None
    if not isinstance(body, dict):
        raise StudioProblems([], "the body must be a JSON object")
    return body


def _text(body: dict[str, Any], key: str) -> str:
    value = body.get(key, "")
    if not isinstance(value, str):
        raise StudioProblems([FieldProblem(key, f"{key} must be text")])
    return value


def _refusals(handler: Handler) -> Handler:
    """The studio's refusals as JSON with their status."""

    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except StudioError as exc:
            return web.json_response(exc.as_dict(), status=exc.status)

    return wrapped


@_refusals
async def list_entries(request: web.Request) -> web.StreamResponse:
    await _caller(request, *REVIEWERS)
    query = {key: request.query.get(key, "").strip()[:200] for key in ("q", "topic", "kind", "department")}
    stale = request.query.get("stale", "") in {"1", "true", "yes"}
    entries = await request.app[STUDIO].list_entries(**query, stale=stale)
    return web.json_response({"entries": entries})


@_refusals
async def create_entry(request: web.Request) -> web.StreamResponse:
    account = await _caller(request, EDITOR)
    body = await _body(request)
    view = await request.app[STUDIO].create(body, account.name, audit=auditor(request, account.name))
    return web.json_response(view, status=201)


@_refusals
async def get_entry(request: web.Request) -> web.StreamResponse:
    await _caller(request, *REVIEWERS)
    return web.json_response(await request.app[STUDIO].view(request.match_info["entry_id"]))


@_refusals
async def put_entry(request: web.Request) -> web.StreamResponse:
    account = await _caller(request, EDITOR)
    body = await _body(request)
    studio = request.app[STUDIO]
    view = await studio.save(
        request.match_info["entry_id"], body, account.name, audit=auditor(request, account.name)
    )
    return web.json_response(view)


@_refusals
async def publish(request: web.Request) -> web.StreamResponse:
    account = await _caller(request, EDITOR)
    note = _text(await _body(request), "note")
    entry_id = request.match_info["entry_id"]
    done = await request.app[STUDIO].publish(
        entry_id, account.name, note, audit=auditor(request, account.name)
    )
    return web.json_response(done)


@_refusals
async def approve(request: web.Request) -> web.StreamResponse:
    account = await _caller(request, *REVIEWERS)
    entry_id = request.match_info["entry_id"]
    done = await request.app[STUDIO].approve(entry_id, account.name, audit=auditor(request, account.name))
    return web.json_response(done)


@_refusals
async def send_back(request: web.Request) -> web.StreamResponse:
    account = await _caller(request, *REVIEWERS)
    comment = _text(await _body(request), "comment")
    entry_id = request.match_info["entry_id"]
    studio = request.app[STUDIO]
    view = await studio.send_back(entry_id, account.name, comment, audit=auditor(request, account.name))
    return web.json_response(view)


@_refusals
async def retire(request: web.Request) -> web.StreamResponse:
    account = await _caller(request, EDITOR)
    note = _text(await _body(request), "note")
    entry_id = request.match_info["entry_id"]
    done = await request.app[STUDIO].retire(
        entry_id, account.name, note, audit=auditor(request, account.name)
    )
    return web.json_response(done)


@_refusals
async def history(request: web.Request) -> web.StreamResponse:
    await _caller(request, *REVIEWERS)
    entry_id = request.match_info["entry_id"]
    versions = await request.app[STUDIO].history(entry_id)
    return web.json_response({"entry_id": entry_id, "versions": versions})


@_refusals
async def revert(request: web.Request) -> web.StreamResponse:
    account = await _caller(request, EDITOR)
    body = await _body(request)
    version = body.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise StudioProblems([FieldProblem("version", "version must be a version number from the history")])
    entry_id = request.match_info["entry_id"]
    studio = request.app[STUDIO]
    done = await studio.revert(
        entry_id, version, account.name, _text(body, "note"), audit=auditor(request, account.name)
    )
    return web.json_response(done)


def setup_api(app: web.Application) -> None:
    """Mount the studio's JSON routes (the service is made in `bot.studio.web`'s cleanup context)."""
    app.router.add_get("/api/content/entries", list_entries)
    app.router.add_post("/api/content/entries", create_entry)
    app.router.add_get(ENTRY, get_entry)
    app.router.add_put(ENTRY, put_entry)
    app.router.add_post(f"{ENTRY}/publish", publish)
    app.router.add_post(f"{ENTRY}/approve", approve)
    app.router.add_post(f"{ENTRY}/send-back", send_back)
    app.router.add_post(f"{ENTRY}/retire", retire)
    app.router.add_get(f"{ENTRY}/history", history)
    app.router.add_post(f"{ENTRY}/revert", revert)
