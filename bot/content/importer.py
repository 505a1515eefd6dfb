"""Merge entries read from a CSV into the content files: add new ids, replace known ones.

Everything is worked out (``plan_import``) and checked before the first file is
written, so a refused import leaves every content file as it was. Entries whose id
is not in the CSV are kept: an import never deletes.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

from bot.content.csvio import ImportRefused, absent_columns, csv_languages, parse_rows, read_csv
from bot.content.model import CONTENT_DIR, Entry, Topic, Translation, read_yaml_with_lines
from bot.content.writer import (
    body_comment_lines,
    leading_comments,
    topic_text,
    unknown_keys,
    write_text_atomic,
)

NEW_FILE_COMMENT = (
    "# Created by `python -m bot content import`. Staff may edit any entry here or through\n"
    "# the CSV (`content export` / `content import`); `make validate` checks the result.\n"
)


@dataclass
class ImportPlan:
    """What an import would change; computed fully before anything is written."""

    topics: list[Topic]
    changed: list[Topic] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: int = 0
    kept: int = 0
    notes: list[str] = field(default_factory=list)


def _plain(entry: Entry) -> Entry:
    """An entry without where it was read from, to compare content only."""
    return dataclasses.replace(entry, path="", line=0)


def plan_import(
    topics: list[Topic],
    incoming: list[Entry],
    content_dir: Path = CONTENT_DIR,
    keep: frozenset[str] = frozenset(),
    languages: frozenset[str] | None = None,
) -> ImportPlan:
    """New ids are appended to their topic (a new file if needed), known ids replaced in place.

    ``keep``: entry fields the CSV has no column for (an export from before they existed);
    a replaced entry keeps its values for them. ``languages``: the languages the CSV has
    translation columns for; a replaced entry keeps its translations in the others (None: the
    incoming entries' translations are all they have).
    """
    _refuse_duplicate_ids(topics)
    old_by_id = {entry.id: entry for topic in topics for entry in topic.entries}
    incoming = [_keeping(entry, old_by_id.get(entry.id), keep, languages) for entry in incoming]
    new_by_id = {entry.id: entry for entry in incoming}
    plan = ImportPlan(topics=[])
    placed: set[str] = set()
    for topic in topics:
        entries = []
        for entry in topic.entries:
            new = new_by_id.get(entry.id)
            if new is None:
                entries.append(entry)
            elif new.topic == topic.id:
                entries.append(dataclasses.replace(new, path=entry.path, line=entry.line))
                placed.add(entry.id)
        entries += [e for e in incoming if e.topic == topic.id and e.id not in placed]
        placed.update(e.id for e in entries)
        plan.topics.append(dataclasses.replace(topic, entries=tuple(entries)))
    plan.topics += _new_topics([e for e in incoming if e.id not in placed], topics, content_dir)
    old_topics = {topic.path: topic for topic in topics}
    for topic in plan.topics:
        old = old_topics.get(topic.path)
        if old is None or [_plain(e) for e in old.entries] != [_plain(e) for e in topic.entries]:
            plan.changed.append(topic)
    for entry in incoming:
        previous = old_by_id.get(entry.id)
        if previous is None:
            plan.added.append(entry.id)
        elif _plain(previous) != _plain(entry):
            plan.updated.append(entry.id)
        else:
            plan.unchanged += 1
    plan.kept = len(set(old_by_id) - set(new_by_id))
    return plan


def _keeping(
    entry: Entry, old: Entry | None, keep: frozenset[str], languages: frozenset[str] | None
) -> Entry:
    if old is None:
        return entry
    entry = dataclasses.replace(entry, **{name: getattr(old, name) for name in keep})
    if languages is None or "translations" in keep:
        return entry
    return dataclasses.replace(
        entry, translations=merged_translations(entry.translations, old.translations, languages)
    )


def merged_translations(
    new: tuple[Translation, ...], old: tuple[Translation, ...], languages: frozenset[str]
) -> tuple[Translation, ...]:
    """The old translations in the file's order, those in ``languages`` as the CSV has them now
    (gone when the CSV left all their cells empty), then the CSV's new ones: what an export and an
    import give back unchanged."""
    incoming = {translation.language: translation for translation in new}
    merged = [incoming.pop(t.language, None) if t.language in languages else t for t in old]
    return tuple(t for t in [*merged, *incoming.values()] if t is not None)


def _refuse_duplicate_ids(topics: list[Topic]) -> None:
    """With an id in two places an update could not say which one it means."""
    seen: dict[str, Entry] = {}
    problems = []
    for entry in (entry for topic in topics for entry in topic.entries):
        if entry.id in seen:
            first = seen[entry.id]
            problems.append(
                f"{entry.path}:{entry.line}: id {entry.id!r} is also used at {first.path}:{first.line}; "
                "fix the content first (`content check`)"
            )
        seen.setdefault(entry.id, entry)
    if problems:
        raise ImportRefused(problems)


def _new_topics(entries: list[Entry], topics: list[Topic], content_dir: Path) -> list[Topic]:
    """Topics named in the CSV that no content file has yet, each a new ``<topic>.yml``."""
    taken = {topic.path: topic.id for topic in topics}
    created: dict[str, list[Entry]] = {}
    for entry in entries:
        created.setdefault(entry.topic, []).append(entry)
    problems = [
        f"topic {topic_id!r} would be written to {path}, which holds topic {taken[path]!r}"
        for topic_id in created
        if (path := content_dir / f"{topic_id}.yml") in taken
    ]
    if problems:
        raise ImportRefused(problems)
    return [
        Topic(
            id=topic_id,
            title=topic_id.replace("_", " ").capitalize(),
            path=content_dir / f"{topic_id}.yml",
            entries=tuple(found),
        )
        for topic_id, found in created.items()
    ]


def rewrite_problems(plan: ImportPlan) -> list[str]:
    """Keys a rewrite would drop: refuse rather than lose what someone typed."""
    problems = []
    for topic in plan.changed:
        if topic.path.exists():
            raw = read_yaml_with_lines(topic.path)
            problems += [
                f"{topic.path}:{line}: unknown key {key!r} would be lost; fix it first (`content check`)"
                for line, key in unknown_keys(raw)
            ]
    return problems


def apply_plan(plan: ImportPlan) -> list[str]:
    """Write every changed topic file; returns notes about comments that could not be kept."""
    texts = []
    notes = []
    for topic in plan.changed:
        old = topic.path.read_text(encoding="utf-8") if topic.path.exists() else ""
        comments = leading_comments(old) if old else NEW_FILE_COMMENT
        texts.append((topic.path, topic_text(topic, comments)))
        lost = body_comment_lines(old)
        if lost:
            notes.append(f"{topic.path}: comments on line(s) {', '.join(map(str, lost))} were not kept")
    for path, text in texts:
        write_text_atomic(path, text)
    return notes


def import_csv(
    path: Path,
    topics: list[Topic],
    content_dir: Path = CONTENT_DIR,
    write: bool = True,
    languages: tuple[str, ...] = (),
) -> ImportPlan:
    """Read, validate and merge a CSV; write the changed topic files unless ``write`` is False.

    ``languages``: the languages offered besides English, the only ones the CSV may have
    translation columns for."""
    rows = read_csv(path, languages)
    entries = parse_rows(rows, label=str(path))
    plan = plan_import(topics, entries, content_dir, keep=absent_columns(rows), languages=csv_languages(rows))
    problems = rewrite_problems(plan)
    if problems:
        raise ImportRefused(problems)
    if write:
        plan.notes = apply_plan(plan)
    return plan
