"""One entry against ``content check``'s rules, each finding on the field it is about.

The content studio checks every save with this: the entry as edited (the candidate) takes the
place of the entry with its id in the content (or joins its topic when it is new), the rules of
``bot.content.check.rule_problems`` run on it alone, and each finding becomes a ``FieldProblem``
on the field the studio shows it next to (``answer``, ``questions.3``, ``variants.0.answer``).
``added_errors`` keeps only the errors the saved version of the entry does not already have, so
an old problem never blocks fixing a wording. ``entry_fields`` / ``entry_from_fields`` are the
one JSON shape of an entry the studio's API and pages read and send, its ``translations`` included
(``{code: {questions, answer, short_answer, claim, agency, translated_from}}``, as a content file
holds them): an edit of the English carries them unchanged. ``saved_translations`` stamps the
translations a save gives (`bot.content.model.english_digest`), so editing the English alone leaves
them stale until someone saves them again.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from bot.content.agency import AGENCY_FILE
from bot.content.check import known_facts, render_settings, rule_problems
from bot.content.lint import Problem
from bot.content.model import (
    ID_PATTERN,
    KINDS,
    LANGUAGE_CODE,
    SETTINGS_FILE,
    TRANSLATION_KEYS,
    VARIANT_KEYS,
    VERDICTS,
    ContentError,
    Entry,
    Topic,
    Translation,
    Variant,
    english_digest,
    load_topic,
    parse_day,
    parse_entry,
    parse_weight,
    topic_files,
    variant_problems,
)
from bot.content.writer import TRANSLATIONS_KEY, VARIANTS_KEY, entry_values

# The entry's fields as the studio sends and shows them, in the content files' order.
TEXT_FIELDS = ("department", "agency", "claim", "verdict", "related", "answer", "short_answer", "source")
DATE_FIELDS = ("last_reviewed", "valid_from", "valid_until")
FLAG_FIELDS = ("sensitive", "retired")
LIST_FIELDS = ("questions", "overridden_by")
FIELD_NAMES = frozenset(
    {
        "id",
        "kind",
        "topic",
        "variants",
        TRANSLATIONS_KEY,
        *TEXT_FIELDS,
        *DATE_FIELDS,
        *FLAG_FIELDS,
        *LIST_FIELDS,
    }
)
# A translation's own text (what a save of it gives); ``translated_from`` is its stamp.
TRANSLATION_TEXT = tuple(key for key in TRANSLATION_KEYS if key != "translated_from")
TRUE_WORDS = frozenset({"true", "yes", "1", "on"})
FALSE_WORDS = frozenset({"false", "no", "0", "off", ""})


@dataclass(frozen=True)
class FieldProblem:
    """A finding about one field of an entry, in words staff can act on; ``error`` blocks a save."""

    field: str  # "answer", "questions.3" (0-based), "variants.1.short_answer", "" for the whole entry
    message: str
    error: bool = True


class EntryFieldError(ValueError):
    """Fields that do not make an entry at all (a bad id, kind, verdict or date, a list that is not one)."""

    def __init__(self, problems: list[FieldProblem]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{p.field}: {p.message}" if p.field else p.message for p in problems))


# --- the studio's JSON of an entry ------------------------------------------------------------


def entry_fields(entry: Entry) -> dict[str, Any]:
    """The entry as the studio shows and edits it: every key (questions, alert events and variants
    as lists), its translations by language code (each as its content file holds it: empty keys
    left out), and its topic."""
    values = entry_values(entry)
    return {
        "id": entry.id,
        "kind": entry.kind,
        "topic": entry.topic,
        **values,
        VARIANTS_KEY: [
            {"id": v.id, "answer": v.answer, "short_answer": v.short_answer, "weight": v.weight}
            for v in entry.variants
        ],
    }


def entry_from_fields(fields: Mapping[str, Any], base: Entry | None, topic_id: str) -> Entry:
    """The entry ``fields`` describe, read exactly as the loader would read it from a file.

    Fields left out keep ``base``'s values (a new entry: ``base`` is None). The topic is
    ``topic_id`` (a ``topic`` field is only what ``entry_fields`` showed). Questions and alert
    events may be a list or one text with a line each; empty questions are dropped. Raises
    ``EntryFieldError`` with a problem per field that cannot be read; what can be read but breaks a
    rule (a missing answer, an unknown phone number) is ``check_entry``'s.
    """
    values = {**(entry_fields(base) if base else {}), **fields}
    problems = [FieldProblem(key, f"unknown field {key!r}") for key in fields if key not in FIELD_NAMES]
    raw: dict[str, Any] = {}
    for key in TEXT_FIELDS + DATE_FIELDS:
        raw[key] = _text(values.get(key), key, problems)
    for key in FLAG_FIELDS:
        raw[key] = _flag(values.get(key), key, problems)
    for key in LIST_FIELDS:
        raw[key] = _lines(values.get(key), key, problems)
    raw["id"] = _text(values.get("id"), "id", problems)
    raw["kind"] = _text(values.get("kind"), "kind", problems).lower() or "faq"
    raw["verdict"] = raw["verdict"].lower()
    raw["variants"] = _variants(values.get("variants"), problems)
    raw[TRANSLATIONS_KEY] = _translations(values.get(TRANSLATIONS_KEY), problems) or None
    problems += _identity_problems(raw, base, topic_id)
    problems += _value_problems(raw)
    if problems:
        raise EntryFieldError(problems)
    if not raw["variants"]:
        raw["variants"] = None
    try:
        entry = parse_entry(raw, Path(base.path if base else ""), topic_id)
    except ContentError as exc:  # a rule of the loader not mirrored above
        raise EntryFieldError([FieldProblem("", str(exc).removeprefix(f"{exc.path}: "))]) from exc
    return dataclasses.replace(entry, path=base.path if base else "", line=base.line if base else 0)


def _text(value: Any, key: str, problems: list[FieldProblem]) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        problems.append(FieldProblem(key, "must be a text"))
        return ""
    return value.replace("\r\n", "\n").replace("\r", "\n")


def _flag(value: Any, key: str, problems: list[FieldProblem]) -> bool:
    if value is None or isinstance(value, bool):
        return bool(value)
    word = str(value).strip().lower() if isinstance(value, (str, int)) else "?"
    if word not in TRUE_WORDS | FALSE_WORDS:
        problems.append(FieldProblem(key, "must be true or false"))
    return word in TRUE_WORDS


def _lines(value: Any, key: str, problems: list[FieldProblem]) -> list[str]:
    """A list of texts, or one text with one item per line; empty items left out."""
    if value is None:
        return []
    if isinstance(value, str):
        value = value.replace("\r", "\n").split("\n")
    if not isinstance(value, (list, tuple)) or not all(isinstance(item, str) for item in value):
        problems.append(FieldProblem(key, "must be a list of texts"))
        return []
    kept = [item.replace("\r\n", "\n").strip() for item in value if item.strip()]
    problems += [
        FieldProblem(f"{key}.{index}", f"{item[:40]!r}... spans several lines: one per line")
        for index, item in enumerate(kept)
        if "\n" in item
    ]
    return kept


def _variants(value: Any, problems: list[FieldProblem]) -> list[dict[str, Any]]:
    """``variants`` as the loader reads them: each variant's ``__line__`` is its number + 1, so the
    loader's findings name the variant."""
    if value is None:
        return []
    if not isinstance(value, (list, tuple)) or not all(isinstance(item, Mapping) for item in value):
        problems.append(FieldProblem("variants", "must be a list of {id, answer, short_answer, weight}"))
        return []
    variants = []
    for index, item in enumerate(value):
        unknown = [key for key in item if key not in VARIANT_KEYS]
        problems += [FieldProblem(f"variants.{index}", f"unknown key {key!r}") for key in unknown]
        found = {key: _text(item.get(key), f"variants.{index}.{key}", problems) for key in VARIANT_KEYS[:3]}
        weight = item.get("weight")
        if parse_weight(weight) < 1:
            problems.append(FieldProblem(f"variants.{index}.weight", "must be a whole number of 1 or more"))
        variants.append({**found, "weight": weight, "__line__": index + 1})
    return variants


def _translations(value: Any, problems: list[FieldProblem]) -> dict[str, dict[str, Any]]:
    """``translations`` as the loader reads them: ``{code: {questions, answer, ...}}``; a language
    whose value is None is left out (removed)."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        problems.append(FieldProblem(TRANSLATIONS_KEY, "must be a mapping such as {es: {answer, questions}}"))
        return {}
    found = {}
    for code, item in value.items():
        where = f"{TRANSLATIONS_KEY}.{code}"
        if not isinstance(code, str) or not LANGUAGE_CODE.match(code):
            problems.append(FieldProblem(TRANSLATIONS_KEY, f"{code!r} is not a language code such as es"))
            continue
        if item is None:
            continue
        if not isinstance(item, Mapping):
            problems.append(FieldProblem(where, "must be a mapping of questions, answer, short_answer, ..."))
            continue
        unknown = [key for key in item if key not in TRANSLATION_KEYS]
        problems += [FieldProblem(where, f"unknown key {key!r}") for key in unknown]
        raw: dict[str, Any] = {
            key: _text(item.get(key), f"{where}.{key}", problems)
            for key in TRANSLATION_KEYS
            if key != "questions"
        }
        raw["questions"] = _lines(item.get("questions"), f"{where}.questions", problems)
        found[code] = raw
    return found


def merged_translations(base: Any, sent: Any) -> Any:
    """``sent`` (a save's ``translations``) over ``base`` (the draft's or entry's): language by
    language and key by key, a language sent as None removed; what is not a mapping is kept as sent,
    for ``entry_from_fields`` to refuse."""
    if not isinstance(sent, Mapping):
        return sent
    merged: dict[Any, Any] = dict(base) if isinstance(base, Mapping) else {}
    for code, item in sent.items():
        if item is None:
            merged.pop(code, None)
        elif isinstance(item, Mapping) and isinstance(merged.get(code), Mapping):
            merged[code] = {**merged[code], **item}
        else:
            merged[code] = item
    return merged


def saved_translations(entry: Entry, before: Entry | None, sent: Any) -> Entry:
    """``entry`` with the translations a save gave stamped with its English (`english_digest`): each
    language ``sent`` (a save's ``translations``) without a ``translated_from`` (a person saved that
    text), or whose text differs from ``before``'s. The others keep their stamp, so a change to the
    English leaves them stale."""
    if not isinstance(sent, Mapping):
        return entry
    digest = english_digest(entry)

    def given(translation: Translation) -> bool:
        item = sent.get(translation.language)
        if not isinstance(item, Mapping):
            return False
        old = before.translation(translation.language) if before else None
        return "translated_from" not in item or _own_text(translation) != _own_text(old)

    translations = tuple(
        dataclasses.replace(t, translated_from=digest) if given(t) else t for t in entry.translations
    )
    return dataclasses.replace(entry, translations=translations)


def _own_text(translation: Translation | None) -> tuple[Any, ...]:
    return tuple(getattr(translation, key) for key in TRANSLATION_TEXT) if translation else ()


def _identity_problems(raw: dict[str, Any], base: Entry | None, topic_id: str) -> list[FieldProblem]:
    """id, kind and topic name intents and files, so they are strict; an id never changes."""
    problems = []
    if not ID_PATTERN.match(raw["id"]):
        problems.append(FieldProblem("id", "must be lowercase letters, digits and _, starting with a letter"))
    elif base and raw["id"] != base.id:
        problems.append(FieldProblem("id", f"an entry's id cannot change (it is {base.id!r})"))
    if raw["kind"] not in KINDS:
        problems.append(FieldProblem("kind", f"must be one of {', '.join(KINDS)}"))
    if not ID_PATTERN.match(topic_id):
        problems.append(FieldProblem("topic", f"{topic_id!r} is not a topic id"))
    return problems


def _value_problems(raw: dict[str, Any]) -> list[FieldProblem]:
    """What the loader refuses: a rumor's verdict, dates, the variants as a test."""
    problems = []
    if raw["kind"] == "rumor" and raw["verdict"] not in VERDICTS:
        problems.append(FieldProblem("verdict", f"a rumor needs the verdict {' / '.join(VERDICTS)}"))
    problems += [
        FieldProblem(key, f"{raw[key]!r} is not a date like 2026-12-24")
        for key in ("valid_from", "valid_until")
        if raw[key].strip() and parse_day(raw[key].strip()) is None
    ]
    variants = tuple(
        Variant(
            id=v["id"].strip(),
            answer=v["answer"].strip(),
            short_answer=v["short_answer"].strip(),
            weight=max(parse_weight(v["weight"]), 1),  # a bad weight is reported above
            line=v["__line__"],
        )
        for v in raw["variants"]
    )
    if raw["kind"] in KINDS:  # else the kind is the problem
        problems += [
            FieldProblem(f"variants.{line - 1}" if line else "variants", message.removeprefix("variants: "))
            for line, message in variant_problems(variants, raw["kind"], raw["sensitive"])
        ]
    return problems


# --- checking an entry ------------------------------------------------------------------------


def check_entry(
    content_dir: Path,
    candidate: Entry,
    topic_id: str,
    agency_file: Path | None = None,
    today: date | None = None,
    *,
    new: bool | None = None,
) -> list[FieldProblem]:
    """``content check``'s findings about ``candidate``, with it in place in ``content_dir``.

    It replaces the entry with its id, or, when ``new`` (default: the candidate was read from no
    file, as ``entry_from_fields`` makes a new entry), joins topic ``topic_id``; an existing entry
    with its id is then a duplicate id. ``agency_file`` defaults to the one next to the content
    (``data/agency.yml`` for ``data/content``). Errors first, then warnings.
    """
    topics, unreadable = _readable_topics(content_dir)
    is_new = not candidate.path if new is None else new
    topics, placed = _placed(topics, candidate, topic_id, is_new, content_dir)
    known, agency_problems = known_facts(agency_file or content_dir.parent / AGENCY_FILE.name)
    settings, settings_problems = render_settings(content_dir)
    found = rule_problems(
        topics, known, settings, str(content_dir / SETTINGS_FILE), today or date.today(), only=placed
    )
    problems = unreadable + [_whole(p) for p in agency_problems + settings_problems]
    problems += [_on_field(problem, candidate.id) for problem in found]
    unique = list(dict.fromkeys(problems))
    return [p for p in unique if p.error] + [p for p in unique if not p.error]


def added_errors(
    content_dir: Path,
    candidate: Entry,
    topic_id: str,
    agency_file: Path | None = None,
    today: date | None = None,
    *,
    new: bool | None = None,
) -> list[FieldProblem]:
    """The errors of ``check_entry`` the entry as saved now does not have (all of a new entry's)."""
    errors = [
        p for p in check_entry(content_dir, candidate, topic_id, agency_file, today, new=new) if p.error
    ]
    is_new = not candidate.path if new is None else new
    current = None if is_new else _saved(content_dir, candidate.id)
    if current is None:
        return errors
    saved, saved_topic = current
    had = {
        _comparable(p)
        for p in check_entry(content_dir, saved, saved_topic, agency_file, today, new=False)
        if p.error
    }
    return [p for p in errors if _comparable(p) not in had]


def _comparable(problem: FieldProblem) -> tuple[str, str]:
    """A problem without the position of its question or variant, which an edit may shift; a
    translation's keeps its language and field (``translations.es.questions``)."""
    parts = problem.field.split(".")
    if parts[0] == TRANSLATIONS_KEY:
        return ".".join(part for part in parts[:3] if not part.isdigit()), problem.message
    return parts[0], problem.message


def _readable_topics(content_dir: Path) -> tuple[list[Topic], list[FieldProblem]]:
    """Every topic file that can be read (parsed once per version: ``load_topic``), and a problem
    for each that cannot: the entry is checked against the rest."""
    topics, problems = [], []
    for path in topic_files(content_dir):
        try:
            topics.append(load_topic(path))
        except ContentError as exc:
            problems.append(FieldProblem("", f"{exc} (fix that file first: `content check`)"))
    return topics, problems


def _saved(content_dir: Path, entry_id: str) -> tuple[Entry, str] | None:
    topics, _ = _readable_topics(content_dir)
    return next(((e, t.id) for t in topics for e in t.entries if e.id == entry_id), None)


def _placed(
    topics: list[Topic], candidate: Entry, topic_id: str, new: bool, content_dir: Path
) -> tuple[list[Topic], Entry]:
    """The topics with the candidate in place, and the candidate as placed (where it is read from)."""
    if not new:
        for index, topic in enumerate(topics):
            for at, entry in enumerate(topic.entries):
                if entry.id == candidate.id:
                    placed = dataclasses.replace(candidate, topic=topic.id, path=entry.path, line=entry.line)
                    entries = (*topic.entries[:at], placed, *topic.entries[at + 1 :])
                    changed = dataclasses.replace(topic, entries=entries)
                    return [*topics[:index], changed, *topics[index + 1 :]], placed
    placed = dataclasses.replace(candidate, topic=topic_id)
    for index, topic in enumerate(topics):
        if topic.id == topic_id:
            changed = dataclasses.replace(topic, entries=(*topic.entries, placed))
            return [*topics[:index], changed, *topics[index + 1 :]], placed
    path = content_dir / f"{topic_id}.yml"
    return [*topics, Topic(id=topic_id, title=topic_id, path=path, entries=(placed,))], placed


def _on_field(problem: Problem, entry_id: str) -> FieldProblem:
    """A finding as staff read it next to its field: without the entry's id and the field's name
    (a translation's without its language, which its field names: ``translations.es.answer``)."""
    message = problem.message.removeprefix(f"{entry_id}: ")
    parts = problem.field.split(".")
    if parts[0] == TRANSLATIONS_KEY and len(parts) > 1:
        message = message.removeprefix(f"{parts[1]}: ")
        if len(parts) == 3:
            message = message.removeprefix(f"{parts[2]}: ")
    elif problem.field and "." not in problem.field:
        message = message.removeprefix(f"{problem.field}: ")
    return FieldProblem(problem.field, message, problem.error)


def _whole(problem: Problem) -> FieldProblem:
    """A finding about a file the check needs (agency facts, reply templates), for the whole entry."""
    return FieldProblem("", str(problem), problem.error)
