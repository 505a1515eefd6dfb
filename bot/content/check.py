"""`python -m bot content check`: problems a person can fix, with file and line.

What counts as an error and what as a warning is explained in ``bot.content.lint``
and in ``python -m bot content check --help``. Errors make the check fail;
warnings alone do not.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from itertools import groupby
from pathlib import Path

from bot.analytics.savings import SETTINGS_FILE as ANALYTICS_FILE
from bot.analytics.savings import settings_problems as analytics_problems
from bot.content.agency import AGENCY_FILE, load_agency
from bot.content.generate import generated_files
from bot.content.lint import (
    KnownFacts,
    Problem,
    agency_findings,
    alert_findings,
    content_error,
    entry_problems,
    expanded_entry,
    formatting_findings,
    load_checked,
    menu_findings,
    placeholder_findings,
    question_findings,
    question_findings_for,
    reading_findings,
    reply_file_findings,
    review_findings,
    sms_findings,
    window_findings,
)
from bot.content.model import (
    CONTENT_DIR,
    SETTINGS_FILE,
    ContentError,
    Entry,
    RenderSettings,
    Topic,
    all_entries,
    load_content,
    load_render_settings,
)
from bot.subscriptions.catalog import CATALOG_FILE, catalog_problems
from bot.subscriptions.texts import MESSAGES_FILE, texts_problems

__all__ = [
    "Problem",
    "content_errors",
    "content_problems",
    "main",
    "reply_files",
    "reply_problems",
    "rule_problems",
    "stale_generated",
]

BIN = Path(sys.executable).parent


def reply_files(root: Path = Path(".")) -> list[Path]:
    """The existing files of texts citizens read that are written by hand (not generated)."""
    responses = (root / "data" / "responses").glob("*.yml")
    files = [
        root / "domain.yml",
        *sorted(p for p in responses if not p.name.endswith(".generated.yml")),
        root / "data" / "handoff" / "canned_replies.yml",
        root / "data" / "handoff" / "messages.yml",
    ]
    return [path for path in files if path.exists()]


def known_facts(agency_file: Path) -> tuple[KnownFacts | None, list[Problem]]:
    """The agency file's facts, or the finding that it cannot be read."""
    try:
        return KnownFacts.of(load_agency(agency_file)), []
    except ContentError as exc:
        return None, [content_error(exc)]


def render_settings(content_dir: Path) -> tuple[RenderSettings | None, list[Problem]]:
    """``_settings.yml``, or the finding that it cannot be used."""
    try:
        return load_render_settings(content_dir), []
    except ContentError as exc:
        return None, [content_error(exc)]


def content_problems(
    content_dir: Path = CONTENT_DIR, today: date | None = None, agency_file: Path = AGENCY_FILE
) -> list[Problem]:
    """Every finding for the content files in ``content_dir`` (no generated files, no Rasa).

    Entries are checked as citizens read them, with ``agency_file``'s facts filled in.
    """
    topics, problems = load_checked(content_dir)
    known, found = known_facts(agency_file)
    settings, unusable = render_settings(content_dir)
    problems += found
    problems += rule_problems(
        topics, known, settings, str(content_dir / SETTINGS_FILE), today or date.today()
    )
    return problems + unusable


def content_errors(content_dir: Path, agency_file: Path | None) -> set[str]:
    """The content check's errors that writing one entry can cause anywhere in the content (files
    that cannot be read, required fields, ids, links, related entries, agency facts), for tools that
    refuse a write adding one (the studio, Promote). Fast: the question similarity rules are the
    candidate's own check. Without line numbers, which a longer answer shifts."""
    topics, problems = load_checked(content_dir)
    entries = all_entries(topics)
    known, unusable = known_facts(agency_file) if agency_file else (None, [])
    problems += unusable
    if known:
        problems += agency_findings(entries, known)
        entries = [expanded_entry(entry, known.agency) for entry in entries]
    problems += entry_problems(entries)
    return {f"{problem.path}: {problem.message}" for problem in problems if problem.error}


def rule_problems(
    topics: list[Topic],
    known: KnownFacts | None,
    settings: RenderSettings | None,
    settings_path: str,
    today: date,
    only: Entry | None = None,
) -> list[Problem]:
    """The rules on entries that could be read; ``only`` (one of the topics' entries): just the
    findings about it, its questions compared with the other entries' only (the content studio's
    check of one entry, ``bot.content.entrycheck``).

    Without ``known`` (no agency file) the agency rules are skipped; without ``settings`` the SMS
    and menu rules.
    """
    entries = all_entries(topics)
    checked = entries if only is None else [only]
    others = [entry for entry in entries if entry is not only]
    problems = []
    if known:
        problems += agency_findings(checked, known)
        problems += alert_findings(checked, known.agency)
        entries = [expanded_entry(entry, known.agency) for entry in entries]
        checked = entries if only is None else [expanded_entry(only, known.agency)]
    problems += entry_problems(checked, entries)
    problems += placeholder_findings(checked)
    if only is None:
        problems += question_findings(entries)
    else:
        problems += question_findings_for(checked[0], others)
    if settings:
        problems += sms_findings(checked, settings)
        if only is None:
            problems += menu_findings(topics, settings, settings_path)
    problems += formatting_findings(checked)
    problems += reading_findings(checked)
    problems += review_findings(checked, today)
    problems += window_findings(checked, today)
    return problems


def stale_generated(content_dir: Path = CONTENT_DIR) -> list[Problem]:
    """Generated files that do not match the content: someone edited them or forgot `make content`."""
    problems = []
    for item in generated_files(load_content(content_dir), load_render_settings(content_dir)):
        if not item.path.exists() or item.path.read_text(encoding="utf-8") != item.text:
            problems.append(Problem(str(item.path), 1, "out of date: run `make content`"))
    return problems


def reply_problems(files: list[Path] | None = None, agency_file: Path = AGENCY_FILE) -> list[Problem]:
    """Phone numbers, agency web addresses and placeholders ``agency_file`` does not have.

    ``files`` defaults to ``reply_files()``; an unreadable agency file is the one finding.
    """
    known, found = known_facts(agency_file)
    if known is None:
        return found
    return reply_file_findings(reply_files() if files is None else files, known)


def subscription_problems() -> list[Problem]:
    """The alert topics and districts, and the subscription texts (data/subscriptions/)."""
    found = [(CATALOG_FILE, m) for m in catalog_problems()] + [(MESSAGES_FILE, m) for m in texts_problems()]
    return [Problem(str(path), 1, message) for path, message in found]


def report(problems: list[Problem]) -> str:
    """Findings in file order; grouped ones (stale reviews) last, under their department."""
    ungrouped = sorted((p for p in problems if not p.group), key=lambda p: (p.path, p.line))
    lines = [str(p) for p in ungrouped]
    grouped = sorted((p for p in problems if p.group), key=lambda p: (p.group, p.path, p.line))
    for group, members in groupby(grouped, key=lambda p: p.group):
        lines += [f"review due, {group}:", *(f"  {p}" for p in members)]
    return "\n".join(lines)


def main(run_rasa: bool = True, content_dir: Path = CONTENT_DIR, today: date | None = None) -> int:
    problems = content_problems(content_dir, today)
    if content_dir == CONTENT_DIR:
        try:
            problems += stale_generated(content_dir)
        except ContentError:
            pass  # the files cannot be read; that is already reported above
        problems += [p for p in reply_problems() if p not in problems]  # an agency file error once
        problems += subscription_problems()
        problems += [Problem(str(ANALYTICS_FILE), line, m) for line, m in analytics_problems()]
    if problems:
        print(report(problems))
    errors = sum(p.error for p in problems)
    warnings = len(problems) - errors
    if run_rasa:
        result = subprocess.run([str(BIN / "rasa"), "data", "validate", "--fail-on-warnings"], check=False)
        errors += result.returncode != 0
    print(f"content check: {errors} error(s), {warnings} warning(s)")
    return 1 if errors else 0
