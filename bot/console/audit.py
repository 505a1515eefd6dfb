"""The audit log in the console: `record` for every handler that acts, the ``/audit`` page for
editors and its CSV and JSON exports.

The log itself is `bot.audit` (a Redis stream shared with the CLI). The page lists the newest
entries matching its filters (who, what, target, from and to dates in UTC); the exports hold every
matching entry and are editors' only (agents get 403). Exporting is itself recorded. CSV cells that
a spreadsheet would run as a formula are prefixed with ``'``.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime, timedelta, timezone
from urllib.parse import urlencode

from aiohttp import web

from bot.audit import ACTIONS, AuditEntry, AuditFilter
from bot.console import session as sessions
from bot.console.auth import require_account
from bot.console.keys import ACCOUNTS, AUDIT
from bot.console.layout import add_nav, render, require_role
from bot.console.proxy import client_address

EDITOR = "editor"
SHOWN = 200
COLUMNS = ("at", "actor", "action", "target", "address", "detail")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def actor_of(request: web.Request) -> str:
    """Who is acting: the session's agent, else the API token's account (after auth ran)."""
    session = sessions.cached_session(request)
    if session is not None:
        return session.agent
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    account = request.app[ACCOUNTS].by_token(token.strip()) if scheme.lower() == "bearer" else None
    return account.name if account else "unknown"


async def record(
    request: web.Request, action: str, target: str = "", *, actor: str | None = None, detail: str = ""
) -> None:
    """Append `action` on `target` by `actor` (default: the caller) from the client's address."""
    who = actor if actor is not None else actor_of(request)
    await request.app[AUDIT].record(who, action, target, address=client_address(request), detail=detail)


class BadFilter(ValueError):
    """A filter an editor typed that cannot be used; the message says which."""


def _day(raw: str, field: str) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise BadFilter(f"{field} must be a date like 2026-03-01") from None


def _epoch(day: date) -> float:
    return datetime(day.year, day.month, day.day, tzinfo=timezone.utc).timestamp()


def parse_filter(query: dict[str, str]) -> AuditFilter:
    """The filter from the page's or an export's query string (dates are whole UTC days, inclusive)."""
    action = query.get("action", "").strip()
    if action and action not in ACTIONS:
        raise BadFilter(f"there is no action {action!r}")
    since = _day(query.get("from", "").strip(), "From")
    until = _day(query.get("to", "").strip(), "To")
    return AuditFilter(
        actor=query.get("actor", "").strip(),
        action=action,
        target=query.get("target", "").strip(),
        since=_epoch(since) if since else None,
        until=_epoch(until + timedelta(days=1)) if until else None,
    )


def _query(request: web.Request) -> dict[str, str]:
    return {key: request.query.get(key, "")[:200] for key in ("actor", "action", "target", "from", "to")}


async def audit_page(request: web.Request) -> web.StreamResponse:
    await require_role(request, EDITOR)
    query = _query(request)
    try:
        where = parse_filter(query)
    except BadFilter as exc:
        context = {"entries": [], "query": query, "actions": ACTIONS, "error": str(exc), "shown": SHOWN}
        return render(request, "audit.html", context, status=400)
    entries = await request.app[AUDIT].entries(where, limit=SHOWN)
    export = urlencode({key: value for key, value in query.items() if value})
    context = {"entries": entries, "query": query, "actions": ACTIONS, "export": export, "shown": SHOWN}
    return render(request, "audit.html", context)


def _csv_cell(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_START) else value


def as_csv(entries: list[AuditEntry]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for entry in entries:
        row = entry.as_dict()
        writer.writerow([_csv_cell(row[column]) for column in COLUMNS])
    return out.getvalue()


async def export(request: web.Request) -> web.StreamResponse:
    """``/audit/export.csv`` or ``.json``: every matching entry, newest first; editors only."""
    account = await require_account(request)
    if account.role != EDITOR:
        raise web.HTTPForbidden(
            text='{"error": "the editor role is required"}', content_type="application/json"
        )
    kind = request.match_info["kind"]
    try:
        where = parse_filter(_query(request))
    except BadFilter as exc:
        return web.json_response({"error": str(exc)}, status=400)
    entries = await request.app[AUDIT].entries(where, limit=None)
    await record(request, "audit_export", actor=account.name, detail=f"{kind}, {len(entries)} entries")
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    headers = {
        "Content-Disposition": f'attachment; filename="audit-{stamp}.{kind}"',
        "Cache-Control": "no-store",
    }
    if kind == "csv":
        return web.Response(text=as_csv(entries), content_type="text/csv", charset="utf-8", headers=headers)
    body = json.dumps({"entries": [entry.as_dict() for entry in entries]}, ensure_ascii=False)
    return web.Response(text=body, content_type="application/json", charset="utf-8", headers=headers)


def setup_audit(app: web.Application) -> None:
    """The page, its exports and the editors' nav link (the templates are the shell's own)."""
    add_nav(app, "/audit", "Audit log", role=EDITOR)
    app.router.add_get("/audit", audit_page, name="audit")
    app.router.add_get("/audit/export.{kind:csv|json}", export, name="audit_export")
