"""Pure helpers for the live-lookup actions: reading what citizens type, and formatting answers.

Nothing here does I/O or knows about Rasa trackers, so every rule is unit-tested on its own.
Formatting produces values for response placeholders (times, dates, "2 days ago"); the
sentences around them are responses in the domain.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.clients.facilities import Facility, hours_on, open_now
from bot.clients.open311 import Service
from bot.clients.service_status import ServiceStatus

# --- words -----------------------------------------------------------------------------------------

_NON_WORD = re.compile(r"[^a-z0-9#@.+\-']+")
_STOPWORDS = frozenset(
    "a an and are at been being but by can for from has have into its near not now off of on or our "
    "over such than that the their them then there these they this those too under was were what when "
    "where which while with your you yours about after again also before other more most very will "
    "just some any".split()
)


def normalise(text: str) -> str:
    """Lower case, words separated by single spaces, punctuation other than # @ . + - ' dropped."""
    return " ".join(_NON_WORD.sub(" ", text.lower()).split())


def _stem(word: str) -> str:
    word = word.strip(".'-")
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def _stems(text: str) -> list[str]:
    return [s for s in (_stem(w) for w in normalise(text).split()) if s]


def contains_phrase(text: str, phrase: str) -> bool:
    """Whole-word, case-insensitive, singular/plural-tolerant: "lamps out" contains "lamp"."""
    words, wanted = _stems(text), _stems(phrase)
    if not wanted:
        return False
    size = len(wanted)
    return any(words[i : i + size] == wanted for i in range(len(words) - size + 1))


def entity_values(message: Mapping[str, Any], entity: str) -> list[str]:
    """Values of one entity in a parsed user message, in order."""
    found = []
    for item in message.get("entities") or []:
        if item.get("entity") == entity and item.get("value") not in (None, ""):
            found.append(str(item["value"]).strip())
    return found


# --- cancel, skip, yes/no --------------------------------------------------------------------------

_CANCEL = re.compile(
    r"^(?:(?:ok|okay|no|nah|please|pls|plz|actually|oh|sorry|just|hmm|um)\s+)*"
    r"(?:cancel|stop|never\s*mind|nevermind|nvm|forget\s+(?:it|that|about\s+it)|quit|exit|abort|"
    r"scratch\s+that|i\s+changed\s+my\s+mind|i\s*'?ve\s+changed\s+my\s+mind|"
    r"don'?t\s+(?:file|send|submit|report|bother)|do\s+not\s+(?:file|send|submit))"
    r"(?:\s+(?:it|that|this|the\s+report|my\s+report|the\s+request|this\s+report|please|pls|thanks|"
    r"thank\s+you|now|then))*$"
)
_SKIP = re.compile(
    r"^(?:(?:no|nah|ok|okay)\s+)?(?:skip|skip\s+it|skip\s+that|no|nope|nah|none|no\s+thanks|no\s+thank\s+you|"
    r"rather\s+not|i'?d\s+rather\s+not|no\s+contact|anonymous|anon|n/?a|pass|not\s+needed|"
    r"don'?t\s+contact\s+me|do\s+not\s+contact\s+me|leave\s+it\s+blank|prefer\s+not\s+to)(?:\s+(?:please|pls|thanks))*$"
)


def _bare(text: str) -> str:
    return " ".join(re.sub(r"[^a-z'/ ]+", " ", text.lower()).split())


def is_cancel(text: str) -> bool:
    """The whole message asks to stop: "cancel", "stop", "never mind", "forget it", "nvm pls"."""
    return bool(_CANCEL.match(_bare(text)))


def is_skip(text: str) -> bool:
    """The citizen declines an optional question: "skip", "no thanks", "rather not"."""
    return bool(_SKIP.match(_bare(text)))


# --- request numbers -------------------------------------------------------------------------------

_MARKED_NUMBER = re.compile(
    r"(?:\b(?:sr|request|req|report|case|ticket|number|no|ref|reference)\b\.?\s*[-#:]?\s*|#\s*|\bsr-?)(\d{5,12})\b",
    re.IGNORECASE,
)
_BARE_NUMBER = re.compile(r"(?<![\d.+\-/])\b(\d{5,12})\b(?![\d./\-])")


def request_number(text: str) -> str | None:
    """The agency's request number in free text: "request 512077", "#512077", "SR-512077", "512077".

    A number after a marker wins; otherwise a lone 5-12 digit number, but not when there are
    several (a phone number or a zip code next to it makes a guess unsafe).
    """
    marked = _MARKED_NUMBER.search(text)
    if marked:
        return marked.group(1)
    bare = _BARE_NUMBER.findall(text)
    return bare[0] if len(bare) == 1 else None


# --- contact details -------------------------------------------------------------------------------

_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")
_PHONE = re.compile(r"\+?\(?\d[\d\s().\-]{5,20}\d")


def contact_details(text: str) -> tuple[str, str] | None:
    """("email", "a@b.org") or ("phone", "+1 555 010 3110" as digits) found in the text, else None."""
    email = _EMAIL.search(text)
    if email:
        return "email", email.group(0).strip(".")
    for candidate in _PHONE.findall(text):
        digits = re.sub(r"\D", "", candidate)
        if 7 <= len(digits) <= 15:
            return "phone", ("+" if candidate.lstrip("(").startswith("+") else "") + digits
    return None


# --- locations -------------------------------------------------------------------------------------

_PIN_KEYS = (("lat", "long"), ("lat", "lng"), ("lat", "lon"), ("latitude", "longitude"))


def _coordinate(value: Any, limit: float) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) and -limit <= number <= limit else None


def _pin_from(mapping: Mapping[str, Any]) -> tuple[float, float] | None:
    for lat_key, long_key in _PIN_KEYS:
        if lat_key in mapping and long_key in mapping:
            lat, lon = _coordinate(mapping[lat_key], 90), _coordinate(mapping[long_key], 180)
            if lat is not None and lon is not None:
                return lat, lon
    return None


def location_pin(
    metadata: Mapping[str, Any] | None, entities: Sequence[Mapping[str, Any]] = ()
) -> tuple[float, float] | None:
    """A shared location pin, by our convention (channels and clients follow this):

    1. message metadata `{"location": {"lat": 41.30412, "long": -72.92471}}` (also `lng`/`lon`,
       or `latitude`/`longitude`), which a channel connector sets when the citizen shares a pin;
    2. entities `latitude` and `longitude`, e.g. from a button payload
       `/inform{"latitude": 41.30412, "longitude": -72.92471}`.
    Out-of-range or non-numeric coordinates are ignored.
    """
    location = (metadata or {}).get("location")
    if isinstance(location, Mapping):
        pin = _pin_from(location)
        if pin:
            return pin
    values = {str(e.get("entity")): e.get("value") for e in entities if isinstance(e, Mapping)}
    return _pin_from(values)


def pin_text(lat: float, lon: float) -> str:
    """How a pin is kept in the `location` slot and shown: "41.30412, -72.92471"."""
    return f"{lat:.5f}, {lon:.5f}"


_COORDINATES = re.compile(r"^\s*(-?\d{1,2}\.\d+)\s*,\s*(-?\d{1,3}\.\d+)\s*$")


def coordinates(text: str) -> tuple[float, float] | None:
    """ "41.30412, -72.92471" (a pin as `pin_text` writes it, or typed) as (lat, long), else None."""
    match = _COORDINATES.match(text)
    if not match:
        return None
    lat, lon = _coordinate(match.group(1), 90), _coordinate(match.group(2), 180)
    return (lat, lon) if lat is not None and lon is not None else None


def looks_like_location(text: str) -> bool:
    """Enough to find a place: some letters or a number and a word ("12 Elm St", "corner of Oak and 3rd")."""
    words = normalise(text).split()
    return len(" ".join(words)) >= 4 and any(any(c.isalpha() for c in w) for w in words) and not is_skip(text)


# --- corrections -----------------------------------------------------------------------------------

FIELDS = {
    "location": ("address", "location", "place", "spot", "street address", "where"),
    "description": ("description", "details", "problem description", "what happened"),
    "contact": (
        "contact",
        "email",
        "e-mail",
        "email address",
        "phone",
        "phone number",
        "number",
        "contact info",
    ),
    "service_code": (
        "type",
        "category",
        "service",
        "problem type",
        "kind of problem",
        "request type",
        "issue type",
    ),
}
_FIELD_WORDS = {word: field for field, words in FIELDS.items() for word in words}
_FIELD_PATTERN = "|".join(sorted((re.escape(w) for w in _FIELD_WORDS), key=len, reverse=True))
_LEAD = r"^(?:(?:no|nope|sorry|oops|wait|actually|hmm|oh)[,.!]?\s+)*"
_CORRECTIONS = (
    re.compile(
        _LEAD + r"(?:please\s+|pls\s+|can\s+you\s+|could\s+you\s+|i\s+want\s+to\s+|i'?d\s+like\s+to\s+)?"
        r"(?:change|update|correct|fix|edit|set|make|switch)\s+(?:the\s+|my\s+|that\s+)?"
        rf"(?P<field>{_FIELD_PATTERN})\s*(?:to|into|as|:|=|->)\s*(?P<value>.+)$",
        re.IGNORECASE,
    ),
    re.compile(
        _LEAD
        + rf"(?:the\s+|my\s+)?(?P<field>{_FIELD_PATTERN})\s+"
        + r"(?:is|should\s+be|should\s+say|was\s+meant\s+to\s+be)"
        r"\s+(?:actually\s+)?(?P<value>.+)$",
        re.IGNORECASE,
    ),
    re.compile(
        _LEAD
        + r"(?:wrong\s+(?P<field>address|location|place))\s*[,:;.\-]*\s*"
        + r"(?:it'?s\s+|it\s+is\s+)?(?:at\s+|on\s+)?"
        r"(?P<value>.+)$",
        re.IGNORECASE,
    ),
    re.compile(
        r"^(?:(?:no|sorry|oops)[,.!]?\s+)?actually[,.]?\s+(?:it'?s|it\s+is)\s+(?:at|on|near)\s+(?P<value>.+)$",
        re.IGNORECASE,
    ),
)


def parse_correction(text: str) -> tuple[str, str] | None:
    """("location", "12 Elm St") for "change the address to 12 Elm St"; None when it is no correction.

    Fields: location, description, contact, service_code (as the report form's slots are named).
    """
    stripped = text.strip()
    for pattern in _CORRECTIONS:
        match = pattern.match(stripped)
        if not match:
            continue
        value = match.group("value").strip().rstrip("!?").strip()
        field = match.groupdict().get("field")
        slot = _FIELD_WORDS.get(" ".join(field.lower().split())) if field else "location"
        if slot and value:
            return slot, value
    return None


# --- services (Open311 request types) --------------------------------------------------------------


def _service_score(text: str, service: Service) -> float:
    words = normalise(text)
    if words == normalise(service.service_name) or words == normalise(service.service_code):
        return 100.0
    score = 0.0
    if service.service_code.lower() in words.split():
        score += 10
    if contains_phrase(text, service.service_name):
        score += 5
    for keyword in service.keywords:
        if contains_phrase(text, keyword):
            score += 1 + len(_stems(keyword))
    if score == 0:
        described = {w for w in _stems(service.description) if len(w) > 3 and w not in _STOPWORDS}
        score = min(2.0, 0.5 * len(described & set(_stems(text))))
    return score


def match_services(text: str, services: Iterable[Service]) -> list[Service]:
    """The services the text most likely means, from the agency's own names, keywords and descriptions.

    One service when the text points clearly at one; several when they tie (ask which); none
    when nothing matches at all.
    """
    scored = [(service, _service_score(text, service)) for service in services]
    best = max((score for _, score in scored), default=0.0)
    if best < 1.0:
        return []
    return [service for service, score in scored if score == best]


# --- facilities, online services, areas ------------------------------------------------------------


def _names(item: Facility | ServiceStatus) -> list[str]:
    return [item.name, item.id, *item.aliases]


def find_by_name(text: str, items: Iterable[Any]) -> list[Any]:
    """Items (facilities, online services) named in the text: exact name first, else the longest phrase."""
    items = list(items)
    exact = [i for i in items if i.matches(text)]
    if exact:
        return exact
    best, found = 0, []
    for item in items:
        length = max((len(_stems(n)) for n in _names(item) if contains_phrase(text, n)), default=0)
        if length > best:
            best, found = length, [item]
        elif length and length == best:
            found.append(item)
    return found


def find_area(text: str, areas: Iterable[str]) -> str | None:
    """The first known area (a place name, a part of an alert's areaDesc) named in the text."""
    for area in sorted({a.strip() for a in areas if a.strip()}, key=len, reverse=True):
        if contains_phrase(text, area):
            return area
    return None


def alert_areas(area_descriptions: Iterable[str]) -> list[str]:
    """ "Riverside; Old Town" -> ["Riverside", "Old Town"]."""
    return [part.strip() for desc in area_descriptions for part in re.split(r"[;,]", desc) if part.strip()]


# --- times and dates -------------------------------------------------------------------------------


def clock_time(moment: time) -> str:
    """ "8:30 am", "4 pm", "12 pm"."""
    hour = moment.hour % 12 or 12
    suffix = "am" if moment.hour < 12 else "pm"
    return f"{hour}:{moment.minute:02d} {suffix}" if moment.minute else f"{hour} {suffix}"


def day_text(day: date) -> str:
    """ "Mon 30 Nov"."""
    return f"{day:%a} {day.day} {day:%b}"


def moment_text(moment: datetime, zone: ZoneInfo) -> str:
    """ "Mon 30 Nov, 8:30 am" in the agency's zone."""
    local = moment.astimezone(zone)
    return f"{day_text(local.date())}, {clock_time(local.time())}"


def as_of_text(moment: datetime, zone: ZoneInfo, now: datetime) -> str:
    """ "10:42 am" the same day, else "Tue 24 Nov, 10:42 am"."""
    local = moment.astimezone(zone)
    return (
        clock_time(local.time()) if local.date() == now.astimezone(zone).date() else moment_text(moment, zone)
    )


def ago_text(moment: datetime, now: datetime) -> str:
    """ "just now", "5 minutes ago", "3 hours ago", "2 days ago"."""
    seconds = (now - moment).total_seconds()
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = int(seconds // size)
            return f"{count} {unit}{'' if count == 1 else 's'} ago"
    return "just now"


def hours_text(intervals: Sequence[Any]) -> str:
    """ "8:30 am-4:30 pm", several joined with ", "."""
    return ", ".join(f"{clock_time(i.opens)}–{clock_time(i.closes)}" for i in intervals)


# --- facility state --------------------------------------------------------------------------------

SEARCH_DAYS = 400  # a seasonal pool closed in winter still gets its next opening day


@dataclass(frozen=True)
class FacilityNow:
    """Where a facility stands at one instant; `state` picks the response, the rest fills it.

    States: open, open_all_day, opens_later (closed now, opens later today), closed_rest_of_day
    (was open earlier today), closed_today (no hours today), closed_for (a holiday or closure:
    `reason`), no_hours (never opens in the next SEARCH_DAYS days).
    """

    state: str
    closes: str = ""
    opens: str = ""
    hours_today: str = ""
    reason: str = ""
    note: str = ""
    next_open: str = ""


def _start(day: date, interval: Any, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, interval.opens, tzinfo=zone)


def _end(day: date, interval: Any, zone: ZoneInfo) -> datetime:
    end_day = day + timedelta(days=1) if interval.ends_next_day else day
    return datetime.combine(end_day, interval.closes, tzinfo=zone)


def next_opening(facility: Facility, now: datetime) -> datetime | None:
    """The next time the facility opens after `now`, within SEARCH_DAYS."""
    zone = ZoneInfo(facility.timezone)
    today = now.astimezone(zone).date()
    for offset in range(SEARCH_DAYS):
        day = today + timedelta(days=offset)
        starts = sorted(_start(day, i, zone) for i in hours_on(facility, day).intervals)
        later = [s for s in starts if s > now]
        if later:
            return later[0]
    return None


def facility_now(facility: Facility, now: datetime) -> FacilityNow:
    zone = ZoneInfo(facility.timezone)
    local = now.astimezone(zone)
    today = hours_on(facility, local.date())
    hours = hours_text(today.intervals)
    if open_now(facility, now):
        yesterday = local.date() - timedelta(days=1)
        spans = [(local.date(), i) for i in today.intervals] + [
            (yesterday, i) for i in hours_on(facility, yesterday).intervals if i.ends_next_day
        ]
        current = [(d, i) for d, i in spans if _start(d, i, zone) <= now < _end(d, i, zone)]
        if today.all_day or any(i.all_day for _, i in current):
            return FacilityNow("open_all_day", hours_today=hours, note=today.note)
        closes = min((_end(d, i, zone) for d, i in current), default=None)
        return FacilityNow(
            "open", closes=clock_time(closes.astimezone(zone).time()) if closes else "", hours_today=hours,
            note=today.note,
        )  # fmt: skip
    upcoming = next_opening(facility, now)
    next_open = moment_text(upcoming, zone) if upcoming else ""
    if upcoming is None:
        return FacilityNow("no_hours", note=today.note)
    if today.closed:
        if local.date() in facility.closures:
            return FacilityNow("closed_for", reason=today.note, next_open=next_open)
        return FacilityNow("closed_today", note=today.note, next_open=next_open)
    if upcoming.astimezone(zone).date() == local.date():
        return FacilityNow(
            "opens_later",
            opens=clock_time(upcoming.astimezone(zone).time()),
            hours_today=hours,
            note=today.note,
        )
    return FacilityNow("closed_rest_of_day", hours_today=hours, note=today.note, next_open=next_open)


# --- display names ---------------------------------------------------------------------------------


def stream_name(stream: str) -> str:
    """ "yard_waste" -> "Yard waste"."""
    return stream.replace("_", " ").strip().capitalize()


def status_word(status: str) -> str:
    """An Open311 status as sent ("open", "closed", "in_progress" -> "in progress")."""
    return status.replace("_", " ").strip()
