"""What editors do with broadcasts and the pinned notice: one implementation for the API and the page.

Create (checked by `bot.broadcasts.validation`, stored waiting for approval, its audience counted),
approve (the two-person rule), cancel, pin and unpin. Each raises `Refused` with the HTTP status and
a reason an editor can read; the API turns it into `{"error": reason}`, the page into a message.
Every change goes to the audit log.

The two-person rule: a broadcast needs `approvals_needed` distinct accounts (fixed when it is
created, from BROADCAST_APPROVALS); the author counts as one but cannot approve alone unless one
approval is enough. `start_delivery` (idempotent) and then the step to `sending` happen under the
broadcast's Redis lock, so two editors approving at the same instant start the delivery once, and a
Redis failure between them leaves the broadcast waiting for approval (approving again finishes it),
never marked sending with nothing queued.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime, timezone
from typing import Any

from aiohttp import web
from redis.exceptions import LockError, RedisError

from bot.broadcasts import delivery
from bot.broadcasts.keys import AGENCY_FILE, CATALOG_FILE, NOTICES, SETTINGS, STORE, SUBSCRIBERS
from bot.broadcasts.model import CANCELLED, PENDING, SENDING, SENT, Broadcast, new_id
from bot.broadcasts.notice import Notice
from bot.broadcasts.validation import (
    REPORT_NAME,
    Invalid,
    check_areas,
    check_broadcast,
    check_channels,
    check_notice,
    check_topic,
)
from bot.console import audit
from bot.console.keys import REDIS
from bot.content.agency import SOURCE_LANGUAGE
from bot.language.offered import language_names, offered
from bot.subscriptions.catalog import Catalog, CatalogError, load_catalog
from bot.subscriptions.store import channel_of

log = logging.getLogger(__name__)
STATUS_LABELS = {
    PENDING: "waiting for approval",
    SENDING: "sending",
    SENT: "sent",
    CANCELLED: "cancelled",
}


class Refused(Exception):
    """An operation that cannot be done; `status` is its HTTP status, the message its reason."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def catalog(app: web.Application) -> Catalog:
    try:
        return load_catalog(app[CATALOG_FILE])
    except CatalogError as exc:
        log.error("broadcasts: %s", exc)
        raise Refused(503, "the topics and districts file cannot be read; ask an administrator") from None


def languages(app: web.Application) -> tuple[str, ...]:
    """The agency's languages other than English, in which a broadcast may also be worded."""
    return offered(app[AGENCY_FILE])[1:]


def _now(request: web.Request) -> float:
    return float(request.app[STORE].clock())


async def audience(
    app: web.Application, topic: str, areas: tuple[str, ...], channels: tuple[str, ...]
) -> dict[str, int]:
    """Active subscribers the broadcast would reach now, by report name, only on `channels`, + total."""
    counts = await app[SUBSCRIBERS].audience_counts(topic, areas, catalog(app).area_ids)
    chosen = {REPORT_NAME[c] for c in channels}
    shown = {name: (n if name in chosen else 0) for name, n in counts.items() if name != "total"}
    return shown | {"total": sum(shown.values())}


async def audience_languages(app: web.Application, broadcast: Broadcast) -> list[dict[str, Any]]:
    """Who the broadcast would reach now, by the language they read: per language its code, name,
    count and whether the broadcast has its wording (readers of a language it lacks get English)."""
    cids = await app[SUBSCRIBERS].audience(broadcast.topic, broadcast.areas, catalog(app).area_ids)
    reached = [cid for cid in cids if channel_of(cid) in broadcast.channels]
    counts = await app[SUBSCRIBERS].language_counts(reached)
    agency = offered(app[AGENCY_FILE])
    codes = [*agency, *sorted(set(counts) - set(agency))]  # a language since dropped: still counted
    names = language_names(codes)
    worded = {SOURCE_LANGUAGE, *broadcast.translations}
    return [
        {"code": code, "name": names[code], "count": counts.get(code, 0), "worded": code in worded}
        for code in codes
    ]


def untranslated_note(rows: list[dict[str, Any]]) -> str:
    """A sentence for staff when some of the audience reads a language the broadcast is not worded in."""
    missing = [row for row in rows if row["count"] and not row["worded"]]
    if not missing:
        return ""
    parts = ", ".join(f"{row['count']} read {row['name']}" for row in missing)
    return f"{parts}: with no wording in their language, they get the English."


async def audience_of(app: web.Application, query: dict[str, Any]) -> dict[str, int]:
    """`audience` for a query (topic, areas, channels), checked like a broadcast's fields."""
    known = catalog(app)
    try:
        topic = check_topic(query.get("topic"), known)
        areas = check_areas(query.get("areas"), known)
        channels = check_channels(query.get("channels"))
    except Invalid as exc:
        raise Refused(400, str(exc)) from None
    return await audience(app, topic, areas, channels)


async def create(request: web.Request, body: dict[str, Any], author: str) -> Broadcast:
    app = request.app
    try:
        draft = check_broadcast(body, catalog(app), languages(app))
    except Invalid as exc:
        raise Refused(400, str(exc)) from None
    counts = await audience(app, draft.topic, draft.areas, draft.channels)
    broadcast = Broadcast(
        id=new_id(),
        title=draft.title,
        text=draft.text,
        short_text=draft.short_text,
        topic=draft.topic,
        areas=draft.areas,
        channels=draft.channels,
        link=draft.link,
        author=author,
        approvals=(author,),
        approvals_needed=app[SETTINGS].approvals,
        audience=counts,
        translations=draft.translations,
    )
    stored = await app[STORE].add(broadcast)
    worded = "".join(f", {code}" for code in draft.translations)
    detail = f"{draft.topic} to {', '.join(draft.areas)}; audience {counts['total']}; in en{worded}"
    await audit.record(request, "broadcast_create", stored.id, actor=author, detail=detail)
    return stored


async def get(app: web.Application, broadcast_id: str) -> Broadcast:
    found = await app[STORE].get(broadcast_id)
    if found is None:
        raise Refused(404, "no such broadcast")
    return found


def _not_pending(broadcast: Broadcast, verb: str) -> Refused:
    label = STATUS_LABELS.get(broadcast.status, broadcast.status)
    return Refused(409, f"the broadcast is {label}: only one waiting for approval can be {verb}")


async def approve(request: web.Request, broadcast_id: str, name: str) -> Broadcast:
    """Add `name`'s approval; when enough distinct accounts agree, start the delivery (once)."""
    app, store = request.app, request.app[STORE]
    try:
        async with store.lock(broadcast_id):
            broadcast = await get(app, broadcast_id)
            if broadcast.status != PENDING:
                raise _not_pending(broadcast, "approved")
            approvals = broadcast.approvals
            if name not in approvals:
                approvals = (*approvals, name)
            if len(approvals) < broadcast.approvals_needed and name == broadcast.author:
                raise Refused(
                    403,
                    "you wrote this broadcast: another editor must approve it "
                    f"({broadcast.approvals_needed} people must agree)",
                )
            if approvals == broadcast.approvals and name != broadcast.author:
                return broadcast  # approving twice counts once
            starts = len(approvals) >= broadcast.approvals_needed
            changed = replace(broadcast, approvals=approvals)
            if starts:  # queued first: a failure here leaves it waiting for approval, never stuck
                counts = await delivery.start_delivery(app[REDIS], changed)
                changed = replace(changed, status=SENDING, sent_at=_now(request), audience=counts)
            await store.put(changed)
    except LockError:
        raise Refused(503, "someone else is changing this broadcast; try again") from None
    except (RedisError, OSError):
        log.exception("broadcasts: approving %s failed", broadcast_id)
        raise Refused(503, "the broadcast could not be queued just now; approve it again soon") from None
    detail = f"{len(approvals)} of {broadcast.approvals_needed} approvals"
    await audit.record(request, "broadcast_approve", broadcast_id, actor=name, detail=detail)
    if starts:
        total = changed.audience.get("total", 0)
        await audit.record(request, "broadcast", broadcast_id, actor=name, detail=f"sending to {total}")
    return changed


async def cancel(request: web.Request, broadcast_id: str, name: str) -> Broadcast:
    """Stop the broadcast: nothing still queued is sent. A sent or cancelled one is a 409."""
    app, store = request.app, request.app[STORE]
    try:
        async with store.lock(broadcast_id):
            broadcast = await get(app, broadcast_id)
            if broadcast.status in (SENT, CANCELLED):
                label = STATUS_LABELS[broadcast.status]
                raise Refused(409, f"the broadcast is already {label}: there is nothing left to cancel")
            changed = replace(broadcast, status=CANCELLED, cancelled_by=name, finished_at=_now(request))
            await store.put(changed)
            await delivery.cancel_delivery(app[REDIS], broadcast_id)
    except LockError:
        raise Refused(503, "someone else is changing this broadcast; try again") from None
    detail = f"was {STATUS_LABELS.get(broadcast.status, broadcast.status)}"
    await audit.record(request, "broadcast_cancel", broadcast_id, actor=name, detail=detail)
    return changed


async def report(app: web.Application, broadcast: Broadcast) -> dict[str, Any]:
    """The record as the API shows it, with the delivery's counts, per channel, and whether it is done."""
    found = await delivery.delivery_report(app[REDIS], broadcast.id)
    return broadcast.public() | {
        "counts": found["counts"],
        "by_channel": found["by_channel"],
        "done": found["done"],
    }


def notice_json(notice: Notice) -> dict[str, Any]:
    expires = datetime.fromtimestamp(notice.expires_at, timezone.utc).isoformat(timespec="seconds")
    return notice.public() | {"expires": expires, "author": notice.author}


async def pin(request: web.Request, body: dict[str, Any], name: str) -> Notice:
    try:
        draft = check_notice(body, _now(request))
    except Invalid as exc:
        raise Refused(400, str(exc)) from None
    notice = await request.app[NOTICES].pin(draft.text, draft.link, draft.expires_at, name)
    until = datetime.fromtimestamp(notice.expires_at, timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    await audit.record(request, "notice_pin", "notice", actor=name, detail=f"until {until}")
    return notice


async def unpin(request: web.Request, name: str) -> bool:
    removed = await request.app[NOTICES].clear()
    detail = "removed" if removed else "there was none"
    await audit.record(request, "notice_unpin", "notice", actor=name, detail=detail)
    return removed
