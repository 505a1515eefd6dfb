"""Open311 GeoReport v2 endpoints (JSON only), errors in the spec's list format.

services.json: services from the data file; keys starting with "x_" are the demo's
own settings (agency, notice, expected days) and are not served.
"""

from __future__ import annotations

import hmac
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from bot.clients.payload import parse_datetime
from bot.demo_agency.keys import CONFIG, DATA, STATE
from bot.demo_agency.store import iso, next_request_id, resolve_relative

MAX_DESCRIPTION = 4000
DEFAULT_WINDOW = timedelta(days=90)  # the spec's default for GET requests without dates
MAX_RESULTS = 1000


def error(status: int, description: str) -> web.Response:
    return web.json_response([{"code": status, "description": description}], status=status)


def _jurisdiction_error(request: web.Request, form: Any = None) -> web.Response | None:
    """The error for another jurisdiction, else None (compare with `is None`: a Response is falsy)."""
    wanted = request.app[CONFIG].jurisdiction_id
    given = (form or request.query).get("jurisdiction_id")
    if wanted and given and given != wanted:
        return error(404, "jurisdiction_id not found")
    return None


def _now(request: web.Request) -> tuple[datetime, ZoneInfo]:
    config = request.app[CONFIG]
    return config.clock(), ZoneInfo(config.timezone)


def public_services(request: web.Request) -> list[dict[str, Any]]:
    services = request.app[DATA].get("services")
    return [{k: v for k, v in s.items() if not k.startswith("x_")} for s in services]


def all_requests(request: web.Request) -> list[dict[str, Any]]:
    """Data-file requests and created ones, with admin changes applied, newest first."""
    now, tz = _now(request)
    state = request.app[STATE]
    records = resolve_relative(request.app[DATA].get("requests"), now, tz) + list(state.created.values())
    merged = [{**r, **state.request_changes.get(str(r["service_request_id"]), {})} for r in records]
    return sorted(merged, key=lambda r: parse_datetime(str(r["requested_datetime"])), reverse=True)


async def services(request: web.Request) -> web.Response:
    problem = _jurisdiction_error(request)
    return problem if problem is not None else web.json_response(public_services(request))


async def get_request(request: web.Request) -> web.Response:
    """GET requests/{id}.json: a one-element list, as the spec has it."""
    problem = _jurisdiction_error(request)
    if problem is not None:
        return problem
    wanted = request.match_info["id"]
    found = [r for r in all_requests(request) if str(r["service_request_id"]) == wanted]
    return web.json_response(found[:1]) if found else error(404, f"service_request_id {wanted} not found")


def _split(value: str | None) -> set[str]:
    return {v.strip() for v in (value or "").split(",") if v.strip()}


def _window(request: web.Request) -> tuple[datetime, datetime]:
    now, _ = _now(request)
    start_raw, end_raw = request.query.get("start_date"), request.query.get("end_date")
    end = parse_datetime(end_raw) if end_raw else now
    start = parse_datetime(start_raw) if start_raw else end - DEFAULT_WINDOW
    return start, end


async def list_requests(request: web.Request) -> web.Response:
    """GET requests.json with the spec's filters: service_request_id, service_code, status, dates."""
    problem = _jurisdiction_error(request)
    if problem is not None:
        return problem
    ids, codes, statuses = (
        _split(request.query.get(k)) for k in ("service_request_id", "service_code", "status")
    )
    try:
        start, end = _window(request)
    except ValueError:
        return error(400, "start_date and end_date must be W3C datetimes")
    found = []
    for record in all_requests(request):
        if ids:
            if str(record["service_request_id"]) in ids:
                found.append(record)
            continue
        when = parse_datetime(str(record["requested_datetime"]))
        if (not codes or record.get("service_code") in codes) and (
            not statuses or record.get("status") in statuses
        ):
            if start <= when <= end:
                found.append(record)
    return web.json_response(found[:MAX_RESULTS])


def _location(form: Any) -> tuple[float | None, float | None, str] | str:
    """(lat, long, address) or the reason the location is unusable."""
    address = (form.get("address_string") or "").strip()
    lat_raw, long_raw = form.get("lat"), form.get("long")
    if lat_raw is None and long_raw is None:
        if address or form.get("address_id"):
            return None, None, address
        return "a location is required: lat and long, address_string or address_id"
    try:
        lat, lon = float(lat_raw), float(long_raw)
    except (TypeError, ValueError):
        return "lat and long must both be numbers"
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return "lat or long is out of range"
    return lat, lon, address


def _check_create(request: web.Request, form: Any) -> web.Response | dict[str, Any]:
    """The Open311 error for a bad POST, or the service it files under."""
    if not hmac.compare_digest(str(form.get("api_key", "")), request.app[CONFIG].api_key):
        return error(403, "Invalid api_key received -- can't proceed with create_request.")
    problem = _jurisdiction_error(request, form)
    if problem is not None:
        return problem
    code = (form.get("service_code") or "").strip()
    if not code:
        return error(400, "service_code was not provided")
    service = next((s for s in request.app[DATA].get("services") if s["service_code"] == code), None)
    if service is None:
        return error(404, f"service_code {code} not found")
    if len(form.get("description") or "") > MAX_DESCRIPTION:
        return error(400, f"description is longer than {MAX_DESCRIPTION} characters")
    return service


async def create_request(request: web.Request) -> web.Response:
    """POST requests.json (form-encoded): a new request, stored in the state log."""
    form = await request.post()
    checked = _check_create(request, form)
    if isinstance(checked, web.Response):
        return checked
    location = _location(form)
    if isinstance(location, str):
        return error(400, location)
    record = new_record(request, checked, form, location)
    request.app[STATE].record({"op": "request_created", "request": record})
    reply = {"service_request_id": record["service_request_id"], "service_notice": record["service_notice"]}
    return web.json_response([{**reply, "account_id": None}], status=201)


def new_record(
    request: web.Request, service: dict[str, Any], form: Any, location: tuple[float | None, float | None, str]
) -> dict[str, Any]:
    """The stored request. Name, email and phone are accepted but not kept: the demo is no CRM."""
    now, tz = _now(request)
    lat, lon, address = location
    expected = now + timedelta(days=int(service.get("x_expected_days", 5)))
    ids = [str(r["service_request_id"]) for r in all_requests(request)]
    return {
        "service_request_id": next_request_id(ids),
        "status": "open",
        "status_notes": "Received.",
        "service_name": service["service_name"],
        "service_code": service["service_code"],
        "description": str(form.get("description") or ""),
        "agency_responsible": service.get("x_agency", ""),
        "service_notice": service.get("x_notice", ""),
        "requested_datetime": iso(now, tz),
        "updated_datetime": iso(now, tz),
        "expected_datetime": iso(expected, tz),
        "address": address,
        "lat": lat,
        "long": lon,
        "media_url": str(form.get("media_url") or ""),
    }


def add_routes(app: web.Application, prefix: str = "/open311/v2") -> None:
    app.router.add_get(f"{prefix}/services.json", services)
    app.router.add_get(f"{prefix}/requests.json", list_requests)
    app.router.add_post(f"{prefix}/requests.json", create_request)
    app.router.add_get(f"{prefix}/requests/{{id}}.json", get_request)
