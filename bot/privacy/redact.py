"""Replace a citizen's personal data in free text with typed placeholders.

What is redacted, and the trade-offs (also in docs/content-and-inbox.md):

- ``[email]``: anything shaped like ``name@domain.tld``.
- ``[card]``: 13 to 19 digits, optionally grouped by spaces or dashes, that pass the Luhn check
  (so a long request or account number that fails Luhn is kept).
- ``[id number]``: US Social Security numbers (``123-45-6789``, ``123 45 6789``; a bare nine-digit
  run is kept because it may be a 311 request number), UK National Insurance numbers
  (``QQ 12 34 56 C``) and Canadian Social Insurance numbers (``123-456-782``, grouped, Luhn-checked).
- ``[phone]``: US numbers with separators or a ``+1`` (``(555) 123-4567``, ``555.123.4567``,
  ``+1 555 123 4567``), international numbers starting with ``+`` or ``00`` (8 to 15 digits), and a
  bare 10-digit run only right after a phone word ("call me at 5551234567"): a bare run on its own
  may be a 311 request number, which staff need to see.
- ``[address]``: a house number, an optional direction, one to four capitalised or lower-case
  words and a street type (``12 Elm St``, ``1400 North Harbor Boulevard Apt 3``), with any unit;
  and PO boxes.

Never redacted: 311 request numbers (5 to 12 digits, ``#512077``, ``SR-512077``), dates, times,
prices, and the city's own public phone numbers and addresses (``public`` terms: every phone
number and street address found in the content files and the facility data is published, so
seeing it in a message says nothing about the citizen).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")
CARD = re.compile(r"(?<![\w-])\d(?:[ -]?\d){12,18}(?![\w-])")
SSN = re.compile(r"(?<![\w-])(?!000|666|9\d\d)\d{3}([- ])(?!00)\d{2}\1(?!0000)\d{4}(?![\w-])")
SIN = re.compile(r"(?<![\w-])\d{3}([- ])\d{3}\1\d{3}(?![\w-])")
NINO = re.compile(
    r"\b(?![DFIQUV])[A-Z](?![DFIQUVO])[A-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b",
    re.IGNORECASE,
)
_US_PHONE = r"(?:\+?1[ .-]?)?(?:\(\d{3}\)\s?|\d{3}[ .-])\d{3}[ .-]\d{4}"
_INTL_PHONE = r"(?:\+|\b00)[1-9]\d{0,2}(?:[ .-]?\(?\d{1,4}\)?){2,6}"
PHONE = re.compile(rf"(?<![\w+-])(?:{_INTL_PHONE}|{_US_PHONE})(?![\w-])")
_PHONE_WORDS = r"(?:call|phone|cell|mobile|tel|text|reach|contact)"
BARE_PHONE = re.compile(rf"(?i)(\b{_PHONE_WORDS}\b[^\d\n]{{0,20}})(\+?1?\d{{10}})(?!\d)")

_STREET_TYPES = (
    "street|st|avenue|ave|av|boulevard|blvd|road|rd|drive|dr|lane|ln|way|court|ct|place|pl|terrace|ter"
    "|parkway|pkwy|highway|hwy|circle|cir|square|sq|trail|trl|plaza|alley|crescent|row|loop"
)
_DIRECTION = r"(?:north|south|east|west|n|s|e|w|ne|nw|se|sw)\.?"
_UNIT = r"(?:,?\s*(?:apt|apartment|unit|suite|ste|#)\.?\s*#?\s*[a-z0-9-]+)?"
ADDRESS = re.compile(
    rf"(?i)\b\d{{1,6}}[a-z]?\s+(?:{_DIRECTION}\s+)?(?:[a-z][a-z'-]*\.?\s+){{1,4}}?(?:{_STREET_TYPES})\b\.?"
    rf"{_UNIT}"
)
PO_BOX = re.compile(r"(?i)\b(?:p\.?\s?o\.?\s?box|post\s+office\s+box)\s*#?\s*\d+\b")


def luhn_ok(digits: str) -> bool:
    """The checksum every payment card (and a Canadian SIN) carries."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


@dataclass(frozen=True)
class Redactor:
    """Redacts personal data; ``public`` holds the city's own numbers and addresses to keep."""

    public: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def with_public(cls, texts: Iterable[str]) -> Redactor:
        """A redactor that keeps every phone number and address that appears in ``texts``."""
        found: set[str] = set()
        for text in texts:
            for pattern in (PHONE, ADDRESS, PO_BOX):
                found.update(_public_key(m.group(0)) for m in pattern.finditer(text))
        return cls(frozenset(found))

    def _is_public(self, match: str) -> bool:
        return _public_key(match) in self.public

    def redact(self, text: str) -> str:
        """``text`` with every kind of personal data replaced by ``[phone]``, ``[email]`` etc."""
        text = EMAIL.sub("[email]", text)
        text = CARD.sub(lambda m: "[card]" if luhn_ok(_digits(m.group(0))) else m.group(0), text)
        text = SSN.sub("[id number]", text)
        text = SIN.sub(lambda m: "[id number]" if luhn_ok(_digits(m.group(0))) else m.group(0), text)
        text = NINO.sub("[id number]", text)
        text = PHONE.sub(lambda m: m.group(0) if self._is_public(m.group(0)) else "[phone]", text)
        text = BARE_PHONE.sub(lambda m: m.group(1) + "[phone]", text)
        text = PO_BOX.sub("[address]", text)
        return ADDRESS.sub(lambda m: m.group(0) if self._is_public(m.group(0)) else "[address]", text)


def _public_key(text: str) -> str:
    digits = _digits(text)
    if len(digits) >= 7 and not re.search(r"[A-Za-z]", text):
        return digits[-10:]
    return " ".join(re.findall(r"[a-z0-9]+", text.casefold()))


DEFAULT = Redactor()


def redact(text: str) -> str:
    """Redact with no public allow-list: for logs, where keeping a city number matters little."""
    return DEFAULT.redact(text)
