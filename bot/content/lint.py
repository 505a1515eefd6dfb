"""The findings of ``content check``, each with the file and line a person can open.

Errors are content the assistant cannot use or would get wrong (it cannot be
read, a required field is missing, a link is broken, two entries are trained on
the same question, a phone number or agency web address is not one of
``data/agency.yml``'s). Warnings need a person's judgement (reading level, long SMS,
nearly-duplicate questions, stray formatting, reviews older than a year).
Every function takes what it checks as arguments, so tests can point them at a
small content directory.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from bot.content.agency import Agency, UnknownFactError
from bot.content.generate import ALL_TOPICS, BUTTON_TITLE_LIMIT, MENU_LIMITS, menu_topics, render_answer
from bot.content.model import (
    VERDICTS,
    ContentError,
    Entry,
    RenderSettings,
    Topic,
    Variant,
    parse_entry,
    read_yaml_with_lines,
    topic_files,
    with_variant,
)
from bot.content.similar import Question, similar_pairs
from bot.content.textcheck import (
    READING_GRADE_LIMIT,
    formatting_problems,
    link_problems,
    phone_digits,
    phone_numbers_in,
    reading_grade,
    site_address_key,
    site_addresses_in,
    url_problem,
)
from bot.content.writer import ENTRY_KEYS, unknown_keys

TEXT_KEYS = tuple(key for key in ENTRY_KEYS if key not in {"questions", "sensitive", "overridden_by"})
REPLY_FIELDS = ("answer", "short_answer", "claim", "agency")
STALE_MONTHS = 12


@dataclass(frozen=True)
class Problem:
    path: str
    line: int
    message: str
    error: bool = True
    group: str = ""  # findings printed together under this heading, e.g. a department

    def __str__(self) -> str:
        kind = "error" if self.error else "warning"
        return f"{self.path}:{self.line}: {kind}: {self.message}"


def _at(entry: Entry, message: str, error: bool = True, group: str = "", line: int = 0) -> Problem:
    return Problem(entry.path, line or entry.line, f"{entry.id}: {message}", error, group)


def reply_texts_of(entry: Entry, fields: tuple[str, ...] = REPLY_FIELDS) -> list[tuple[int, str, str]]:
    """(line, name, text) of ``fields`` of the entry, then each variant's answer and short answer
    (a message test's wordings are checked by the same rules as the entry's own)."""
    found = [(entry.line, key, getattr(entry, key)) for key in fields]
    for variant in entry.variants:
        found += [
            (variant.line or entry.line, f"variant {variant.id} {key}", getattr(variant, key))
            for key in ("answer", "short_answer")
            if key in fields
        ]
    return found


# --- reading the files, one problem per broken entry instead of one per directory ------------


def content_error(exc: ContentError) -> Problem:
    """A loader error as a finding; YAML syntax errors in one line, not PyYAML's five."""
    cause = exc.__cause__
    if isinstance(cause, yaml.MarkedYAMLError) and cause.problem_mark:
        # The context (e.g. where an unclosed quote opened) is where a person should look.
        found = cause.problem_mark.line + 1
        if cause.context and cause.context_mark:
            message = f"not valid YAML: {cause.context}, {cause.problem} (line {found})"
            return Problem(exc.path, cause.context_mark.line + 1, message)
        return Problem(exc.path, found, f"not valid YAML: {cause.problem}")
    prefix = f"{exc.path}:{exc.line}: " if exc.line else f"{exc.path}: "
    return Problem(exc.path, exc.line or 1, str(exc).removeprefix(prefix))


def load_checked(content_dir: Path) -> tuple[list[Topic], list[Problem]]:
    """Every entry that can be read, and a problem for each file or entry that cannot."""
    topics, problems = [], []
    for path in topic_files(content_dir):
        try:
            raw = read_yaml_with_lines(path)
        except ContentError as exc:
            problems.append(content_error(exc))
            continue
        topic, found = _read_topic(path, raw)
        problems += found
        if topic:
            topics.append(topic)
    return topics, problems


def _read_topic(path: Path, raw: Any) -> tuple[Topic | None, list[Problem]]:
    if not isinstance(raw, dict) or not isinstance(raw.get("entries"), list):
        return None, [Problem(str(path), 1, "a content file needs a list under 'entries:'")]
    meta = raw.get("topic") or {}
    if not isinstance(meta, dict):
        return None, [Problem(str(path), 1, "'topic:' must be a mapping with id and title")]
    topic_id = str(meta.get("id") or path.stem)
    title = str(meta.get("title") or topic_id.replace("_", " ").capitalize())
    problems = [Problem(str(path), line, f"unknown key {key!r} (a typo?)") for line, key in unknown_keys(raw)]
    entries = []
    for item in raw["entries"]:
        try:
            entries.append(parse_entry(item, path, topic_id))
        except ContentError as exc:
            problems.append(content_error(exc))
            continue
        problems += raw_entry_problems(item, entries[-1])
    return Topic(id=topic_id, title=title, path=path, entries=tuple(entries)), problems


def raw_entry_problems(raw: dict[str, Any], entry: Entry) -> list[Problem]:
    """What the loader quietly converts: a list as an answer, ``sensitive: 'no'`` read as true."""
    problems = [
        _at(entry, f"{key} must be a text, not a list or mapping") for key in TEXT_KEYS if _nested(raw, key)
    ]
    if "sensitive" in raw and not isinstance(raw["sensitive"], bool):
        problems.append(_at(entry, "sensitive must be true or false, without quotes"))
    problems += [
        _at(entry, f"example question {str(q)[:40]!r}... spans several lines: one question per line")
        for q in raw.get("questions") or []
        if "\n" in str(q).strip()
    ]
    return problems


def _nested(raw: dict[str, Any], key: str) -> bool:
    return isinstance(raw.get(key), (list, dict))


# --- one entry at a time ---------------------------------------------------------------------


def entry_problems(entries: list[Entry]) -> list[Problem]:
    """Required fields, ids used twice, links, a rumor's related entry."""
    problems = []
    counts = Counter(e.id for e in entries)
    by_id = {e.id: e for e in entries}
    for entry in entries:
        if counts[entry.id] > 1:
            problems.append(_at(entry, "duplicate id (used by another entry)"))
        for key in ("answer", "source", "department"):
            if not getattr(entry, key):
                problems.append(_at(entry, f"missing {key}" + (" link" if key == "source" else "")))
        if not entry.questions:
            problems.append(_at(entry, "needs at least one example question"))
        if entry.kind == "rumor" and not entry.claim:
            problems.append(_at(entry, "a rumor needs the claim it answers"))
        if entry.kind == "referral" and not entry.agency:
            problems.append(_at(entry, "a referral needs the agency that handles it"))
        if entry.agency and entry.kind != "referral":
            problems.append(_at(entry, "agency: only a referral names another agency (use kind: referral)"))
        if entry.related:
            problems += related_findings(entry, by_id)
        if entry.verdict and entry.verdict not in VERDICTS:
            problems.append(_at(entry, f"verdict {entry.verdict!r} must be {' / '.join(VERDICTS)}"))
        if entry.last_reviewed and not _date(entry.last_reviewed):
            message = f"last_reviewed {entry.last_reviewed!r} is not a date like 2026-09-01"
            problems.append(_at(entry, message))
        problems += link_findings(entry)
    return problems


def related_findings(entry: Entry, by_id: dict[str, Entry]) -> list[Problem]:
    """A rumor's ``related`` names the entry that answers its topic without a verdict."""
    if entry.kind != "rumor":
        return [_at(entry, "related: only a rumor names a related entry")]
    target = by_id.get(entry.related)
    if target is None:
        problem = "is not the id of any entry: name the FAQ that answers this topic"
    elif target.kind == "rumor":
        problem = "is a rumor: name an FAQ that answers the topic without a verdict"
    elif target.sensitive:
        problem = "is a crisis entry: name an FAQ that answers this topic"
    else:
        return []
    return [_at(entry, f"related {entry.related!r} {problem}")]


def alert_findings(entries: list[Entry], agency: Agency) -> list[Problem]:
    """``overridden_by`` must name events of the agency's alert feed, or no alert ever matches."""
    known = {event.casefold() for event in agency.alert_events}
    listed = ", ".join(agency.alert_events) or "none"
    return [
        _at(
            entry,
            f"overridden_by: {event!r} is not an alert event in {agency.path} "
            f"(alert_events: {listed}); use one of those names, or add the feed's name there",
        )
        for entry in entries
        for event in entry.overridden_by
        if event.casefold() not in known
    ]


def link_findings(entry: Entry) -> list[Problem]:
    """The source and every link in a reply must be an absolute https URL a citizen can open."""
    problems = []
    if entry.source and (problem := url_problem(entry.source)):
        problems.append(_at(entry, f"source {entry.source!r} {problem}"))
    for line, key, text in reply_texts_of(entry):
        problems += [_at(entry, f"{key}: {message}", line=line) for message in link_problems(text)]
    return problems


def formatting_findings(entries: list[Entry]) -> list[Problem]:
    """Unbalanced brackets, quotes and markdown: warnings, as a text can use them on purpose."""
    return [
        _at(entry, f"{key}: {message}", error=False, line=line)
        for entry in entries
        for line, key, text in reply_texts_of(entry)
        for message in formatting_problems(text)
    ]


def sms_findings(entries: list[Entry], settings: RenderSettings) -> list[Problem]:
    """Replies longer than ``sms_limit`` arrive as several texts (and cost several)."""
    problems = []
    for entry in entries:
        arms: list[tuple[str, Entry, int]] = [("", entry, entry.line)]
        arms += [(f"variant {v.id}: ", with_variant(entry, v), v.line or entry.line) for v in entry.variants]
        for name, shown, line in arms:
            length = len(render_answer(shown, settings, short=True))
            if length <= settings.sms_limit:
                continue
            message = f"{name}SMS reply is {length} characters, over sms_limit {settings.sms_limit}"
            hint = ": shorten the short_answer" if shown.short_answer else ": add a short_answer"
            problems.append(_at(entry, message + hint, error=False, line=line))
    return problems


def menu_findings(topics: list[Topic], settings: RenderSettings, settings_path: str) -> list[Problem]:
    """Menus a channel would cut: more topics or services than it shows, titles it shortens."""
    problems = [
        Problem(str(topic.path), 1, f"the topic id {ALL_TOPICS!r} is the menu's list of topics: rename it")
        for topic in topics
        if topic.id == ALL_TOPICS
    ]
    channel, limit = min(MENU_LIMITS.items(), key=lambda item: item[1])
    listed = len(menu_topics(topics))
    if listed > limit:
        message = f"{listed} topics in the menu: {channel} shows the first {limit}"
        problems.append(Problem(settings_path, 1, message, error=False))
    if len(settings.services) + 1 > limit:
        count = len(settings.services)
        message = f"{count} services and the topics button: {channel} shows the first {limit}"
        problems.append(Problem(settings_path, 1, message, error=False))
    for service in settings.services:
        if len(service.title) > BUTTON_TITLE_LIMIT:
            message = f"services: {service.title!r} is cut to {BUTTON_TITLE_LIMIT} characters on Messenger"
            problems.append(Problem(settings_path, 1, message, error=False))
    return problems


def reading_findings(entries: list[Entry], limit: float = READING_GRADE_LIMIT) -> list[Problem]:
    problems = []
    for entry in entries:
        for line, key, text in reply_texts_of(entry, ("answer", "short_answer")):
            grade = reading_grade(text) if text else 0.0
            if grade > limit:
                message = f"{key} reads at grade {grade:.1f} (Flesch-Kincaid), above {limit:g}"
                problems.append(_at(entry, message, error=False, line=line))
    return problems


# --- the agency's facts: phone numbers and web addresses ------------------------------------

_DIALABLE = re.compile(r"\+?[\d\s().-]*\d[\d\s().-]*")


@dataclass(frozen=True)
class KnownFacts:
    """The phone numbers (as digits) and web addresses (as compared) the agency file publishes."""

    agency: Agency
    phones: frozenset[str]
    addresses: frozenset[str]

    @classmethod
    def of(cls, agency: Agency) -> KnownFacts:
        phones: set[str] = set()
        addresses: set[str] = set()
        for value in agency.facts.values():
            numbers = [value] if _DIALABLE.fullmatch(value) else phone_numbers_in(value)
            phones |= {phone_digits(number) for number in numbers}
            addresses |= {site_address_key(a) for a in site_addresses_in(value, agency.domain)}
        return cls(agency, frozenset(phones), frozenset(addresses))

    def knows_phone(self, number: str) -> bool:
        """True for a published number; a 7-digit one also matches a published number's end."""
        digits = phone_digits(number)
        if digits in self.phones:
            return True
        return len(digits) == 7 and any(len(p) == 10 and p.endswith(digits) for p in self.phones)


def fact_messages(text: str, known: KnownFacts, also: frozenset[str] = frozenset()) -> list[str]:
    """What in ``text`` the agency file does not have: ``{agency.<key>}`` placeholders, and
    (placeholders filled in) phone numbers and agency web addresses.

    ``also``: further addresses allowed in this text, in ``site_address_key`` form.
    """
    agency = known.agency
    messages = [str(UnknownFactError([key], agency.path)) for key in agency.unknown_keys(text)]
    expanded = agency.expand(text, strict=False)
    messages += [
        f"phone number {number!r} is not one of the agency's: write {{agency.<key>}} "
        f"with a key from {agency.path}, or add the number there"
        for number in phone_numbers_in(expanded)
        if not known.knows_phone(number)
    ]
    messages += [
        f"web address {address!r} is not one of the agency's: write {{agency.<key>}} "
        f"with a key from {agency.path}, or add the address there"
        for address in site_addresses_in(expanded, agency.domain)
        if site_address_key(address) not in known.addresses | also
    ]
    return messages


def agency_findings(entries: list[Entry], known: KnownFacts) -> list[Problem]:
    """Every reply field against the agency file; an entry may also name its own source page."""
    problems = []
    for entry in entries:
        own_source = frozenset({site_address_key(entry.source)}) if entry.source else frozenset()
        for line, key, text in reply_texts_of(entry):
            messages = fact_messages(text, known, own_source)
            problems += [_at(entry, f"{key}: {message}", line=line) for message in messages]
        if entry.kind == "referral" and site_addresses_in(entry.source, known.agency.domain):
            message = (
                f"source {entry.source!r} is the city's: a referral links to the other government's "
                "page (for a city page use kind: faq)"
            )
            problems.append(_at(entry, message))
    return problems


def expanded_entry(entry: Entry, agency: Agency) -> Entry:
    """The entry with its placeholders filled, as citizens read it (unknown ones left as written)."""
    return replace(
        entry,
        answer=agency.expand(entry.answer, strict=False),
        short_answer=agency.expand(entry.short_answer, strict=False),
        claim=agency.expand(entry.claim, strict=False),
        agency=agency.expand(entry.agency, strict=False),
        variants=tuple(_expanded_variant(variant, agency) for variant in entry.variants),
    )


def _expanded_variant(variant: Variant, agency: Agency) -> Variant:
    return replace(
        variant,
        answer=agency.expand(variant.answer, strict=False),
        short_answer=agency.expand(variant.short_answer, strict=False),
    )


def reply_texts(path: Path) -> list[tuple[int, str, str]]:
    """(line, what, text) for every text citizens read in a response, canned-reply or messages file.

    A file with ``responses:`` (domain.yml, data/responses) gives each variation's text and
    button titles, named by response; one with ``canned_replies:`` each reply's text; any
    other file each top-level text, named by its key. Raises ``ContentError`` for bad YAML.
    """
    try:
        root = yaml.compose(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    except (OSError, yaml.YAMLError) as exc:
        raise ContentError(path, f"cannot be read: {exc}") from exc
    if not isinstance(root, yaml.MappingNode):
        return []
    top = {name.value: value for name, value in root.value if isinstance(name, yaml.ScalarNode)}
    if "responses" in top:
        return _response_texts(top["responses"])
    if "canned_replies" in top:
        found = []
        for item in _mapping_get(root, "canned_replies", yaml.SequenceNode):
            fields = _scalars(item)
            if "text" in fields:
                line, text = fields["text"]
                title = fields["title"][1] if "title" in fields else text
                found.append((line, f"canned reply {title!r}", text))
        return found
    return [(line, key, text) for key, (line, text) in _scalars(root).items()]


def _scalars(node: Any) -> dict[str, tuple[int, str]]:
    """A mapping node's plain texts: key -> (line, text)."""
    if not isinstance(node, yaml.MappingNode):
        return {}
    return {
        name.value: (value.start_mark.line + 1, value.value)
        for name, value in node.value
        if isinstance(name, yaml.ScalarNode) and isinstance(value, yaml.ScalarNode)
    }


def _response_texts(responses: Any) -> list[tuple[int, str, str]]:
    found: list[tuple[int, str, str]] = []
    if not isinstance(responses, yaml.MappingNode):
        return found
    for name, variations in responses.value:
        if not isinstance(variations, yaml.SequenceNode):
            continue
        for variation in variations.value:
            if "text" in (fields := _scalars(variation)):
                found.append((fields["text"][0], name.value, fields["text"][1]))
            for button in _mapping_get(variation, "buttons", yaml.SequenceNode):
                if "title" in (titles := _scalars(button)):
                    found.append((titles["title"][0], f"{name.value} button", titles["title"][1]))
    return found


def reply_file_findings(paths: list[Path], known: KnownFacts) -> list[Problem]:
    """The agency-facts rule for responses, canned replies and handoff messages."""
    problems = []
    for path in paths:
        try:
            texts = reply_texts(path)
        except ContentError as exc:
            problems.append(content_error(exc))
            continue
        for line, what, text in texts:
            problems += [Problem(str(path), line, f"{what}: {m}") for m in fact_messages(text, known)]
    return problems


# --- review dates ----------------------------------------------------------------------------


def _date(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if len(text) == 10 else None
    except ValueError:
        return None


def months_before(day: date, months: int) -> date:
    """The same day ``months`` earlier (the 28th when that month is shorter)."""
    month_index = day.year * 12 + day.month - 1 - months
    year, month = divmod(month_index, 12)
    for last in (day.day, 30, 29, 28):
        try:
            return date(year, month + 1, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable: every month has a 28th")


def review_findings(entries: list[Entry], today: date, months: int = STALE_MONTHS) -> list[Problem]:
    """Entries nobody has reviewed for ``months``, grouped by the department that owns them."""
    cutoff = months_before(today, months)
    problems = []
    for entry in entries:
        department = entry.department or "(no department)"
        reviewed = _date(entry.last_reviewed)
        if not entry.last_reviewed:
            problems.append(_at(entry, "no last_reviewed date", error=False, group=department))
        elif reviewed and reviewed < cutoff:
            message = f"last reviewed {entry.last_reviewed}, over {months} months ago"
            problems.append(_at(entry, message, error=False, group=department))
        elif reviewed and reviewed > today:
            problems.append(_at(entry, f"last_reviewed {entry.last_reviewed} is in the future", error=False))
    return problems


# --- example questions across entries --------------------------------------------------------


def question_lines(path: Path) -> dict[tuple[int, str], int]:
    """(entry line, question text) -> the line of that question, so a duplicate points at it."""
    try:
        root = yaml.compose(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return {}
    lines: dict[tuple[int, str], int] = {}
    for entry in _mapping_get(root, "entries", yaml.SequenceNode):
        questions = _mapping_get(entry, "questions", yaml.SequenceNode)
        for node in questions:
            if isinstance(node, yaml.ScalarNode):
                key = (entry.start_mark.line + 1, node.value.strip())
                lines.setdefault(key, node.start_mark.line + 1)
    return lines


def _mapping_get(node: Any, key: str, kind: type[yaml.Node]) -> list[Any]:
    if isinstance(node, yaml.MappingNode):
        for name, value in node.value:
            if isinstance(name, yaml.ScalarNode) and name.value == key and isinstance(value, kind):
                return list(value.value)
    return []


def question_findings(entries: list[Entry]) -> list[Problem]:
    """The same question under two entries is an error; nearly the same (>= 0.9) a warning."""
    lines: dict[tuple[str, int, str], int] = {}
    for path in sorted({entry.path for entry in entries}):
        lines.update({(path, *key): line for key, line in question_lines(Path(path)).items()})
    questions = [Question(text, entry) for entry in entries for text in entry.questions]
    problems = []
    for pair in similar_pairs(questions):
        first, second = pair.first.owner, pair.second.owner
        assert isinstance(first, Entry) and isinstance(second, Entry)
        where = lines.get((second.path, second.line, pair.second.text), second.line)
        there = lines.get((first.path, first.line, pair.first.text), first.line)
        same = "the same as" if pair.score == 1.0 else f"nearly the same (similarity {pair.score:.2f}) as"
        message = (
            f"{second.id}: example question {pair.second.text!r} is {same} {pair.first.text!r} "
            f"under {first.id} ({first.path}:{there})"
        )
        problems.append(Problem(second.path, where, message, error=pair.score == 1.0))
    return problems
