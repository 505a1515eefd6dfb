"""Reading the day a citizen asks about: "tomorrow", "on Sunday", "next Monday", "Christmas Eve", "12/24".

Pure: the words come from the `days` section of each language's file (data/language/<code>.yml, so
another language adds its own; `day_reader(code)`), and "today" is always the caller's, in the
agency's time zone, so a server running in UTC never turns a late-evening "tomorrow" into the day
after. Holidays are known by rule (the language file) and by the names in the agency's own feed.
Accents are optional on both sides: "mañana" and "manana" are the same word (`unaccented`).
"""

from __future__ import annotations

import calendar
import functools
import logging
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import yaml

from bot.content.agency import SOURCE_LANGUAGE

log = logging.getLogger(__name__)

LANGUAGE_DIR = Path(__file__).resolve().parent.parent / "data" / "language"
LANGUAGE_FILE = LANGUAGE_DIR / f"{SOURCE_LANGUAGE}.yml"
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MONTHS = tuple(name.lower() for name in calendar.month_name[1:])
RELATIVE = {"yesterday": -1, "today": 0, "tonight": 0, "tomorrow": 1, "day_after_tomorrow": 2}
NUMERIC_ORDERS = ("month_first", "day_first")
_OBSERVED = re.compile(r"\s*\([^)]*\)\s*$")  # "Christmas Day (observed)" is known as "Christmas Day"
T = TypeVar("T")


# --- words in any language: the file, its fallback, accents --------------------------------------------


class MissingWords(ValueError):
    """A language has no words (yet) for one part of the assistant: no file, or no such section.

    Not a mistake in the file: a language being added answers with the English words meanwhile.
    """


def words_file(source: str | Path) -> Path:
    """The file of a language code ("es": data/language/es.yml), or `source` itself when it is a file."""
    return source if isinstance(source, Path) else LANGUAGE_DIR / f"{source}.yml"


def read_words_file(path: Path) -> Mapping[str, Any]:
    """The sections of a language file; MissingWords when there is no such file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise MissingWords(f"{path}: no such language file") from exc
    raw = yaml.safe_load(text) or {}
    if not isinstance(raw, Mapping):
        raise ValueError(f"{path}: a language file is a list of sections (stopwords:, days:, ...)")
    return raw


def words_or_english(language: str, load: Callable[[str], T], what: str) -> T:
    """`load(language)`, or the English words when that language has none for `what` yet.

    Callers cache the result per language, so the warning is logged once per language.
    """
    try:
        return load(language)
    except MissingWords as exc:
        if language == SOURCE_LANGUAGE:
            raise
        log.warning("%s: the %s words are read in English until they are written", exc, what)
        return load(SOURCE_LANGUAGE)


@functools.cache
def _base_letter(char: str) -> str:
    decomposed = unicodedata.normalize("NFKD", char)
    base = "".join(c for c in decomposed if not unicodedata.combining(c))
    return base if len(base) == 1 else char


def unaccented(text: str) -> str:
    """`text` with each accented letter replaced by its base letter ("mañana" -> "manana"), and as long
    as `text`: a match found in it is at the same place in `text`, so what it finds is cut from the
    citizen's own words, accents and all."""
    return text if text.isascii() else "".join(_base_letter(c) for c in text)


@dataclass(frozen=True)
class HolidayRule:
    """A holiday on a fixed date (`month`, `day`) or the `nth` `weekday` of `month` (-1: the last)."""

    name: str
    names: tuple[str, ...]
    month: int
    day: int = 0
    weekday: int = -1
    nth: int = 0
    plus_days: int = 0

    def on(self, year: int) -> date | None:
        """Its date in `year`; None for a date the year lacks (29 February)."""
        if self.day:
            try:
                return date(year, self.month, self.day) + timedelta(days=self.plus_days)
            except ValueError:
                return None
        days = [d for d in _month_days(year, self.month) if d.weekday() == self.weekday]
        return days[self.nth - 1 if self.nth > 0 else self.nth] + timedelta(days=self.plus_days)


@dataclass(frozen=True)
class DayWords:
    """The `days` section of a language file, lower-cased."""

    relative: Mapping[str, tuple[str, ...]]  # a key of RELATIVE -> phrases
    next: tuple[str, ...]
    every: tuple[str, ...]
    after: tuple[str, ...]
    ordinal_endings: tuple[str, ...]
    of: tuple[str, ...]
    the: tuple[str, ...]
    day_first: bool
    follow_up: tuple[str, ...]
    weekdays: tuple[tuple[str, ...], ...]  # Monday first
    weekdays_plural: tuple[tuple[str, ...], ...]
    months: tuple[tuple[str, ...], ...]  # January first
    holidays: tuple[HolidayRule, ...]
    not_days: tuple[str, ...] = ()  # "por la mañana" is in the morning, not tomorrow ("mañana")
    next_after: tuple[str, ...] = ()  # "el lunes que viene": `next` written after the weekday
    ordinal_optional: bool = False  # "el 24" is a day of the month without an ordinal ending


@dataclass(frozen=True)
class DayRef:
    """The day a message is about. `day` is None when the words name no real date ("Feb 30").

    `kind`: today, tonight, relative (tomorrow, yesterday), weekday, date, holiday.
    `every`: "on Mondays" (the usual day, not one date). `after`: "after Thanksgiving".
    """

    day: date | None
    said: str
    kind: str
    every: bool = False
    after: bool = False
    holiday: str = ""

    @property
    def is_today_or_now(self) -> bool:
        return self.kind in ("today", "tonight")


def local_today(now: datetime, zone: ZoneInfo) -> date:
    """The date in the agency's zone at the instant `now` (aware): 23:30 in New York is not tomorrow."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(zone).date()


def day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """Local midnight to the next local midnight, as aware instants (23 or 25 hours on DST days)."""
    start = datetime.combine(day, datetime.min.time(), tzinfo=zone)
    return start, datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=zone)


# --- the language file ---------------------------------------------------------------------------------


def _optional_words(path: Path, section: Mapping[str, Any], key: str) -> tuple[str, ...]:
    return _words(path, section, key) if key in section else ()


def _words(path: Path, section: Mapping[str, Any], key: str) -> tuple[str, ...]:
    items = section.get(key)
    if not isinstance(items, list) or not items or not all(isinstance(i, str) and i.strip() for i in items):
        raise ValueError(f"{path}: days.{key} must be a non-empty list of text (quote no, on, off and yes)")
    return tuple(" ".join(i.lower().split()) for i in items)


def _by_name(
    path: Path, section: Mapping[str, Any], key: str, names: tuple[str, ...]
) -> tuple[tuple[str, ...], ...]:
    part = section.get(key)
    if not isinstance(part, Mapping) or sorted(map(str, part)) != sorted(names):
        raise ValueError(f"{path}: days.{key} must name exactly {', '.join(names)}")
    return tuple(_words(path, part, name) for name in names)


def _holiday(path: Path, raw: Any, index: int) -> HolidayRule:
    where = f"{path}: days.holidays[{index}]"
    if not isinstance(raw, Mapping) or not str(raw.get("name") or "").strip():
        raise ValueError(f"{where} needs a name")
    name = str(raw["name"]).strip()
    names = (name.lower(), *(_words(path, raw, "also") if "also" in raw else ()))
    plus = int(raw.get("plus_days") or 0)
    if raw.get("date"):
        match = re.fullmatch(r"(\d{2})-(\d{2})", str(raw["date"]))
        if not match or not _real_date(2000, int(match[1]), int(match[2])):
            raise ValueError(f"{where}: date must be MM-DD")
        return HolidayRule(name, names, int(match[1]), int(match[2]), plus_days=plus)
    month, weekday, nth = raw.get("month"), str(raw.get("weekday") or "").lower(), raw.get("nth")
    if (
        not isinstance(month, int)
        or not 1 <= month <= 12
        or weekday not in WEEKDAYS
        or nth not in (-1, 1, 2, 3, 4)
    ):
        raise ValueError(f"{where}: give date: MM-DD, or month (1-12), weekday and nth (1-4 or -1)")
    return HolidayRule(name, names, month, weekday=WEEKDAYS.index(weekday), nth=nth, plus_days=plus)


def load_day_words(source: str | Path = LANGUAGE_FILE) -> DayWords:
    """The `days` section of a language ("es") or a file; ValueError naming the file and key when
    something is wrong, MissingWords (a ValueError too) when there is no file or no such section."""
    path = words_file(source)
    section = read_words_file(path).get("days")
    if section is None:
        raise MissingWords(f"{path}: the days section is missing")
    if not isinstance(section, Mapping):
        raise ValueError(f"{path}: the days section must list today, tomorrow, weekdays, ...")
    order = section.get("numeric_order")
    if order not in NUMERIC_ORDERS:
        raise ValueError(f"{path}: days.numeric_order must be one of {', '.join(NUMERIC_ORDERS)}")
    optional = section.get("ordinal_optional", False)
    if not isinstance(optional, bool):
        raise ValueError(f"{path}: days.ordinal_optional must be true or false")
    return DayWords(
        relative={key: _words(path, section, key) for key in RELATIVE},
        next=_words(path, section, "next"),
        every=_words(path, section, "every"),
        after=_words(path, section, "after"),
        ordinal_endings=_words(path, section, "ordinal_endings"),
        of=_words(path, section, "of"),
        the=_words(path, section, "the"),
        day_first=order == "day_first",
        follow_up=_words(path, section, "follow_up"),
        weekdays=_by_name(path, section, "weekdays", WEEKDAYS),
        weekdays_plural=_by_name(path, section, "weekdays_plural", WEEKDAYS),
        months=_by_name(path, section, "months", MONTHS),
        holidays=tuple(_holiday(path, h, i) for i, h in enumerate(section.get("holidays") or [])),
        not_days=_optional_words(path, section, "not_days"),
        next_after=_optional_words(path, section, "next_after"),
        ordinal_optional=optional,
    )


@functools.cache
def day_reader(language: str = SOURCE_LANGUAGE) -> DayReader:
    """The reader of one language's day words, built once; English for a language without them."""
    return DayReader(words_or_english(language, load_day_words, "days"))


# --- matching --------------------------------------------------------------------------------------------


def _normal(text: str) -> str:
    """Lower case without accents, straight apostrophes, punctuation other than ' / - as spaces."""
    text = unaccented(text.lower()).replace("\u2019", "'").replace("\u2018", "'")
    return " ".join(re.sub(r"[^a-z0-9'/\-]+", " ", text).split())


def _phrase(phrase: str) -> str:
    """A phrase as a regex: any spaces between words; an apostrophe optional, also before a final s."""
    words = []
    for word in _normal(phrase).split():
        pattern = re.escape(word).replace("'", "'?")
        words.append(pattern[:-1] + "'?s" if word.endswith("s") and "'" not in word else pattern)
    return r"\s+".join(words)


def _alternatives(phrases: Iterable[str]) -> str:
    return "(?:" + "|".join(_phrase(p) for p in sorted(set(phrases), key=len, reverse=True)) + ")"


_EDGE_BEFORE, _EDGE_AFTER = r"(?<![a-z0-9'])", r"(?![a-z0-9'])"


def _whole(pattern: str) -> re.Pattern[str]:
    return re.compile(_EDGE_BEFORE + pattern + _EDGE_AFTER)


def _month_days(year: int, month: int) -> list[date]:
    return [date(year, month, d) for d in range(1, calendar.monthrange(year, month)[1] + 1)]


def _real_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _upcoming(today: date, month: int, day: int) -> date | None:
    """The next `month`/`day` from `today` on (today included); None when there is no such date."""
    for year in range(today.year, today.year + 9):  # 29 February comes back within 8 years
        found = _real_date(year, month, day)
        if found and found >= today:
            return found
    return None


def _year(text: str | None, today: date) -> int | None:
    if not text:
        return None
    value = int(text)
    return value + (today.year // 100) * 100 if value < 100 else value


@dataclass(frozen=True)
class _Found:
    start: int
    end: int
    ref: DayRef
    rank: int  # lower wins: a date or holiday says more than "tomorrow", which says more than "Monday"


class DayReader:
    """`read(text, today)`: the day a message is about, with the patterns built once from `words`."""

    def __init__(self, words: DayWords) -> None:
        self.words = words
        ordinal = _alternatives(words.ordinal_endings)
        self._month_names = [(i + 1, _alternatives(names)) for i, names in enumerate(words.months)]
        months = "|".join(f"(?P<m{m}>{p})" for m, p in self._month_names)
        number = rf"(?P<d>\d{{1,2}})(?:{ordinal})?"
        of = _alternatives(words.of)
        year = rf"(?:,?\s+(?:{of}\s+)?(?P<y>\d{{4}}))?"  # "December 24, 2027", "24 de diciembre de 2027"
        self._month_day = _whole(rf"(?:{months})\.?\s+{number}{year}")
        self._day_month = _whole(rf"{number}\s+(?:{of}\s+)?(?:{months}){year}")
        the = _alternatives(words.the)
        ending = f"(?:{ordinal})" + ("?" if words.ordinal_optional else "")
        self._the_nth = _whole(rf"{the}\s+(?P<d>\d{{1,2}}){ending}(?!\s+[a-z])")
        self._numeric = re.compile(
            r"(?<![\d/.\-])(?P<a>\d{1,2})/(?P<b>\d{1,2})(?:/(?P<y>\d{4}|\d{2}))?(?![\d/])"
        )
        self._iso = re.compile(r"(?<![\d\-])(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})(?![\d\-])")
        self._relative = [(key, _whole(_alternatives(p))) for key, p in words.relative.items()]
        self._weekdays = [(i, _whole(_alternatives(p))) for i, p in enumerate(words.weekdays)]
        self._plural = [(i, _whole(_alternatives(p))) for i, p in enumerate(words.weekdays_plural)]
        self._next = re.compile(_alternatives(words.next) + r"\s+$")
        self._next_after = (
            re.compile(r"\s+" + _alternatives(words.next_after) + _EDGE_AFTER) if words.next_after else None
        )
        self._not_days = _whole(_alternatives(words.not_days)) if words.not_days else None
        self._every = re.compile(_alternatives(words.every) + r"\s+$")
        self._after = re.compile(r"(?:^|\s)" + _alternatives(words.after) + rf"\s+(?:{the}\s+)?$")
        self._follow_up = re.compile(r"^" + _alternatives(words.follow_up) + _EDGE_AFTER)

    def is_follow_up(self, text: str) -> bool:
        """A short follow-up that keeps the last day asked about: "and the library?", "what about X"."""
        return bool(self._follow_up.match(_normal(text)))

    def holiday_rules_on(self, day: date) -> list[str]:
        """Names of the holidays the language file puts on `day`."""
        return [rule.name for rule in self.words.holidays if rule.on(day.year) == day]

    def read(
        self, text: str, today: date, agency_holidays: Mapping[date, str] | None = None
    ) -> DayRef | None:
        """The day `text` is about, seen from `today` (the agency's local date); None when it names none."""
        normal = self._without_not_days(_normal(text))
        found = [  # a holiday first: "the 4th of July" is a date too, and the holiday's name says more
            *self._holidays(normal, today, agency_holidays or {}),
            *self._dates(normal, today),
            *self._relatives(normal, today),
            *self._weekday_refs(normal, today),
        ]
        if not found:
            return None
        best = min(found, key=lambda f: (f.rank, f.start))
        before = normal[: best.start]
        if self._after.search(before):
            return DayRef(best.ref.day, best.ref.said, best.ref.kind, best.ref.every, True, best.ref.holiday)
        return best.ref

    def _without_not_days(self, normal: str) -> str:
        """`normal` with the phrases that name no day blanked out (as long as before: places stay put)."""
        if self._not_days is None:
            return normal
        return self._not_days.sub(lambda match: " " * len(match.group(0)), normal)

    # --- each kind of day word ---------------------------------------------------------------------------

    def _month_of(self, match: re.Match[str]) -> int:
        return next(m for m, _ in self._month_names if match.group(f"m{m}"))

    def _dates(self, text: str, today: date) -> list[_Found]:
        found = []
        for pattern in (self._month_day, self._day_month):
            for match in pattern.finditer(text):
                found.append(self._date(match, today, self._month_of(match), int(match["d"]), match["y"]))
        for match in self._iso.finditer(text):
            day = _real_date(int(match["y"]), int(match["m"]), int(match["d"]))
            found.append(_Found(match.start(), match.end(), DayRef(day, match.group(0), "date"), 0))
        for match in self._numeric.finditer(text):
            first, second = int(match["a"]), int(match["b"])
            month, day_number = (second, first) if self.words.day_first else (first, second)
            if month > 12 and day_number <= 12:  # "24/12" where 12/24 is the usual order: unambiguous
                month, day_number = day_number, month
            if month > 12 or not 1 <= day_number <= 31:
                continue  # "3/45" is no date
            found.append(self._date(match, today, month, day_number, match["y"]))
        for match in self._the_nth.finditer(text):
            day_number = int(match["d"])
            if 1 <= day_number <= 31:
                ref = DayRef(self._nth_of_month(today, day_number), match.group(0), "date")
                found.append(_Found(match.start(), match.end(), ref, 1))
        return found

    def _date(
        self, match: re.Match[str], today: date, month: int, day_number: int, year: str | None
    ) -> _Found:
        given = _year(year, today)
        day = _real_date(given, month, day_number) if given else _upcoming(today, month, day_number)
        return _Found(match.start(), match.end(), DayRef(day, match.group(0), "date"), 0)

    @staticmethod
    def _nth_of_month(today: date, day_number: int) -> date | None:
        """ "the 24th": this month's, or next month's once this month's has passed."""
        for offset in range(3):
            month_index = today.month - 1 + offset
            found = _real_date(today.year + month_index // 12, month_index % 12 + 1, day_number)
            if found and found >= today:
                return found
        return None

    def _holidays(self, text: str, today: date, agency: Mapping[date, str]) -> list[_Found]:
        named: list[tuple[str, tuple[str, ...], list[date]]] = []
        for rule in self.words.holidays:
            dates = [d for d in (rule.on(today.year), rule.on(today.year + 1)) if d and d >= today]
            named.append((rule.name, rule.names, dates))
        for day, name in sorted(agency.items()):
            plain = _OBSERVED.sub("", name).strip()
            known = any(_normal(plain) in map(_normal, names) for _, names, _ in named)
            if day >= today and plain and not known:
                named.append((plain, (plain.lower(),), [day]))
        found = []
        for name, names, dates in named:
            for match in _whole(_alternatives(names)).finditer(text):
                ref = DayRef(dates[0] if dates else None, match.group(0), "holiday", holiday=name)
                found.append(_Found(match.start(), match.end(), ref, 0))
        return _longest(found)

    def _relatives(self, text: str, today: date) -> list[_Found]:
        found = []
        for key, pattern in self._relative:
            for match in pattern.finditer(text):
                kind = key if key in ("today", "tonight") else "relative"
                ref = DayRef(today + timedelta(days=RELATIVE[key]), match.group(0), kind)
                found.append(_Found(match.start(), match.end(), ref, 1))
        return _longest(found)

    def _next_after_weekday(self, text: str, end: int) -> bool:
        """ "el lunes que viene": the word for next right after the weekday that ends at `end`."""
        return self._next_after is not None and bool(self._next_after.match(text, end))

    def _weekday_refs(self, text: str, today: date) -> list[_Found]:
        found = []
        for plural, patterns in ((True, self._plural), (False, self._weekdays)):
            for weekday, pattern in patterns:
                for match in pattern.finditer(text):
                    before = text[: match.start()]
                    after_next = bool(self._next.search(before)) or self._next_after_weekday(
                        text, match.end()
                    )
                    every = plural or bool(self._every.search(before))
                    ahead = (weekday - today.weekday()) % 7
                    if after_next and ahead == 0:
                        ahead = 7  # "next Monday" said on a Monday: a week later, never today
                    ref = DayRef(today + timedelta(days=ahead), match.group(0), "weekday", every=every)
                    found.append(_Found(match.start(), match.end(), ref, 2))
        return _longest(found)


def _longest(found: list[_Found]) -> list[_Found]:
    """Drop matches inside a longer one: "day after thanksgiving" is not also "thanksgiving"."""
    return [f for f in found if not any(o is not f and o.start <= f.start and f.end <= o.end and
                                        (o.end - o.start) > (f.end - f.start) for o in found)]  # fmt: skip
