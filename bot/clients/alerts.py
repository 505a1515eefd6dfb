"""Emergency alerts from a NWS-style GeoJSON feed or a CAP 1.2 ATOM feed.

Citizens must never be told about an alert that has expired, nor about a test
message, so `select` drops both whatever the feed says; it then puts the most
severe first (Extreme, Severe, Moderate, Minor, Unknown), then the most urgent,
then the newest.

Languages. An alert's own fields (headline, description, ...) are in one language,
English unless the feed says otherwise; the other languages the feed carries are in
`Alert.texts`, by ISO 639 code ("es"), and `Alert.in_language` picks a citizen's.
- CAP: one `<alert>` may hold several `<info>` blocks, one per `<language>` (RFC 3066,
  "es-US"; "en-US" when absent). An ATOM entry may carry the whole CAP message (usually in
  its `<content>`): its English block, else its first, gives the alert's own fields, the
  others are translations. Entries with CAP elements straight under them (the NWS index)
  are one block in English, as before.
- GeoJSON: api.weather.gov has no field for a language nor for a translation (its
  `parameters` hold NWS CAP parameters: lists of texts by name). Our convention, which the
  demo agency's feed follows: `parameters` may carry `headline_<code>`, `description_<code>`,
  `instruction_<code>` and `event_<code>` (a text, or a list of texts as NWS writes
  parameters), e.g. `"headline_es": ["Aviso de hervir el agua para Downtown"]`; a language
  counts as carried when its headline is there. A `language` property, when a feed has one,
  names the language of the alert's own fields.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import aiohttp

from bot.clients.errors import AgencyUnavailable
from bot.clients.payload import Reader
from bot.clients.transport import DEFAULT_TIMEOUT, decode_json, expect_ok, send
from bot.content.agency import SOURCE_LANGUAGE

API = "alerts"
FORMATS = ("geojson", "cap-atom")
SEVERITIES = ("Extreme", "Severe", "Moderate", "Minor", "Unknown")
URGENCIES = ("Immediate", "Expected", "Future", "Past", "Unknown")
ATOM_NS = "http://www.w3.org/2005/Atom"
CAP_NAMESPACES = ("urn:oasis:names:tc:emergency:cap:1.2", "urn:oasis:names:tc:emergency:cap:1.1")
_NOT_FOR_CITIZENS = {"test", "exercise", "draft", "system"}  # CAP status values other than Actual
TEXT_FIELDS = ("event", "headline", "description", "instruction")  # what differs by language
_TRANSLATED_PARAMETER = re.compile(r"^(event|headline|description|instruction)_([A-Za-z]{2,3}(?:-\w+)*)$")


def language_code(tag: str) -> str:
    """The ISO 639 code of an RFC 3066 / BCP 47 tag ("es-US" -> "es"); English when there is none
    (CAP's default is "en-US"), so a feed's "es-MX" reaches a citizen whose language is "es"."""
    return tag.strip().replace("_", "-").split("-")[0].lower() or SOURCE_LANGUAGE


@dataclass(frozen=True)
class AlertText:
    """What a citizen reads of an alert, in one language."""

    event: str
    headline: str
    description: str = ""
    instruction: str = ""


@dataclass(frozen=True)
class Alert:
    """One alert, whichever feed it came from; its own text is in `language`, others in `texts`."""

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
    language: str = SOURCE_LANGUAGE  # of event, headline, description and instruction above
    # The other languages the feed carries it in, by ISO 639 code (never `language` itself).
    texts: Mapping[str, AlertText] = field(default_factory=dict, hash=False)

    @property
    def text(self) -> AlertText:
        """The alert's own text, in `language`."""
        return AlertText(self.event, self.headline, self.description, self.instruction)

    def languages(self) -> list[str]:
        """Every language the alert can be read in, its own first."""
        return [self.language, *(code for code in self.texts if code != self.language)]

    def in_language(self, code: str) -> tuple[AlertText, bool]:
        """(the text a citizen who reads `code` gets, whether it is in `code`): its own text when
        the feed carries no text in that language, so the caller can say it is only in another."""
        wanted = language_code(code)
        if wanted == self.language:
            return self.text, True
        found = self.texts.get(wanted)
        return (found, True) if found is not None else (self.text, False)

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


def _from_properties(reader: Reader, fallback_id: str, texts: Mapping[str, AlertText] | None = None) -> Alert:
    language = language_code(reader.text("language"))
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
        language=language,
        texts={code: text for code, text in (texts or {}).items() if code != language},
    )


def _parameter_text(value: Any) -> str:
    """A parameter's value as NWS writes them (a list of texts) or as a plain text."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, list):
        return "\n".join(str(v).strip() for v in value if isinstance(v, (str, int, float)) and str(v).strip())
    return ""


def parameter_texts(parameters: Any) -> dict[str, AlertText]:
    """The translations a GeoJSON alert's `parameters` carry by our convention (`headline_es`, ...):
    by language, those with a headline; a missing event stays empty (the caller falls back)."""
    found: dict[str, dict[str, str]] = {}
    for name, value in parameters.items() if isinstance(parameters, Mapping) else ():
        matched = _TRANSLATED_PARAMETER.match(str(name))
        text = _parameter_text(value) if matched else ""
        if matched and text:
            found.setdefault(language_code(matched.group(2)), {}).setdefault(matched.group(1), text)
    return {
        code: AlertText(**{name: fields.get(name, "") for name in TEXT_FIELDS})
        for code, fields in found.items()
        if fields.get("headline")
    }


def parse_geojson(body: bytes) -> list[Alert]:
    """A FeatureCollection like api.weather.gov/alerts/active: one alert per feature's properties."""
    feed = Reader(API, decode_json(API, body), "feed")
    alerts = []
    for index, feature in enumerate(feed.items("features", required=True)):
        item = Reader(API, feature, f"features[{index}]")
        properties = item.child("properties")
        texts = parameter_texts(properties.data.get("parameters"))
        alerts.append(_from_properties(properties, item.text("id") or str(index), texts))
    return alerts


def _local(tag: str) -> tuple[str, str]:
    namespace, _, name = tag[1:].partition("}") if tag.startswith("{") else ("", "", tag)
    return namespace, name


def _cap_children(element: ET.Element) -> dict[str, str]:
    """The text of an element's CAP children by name (the first of each)."""
    found: dict[str, str] = {}
    for child in element:
        namespace, name = _local(child.tag)
        if namespace in CAP_NAMESPACES:
            found.setdefault(name, (child.text or "").strip())
    return found


def _cap_elements(entry: ET.Element, wanted: str) -> list[ET.Element]:
    """The CAP elements called `wanted` anywhere in the entry (an embedded message is often in
    the entry's <content>)."""
    return [e for e in entry.iter() if _local(e.tag) in ((ns, wanted) for ns in CAP_NAMESPACES)]


def _info_fields(info: ET.Element) -> dict[str, str]:
    """One CAP <info> block: its texts, and its areas' descriptions joined as NWS joins them."""
    fields = _cap_children(info)
    areas = [_cap_children(area).get("areaDesc", "") for area in _cap_elements(info, "area")]
    fields["areaDesc"] = "; ".join(a for a in areas if a)
    return fields


def _info_text(fields: Mapping[str, str]) -> AlertText:
    return AlertText(**{name: fields.get(name, "") for name in TEXT_FIELDS})


def _main_info(infos: list[dict[str, str]]) -> dict[str, str]:
    """The block that gives the alert's own fields: the English one, else the first."""
    english = [i for i in infos if language_code(i.get("language", "")) == SOURCE_LANGUAGE]
    return (english or infos)[0]


def _entry_fields(entry: ET.Element) -> tuple[dict[str, Any], dict[str, AlertText]]:
    """Atom and CAP children of one entry as NWS-style property names, and its other languages.

    A whole CAP message in the entry (its <alert> and <info> blocks) wins over the CAP elements
    straight under the entry, and those over Atom's title and summary."""
    atom: dict[str, str] = {}
    for child in entry:
        namespace, name = _local(child.tag)
        if namespace == ATOM_NS:
            atom[name] = (child.text or "").strip()
    cap = _cap_children(entry)
    texts: dict[str, AlertText] = {}
    infos = [_info_fields(info) for info in _cap_elements(entry, "info")]
    if infos:
        main = _main_info(infos)
        messages = _cap_elements(entry, "alert")
        message = _cap_children(messages[0]) if messages else {}
        cap |= {k: v for k, v in message.items() if v and k in ("status", "msgType", "sent")}
        cap |= {k: v for k, v in main.items() if v}
        cap["language"] = main.get("language", "")
        for info in infos:
            code = language_code(info.get("language", ""))
            if info is not main and info.get("headline", "") + info.get("description", ""):
                texts.setdefault(code, _info_text(info))
    fields = {
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
        "language": cap.get("language", ""),
    }
    return fields, texts


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
    entries = [_entry_fields(e) for e in root.findall(f"{{{ATOM_NS}}}entry")]
    # An entry without cap:event is not an alert (NWS used one to say "no active alerts").
    return [
        _from_properties(Reader(API, f, f"entry[{i}]"), str(i), texts)
        for i, (f, texts) in enumerate(entries)
        if f["event"]
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
