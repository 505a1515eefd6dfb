"""POST /admin/... : change the demo's live data without editing files or restarting.

Every call needs `Authorization: Bearer <admin token>`; with no admin token
configured the endpoints refuse everything. Changes go to the state log, so they
survive a restart; POST /admin/reset forgets them (and every created request).
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Awaitable, Callable
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from bot.clients.payload import parse_datetime
from bot.demo_agency.keys import CONFIG, STATE
from bot.demo_agency.lookups import json_error, service_statuses
from bot.demo_agency.open311 import all_requests
from bot.demo_agency.store import iso, resolve_relative

SEVERITIES = ("Extreme", "Severe", "Moderate", "Minor", "Unknown")
URGENCIES = ("Immediate", "Expected", "Future", "Past", "Unknown")
SERVICE_STATUSES = ("up", "degraded", "down")
REQUEST_STATUSES = ("open", "closed")
Handler = Callable[[web.Request], Awaitable[web.Response]]


class BadInput(ValueError):
    """The admin call's body is wrong; the message is the answer."""


def _authorised(request: web.Request) -> bool:
    token = request.app[CONFIG].admin_token
    given = request.headers.get("Authorization", "")
    return bool(token) and hmac.compare_digest(given, f"Bearer {token}")


def admin(handler: Handler) -> Handler:
    """Token check and JSON body errors, once for every admin endpoint."""

    async def wrapped(request: web.Request) -> web.Response:
        if not _authorised(request):
            return json_error(401, "unauthorized", "a valid admin bearer token is required")
        try:
            return await handler(request)
        except BadInput as exc:
            return json_error(400, "bad_request", str(exc))

    return wrapped


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise BadInput("the body must be JSON") from None
    if not isinstance(body, dict):
        raise BadInput("the body must be a JSON object")
    return body


def _when(value: Any, request: web.Request, default: str) -> str:
    """An absolute ISO time from ISO or "now+6h": admin alerts must not drift with the clock."""
    config = request.app[CONFIG]
    tz = ZoneInfo(config.timezone)
    resolved = resolve_relative(value or default, config.clock(), tz)
    try:
        return parse_datetime(str(resolved), tz).isoformat(timespec="seconds")
    except ValueError:
        raise BadInput(f"{value!r} is not a datetime or now+N(m|h|d)") from None


def _choice(body: dict[str, Any], key: str, allowed: tuple[str, ...], default: str | None = None) -> str:
    value = str(body.get(key) or default or "")
    match = [a for a in allowed if a.lower() == value.lower()]
    if not match:
        raise BadInput(f"{key} must be one of {', '.join(allowed)}")
    return match[0]


def _required(body: dict[str, Any], key: str) -> str:
    value = str(body.get(key) or "").strip()
    if not value:
        raise BadInput(f"{key} is required")
    return value


@admin
async def add_alert(request: web.Request) -> web.Response:
    """{"event", "area", "severity", optional headline, description, instruction, urgency, expires}."""
    body = await _body(request)
    alert = {
        "id": str(body.get("id") or f"HC-ADMIN-{secrets.token_hex(3).upper()}"),
        "event": _required(body, "event"),
        "area": _required(body, "area"),
        "severity": _choice(body, "severity", SEVERITIES),
        "urgency": _choice(body, "urgency", URGENCIES, "Expected"),
        "headline": str(body.get("headline") or body["event"]),
        "description": str(body.get("description") or ""),
        "instruction": str(body.get("instruction") or ""),
        "category": str(body.get("category") or "Safety"),
        "effective": _when(body.get("effective"), request, "now"),
        "expires": _when(body.get("expires"), request, "now+1d"),
    }
    alert["sent"] = alert["effective"]
    request.app[STATE].record({"op": "alert_added", "alert": alert})
    return web.json_response(alert, status=201)


@admin
async def cancel_alert(request: web.Request) -> web.Response:
    alert_id = request.match_info["id"]
    request.app[STATE].record({"op": "alert_cancelled", "id": alert_id})
    return web.json_response({"id": alert_id, "cancelled": True})


@admin
async def update_request(request: web.Request) -> web.Response:
    """{"status": "open"|"closed", "status_notes", "expected_datetime"}: any of them."""
    request_id = request.match_info["id"]
    if not any(str(r["service_request_id"]) == request_id for r in all_requests(request)):
        return json_error(404, "not_found", f"no request {request_id}")
    body = await _body(request)
    changes: dict[str, Any] = {}
    if "status" in body:
        changes["status"] = _choice(body, "status", REQUEST_STATUSES)
    if "status_notes" in body:
        changes["status_notes"] = str(body["status_notes"] or "")
    if "expected_datetime" in body:
        changes["expected_datetime"] = _when(body["expected_datetime"], request, "now")
    if not changes:
        raise BadInput("give status, status_notes or expected_datetime")
    config = request.app[CONFIG]
    changes["updated_datetime"] = iso(config.clock(), ZoneInfo(config.timezone))
    request.app[STATE].record({"op": "request_updated", "id": request_id, "changes": changes})
    return web.json_response([r for r in all_requests(request) if str(r["service_request_id"]) == request_id])


@admin
async def set_service_status(request: web.Request) -> web.Response:
    """{"status": "up"|"degraded"|"down", "note": "..."} for one online service."""
    service_id = request.match_info["id"]
    if not any(str(s["id"]) == service_id for s in service_statuses(request)["services"]):
        return json_error(404, "not_found", f"no online service {service_id}")
    body = await _body(request)
    config = request.app[CONFIG]
    changes = {
        "status": _choice(body, "status", SERVICE_STATUSES),
        "note": str(body.get("note") or ""),
        "updated": iso(config.clock(), ZoneInfo(config.timezone)),
    }
    request.app[STATE].record({"op": "status_set", "id": service_id, "changes": changes})
    return web.json_response(next(s for s in service_statuses(request)["services"] if s["id"] == service_id))


@admin
async def reset(request: web.Request) -> web.Response:
    request.app[STATE].reset()
    return web.json_response({"reset": True})


def add_routes(app: web.Application) -> None:
    app.router.add_post("/admin/alerts", add_alert)
    app.router.add_post("/admin/alerts/{id}/cancel", cancel_alert)
    app.router.add_post("/admin/requests/{id}", update_request)
    app.router.add_post("/admin/status/{id}", set_service_status)
    app.router.add_post("/admin/reset", reset)
