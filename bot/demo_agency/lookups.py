"""Facilities, collection schedule and online-service status endpoints.

The facilities file is served as it is (it is already the wire format). The
collection file holds only each address's days; next pickup dates are worked
out from today in the agency's time zone, so they are never stale.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from bot.demo_agency.keys import CONFIG, DATA, STATE
from bot.demo_agency.store import resolve_relative

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
NEXT_PICKUPS = 3
_SUFFIXES = {
    "st": "street",
    "ave": "avenue",
    "av": "avenue",
    "rd": "road",
    "blvd": "boulevard",
    "dr": "drive",
    "ln": "lane",
    "ct": "court",
    "pl": "place",
}


def json_error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": code, "message": message}, status=status)


async def facilities(request: web.Request) -> web.Response:
    return web.json_response(request.app[DATA].get("facilities"))


def street_key(text: str) -> str:
    """The street part of an address in one spelling, to compare addresses by.

    "12 Elm St., Harbor City" and "12 elm street" both give "12 elm street".
    """
    street = text.split(",")[0].lower()
    words = re.sub(r"[^a-z0-9 ]", " ", street).split()
    return " ".join(_SUFFIXES.get(w, w) for w in words)


def _weekly(day: int) -> Callable[[date], bool]:
    return lambda d: d.weekday() == day


def _every_other(day: int, since: date) -> Callable[[date], bool]:
    """Every second week counted from a known pickup (ISO week parity breaks in 53-week years)."""
    return lambda d: d.weekday() == day and (d - since).days // 7 % 2 == 0


def _yard_waste(day: int, weekly_months: set[int]) -> Callable[[date], bool]:
    """Weekly in season; otherwise the first such weekday of the month."""
    return lambda d: d.weekday() == day and (d.month in weekly_months or d.day <= 7)


def pickup(stream: str, spec: Any, today: date, weekly_months: set[int]) -> dict[str, Any]:
    """One stream's wire entry; `spec` is a weekday name or {"day": ..., "biweekly_from": date}."""
    day_name = spec if isinstance(spec, str) else spec["day"]
    day = WEEKDAYS.index(day_name)
    if stream == "yard_waste":
        rule = _yard_waste(day, weekly_months)
        frequency = "weekly" if today.month in weekly_months else "monthly"
    elif isinstance(spec, dict) and spec.get("biweekly_from"):
        rule, frequency = _every_other(day, date.fromisoformat(spec["biweekly_from"])), "biweekly"
    else:
        rule, frequency = _weekly(day), "weekly"
    days = (today + timedelta(days=n) for n in range(400))
    dates = [d.isoformat() for d in days if rule(d)][:NEXT_PICKUPS]
    return {"stream": stream, "day": day_name, "frequency": frequency, "next_pickups": dates}


def schedule(entry: dict[str, Any], rules: dict[str, Any], today: date) -> dict[str, Any]:
    weekly_months = set(rules.get("yard_waste_weekly_months", range(1, 13)))
    pickups = []
    for stream in ("trash", "recycling", "yard_waste"):
        if stream in entry:
            item = pickup(stream, entry[stream], today, weekly_months)
            note = rules.get("notes", {}).get(stream)
            pickups.append({**item, **({"note": note} if note else {})})
    body = {"address": entry["address"], "district": entry.get("district", ""), "pickups": pickups}
    return {**body, **({"note": rules["note"]} if rules.get("note") else {})}


async def collection(request: web.Request) -> web.Response:
    """GET collection.json?address=...: 404 {"error": "not_found"} for an address not served."""
    wanted = street_key(request.query.get("address", ""))
    if not wanted:
        return json_error(400, "bad_request", "address is required")
    data = request.app[DATA].get("collection")
    found = [a for a in data["addresses"] if street_key(a["address"]) == wanted]
    if not found:
        return json_error(404, "not_found", "No collection schedule for that address.")
    config = request.app[CONFIG]
    today = config.clock().astimezone(ZoneInfo(config.timezone)).date()
    return web.json_response(schedule(found[0], data.get("rules", {}), today))


def service_statuses(request: web.Request) -> dict[str, Any]:
    config, changes = request.app[CONFIG], request.app[STATE].status_changes
    feed = resolve_relative(request.app[DATA].get("status"), config.clock(), ZoneInfo(config.timezone))
    services = [{**s, **changes.get(str(s["id"]), {})} for s in feed["services"]]
    return {**feed, "services": services}


async def status(request: web.Request) -> web.Response:
    return web.json_response(service_statuses(request))


def add_routes(app: web.Application) -> None:
    app.router.add_get("/facilities.json", facilities)
    app.router.add_get("/collection.json", collection)
    app.router.add_get("/status.json", status)
