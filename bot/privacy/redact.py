"""Replace a citizen's personal data in free text with typed placeholders.

What is redacted, and the trade-offs (docs/privacy.md has the measured recall and precision):

- ``[email]``: anything shaped like ``name@domain.tld``.
- ``[card]``: 13 to 19 digits, optionally grouped by spaces or dashes, that pass the Luhn check
  (so a long request or account number that fails Luhn is kept).
- ``[id number]``: US Social Security numbers (``123-45-6789``, ``123 45 6789``, and a bare
  ``123456789``), UK National Insurance numbers (``QQ 12 34 56 C``) and Canadian Social Insurance
  numbers (``123-456-782``, grouped, Luhn-checked). A bare nine-digit run is kept when it is named
  as a request, ticket, case, account or other reference number ("request 123456789", "#123456789"):
  staff need those. After an SSN word ("SSN", "social security") any nine digits are redacted.
- ``[date of birth]``: a date near a birth word ("born", "birthday", "date of birth", "DOB"), with or
  without a year (``03/14/1985``, ``1985-03-14``, ``March 14th, 1985``, ``14 March``), a year after
  "born in"; and any full date (day, month and year) more than ``BIRTH_YEARS`` years ago, which in a
  city chat is nearly always someone's birth date. Ordinary dates ("pickup on 12/05/2026", "the pool
  opens 2026-09-01", "it happened on 3 May") are kept.
- ``[phone]``: US numbers with separators or a ``+1`` (``(555) 123-4567``, ``555.123.4567``,
  ``+1 555 123 4567``), international numbers starting with ``+`` or ``00`` (8 to 15 digits), and a
  bare 10-digit run only right after a phone word ("call me at 5551234567"): a bare run on its own
  may be a 311 request number, which staff need to see.
- ``[address]``: a house number, an optional direction, one to four capitalised or lower-case
  words and a street type (``12 Elm St``, ``1400 North Harbor Boulevard Apt 3``), with any unit;
  PO boxes; and the exact text a citizen gave a form as their address or location (``known``),
  whatever its shape ("the blue house past the mill").

Never redacted: 311 request numbers (5 to 12 digits, ``#512077``, ``SR-512077``), ordinary dates,
times, prices, and the city's own public phone numbers and addresses (``public`` terms: every phone
number and street address found in the content files and the facility data is published, so seeing
it in a message says nothing about the citizen).

`Redactor.find` returns the spans and their kinds (the labelled set in tests/privacy/ measures them);
`Redactor.redact` replaces them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date

EMAIL = re.compile(r"(?<![\w.+'-])[\w.+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")
CARD = re.compile(r"(?<![\w-])\d(?:[ -]?\d){12,18}(?![\w-])")
SSN = re.compile(r"(?<![\w-])(?!000|666|9\d\d)\d{3}([- ])(?!00)\d{2}\1(?!0000)\d{4}(?![\w-])")
BARE_SSN = re.compile(r"(?<![\w#-])(?!000|666|9\d\d)\d{3}(?!00)\d{2}(?!0000)\d{4}(?![\w-])")
_SSN_WORDS = r"(?:ssn|ss\s?#|ss\s?no|social\s+security|social\s+sec|social|itin|tax\s+id)"
CUED_SSN = re.compile(rf"(?i)\b{_SSN_WORDS}(?!\w)[^\d\n]{{0,25}}(\d{{3}}[- ]?\d{{2}}[- ]?\d{{4}})(?![\w-])")
# Words that name a bare nine-digit run as a number staff need (the text just before it).
_REFERENCE = re.compile(
    r"(?i)(?:request|req|ticket|case|sr|ref|reference|order|confirmation|conf|tracking|account|acct"
    r"|permit|invoice|receipt|report|claim|application|citation|license|licence|bill|policy|id|meter|parcel)"
    r"\W{0,3}(?:(?:no|nr|num|number|id|is|was)\.?\W{0,3}){0,2}$"
)
SIN = re.compile(r"(?<![\w-])\d{3}([- ])\d{3}\1\d{3}(?![\w-])")
NINO = re.compile(
    r"\b(?![DFIQUV])[A-Z](?![DFIQUVO])[A-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b",
    re.IGNORECASE,
)
_SEP = "[ .\u2013-]"  # a space, dot, hyphen or en dash (phones autocorrect hyphens)
_US_PHONE = rf"(?:\+?1{_SEP}?)?(?:\(\d{{3}}\)[\s-]?|\d{{3}}{_SEP})\d{{3}}{_SEP}\d{{4}}"
_INTL_PHONE = r"(?:\+|\b00)[1-9]\d{0,2}(?:[ .-]?\(?\d{1,4}\)?){2,6}"
PHONE = re.compile(rf"(?<![\w+-])(?:{_INTL_PHONE}|{_US_PHONE})(?![\w-])")
_PHONE_WORDS = r"(?:call|phone|cell|mobile|tel|text|reach|contact)"
BARE_PHONE = re.compile(rf"(?i)(\b{_PHONE_WORDS}\b[^\d\n]{{0,20}})(\+?1?\d{{10}})(?!\d)")

_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_DAY = r"(?:[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)?"
_YEAR = r"(?:19|20)\d{2}"
# Dates with a year: 03/14/1985, 14.03.85, 1985-03-14, March 14th, 1985, 14 March 1985, Mar 14 85.
_NUMERIC_DATE = r"\d{1,2}[/.-]\d{1,2}[/.-](?:\d{4}|\d{2})"
_ISO_DATE = r"(?:19|20)\d{2}[/.-]\d{1,2}[/.-]\d{1,2}"
_WORD_DATE = rf"(?:{_MONTH}\s+{_DAY},?\s+(?:{_YEAR}|'?\d{{2}})|{_DAY}\s+(?:of\s+)?{_MONTH},?\s+{_YEAR})"
FULL_DATE = re.compile(rf"(?i)(?<![\w/.-])(?:{_ISO_DATE}|{_NUMERIC_DATE}|{_WORD_DATE})(?![\w/-]|\.\d)")
# Only with a birth word: the day without a year, or the year alone.
PART_DATE = re.compile(
    rf"(?i)(?<![\w/.-])(?:{_MONTH}\s+{_DAY}|{_DAY}\s+(?:of\s+)?{_MONTH}|\d{{1,2}}/\d{{1,2}}|{_YEAR})(?![\w/-])"
)
BIRTH_WORDS = re.compile(
    r"(?i)\b(?:born|birth\s?days?|birth\s?dates?|date\s+of\s+birth|dob|d\.o\.b\.?|b-?day|bday)(?!\w)"
)
BIRTH_WINDOW = 40  # characters between a birth word and the date it names
BIRTH_YEARS = 13  # a full date at least this many years ago is taken for a birth date

_STREET_TYPES = (
    "street|st|avenue|ave|av|boulevard|blvd|road|rd|drive|dr|lane|ln|way|court|ct|place|pl|terrace|ter"
    "|parkway|pkwy|highway|hwy|circle|cir|square|sq|trail|trl|plaza|alley|crescent|row|loop"
)
_DIRECTION = r"(?:north|south|east|west|n|s|e|w|ne|nw|se|sw)\.?"
_UNIT = r"(?:,?\s*(?:apt|apartment|unit|suite|ste|#)\.?\s*#?\s*[a-z0-9-]+)?"
# Small words that never start a street's name: "3 kids on this court" is no address.
_NOT_A_NAME = r"(?!(?:on|at|in|the|this|that|of|for|to|and|my|our|your|by|near|from|with)\b)"
ADDRESS = re.compile(
    rf"(?i)\b\d{{1,6}}[a-z]?\s+(?:{_DIRECTION}\s+)?(?:{_NOT_A_NAME}[a-z][a-z'-]*\.?\s+){{1,4}}?(?:{_STREET_TYPES})\b\.?"
    rf"{_UNIT}"
)
PO_BOX = re.compile(r"(?i)\b(?:p\.?\s?o\.?\s?box|post\s+office\s+box)\s*#?\s*\d+\b")
KNOWN_MIN_CHARS = 4  # a form answer shorter than this ("5", "yes") is not redacted everywhere

PLACEHOLDERS = {
    "email": "[email]",
    "card": "[card]",
    "id": "[id number]",
    "birth": "[date of birth]",
    "phone": "[phone]",
    "address": "[address]",
}
KINDS = tuple(PLACEHOLDERS)


@dataclass(frozen=True)
class Found:
    """One piece of personal data: where it is in the text and what kind it is."""

    start: int
    end: int
    kind: str


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


def _year_of(date_text: str, today: date) -> int | None:
    """The year a full date names (two-digit years read as the latest one not after next year)."""
    years = re.findall(r"(?<!\d)(\d{4}|\d{2})(?!\d)", date_text.replace("'", " "))
    if not years:
        return None
    four = [y for y in years if len(y) == 4]
    if four:
        return int(four[0])
    two = int(years[-1])
    century = today.year // 100 * 100
    return century + two if century + two <= today.year + 1 else century - 100 + two


def _near_birth_word(text: str, start: int, end: int) -> bool:
    before = text[max(0, start - BIRTH_WINDOW) : start]
    after = text[end : end + BIRTH_WINDOW]
    sentence_before = re.split(r"[.!?\n]\s", before)[-1]
    sentence_after = re.split(r"[.!?\n]\s", after)[0]
    return bool(BIRTH_WORDS.search(sentence_before) or BIRTH_WORDS.search(sentence_after))


def _named_reference(text: str, start: int) -> bool:
    return bool(_REFERENCE.search(text[max(0, start - 30) : start]))


class _Spans:
    """Spans found so far; later (lower-priority) matches may not overlap earlier ones."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.masked = text  # the text with found spans blanked out, for the next patterns
        self.found: list[Found] = []

    def add(self, start: int, end: int, kind: str) -> None:
        if start >= end or any(f.start < end and start < f.end for f in self.found):
            return
        self.found.append(Found(start, end, kind))
        self.masked = self.masked[:start] + "\x00" * (end - start) + self.masked[end:]

    def scan(self, pattern: re.Pattern[str], kind: str, keep: Callable[[re.Match[str]], bool]) -> None:
        for match in list(pattern.finditer(self.masked)):
            if keep(match):
                self.add(match.start(), match.end(), kind)


@dataclass(frozen=True)
class Redactor:
    """Redacts personal data; ``public`` holds the city's own numbers and addresses to keep.

    ``today`` fixes the date against which "a date long ago" is judged (tests); None is today.
    """

    public: frozenset[str] = field(default_factory=frozenset)
    today: date | None = None

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

    def find(self, text: str, known: Iterable[str] = ()) -> list[Found]:
        """Every piece of personal data in ``text``, in order; ``known``: form answers (addresses)."""
        today = self.today or date.today()
        spans = _Spans(text)
        for value in _known_values(known):
            if not self._is_public(value):
                spans.scan(_exact(value), "address", lambda m: True)
        spans.scan(EMAIL, "email", lambda m: True)
        spans.scan(CARD, "card", lambda m: luhn_ok(_digits(m.group(0))))
        for match in CUED_SSN.finditer(spans.masked):
            spans.add(match.start(1), match.end(1), "id")
        spans.scan(SSN, "id", lambda m: True)
        spans.scan(BARE_SSN, "id", lambda m: not _named_reference(text, m.start()))
        spans.scan(SIN, "id", lambda m: luhn_ok(_digits(m.group(0))))
        spans.scan(NINO, "id", lambda m: True)
        spans.scan(FULL_DATE, "birth", lambda m: self._birth_date(text, m, today))
        spans.scan(PART_DATE, "birth", lambda m: _near_birth_word(text, m.start(), m.end()))
        spans.scan(PHONE, "phone", lambda m: not self._is_public(m.group(0)))
        for match in BARE_PHONE.finditer(spans.masked):
            spans.add(match.start(2), match.end(2), "phone")
        spans.scan(PO_BOX, "address", lambda m: True)
        spans.scan(ADDRESS, "address", lambda m: not self._is_public(m.group(0)))
        return sorted(spans.found, key=lambda f: f.start)

    @staticmethod
    def _birth_date(text: str, match: re.Match[str], today: date) -> bool:
        if _near_birth_word(text, match.start(), match.end()):
            return True
        year = _year_of(match.group(0), today)
        return year is not None and year <= today.year - BIRTH_YEARS

    def redact(self, text: str, known: Iterable[str] = ()) -> str:
        """``text`` with every kind of personal data replaced by ``[phone]``, ``[email]`` etc.

        ``known``: what the citizen gave a form as their address or location, redacted wherever
        it appears (it need not look like an address).
        """
        out, last = [], 0
        for found in self.find(text, known):
            out += [text[last : found.start], PLACEHOLDERS[found.kind]]
            last = found.end
        return "".join(out) + text[last:]


def _known_values(values: Iterable[str]) -> Iterator[str]:
    """Form answers worth redacting, longest first (so "12 Elm St Apt 3" wins over "12 Elm St")."""
    cleaned = {" ".join(str(v).split()) for v in values if v}
    yield from sorted((v for v in cleaned if len(v) >= KNOWN_MIN_CHARS), key=len, reverse=True)


def _exact(value: str) -> re.Pattern[str]:
    """``value`` anywhere, in any case and spacing, not inside a longer word."""
    words = r"\s+".join(re.escape(word) for word in value.split())
    return re.compile(rf"(?i)(?<!\w){words}(?!\w)")


def _public_key(text: str) -> str:
    digits = _digits(text)
    if len(digits) >= 7 and not re.search(r"[A-Za-z]", text):
        return digits[-10:]
    return " ".join(re.findall(r"[a-z0-9]+", text.casefold()))


DEFAULT = Redactor()


def redact(text: str, known: Iterable[str] = ()) -> str:
    """Redact with no public allow-list: for logs, where keeping a city number matters little."""
    return DEFAULT.redact(text, known)
