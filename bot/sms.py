"""How many SMS segments a text takes, counted as the carriers do.

Text made only of GSM 03.38 characters is sent as GSM-7 (160 characters in one segment, 153 per
segment when split; the extension characters such as `€` or `{` take two); any other character
(an emoji, a curly quote) turns the whole message into UCS-2 (70 UTF-16 units in one segment, 67
per segment). Broadcasts and the content studio's SMS preview count with it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

_GSM_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXTENDED = "^{}\\[~]|€\f"
GSM_BASIC, GSM_EXTENDED = frozenset(_GSM_BASIC), frozenset(_GSM_EXTENDED)


@dataclass(frozen=True)
class SmsLength:
    encoding: str  # "GSM-7" or "UCS-2"
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    segments: int


def sms_length(text: str) -> SmsLength:
    """How many SMS segments `text` takes (0 for no text)."""
    if all(c in GSM_BASIC or c in GSM_EXTENDED for c in text):
        units = sum(2 if c in GSM_EXTENDED else 1 for c in text)
        single, part, encoding = 160, 153, "GSM-7"
    else:
        units = len(text.encode("utf-16-le")) // 2
        single, part, encoding = 70, 67, "UCS-2"
    segments = 0 if units == 0 else 1 if units <= single else math.ceil(units / part)
    return SmsLength(encoding, units, segments)
