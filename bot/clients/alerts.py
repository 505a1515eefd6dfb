"""Emergency alerts from a NWS-style GeoJSON feed or a CAP 1.2 ATOM feed.

Citizens must never be told about an alert that has expired, nor about a test
message, so `select` drops both whatever the feed says; it then puts the most
severe first (Extreme, Severe, Moderate, Minor, Unknown), then the most urgent,
then the newest.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import aiohttp

from bot.clients.errors import AgencyUnavailable
from bot.clients.payload import Reader
from bot.clients.transport import DEFAULT_TIMEOUT, decode_json, expect_ok, send

API = "alerts"
FORMATS = ("geojson", "cap-atom")
SEVERITIES = ("Extreme", "Severe", "Moderate", "Minor", "Unknown")
URGENCIES = ("Immediate", "Expected", "Future", "Past", "Unknown")
ATOM_NS = "http://www.w3.org/2005/Atom"
CAP_NAMESPACES = ("urn:oasis:names:tc:emergency:cap:1.2", "urn:oasis:names:tc:emergency:cap:1.1")
_NOT_FOR_CITIZENS = {"test", "exercise", "draft", "system"}  # CAP status values other than Actual


@dataclass(frozen=True)
class Alert:
    """One alert, whichever feed it came from."""

    id: str
    event: str
    headline: str
    description: str
    instruction: str
    severity: str
    urgency: str
    area: str
    effective: datetime | None
    expires: datetime | None
    status: str = "Actual"
    message_type: str = "Alert"  # CAP msgType: Alert, Update or Cancel
    sent: datetime | None = None  # when this version was issued (a new one is a new version)
    web: str = ""  # the issuer's page about it (CAP <web>), when the feed gives one

    def expired(self, now: datetime) -> bool:
        return self.expires is not None and self.expires <= now

    def for_citizens(self) -> bool:
        """Real alerts only: tests, exercises and cancellations are never shown."""
        return self.status.lower() not in _NOT_FOR_CITIZENS and self.message_type.lower() != "cancel"

    def in_area(self, area: str) -> bool:
        """Whole-word, case-insensitive match on areaDesc ("eastside" matches "Eastside; Harbor District")."""
        return re.search(rf"(?<!\w){re.escape(area.strip())}(?!\w)", self.area, re.IGNORECASE) is not None


def _canonical(value: str, allowed: tuple[str, ...]) -> str:
    match = [v for v in allowed if v.lower() == value.strip().lower()]
    return match[0] if match else "Unknown"


def _rank(value: str, order: tuple[str, ...]) -> int:
    return order.index(value) if value in order else len(order)


def sort_key(alert: Alert) -> tuple[int, int, float]:
    newest = -(alert.effective.timestamp() if alert.effective else 0.0)
    return _rank(alert.severity, SEVERITIES), _rank(alert.urgency, URGENCIES), newest


def select(alerts: Iterable[Alert], *, now: datetime, area: str | None = None) -> list[Alert]:
    """What a citizen may see at `now`: unexpired, real, in `area` if given, most severe first."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    kept = [a for a in alerts if not a.expired(now) and a.for_citizens()]
    if area and area.strip():
        kept = [a for a in kept if a.in_area(area)]
    return sorted(kept, key=sort_key)


def _from_properties(reader: Reader, fallback_id: str) -> Alert:
    return Alert(
        id=reader.text("id") or fallback_id,
        event=reader.text("event", required=True),
        headline=reader.text("headline") or reader.text("event"),
        description=reader.text("description"),
        instruction=reader.text("instruction"),
        severity=_canonical(reader.text("severity"), SEVERITIES),
        urgency=_canonical(reader.text("urgency"), URGENCIES),
        area=reader.text("areaDesc"),
        effective=reader.when("effective") or reader.when("sent"),
        expires=reader.when("expires"),
        status=reader.text("status") or "Actual",
        message_type=reader.text("messageType") or "Alert",
        sent=reader.when("sent"),
        web=reader.text("web"),
    )


def parse_geojson(body: bytes) -> list[Alert]:
    """A FeatureCollection like api.weather.gov/alerts/active: one alert per feature's properties."""
    feed = Reader(API, decode_json(API, body), "feed")
    alerts = []
    for index, feature in enumerate(feed.items("features", required=True)):
        item = Reader(API, feature, f"features[{index}]")
        alerts.append(_from_properties(item.child("properties"), item.text("id") or str(index)))
    return alerts


def _local(tag: str) -> tuple[str, str]:
    namespace, _, name = tag[1:].partition("}") if tag.startswith("{") else ("", "", tag)
    return namespace, name


def _entry_fields(entry: ET.Element) -> dict[str, Any]:
    """Atom and CAP children of one entry as NWS-style property names."""
    atom: dict[str, str] = {}
    cap: dict[str, str] = {}
    for child in entry:
        namespace, name = _local(child.tag)
        text = (child.text or "").strip()
        if namespace == ATOM_NS:
            atom[name] = text
        elif namespace in CAP_NAMESPACES:
            cap[name] = text
    return {
        "id": atom.get("id", ""),
        "event": cap.get("event", ""),
        "headline": cap.get("headline") or atom.get("title", ""),
        "description": cap.get("description") or atom.get("summary", ""),
        "instruction": cap.get("instruction", ""),
        "severity": cap.get("severity", ""),
        "urgency": cap.get("urgency", ""),
        "areaDesc": cap.get("areaDesc", ""),
        "effective": cap.get("effective") or atom.get("published", ""),
        "expires": cap.get("expires", ""),
        "status": cap.get("status", ""),
        "messageType": cap.get("msgType", ""),
        "sent": cap.get("sent") or atom.get("updated", ""),
        "web": cap.get("web", ""),
    }


def parse_cap_atom(body: bytes) -> list[Alert]:
    """An ATOM feed whose entries carry CAP 1.2 (or 1.1) elements, like alerts.weather.gov/cap.

    Atom title/summary stand in for headline/description when the entry has no CAP ones.
    CAP feeds never need a DTD; refusing one keeps entity tricks away from the parser.
    """
    if re.search(rb"<!(DOCTYPE|ENTITY)", body, re.IGNORECASE):
        raise AgencyUnavailable(API, "XML with a DOCTYPE refused")
    try:
        root = ET.fromstring(body)  # noqa: S314 (no DTD possible, checked above)
    except ET.ParseError:
        raise AgencyUnavailable(API, "invalid XML") from None
    if root.tag != f"{{{ATOM_NS}}}feed":
        raise AgencyUnavailable(API, "unexpected shape: not an ATOM feed")
    fields = [_entry_fields(e) for e in root.findall(f"{{{ATOM_NS}}}entry")]
    # An entry without cap:event is not an alert (NWS used one to say "no active alerts").
    return [
        _from_properties(Reader(API, f, f"entry[{i}]"), str(i)) for i, f in enumerate(fields) if f["event"]
    ]


PARSERS = {"geojson": parse_geojson, "cap-atom": parse_cap_atom}


class AlertsClient:
    """The agency's alert feed at `url`, in `format` "geojson" (default) or "cap-atom" (ALERTS_FORMAT)."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        url: str,
        *,
        format: str = "geojson",
        timeout: float = DEFAULT_TIMEOUT,
        user_agent: str = "CivicAssistant (alerts client)",
    ) -> None:
        if format not in PARSERS:
            raise ValueError(f"alerts format must be one of {', '.join(FORMATS)}, got {format!r}")
        self.session = session
        self.url = url
        self.format = format
        self.timeout = timeout
        # api.weather.gov refuses requests without a User-Agent that identifies the caller.
        self.headers = {"User-Agent": user_agent}

    async def fetch(self) -> list[Alert]:
        """Every alert in the feed as sent, expired ones included (use `active` for citizens)."""
        response = await send(
            self.session, "GET", self.url, api=API, timeout=self.timeout, headers=self.headers
        )
        expect_ok(API, response)
        return PARSERS[self.format](response.body)

    async def active(self, *, area: str | None = None, now: datetime | None = None) -> list[Alert]:
        """Alerts in effect at `now` (default: the current time), most severe first."""
        return select(await self.fetch(), now=now or datetime.now(timezone.utc), area=area)
