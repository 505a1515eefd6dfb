"""The findings of ``content check``, each with the file and line a person can open.

Errors are content the assistant cannot use or would get wrong (it cannot be
read, a required field is missing, a link is broken, two entries are trained on
the same question, a phone number or agency web address is not one of
``data/agency.yml``'s). Warnings need a person's judgement (reading level, long SMS,
nearly-duplicate questions, stray formatting, reviews older than a year, a window
that has ended). Every function takes what it checks as arguments, so tests can point
them at a small content directory, and the content studio at one entry
(``bot.content.entrycheck``). A finding about one field of an entry names it in
``Problem.field`` (``answer``, ``questions.3``, ``variants.0.short_answer``, ...).
"""

from __future__ import annotations

import difflib
import re
import threading
from collections import Counter
from dataclasses import dataclass, replace
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import yaml

from bot.channels.wording import sms_with_options
from bot.content.agency import SOURCE_LANGUAGE, Agency, UnknownFactError
from bot.content.generate import ALL_TOPICS, BUTTON_TITLE_LIMIT, MENU_LIMITS, menu_topics, render_answer
from bot.content.model import (
    VERDICTS,
    ContentError,
    Entry,
    RenderSettings,
    Topic,
    Variant,
    parse_day,
    parse_entry,
    read_yaml_with_lines,
    topic_files,
    with_variant,
)
from bot.content.model import parse_topic_titles as topic_titles
from bot.content.similar import (
    SHORTLIST_DICE,
    THRESHOLD,
    Question,
    SimilarPair,
    fold_for_similarity,
    similar_pairs,
)
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
from bot.language.texts import TRANSLATIONS

TEXT_KEYS = tuple(key for key in ENTRY_KEYS if key not in {"questions", "sensitive", "overridden_by"})
REPLY_FIELDS = ("answer", "short_answer", "claim", "agency")
STALE_MONTHS = 12


@dataclass(frozen=True)
class Problem:
    path: str
    line: int
    message: str
    error: bool = True
    group: str = ""  # findings printed together under this heading, e.g. "review due, Library"
    field: str = ""  # the entry's field it is about, for the studio; not printed

    def __str__(self) -> str:
        kind = "error" if self.error else "warning"
        return f"{self.path}:{self.line}: {kind}: {self.message}"


@dataclass(frozen=True)
class LanguageProblem(Problem):
    """A finding about the text in one language; ``todo`` is STALE, UNSTAMPED or MISSING for the
    to-do list, "" for a rule the translated text breaks (``bot.content.translations``)."""

    language: str = ""
    todo: str = ""


def _at(
    entry: Entry, message: str, error: bool = True, group: str = "", line: int = 0, field: str = ""
) -> Problem:
    return Problem(entry.path, line or entry.line, f"{entry.id}: {message}", error, group, field)


class ReplyText(NamedTuple):
    """One text of an entry citizens read: its line, its name in messages, its field, the text."""

    line: int
    name: str
    field: str
    text: str


def reply_fields_of(entry: Entry, fields: tuple[str, ...] = REPLY_FIELDS) -> list[ReplyText]:
    """``fields`` of the entry, then each variant's answer and short answer (a message test's
    wordings are checked by the same rules as the entry's own; their field is ``variants.<n>.<key>``)."""
    found = [ReplyText(entry.line, key, key, getattr(entry, key)) for key in fields]
    for index, variant in enumerate(entry.variants):
        found += [
            ReplyText(
                variant.line or entry.line,
                f"variant {variant.id} {key}",
                f"variants.{index}.{key}",
                getattr(variant, key),
            )
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
    try:
        titles = {found.language: found.answer for found in topic_titles(meta.get("translations"), path)}
    except ContentError as exc:
        titles = {}
        problems.append(content_error(exc))
    entries = []
    for item in raw["entries"]:
        try:
            entries.append(parse_entry(item, path, topic_id))
        except ContentError as exc:
            problems.append(content_error(exc))
            continue
        problems += raw_entry_problems(item, entries[-1])
    return Topic(id=topic_id, title=title, path=path, entries=tuple(entries), titles=titles), problems


def raw_entry_problems(raw: dict[str, Any], entry: Entry) -> list[Problem]:
    """What the loader quietly converts: a list as an answer, ``sensitive: 'no'`` read as true."""
    problems = [
        _at(entry, f"{key} must be a text, not a list or mapping", field=key)
        for key in TEXT_KEYS
        if _nested(raw, key)
    ]
    problems += [
        _at(entry, f"{key} must be true or false, without quotes", field=key)
        for key in ("sensitive", "retired")
        if key in raw and not isinstance(raw[key], bool)
    ]
    # Numbered as the entry's questions: the empty ones are left out.
    questions = [str(q) for q in raw.get("questions") or [] if str(q).strip()]
    problems += [
        _at(
            entry,
            f"example question {q[:40]!r}... spans several lines: one question per line",
            field=f"questions.{index}",
        )
        for index, q in enumerate(questions)
        if "\n" in q.strip()
    ]
    return problems


def _nested(raw: dict[str, Any], key: str) -> bool:
    return isinstance(raw.get(key), (list, dict))


# --- one entry at a time ---------------------------------------------------------------------


def entry_problems(entries: list[Entry], among: list[Entry] | None = None) -> list[Problem]:
    """Required fields, ids used twice, links, a rumor's related entry, of each of ``entries``;
    ids and related entries are looked up ``among`` all entries (default: ``entries``)."""
    among = entries if among is None else among
    counts = Counter(e.id for e in among)
    by_id = {e.id: e for e in among}
    return [
        problem for entry in entries for problem in one_entry_problems(entry, by_id, counts[entry.id] > 1)
    ]


def one_entry_problems(entry: Entry, by_id: dict[str, Entry], duplicate: bool = False) -> list[Problem]:
    """``entry_problems`` of one entry; ``duplicate``: another entry has its id."""
    problems = []
    if duplicate:
        problems.append(_at(entry, "duplicate id (used by another entry)", field="id"))
    for key in ("answer", "source", "department"):
        if not getattr(entry, key):
            problems.append(_at(entry, f"missing {key}" + (" link" if key == "source" else ""), field=key))
    if not entry.questions:
        problems.append(_at(entry, "needs at least one example question", field="questions"))
    if entry.kind == "rumor" and not entry.claim:
        problems.append(_at(entry, "a rumor needs the claim it answers", field="claim"))
    if entry.kind == "referral" and not entry.agency:
        problems.append(_at(entry, "a referral needs the agency that handles it", field="agency"))
    if entry.agency and entry.kind != "referral":
        message = "agency: only a referral names another agency (use kind: referral)"
        problems.append(_at(entry, message, field="agency"))
    if entry.related:
        problems += related_findings(entry, by_id)
    if entry.verdict and entry.verdict not in VERDICTS:
        message = f"verdict {entry.verdict!r} must be {' / '.join(VERDICTS)}"
        problems.append(_at(entry, message, field="verdict"))
    if entry.last_reviewed and not _date(entry.last_reviewed):
        message = f"last_reviewed {entry.last_reviewed!r} is not a date like 2026-09-01"
        problems.append(_at(entry, message, field="last_reviewed"))
    problems += link_findings(entry)
    return problems


def related_findings(entry: Entry, by_id: dict[str, Entry]) -> list[Problem]:
    """A rumor's ``related`` names the entry that answers its topic without a verdict."""
    if entry.kind != "rumor":
        return [_at(entry, "related: only a rumor names a related entry", field="related")]
    target = by_id.get(entry.related)
    if target is None:
        problem = "is not the id of any entry: name the FAQ that answers this topic"
    elif target.kind == "rumor":
        problem = "is a rumor: name an FAQ that answers the topic without a verdict"
    elif target.sensitive:
        problem = "is a crisis entry: name an FAQ that answers this topic"
    elif target.retired:
        # A warning: retiring the FAQ must not turn every rumor naming it into an error.
        message = f"related {entry.related!r} is retired (never answered): name an FAQ that is answered"
        return [_at(entry, message, error=False, field="related")]
    else:
        return []
    return [_at(entry, f"related {entry.related!r} {problem}", field="related")]


def alert_findings(entries: list[Entry], agency: Agency) -> list[Problem]:
    """``overridden_by`` must name events of the agency's alert feed, or no alert ever matches."""
    known = {event.casefold() for event in agency.alert_events}
    listed = ", ".join(agency.alert_events) or "none"
    return [
        _at(
            entry,
            f"overridden_by: {event!r} is not an alert event in {agency.path} "
            f"(alert_events: {listed}); use one of those names, or add the feed's name there",
            field="overridden_by",
        )
        for entry in entries
        for event in entry.overridden_by
        if event.casefold() not in known
    ]


def link_findings(entry: Entry) -> list[Problem]:
    """The source and every link in a reply must be an absolute https URL a citizen can open."""
    problems = []
    if entry.source and (problem := url_problem(entry.source)):
        problems.append(_at(entry, f"source {entry.source!r} {problem}", field="source"))
    for line, key, field, text in reply_fields_of(entry):
        problems += [_at(entry, f"{key}: {m}", line=line, field=field) for m in link_problems(text)]
    return problems


def formatting_findings(entries: list[Entry]) -> list[Problem]:
    """Unbalanced brackets, quotes and markdown: warnings, as a text can use them on purpose."""
    return [
        _at(entry, f"{key}: {message}", error=False, line=line, field=field)
        for entry in entries
        for line, key, field, text in reply_fields_of(entry)
        for message in formatting_problems(text)
    ]


# Text left to fill in: [address], <phone>, {name} (an {agency.<key>} is the agency rules'), TBD.
_FILL_IN = re.compile(
    r"\[[A-Za-z][\w /.-]{0,40}\](?!\()"
    r"|<[A-Za-z][A-Za-z _-]{0,40}>"
    r"|\{(?!agency\.)[A-Za-z_][^{}\n]{0,40}\}"
    r"|\b(?:TBD|TBA|TODO|FIXME|XXX+)\b"
)


def placeholder_findings(entries: list[Entry]) -> list[Problem]:
    """Fill-in-the-blank text citizens would read as it is: ``[address]``, ``<date>``, ``TBD``."""
    return [
        _at(
            entry,
            f"{key}: {match.group(0)!r} is a placeholder left to fill in: write what citizens should "
            "read (an agency fact as {agency.<key>})",
            line=line,
            field=field,
        )
        for entry in entries
        for line, key, field, text in reply_fields_of(entry)
        for match in _FILL_IN.finditer(text)
    ]


def sms_reply(entry: Entry, settings: RenderSettings, language: str = SOURCE_LANGUAGE) -> str:
    """What an SMS reader of `language` gets: the short reply, then the buttons after it as the SMS
    channel numbers them (`answer_buttons` in the settings)."""
    text = render_answer(entry, settings, short=True)
    return sms_with_options(text, [button.title for button in settings.buttons_after(entry.id)], language)


def sms_findings(
    entries: list[Entry], settings: RenderSettings, language: str = SOURCE_LANGUAGE
) -> list[Problem]:
    """Replies longer than ``sms_limit`` arrive as several texts (and cost several)."""
    problems = []
    for entry in entries:
        arms: list[tuple[str, Entry, int, str]] = [("", entry, entry.line, "short_answer")]
        arms += [
            (f"variant {v.id}: ", with_variant(entry, v), v.line or entry.line, f"variants.{n}.short_answer")
            for n, v in enumerate(entry.variants)
        ]
        for name, shown, line, field in arms:
            length = len(sms_reply(shown, settings, language))
            if length <= settings.sms_limit:
                continue
            buttons = " with its buttons" if settings.buttons_after(entry.id) else ""
            message = f"{name}SMS reply is {length} characters{buttons}, over sms_limit {settings.sms_limit}"
            hint = ": shorten the short_answer" if shown.short_answer else ": add a short_answer"
            problems.append(_at(entry, message + hint, error=False, line=line, field=field))
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


def answer_button_findings(
    entries: list[Entry],
    settings: RenderSettings,
    settings_path: str,
    intents: frozenset[str] | None,
    services: frozenset[str] | None,
) -> list[Problem]:
    """Buttons after answers that would never show or would start nothing: an ``after`` that is not
    an entry's id, an intent ``intents`` (domain.yml's) does not have, a kind of problem ``services``
    (the names the assistant recognises, compared ignoring case) does not have; and titles Messenger
    cuts. A retired entry may stay listed: it gets no reply, so no button. None: not known, not checked.
    """
    ids = {entry.id for entry in entries}
    problems = []
    for button in settings.answer_buttons:
        name = f"answer_buttons: {button.title!r}"
        if intents is not None and button.intent not in intents:
            message = f"{name} starts {button.intent!r}, which is not an intent in domain.yml"
            problems.append(Problem(settings_path, button.line, message))
        if len(button.title) > BUTTON_TITLE_LIMIT:
            message = f"{name} is cut to {BUTTON_TITLE_LIMIT} characters on Messenger"
            problems.append(Problem(settings_path, button.line, message, error=False))
        for entry_id, service in button.after.items():
            if entry_id not in ids:
                message = f"{name}: after {entry_id!r} is not the id of an entry"
                problems.append(Problem(settings_path, button.line, message))
            if service and services is not None and " ".join(service.lower().split()) not in services:
                message = (
                    f"{name}: {entry_id}: {service!r} is not a kind of problem the assistant recognises "
                    "(`service:` in data/entities/*.yml)"
                )
                problems.append(Problem(settings_path, button.line, message))
    return problems


def reading_findings(entries: list[Entry], limit: float = READING_GRADE_LIMIT) -> list[Problem]:
    problems = []
    for entry in entries:
        for line, key, field, text in reply_fields_of(entry, ("answer", "short_answer")):
            grade = reading_grade(text) if text else 0.0
            if grade > limit:
                message = f"{key} reads at grade {grade:.1f} (Flesch-Kincaid), above {limit:g}"
                problems.append(_at(entry, message, error=False, line=line, field=field))
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
        for line, key, field, text in reply_fields_of(entry):
            messages = fact_messages(text, known, own_source)
            problems += [_at(entry, f"{key}: {message}", line=line, field=field) for message in messages]
        if entry.kind == "referral" and site_addresses_in(entry.source, known.agency.domain):
            message = (
                f"source {entry.source!r} is the city's: a referral links to the other government's "
                "page (for a city page use kind: faq)"
            )
            problems.append(_at(entry, message, field="source"))
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


class FileText(NamedTuple):
    """One text citizens read in a file of replies: its line, what it is (a response, a canned
    reply, a key), the text, and its language ("" for the English, else the translations block's)."""

    line: int
    what: str
    text: str
    language: str = ""


def reply_texts(path: Path) -> list[FileText]:
    """Every text citizens read in a response, canned-reply or texts file.

    A file with ``responses:`` (domain.yml, data/responses) gives each variation's text and
    button titles, named by response; one with ``canned_replies:`` each reply's text; any
    other file each text, named by its key (``counts.wait.one`` inside a mapping; lists are words
    citizens type, not texts). The texts of a ``translations:`` block (``bot.language.texts``) come
    with their language. Raises ``ContentError`` for bad YAML.
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
    found = _own_texts(root, "")
    block = top.get(TRANSLATIONS)
    for code, own in block.value if isinstance(block, yaml.MappingNode) else ():
        if isinstance(code, yaml.ScalarNode):
            found += _own_texts(own, code.value)
    return found


def _own_texts(node: Any, language: str) -> list[FileText]:
    """The texts of one language's mapping: its canned replies, or its texts by key."""
    if not _mapping_get(node, "canned_replies", yaml.SequenceNode):
        return _keyed_texts(node, "", language)
    found = []
    for item in _mapping_get(node, "canned_replies", yaml.SequenceNode):
        fields = _scalars(item)
        if "text" in fields:
            line, text = fields["text"]
            title = fields["title"][1] if "title" in fields else text
            found.append(FileText(line, f"canned reply {title!r}", text, language))
    return found


def _keyed_texts(node: Any, prefix: str, language: str) -> list[FileText]:
    found: list[FileText] = []
    if not isinstance(node, yaml.MappingNode):
        return found
    for name, value in node.value:
        if not isinstance(name, yaml.ScalarNode) or (not prefix and name.value == TRANSLATIONS):
            continue
        key = f"{prefix}{name.value}"
        if isinstance(value, yaml.ScalarNode):
            found.append(FileText(value.start_mark.line + 1, key, value.value, language))
        else:
            found += _keyed_texts(value, f"{key}.", language)
    return found


def _scalars(node: Any) -> dict[str, tuple[int, str]]:
    """A mapping node's plain texts: key -> (line, text)."""
    if not isinstance(node, yaml.MappingNode):
        return {}
    return {
        name.value: (value.start_mark.line + 1, value.value)
        for name, value in node.value
        if isinstance(name, yaml.ScalarNode) and isinstance(value, yaml.ScalarNode)
    }


def _response_texts(responses: Any) -> list[FileText]:
    found: list[FileText] = []
    if not isinstance(responses, yaml.MappingNode):
        return found
    for name, variations in responses.value:
        if not isinstance(variations, yaml.SequenceNode):
            continue
        for variation in variations.value:
            if "text" in (fields := _scalars(variation)):
                found.append(FileText(fields["text"][0], name.value, fields["text"][1]))
            for button in _mapping_get(variation, "buttons", yaml.SequenceNode):
                if "title" in (titles := _scalars(button)):
                    found.append(FileText(titles["title"][0], f"{name.value} button", titles["title"][1]))
    return found


def reply_file_findings(paths: list[Path], known: KnownFacts) -> list[Problem]:
    """The agency-facts rule for responses, canned replies and texts files, in every language: a
    translated text's finding is a ``LanguageProblem`` naming ``translations: <code>:``."""
    problems: list[Problem] = []
    for path in paths:
        try:
            texts = reply_texts(path)
        except ContentError as exc:
            problems.append(content_error(exc))
            continue
        for line, what, text, code in texts:
            for message in fact_messages(text, known):
                if code:
                    message = f"{TRANSLATIONS}: {code}: {what}: {message}"
                    problems.append(LanguageProblem(str(path), line, message, language=code))
                else:
                    problems.append(Problem(str(path), line, f"{what}: {message}"))
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
        department = f"review due, {entry.department or '(no department)'}"
        reviewed = _date(entry.last_reviewed)
        field = "last_reviewed"
        if not entry.last_reviewed:
            problems.append(_at(entry, "no last_reviewed date", error=False, group=department, field=field))
        elif reviewed and reviewed < cutoff:
            message = f"last reviewed {entry.last_reviewed}, over {months} months ago"
            problems.append(_at(entry, message, error=False, group=department, field=field))
        elif reviewed and reviewed > today:
            message = f"last_reviewed {entry.last_reviewed} is in the future"
            problems.append(_at(entry, message, error=False, field=field))
    return problems


# --- when an entry is answered ---------------------------------------------------------------


def window_findings(entries: list[Entry], today: date) -> list[Problem]:
    """A window that ends before it starts is a mistake; one that has ended silences the entry."""
    problems = []
    for entry in entries:
        start, end = parse_day(entry.valid_from), parse_day(entry.valid_until)
        if start and end and end < start:
            message = f"valid_until {entry.valid_until} is before valid_from {entry.valid_from}"
            problems.append(_at(entry, message, field="valid_until"))
        elif end and end < today and not entry.retired:
            message = (
                f"valid_until {entry.valid_until} has passed: no longer answered since "
                f"{end + timedelta(days=1)}, retire it or extend the window"
            )
            problems.append(_at(entry, message, error=False, field="valid_until"))
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
    """The same question under two entries is an error; nearly the same (>= 0.9) a warning.

    Retired entries are left out: they are not trained on, so they contradict nothing.
    """
    entries = [entry for entry in entries if not entry.retired]
    questions = [Question(text, entry) for entry in entries for text in entry.questions]
    return _question_problems(similar_pairs(questions), {entry.path for entry in entries})


def question_findings_for(entry: Entry, others: list[Entry]) -> list[Problem]:
    """``question_findings`` about ``entry``'s questions only, against the ``others`` (not retired):
    a few thousand comparisons instead of millions, fast enough for a save in the studio."""
    if entry.retired:
        return []
    theirs = [Question(text, other) for other in others if not other.retired for text in other.questions]
    pairs = similar_across([Question(text, entry) for text in entry.questions], theirs)
    return _question_problems(
        pairs, {pair.first.owner.path for pair in pairs if isinstance(pair.first.owner, Entry)}
    )


def _question_problems(pairs: list[SimilarPair], paths: set[str]) -> list[Problem]:
    """Each pair as a finding about its second question, naming the entry of the first."""
    lines: dict[tuple[str, int, str], int] = {}
    for path in sorted(p for p in paths if p):
        lines.update({(path, *key): line for key, line in question_lines(Path(path)).items()})
    problems = []
    for pair in pairs:
        first, second = pair.first.owner, pair.second.owner
        assert isinstance(first, Entry) and isinstance(second, Entry)
        where = lines.get((second.path, second.line, pair.second.text), second.line)
        there = lines.get((first.path, first.line, pair.first.text), first.line)
        same = "the same as" if pair.score == 1.0 else f"nearly the same (similarity {pair.score:.2f}) as"
        message = (
            f"{second.id}: example question {pair.second.text!r} is {same} {pair.first.text!r} "
            f"under {first.id} ({first.path}:{there})"
        )
        field = f"questions.{second.questions.index(pair.second.text)}"
        problems.append(Problem(second.path, where, message, error=pair.score == 1.0, field=field))
    return problems


# Every trigram seen, numbered: a question's trigrams are kept as a sorted array of these numbers.
# The studio checks in worker threads, so numbering takes the lock.
_GRAM_NUMBERS: dict[str, int] = {}
_NUMBERING = threading.Lock()


@lru_cache(maxsize=50_000)
def _folded(text: str) -> tuple[str, np.ndarray]:
    """A question as ``similar`` compares it: folded, and the numbers of its character trigrams."""
    folded = fold_for_similarity(text)
    padded = f" {folded} "
    grams = {padded[i : i + 3] for i in range(len(padded) - 2)}
    with _NUMBERING:
        numbered = sorted(_GRAM_NUMBERS.setdefault(g, len(_GRAM_NUMBERS)) for g in grams)
    numbers = np.array(numbered, dtype=np.int64)
    numbers.flags.writeable = False  # shared by every caller through the cache
    return folded, numbers


def similar_across(
    questions: list[Question], others: list[Question], threshold: float = THRESHOLD
) -> list[SimilarPair]:
    """``similar_pairs`` restricted to pairs (one of ``others``, one of ``questions``), the other first.

    The same shortlist (trigram overlap of at least ``SHORTLIST_DICE``) and score as
    ``similar_pairs``, but from the others' trigrams sorted once: a lookup per question instead of
    comparing every pair of the content's questions.
    """
    theirs = [_folded(q.text) for q in others]
    sizes = np.array([len(numbers) for _, numbers in theirs], dtype=np.int64)
    grams = np.concatenate([numbers for _, numbers in theirs]) if theirs else np.zeros(0, dtype=np.int64)
    owners = np.repeat(np.arange(len(others)), sizes)
    order = np.argsort(grams, kind="stable")
    grams, owners = grams[order], owners[order]
    found = []
    for question in questions:
        text, numbers = _folded(question.text)
        if not text or not len(numbers):
            continue
        starts, ends = np.searchsorted(grams, numbers, "left"), np.searchsorted(grams, numbers, "right")
        hits = np.concatenate([owners[start:end] for start, end in zip(starts, ends, strict=True)])
        dice = 2 * np.bincount(hits, minlength=len(others)) / (len(numbers) + sizes)
        for at in np.flatnonzero(dice >= SHORTLIST_DICE).tolist():
            other, other_text = others[at], theirs[at][0]
            if other.owner is question.owner or not other_text:
                continue
            if other_text == text:
                score = 1.0
            else:
                score = difflib.SequenceMatcher(None, other_text, text, autojunk=False).ratio()
            if score >= threshold:
                found.append(SimilarPair(other, question, score))
    return sorted(found, key=lambda p: -p.score)
