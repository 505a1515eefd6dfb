"""What a broadcast or a pinned notice must be before it is stored: pure checks, one reason each.

Shared by the JSON API and the console page (`bot.broadcasts.api`, `bot.broadcasts.pages`), so a
form and a script get the same rules and the same wording. Each check raises `Invalid` with a
sentence an editor can act on ("text is 3 SMS segments ...").
SMS length is counted as carriers do (`bot.sms`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from bot.broadcasts.notice import MAX_TEXT as NOTICE_MAX_TEXT
from bot.sms import sms_length
from bot.subscriptions.catalog import ALL, Catalog

MAX_TITLE = 120
MAX_TEXT = 1600
MAX_LINK = 500
MAX_SMS_SEGMENTS = 2
TRANSLATED = ("title", "text", "short_text")  # a broadcast's fields worded per language
NOTICE_MAX_SECONDS = 7 * 24 * 3600
# The names the API and the page use for the push channels -> the connectors' names.
CHANNELS = {
    "twilio": "twilio",
    "telegram": "telegram",
    "whatsapp": "whatsapp",
    "messenger": "facebook",
    "instagram": "instagram",
}
REPORT_NAME = {connector: name for name, connector in CHANNELS.items()}


class Invalid(ValueError):
    """A field an editor must change; the message says which and how."""


@dataclass(frozen=True)
class Draft:
    """A checked broadcast, ready to be stored (channels are connector names)."""

    title: str
    text: str
    short_text: str
    topic: str
    areas: tuple[str, ...]
    channels: tuple[str, ...]
    link: str
    translations: dict[str, dict[str, str]] = field(default_factory=dict)  # code -> title, text, short_text


def _text_field(body: Mapping[str, Any], name: str, required: bool, limit: int, label: str = "") -> str:
    label = label or name
    value = body.get(name, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise Invalid(f"{label} must be text")
    value = value.strip()
    if required and not value:
        raise Invalid(f"{label} must not be empty")
    if len(value) > limit:
        raise Invalid(f"{label} is {len(value)} characters; at most {limit} are allowed")
    return value


def check_link(value: Any, name: str = "link") -> str:
    """An https URL with a host, or "" for none."""
    if value in (None, ""):
        return ""
    if not isinstance(value, str):
        raise Invalid(f"{name} must be text")
    value = value.strip()
    parts = urlsplit(value)
    if parts.scheme != "https" or not parts.hostname or any(c.isspace() for c in value):
        raise Invalid(f"{name} must be an https:// address (got {value[:80]!r})")
    if len(value) > MAX_LINK:
        raise Invalid(f"{name} is longer than {MAX_LINK} characters")
    return value


def _names(value: Any, name: str) -> list[str]:
    """A list of texts; a comma-separated text (a form field) is accepted too."""
    if isinstance(value, str):
        value = [part for part in value.split(",") if part.strip()]
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise Invalid(f"{name} must be a list of names")
    return [v.strip() for v in value if v.strip()]


def check_areas(value: Any, catalog: Catalog) -> tuple[str, ...]:
    """District ids (a district's name is accepted too), or ("all",) for the whole city."""
    names = _names(value, "areas")
    if not names:
        raise Invalid('areas must name at least one district, or "all" for the whole city')
    found: list[str] = []
    for name in names:
        area = ALL if name.lower() == ALL else name if catalog.area(name) else catalog.district_named(name)
        if area is None:
            known = ", ".join(catalog.area_ids)
            raise Invalid(f"unknown area {name!r}; use one of: {known}")
        if area not in found:
            found.append(area)
    return (ALL,) if ALL in found else tuple(found)


def check_topic(value: Any, catalog: Catalog) -> str:
    if not isinstance(value, str) or not value.strip():
        raise Invalid(f"topic must name one of: {', '.join(catalog.topic_ids)}")
    if catalog.topic(value.strip()) is None:
        raise Invalid(f"unknown topic {value.strip()!r}; use one of: {', '.join(catalog.topic_ids)}")
    return value.strip()


def check_channels(value: Any) -> tuple[str, ...]:
    """Connector names, in a fixed order; none given means every push channel."""
    if value in (None, "", []):
        return tuple(CHANNELS.values())
    names = [n.lower() for n in _names(value, "channels")]
    unknown = [n for n in names if n not in CHANNELS]
    if unknown:
        raise Invalid(f"unknown channel {unknown[0]!r}; use any of: {', '.join(CHANNELS)}")
    if not names:
        raise Invalid("channels must name at least one channel")
    return tuple(connector for report, connector in CHANNELS.items() if report in names)


def _check_sms(text: str, short_text: str, suffix: str = "") -> None:
    if short_text:
        length = sms_length(short_text)
        if length.segments > MAX_SMS_SEGMENTS:
            raise Invalid(
                f"short_text{suffix} is {length.segments} SMS segments ({length.units} {length.encoding} "
                f"characters); shorten it to at most {MAX_SMS_SEGMENTS}"
            )
        return
    length = sms_length(text)
    if length.segments > MAX_SMS_SEGMENTS:
        raise Invalid(
            f"text{suffix} is {length.segments} SMS segments ({length.units} {length.encoding} characters); "
            f"add a short_text{suffix} of at most {MAX_SMS_SEGMENTS} segments for SMS"
        )


def _posted_translations(body: Mapping[str, Any], languages: tuple[str, ...]) -> Mapping[str, Any]:
    """The API's ``translations`` object, or the page's ``title_es``, ``text_es``, ``short_text_es``."""
    given = body.get("translations")
    if given not in (None, ""):
        if not isinstance(given, Mapping):
            raise Invalid("translations must map a language code to its title, text and short_text")
        return given
    return {code: {name: body.get(f"{name}_{code}", "") for name in TRANSLATED} for code in languages}


def check_translations(
    body: Mapping[str, Any], languages: tuple[str, ...], sms: bool
) -> dict[str, dict[str, str]]:
    """The broadcast's wording in the agency's other `languages`: per language a title and a text
    (both or neither) and an optional short text, each checked as the English ones are. A reader of
    a language left empty gets the English."""
    found: dict[str, dict[str, str]] = {}
    for code, item in _posted_translations(body, languages).items():
        if code not in languages:
            others = ", ".join(languages) or "none"
            raise Invalid(f"translations: {code!r} is not one of the agency's other languages ({others})")
        if not isinstance(item, Mapping):
            raise Invalid(f"translations.{code} must have a title, a text and an optional short_text")
        title = _text_field(item, "title", False, MAX_TITLE, f"title_{code}")
        text = _text_field(item, "text", False, MAX_TEXT, f"text_{code}")
        short_text = _text_field(item, "short_text", False, MAX_TEXT, f"short_text_{code}")
        if not (title or text or short_text):
            continue
        if not (title and text):
            missing = "text" if title else "title"
            raise Invalid(f"{missing}_{code} must not be empty: the {code} wording needs a title and a text")
        if sms:
            _check_sms(text, short_text, f"_{code}")
        found[code] = {"title": title, "text": text, "short_text": short_text}
    return found


def check_broadcast(body: Mapping[str, Any], catalog: Catalog, languages: tuple[str, ...] = ()) -> Draft:
    """The broadcast in `body` (the API's JSON or the page's form), or `Invalid` with the first problem;
    `languages`: the agency's languages other than English, which it may also be worded in."""
    title = _text_field(body, "title", True, MAX_TITLE)
    text = _text_field(body, "text", True, MAX_TEXT)
    short_text = _text_field(body, "short_text", False, MAX_TEXT)
    topic = check_topic(body.get("topic"), catalog)
    areas = check_areas(body.get("areas"), catalog)
    channels = check_channels(body.get("channels"))
    link = check_link(body.get("link"))
    if "twilio" in channels:
        _check_sms(text, short_text)
    translations = check_translations(body, languages, "twilio" in channels)
    return Draft(title, text, short_text, topic, areas, channels, link, translations)


def notice_expiry(body: Mapping[str, Any], now: float) -> float:
    """Epoch seconds from "expires_at" (ISO 8601 with an offset) or "expires_in_minutes"."""
    at, minutes = body.get("expires_at"), body.get("expires_in_minutes")
    if at not in (None, ""):
        if not isinstance(at, str):
            raise Invalid("expires_at must be a date and time like 2026-03-01T18:00:00-05:00")
        try:
            moment = datetime.fromisoformat(at.strip().replace("Z", "+00:00"))
        except ValueError:
            raise Invalid("expires_at must be a date and time like 2026-03-01T18:00:00-05:00") from None
        if moment.tzinfo is None:
            raise Invalid("expires_at needs a UTC offset, like 2026-03-01T18:00:00-05:00")
        expires = moment.timestamp()
    elif minutes not in (None, ""):
        if isinstance(minutes, bool) or not isinstance(minutes, int | float | str):
            raise Invalid("expires_in_minutes must be a number of minutes")
        try:
            expires = now + float(minutes) * 60
        except ValueError:
            raise Invalid("expires_in_minutes must be a number of minutes") from None
        if not math.isfinite(expires):
            raise Invalid("expires_in_minutes must be a number of minutes")
    else:
        raise Invalid("give expires_at or expires_in_minutes: a notice must expire")
    if expires <= now:
        raise Invalid("the expiry must be in the future")
    if expires - now > NOTICE_MAX_SECONDS:
        raise Invalid("the expiry must be at most 7 days away")
    return expires


@dataclass(frozen=True)
class NoticeDraft:
    text: str
    link: str
    expires_at: float


def check_notice(body: Mapping[str, Any], now: float) -> NoticeDraft:
    text = _text_field(body, "text", True, NOTICE_MAX_TEXT)
    link = check_link(body.get("link"))
    return NoticeDraft(text, link, notice_expiry(body, now))
