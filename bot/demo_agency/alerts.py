"""The alert feed in two shapes: NWS-style GeoJSON and CAP 1.2 ATOM.

Both are rendered from one list (data file plus admin-added alerts). Expired
alerts stay in the feed on purpose, as a stale cache would leave them: the
client must drop them, and the demo shows that it does.

An alert's `translations` (by language code, with event, headline, description and
instruction) go out as feeds carry them (`bot.clients.alerts`): in GeoJSON as the
`headline_es`, ... parameters of our convention, in the ATOM feed as one CAP <info> block
per language in the CAP message each entry carries in its <content>.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from bot.demo_agency.keys import CONFIG, DATA, STATE
from bot.demo_agency.store import iso, resolve_relative

ATOM = "http://www.w3.org/2005/Atom"
CAP = "urn:oasis:names:tc:emergency:cap:1.2"
NWS_CONTEXT = [
    "https://geojson.org/geojson-ld/geojson-context.jsonld",
    {
        "@version": "1.1",
        "wx": "https://api.weather.gov/ontology#",
        "@vocab": "https://api.weather.gov/ontology#",
    },
]
TRANSLATED = ("event", "headline", "description", "instruction")
LANGUAGE_TAGS = {"en": "en-US", "es": "es-US"}  # the RFC 3066 tag a CAP <language> gives
ET.register_namespace("", ATOM)
ET.register_namespace("cap", CAP)


def current(request: web.Request) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(feed settings, alerts): data-file alerts plus admin ones, minus cancelled ones."""
    config, state = request.app[CONFIG], request.app[STATE]
    feed = resolve_relative(request.app[DATA].get("alerts"), config.clock(), ZoneInfo(config.timezone))
    alerts = [*feed["alerts"], *state.alerts.values()]
    return feed, [a for a in alerts if str(a["id"]) not in state.cancelled_alerts]


def origin(request: web.Request) -> str:
    """scheme://host[:port]; not request.url, which aiohttp 3.9.5 cannot build with yarl 1.25."""
    return f"{request.scheme}://{request.host}"


def properties(alert: dict[str, Any], feed: dict[str, Any], base: str) -> dict[str, Any]:
    """One alert as api.weather.gov's feature properties."""
    return {
        "@id": f"{base}/alerts/{alert['id']}",
        "@type": "wx:Alert",
        "id": alert["id"],
        "areaDesc": alert["area"],
        "geocode": {"SAME": [], "UGC": []},
        "affectedZones": [],
        "references": [],
        "sent": alert.get("sent") or alert["effective"],
        "effective": alert["effective"],
        "onset": alert.get("onset") or alert["effective"],
        "expires": alert["expires"],
        "ends": alert.get("ends") or alert["expires"],
        "status": alert.get("status", "Actual"),
        "messageType": alert.get("message_type", "Alert"),
        "category": alert.get("category", "Safety"),
        "severity": alert["severity"],
        "certainty": alert.get("certainty", "Likely"),
        "urgency": alert.get("urgency", "Expected"),
        "event": alert["event"],
        "sender": feed.get("sender_email", ""),
        "senderName": feed.get("sender", ""),
        "headline": alert.get("headline", alert["event"]),
        "description": alert.get("description", ""),
        "instruction": alert.get("instruction") or None,
        "response": alert.get("response", "Prepare"),
        "parameters": parameters(alert),
    }


def translations(alert: dict[str, Any]) -> dict[str, dict[str, str]]:
    """The alert's texts in other languages, by language code, as the data file gives them."""
    found = alert.get("translations") or {}
    return {str(code): dict(texts) for code, texts in found.items() if isinstance(texts, dict)}


def parameters(alert: dict[str, Any]) -> dict[str, list[str]]:
    """NWS-style parameters (lists of texts): the translations as `headline_es`, `description_es`..."""
    return {
        f"{name}_{code}": [str(texts[name])]
        for code, texts in translations(alert).items()
        for name in TRANSLATED
        if texts.get(name)
    }


async def geojson(request: web.Request) -> web.Response:
    feed, alerts = current(request)
    base = origin(request)
    features = [
        {
            "id": f"{base}/alerts/{a['id']}",
            "type": "Feature",
            "geometry": None,
            "properties": properties(a, feed, base),
        }
        for a in alerts
    ]
    body = {
        "@context": NWS_CONTEXT,
        "type": "FeatureCollection",
        "features": features,
        "title": feed.get("title", "Current alerts"),
        "updated": iso(request.app[CONFIG].clock(), ZoneInfo(request.app[CONFIG].timezone)),
    }
    return web.json_response(body, content_type="application/geo+json")


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attrs)
    element.text = text
    return element


def atom_entry(feed_el: ET.Element, alert: dict[str, Any], feed: dict[str, Any], base: str) -> None:
    props = properties(alert, feed, base)
    entry = _sub(feed_el, f"{{{ATOM}}}entry")
    _sub(entry, f"{{{ATOM}}}id", props["@id"])
    _sub(entry, f"{{{ATOM}}}updated", props["sent"])
    _sub(entry, f"{{{ATOM}}}published", props["sent"])
    _sub(_sub(entry, f"{{{ATOM}}}author"), f"{{{ATOM}}}name", props["senderName"])
    _sub(entry, f"{{{ATOM}}}title", props["headline"])
    _sub(entry, f"{{{ATOM}}}link", href=props["@id"])
    _sub(entry, f"{{{ATOM}}}summary", props["description"])
    cap_fields = ("event", "effective", "expires", "status", "category", "urgency", "severity", "certainty")
    for name in cap_fields:
        _sub(entry, f"{{{CAP}}}{name}", props[name])
    _sub(entry, f"{{{CAP}}}msgType", props["messageType"])
    _sub(entry, f"{{{CAP}}}areaDesc", props["areaDesc"])
    if props["instruction"]:
        _sub(entry, f"{{{CAP}}}instruction", props["instruction"])
    cap_message(_sub(entry, f"{{{ATOM}}}content", type="text/xml"), alert, props)


def cap_message(parent: ET.Element, alert: dict[str, Any], props: dict[str, Any]) -> None:
    """The whole CAP 1.2 message: the alert's fields, then one <info> block per language."""
    message = _sub(parent, f"{{{CAP}}}alert")
    for tag, value in (("identifier", props["id"]), ("sender", props["sender"]), ("sent", props["sent"])):
        _sub(message, f"{{{CAP}}}{tag}", value)
    _sub(message, f"{{{CAP}}}status", props["status"])
    _sub(message, f"{{{CAP}}}msgType", props["messageType"])
    _sub(message, f"{{{CAP}}}scope", "Public")
    english = {name: props[name] or "" for name in TRANSLATED}
    for code, texts in {"en": english, **translations(alert)}.items():
        info = _sub(message, f"{{{CAP}}}info")
        _sub(info, f"{{{CAP}}}language", LANGUAGE_TAGS.get(code, code))
        _sub(info, f"{{{CAP}}}category", props["category"])
        _sub(info, f"{{{CAP}}}event", texts.get("event") or props["event"])
        for name in ("urgency", "severity", "certainty", "effective", "onset", "expires", "senderName"):
            _sub(info, f"{{{CAP}}}{name}", props[name])
        for name in ("headline", "description", "instruction"):
            if texts.get(name):
                _sub(info, f"{{{CAP}}}{name}", texts[name])
        _sub(_sub(info, f"{{{CAP}}}area"), f"{{{CAP}}}areaDesc", props["areaDesc"])


async def atom(request: web.Request) -> web.Response:
    feed, alerts = current(request)
    base = origin(request)
    config = request.app[CONFIG]
    root = ET.Element(f"{{{ATOM}}}feed")
    _sub(root, f"{{{ATOM}}}id", f"{base}/alerts.atom")
    _sub(root, f"{{{ATOM}}}title", feed.get("title", "Current alerts"))
    _sub(root, f"{{{ATOM}}}updated", iso(config.clock(), ZoneInfo(config.timezone)))
    _sub(_sub(root, f"{{{ATOM}}}author"), f"{{{ATOM}}}name", feed.get("sender", ""))
    for alert in alerts:
        atom_entry(root, alert, feed, base)
    body = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return web.Response(body=body, content_type="application/atom+xml", charset="utf-8")


def add_routes(app: web.Application) -> None:
    app.router.add_get("/alerts.geojson", geojson)
    app.router.add_get("/alerts.atom", atom)
