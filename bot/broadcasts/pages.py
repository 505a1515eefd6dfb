"""The console's /broadcasts pages: compose, the list, one broadcast (approve, cancel, its report) and
the pinned notice.

Server-rendered into the console's layout (`bot.console.layout`), so they work without JavaScript;
``static/broadcasts.js`` adds the live SMS segment counter, the audience while composing and the
progress bar's 2-second refresh while sending (from the JSON API). Every form posts with the
session's CSRF token and goes through the same operations as the API (`bot.broadcasts.staff`).
Agents see the list and the reports read-only; editors compose, approve, cancel, pin and unpin.
Staff-written text is rendered through autoescape only.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from bot.broadcasts import staff
from bot.broadcasts.keys import NOTICES, SETTINGS, STORE
from bot.broadcasts.model import PENDING, SENDING, Broadcast
from bot.broadcasts.validation import (
    CHANNELS,
    MAX_SMS_SEGMENTS,
    MAX_TEXT,
    MAX_TITLE,
    NOTICE_MAX_TEXT,
    REPORT_NAME,
)
from bot.console import layout, session
from bot.console.keys import ACCOUNTS
from bot.language.offered import language_names
from bot.subscriptions.catalog import ALL

EDITOR = "editor"
SHOWN = 50
CHANNEL_LABELS = {
    "twilio": "SMS",
    "telegram": "Telegram",
    "whatsapp": "WhatsApp",
    "messenger": "Messenger",
    "instagram": "Instagram",
}
OUTCOMES = ("queued", "sent", "delivered", "failed", "skipped")
NOTICE_DURATIONS: tuple[tuple[int, str], ...] = (
    (60, "1 hour"),
    (180, "3 hours"),
    (360, "6 hours"),
    (720, "12 hours"),
    (1440, "1 day"),
    (2880, "2 days"),
    (4320, "3 days"),
    (10080, "7 days"),
)
DONE = {
    "created": "Broadcast saved. It waits for approval: the audience below is who it would reach now.",
    "approved": "Your approval is recorded. It is sent once enough editors approve it.",
    "sending": "Approved: the broadcast is being sent.",
    "cancelled": "Broadcast cancelled: nothing more of it will be sent.",
    "pinned": "Notice pinned: the assistant leads its answers with it from the next message on.",
    "unpinned": "Notice removed.",
}


async def _form(request: web.Request) -> dict[str, Any]:
    """The posted form after the session's CSRF check; `areas` and `channels` as lists."""
    form = await request.post()
    session.remember_form_token(request, str(form.get(session.CSRF_FIELD, "")))
    if not session.csrf_ok(request):
        raise web.HTTPForbidden(text="the form has expired or lacks its security token: reload the page")
    fields: dict[str, Any] = {k: str(v) for k, v in form.items() if isinstance(v, str)}
    for name in ("areas", "channels"):
        fields[name] = [str(v) for v in form.getall(name, []) if isinstance(v, str)]
    return fields


def _is_editor(request: web.Request, name: str) -> bool:
    account = request.app[ACCOUNTS].get(name)
    return account is not None and account.role == EDITOR


def _names(request: web.Request) -> dict[str, Any]:
    """How the page names topics and areas (from the catalog staff edit)."""
    known = staff.catalog(request.app)
    return {
        "topics": [(t.id, t.name) for t in known.topics],
        "areas": [(ALL, "The whole city"), *((a.id, a.name) for a in known.areas)],
        "topic_names": {t.id: t.name for t in known.topics},
        "area_names": {ALL: "The whole city", **{a.id: a.name for a in known.areas}},
    }


async def _list_page(
    request: web.Request, error: str = "", values: dict[str, Any] | None = None, status: int = 200
) -> web.Response:
    name = await layout.require_agent(request)
    notice = await request.app[NOTICES].current()
    context = {
        "broadcasts": await request.app[STORE].newest(SHOWN),
        "editor": _is_editor(request, name),
        "notice": notice,
        "notice_json": staff.notice_json(notice) if notice else None,
        "done": DONE.get(request.query.get("done", ""), ""),
        "error": error,
        "values": values or {"channels": list(CHANNELS), "areas": []},
        "channels": [(c, CHANNEL_LABELS[c]) for c in CHANNELS],
        "statuses": staff.STATUS_LABELS,
        "durations": NOTICE_DURATIONS,
        "approvals": request.app[SETTINGS].approvals,
        "languages": list(language_names(staff.languages(request.app)).items()),
        "limits": {
            "title": MAX_TITLE,
            "text": MAX_TEXT,
            "segments": MAX_SMS_SEGMENTS,
            "notice": NOTICE_MAX_TEXT,
        },
        **_names(request),
    }
    return layout.render(request, "broadcasts/list.html", context, status)


async def list_get(request: web.Request) -> web.StreamResponse:
    return await _list_page(request)


async def compose_post(request: web.Request) -> web.StreamResponse:
    name = await layout.require_role(request, EDITOR)
    fields = await _form(request)
    try:
        broadcast = await staff.create(request, fields, name)
    except staff.Refused as exc:
        return await _list_page(request, exc.reason, fields, status=exc.status)
    raise web.HTTPSeeOther(f"/broadcasts/{broadcast.id}?{urlencode({'done': 'created'})}")


def _progress(broadcast: Broadcast, report: dict[str, Any]) -> dict[str, int]:
    counts = report["counts"]
    total = sum(counts[k] for k in ("queued", "sent", "failed", "skipped"))
    settled = counts["sent"] + counts["failed"] + counts["skipped"]
    return {"total": total, "settled": settled, "percent": round(100 * settled / total) if total else 100}


async def _audience_now(request: web.Request, broadcast: Broadcast) -> dict[str, int]:
    """Who a pending broadcast would reach if it were approved now (subscribers come and go)."""
    return await staff.audience(request.app, broadcast.topic, broadcast.areas, broadcast.channels)


async def _detail_page(
    request: web.Request, broadcast: Broadcast, error: str = "", status: int = 200
) -> web.Response:
    name = await layout.require_agent(request)
    report = await staff.report(request.app, broadcast)
    editor = _is_editor(request, name)
    pending = broadcast.status == PENDING
    alone = broadcast.approvals_needed <= 1
    readers = await staff.audience_languages(request.app, broadcast) if pending else []
    context = {
        "b": broadcast,
        "report": report,
        "progress": _progress(broadcast, report),
        "editor": editor,
        "can_approve": editor
        and pending
        and (alone or name != broadcast.author)
        and (name == broadcast.author or name not in broadcast.approvals),
        "can_cancel": editor and broadcast.status in (PENDING, SENDING),
        "statuses": staff.STATUS_LABELS,
        "channel_labels": CHANNEL_LABELS,
        "channel_names": [CHANNEL_LABELS[REPORT_NAME[c]] for c in broadcast.channels if c in REPORT_NAME],
        "outcomes": OUTCOMES,
        "done": DONE.get(request.query.get("done", ""), ""),
        "error": error,
        "live_audience": await _audience_now(request, broadcast) if pending else broadcast.audience,
        "reader_languages": readers,
        "untranslated": staff.untranslated_note(readers),
        "language_names": language_names(tuple(broadcast.translations)),
        **_names(request),
    }
    return layout.render(request, "broadcasts/detail.html", context, status)


async def _broadcast_or_404(request: web.Request) -> Broadcast:
    try:
        return await staff.get(request.app, request.match_info["broadcast_id"])
    except staff.Refused:
        raise web.HTTPNotFound(text="No such broadcast.") from None


async def detail_get(request: web.Request) -> web.StreamResponse:
    await layout.require_agent(request)
    return await _detail_page(request, await _broadcast_or_404(request))


async def approve_post(request: web.Request) -> web.StreamResponse:
    name = await layout.require_role(request, EDITOR)
    await _form(request)
    broadcast_id = request.match_info["broadcast_id"]
    try:
        broadcast = await staff.approve(request, broadcast_id, name)
    except staff.Refused as exc:
        return await _detail_page(request, await _broadcast_or_404(request), exc.reason, exc.status)
    done = "sending" if broadcast.status == SENDING else "approved"
    raise web.HTTPSeeOther(f"/broadcasts/{broadcast_id}?{urlencode({'done': done})}")


async def cancel_post(request: web.Request) -> web.StreamResponse:
    name = await layout.require_role(request, EDITOR)
    await _form(request)
    broadcast_id = request.match_info["broadcast_id"]
    try:
        await staff.cancel(request, broadcast_id, name)
    except staff.Refused as exc:
        return await _detail_page(request, await _broadcast_or_404(request), exc.reason, exc.status)
    raise web.HTTPSeeOther(f"/broadcasts/{broadcast_id}?{urlencode({'done': 'cancelled'})}")


async def pin_post(request: web.Request) -> web.StreamResponse:
    name = await layout.require_role(request, EDITOR)
    fields = await _form(request)
    try:
        await staff.pin(request, fields, name)
    except staff.Refused as exc:
        values = {"notice": fields, "channels": list(CHANNELS)}
        return await _list_page(request, exc.reason, values, status=exc.status)
    raise web.HTTPSeeOther("/broadcasts?done=pinned#notice")


async def unpin_post(request: web.Request) -> web.StreamResponse:
    name = await layout.require_role(request, EDITOR)
    await _form(request)
    await staff.unpin(request, name)
    raise web.HTTPSeeOther("/broadcasts?done=unpinned#notice")


def setup_pages(app: web.Application) -> None:
    app.router.add_get("/broadcasts", list_get, name="broadcasts")
    app.router.add_post("/broadcasts", compose_post)
    app.router.add_post("/broadcasts/notice", pin_post)
    app.router.add_post("/broadcasts/notice/unpin", unpin_post)
    app.router.add_get("/broadcasts/{broadcast_id}", detail_get)
    app.router.add_post("/broadcasts/{broadcast_id}/approve", approve_post)
    app.router.add_post("/broadcasts/{broadcast_id}/cancel", cancel_post)
