"""A shared location pin: how channels write it and how actions read it back.

The convention, written by every channel connector when a citizen shares a pin:

- message metadata `{"location": {"lat": 41.30412, "long": -72.92471}}`;
- message text "41.30412, -72.92471" (`pin_text`), so the pin can also be read from the text alone.

Readers also accept `lng`/`lon` or `latitude`/`longitude` keys, and the entities `latitude` and
`longitude` (a button payload `/inform{"latitude": 41.30412, "longitude": -72.92471}`). Every
coordinate goes through `pin`: out-of-range or non-numeric values are no pin.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

Pin = tuple[float, float]  # (latitude, longitude) in degrees

METADATA_KEY = "location"
_PIN_KEYS = (("lat", "long"), ("lat", "lng"), ("lat", "lon"), ("latitude", "longitude"))
_PIN_TEXT = re.compile(r"^\s*(-?\d{1,2}\.\d+)\s*,\s*(-?\d{1,3}\.\d+)\s*$")


def _coordinate(value: Any, limit: float) -> float | None:
    """A finite number (or numeric text) within [-limit, limit], else None; booleans are not numbers."""
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) and -limit <= number <= limit else None


def pin(lat: Any, long: Any) -> Pin | None:
    """(lat, long) as floats when the latitude is within ±90 and the longitude within ±180, else None."""
    lat_value, long_value = _coordinate(lat, 90), _coordinate(long, 180)
    return None if lat_value is None or long_value is None else (lat_value, long_value)


def pin_text(lat: float, long: float) -> str:
    """How a pin is written as text (and kept in the `location` slot): "41.30412, -72.92471"."""
    return f"{lat:.5f}, {long:.5f}"


def pin_message(lat: Any, long: Any) -> tuple[str, dict[str, Any]] | None:
    """The text and metadata a channel sends for a shared pin, or None when it is no valid pin."""
    found = pin(lat, long)
    if found is None:
        return None
    return pin_text(*found), {METADATA_KEY: {"lat": found[0], "long": found[1]}}


def _pin_in(mapping: Mapping[str, Any]) -> Pin | None:
    for lat_key, long_key in _PIN_KEYS:
        if lat_key in mapping and long_key in mapping:
            found = pin(mapping[lat_key], mapping[long_key])
            if found:
                return found
    return None


def location_pin(
    metadata: Mapping[str, Any] | None, entities: Sequence[Mapping[str, Any]] = ()
) -> Pin | None:
    """The pin in a parsed message: its metadata first, else its `latitude`/`longitude` entities."""
    location = (metadata or {}).get(METADATA_KEY)
    if isinstance(location, Mapping):
        found = _pin_in(location)
        if found:
            return found
    values = {str(e.get("entity")): e.get("value") for e in entities if isinstance(e, Mapping)}
    return _pin_in(values)


def coordinates(text: str) -> Pin | None:
    """ "41.30412, -72.92471" (as `pin_text` writes it, or typed) as a pin, else None."""
    match = _PIN_TEXT.match(text)
    return pin(match.group(1), match.group(2)) if match else None
