"""`python -m bot content check`: problems a person can fix, with file and line.

What counts as an error and what as a warning is explained in ``bot.content.lint``
and in ``python -m bot content check --help``. Errors make the check fail;
warnings alone do not.
"""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import date
from itertools import groupby
from pathlib import Path

import yaml

from bot.analytics.savings import SETTINGS_FILE as ANALYTICS_FILE
from bot.analytics.savings import settings_problems as analytics_problems
from bot.content.agency import AGENCY_FILE, Agency, load_agency
from bot.content.generate import generated_files
from bot.content.lint import (
    KnownFacts,
    Problem,
    agency_findings,
    alert_findings,
    answer_button_findings,
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
    SERVICE_ENTITY,
    SETTINGS_FILE,
    ContentError,
    Entry,
    RenderSettings,
    Topic,
    all_entries,
    load_content,
    load_render_settings,
)
from bot.content.translations import (
    agency_fact_findings,
    canned_findings,
    catalog_findings,
    coverage_findings,
    language_problems,
    question_count_findings,
    response_findings,
    settings_findings,
    stamp_findings,
    texts_findings,
    translated_question_findings,
    translated_rule_findings,
)
from bot.content.translations import report as translation_report
from bot.language.texts import TRANSLATIONS
from bot.nlp.build import ENTITIES_DIR, entity_patterns
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
    "texts_files",
    "translation_problems",
]

BIN = Path(sys.executable).parent
CANNED_FILE = Path("data/handoff/canned_replies.yml")
DOMAIN_FILE = Path("domain.yml")
# The texts files of the services, which citizens read (``bot.language.texts``): each is checked even
# without a translations block, and a key with no translation in an offered language fails the check
# there, as a response without its variation does (issue #19). Other files with a translations block
# are found by `texts_files`; a key missing in one of them is a warning.
CITIZEN_TEXTS = tuple(
    Path("data", *name.split("/"))
    for name in (
        "handoff/messages.yml",
        "handoff/canned_replies.yml",
        "handoff/ratings.yml",
        "channels/messages.yml",
        "feedback/messages.yml",
        "subscriptions/messages.yml",
        "subscriptions/catalog.yml",
        "broadcasts/messages.yml",
        "broadcasts/alerts.yml",
        "language/values.yml",
    )
)
# Directories under data/ whose files are not texts files, however they are written.
NOT_TEXTS = ("content", "nlu", "rules", "responses")


def reply_files(root: Path = Path(".")) -> list[Path]:
    """The existing files of texts citizens read that are written by hand (not generated): the
    responses, the canned replies, the handoff messages and every texts file (`texts_files`)."""
    responses = (root / "data" / "responses").glob("*.yml")
    files = [
        root / "domain.yml",
        *sorted(p for p in responses if not p.name.endswith(".generated.yml")),
        root / CANNED_FILE,
        root / "data" / "handoff" / "messages.yml",
    ]
    files += [path for path in texts_files(root) if path not in files]
    return [path for path in files if path.exists()]


def texts_files(root: Path = Path(".")) -> list[Path]:
    """The texts files under ``root``: those of `CITIZEN_TEXTS` that exist, then every other file under
    data/ with a ``translations:`` block at the top, but the agency file (its translated facts are
    `agency_fact_findings`') and content, NLU, rules and responses. Found rather than only listed:
    a service's new texts file is checked from the start."""
    files = [root / name for name in CITIZEN_TEXTS if (root / name).exists()]
    data = root / "data"
    for path in sorted(data.rglob("*.yml")):
        if path.relative_to(data).parts[0] in NOT_TEXTS or path == root / AGENCY_FILE or path in files:
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if re.search(rf"^{TRANSLATIONS}:", text, re.MULTILINE):
            files.append(path)
    return files


def texts_problems_by_language(root: Path, agency: Agency) -> list[Problem]:
    """Each texts file's translations (`texts_findings`; `canned_findings` and `catalog_findings` for
    the two files laid out otherwise); a missing translation is an error in `CITIZEN_TEXTS`."""
    problems: list[Problem] = []
    for path in texts_files(root):
        relative = path.relative_to(root)
        required = relative in CITIZEN_TEXTS
        if relative == CANNED_FILE:
            problems += canned_findings(path, agency, required)
        elif relative == CATALOG_FILE:
            problems += catalog_findings(path, agency, required)
        else:
            problems += texts_findings(path, agency, required)
    return problems


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


def domain_intents(path: Path = DOMAIN_FILE) -> frozenset[str] | None:
    """The intents of the domain (what a button may start), or None when the file cannot be read
    (`rasa data validate` says why)."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return None
    listed = raw.get("intents") if isinstance(raw, dict) else None
    if not isinstance(listed, list):
        return None
    return frozenset(str(next(iter(i))) if isinstance(i, dict) and i else str(i) for i in listed)


def recognised_names(
    entity: str = SERVICE_ENTITY, entities_dir: Path = ENTITIES_DIR
) -> frozenset[str] | None:
    """The names of `entity` the assistant recognises in messages: the entity ruler's own patterns
    (`bot.nlp.build.entity_patterns`, lowercase words), joined; None when there are none to read."""
    try:
        patterns = entity_patterns(entities_dir)
    except (OSError, yaml.YAMLError, AttributeError, TypeError):
        return None  # a broken entities file: `make spacy` says why
    names = {
        " ".join(str(token["LOWER"]) for token in pattern["pattern"])
        for pattern in patterns
        if pattern["label"] == entity
    }
    return frozenset(names) if patterns else None


def content_problems(
    content_dir: Path = CONTENT_DIR, today: date | None = None, agency_file: Path = AGENCY_FILE
) -> list[Problem]:
    """Every finding for the content files in ``content_dir`` (no generated files, no Rasa).

    Entries are checked as citizens read them, with ``agency_file``'s facts filled in. The buttons
    after answers are checked against domain.yml's intents and data/entities' services.
    """
    topics, problems = load_checked(content_dir)
    known, found = known_facts(agency_file)
    settings, unusable = render_settings(content_dir)
    problems += found
    settings_path = str(content_dir / SETTINGS_FILE)
    problems += rule_problems(topics, known, settings, settings_path, today or date.today())
    if settings:
        entries = all_entries(topics)
        problems += answer_button_findings(
            entries, settings, settings_path, domain_intents(), recognised_names()
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
    problems += translated_rule_findings(entries, known, None)
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
    and menu rules. Each translation of the checked entries gets the same rules in its language
    (``bot.content.translations``), and is reported stale when the English changed since.
    """
    entries = all_entries(topics)
    checked = entries if only is None else [only]
    others = [entry for entry in entries if entry is not only]
    problems = translation_rule_problems(entries, checked, known, settings, only)
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


def translation_rule_problems(
    entries: list[Entry],
    checked: list[Entry],
    known: KnownFacts | None,
    settings: RenderSettings | None,
    only: Entry | None,
) -> list[Problem]:
    """`rule_problems` on the translations of ``checked``: stamps, the per-entry rules in each
    language, the number of questions and questions repeated within a language. The entries as
    written: the stamp is the digest of the English before the agency's facts are filled in."""
    problems = stamp_findings(checked)
    problems += translated_rule_findings(checked, known, settings)
    problems += question_count_findings(checked)
    problems += translated_question_findings(entries, only)
    return problems


def translation_problems(content_dir: Path, agency_file: Path, root: Path = Path(".")) -> list[Problem]:
    """What has no text yet in a language the agency offers (entries, topic titles, the settings'
    wording, the responses and texts files under ``root``), text in a language it does not offer,
    translated texts whose placeholders are not the English's, and the agency's translated facts.
    Only when the agency file can be read (otherwise that is the finding, reported once by the other
    checks)."""
    known, _ = known_facts(agency_file)
    if known is None:
        return []
    topics, _ = load_checked(content_dir)
    problems = coverage_findings(topics, known.agency)
    settings, _ = render_settings(content_dir)
    if settings:
        problems += settings_findings(settings, known.agency, str(content_dir / SETTINGS_FILE))
    problems += response_findings(response_files(root), known.agency)
    problems += texts_problems_by_language(root, known.agency)
    return problems + agency_fact_findings(known)


def response_files(root: Path = Path(".")) -> list[Path]:
    """The hand-written files of responses: domain.yml and data/responses (not the generated one)."""
    return [
        path for path in reply_files(root) if path.name == "domain.yml" or path.parent.name == "responses"
    ]


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
    """Findings in file order; grouped ones (reviews due by department, translations to do by
    language) last, under their heading."""
    ungrouped = sorted((p for p in problems if not p.group), key=lambda p: (p.path, p.line))
    lines = [str(p) for p in ungrouped]
    grouped = sorted((p for p in problems if p.group), key=lambda p: (p.group, p.path, p.line))
    for group, members in groupby(grouped, key=lambda p: p.group):
        lines += [f"{group}:", *(f"  {p}" for p in members)]
    return "\n".join(lines)


def translations_main(
    content_dir: Path = CONTENT_DIR,
    today: date | None = None,
    agency_file: Path = AGENCY_FILE,
    root: Path = Path("."),
) -> int:
    """`content check --translations`: only the findings about other languages, by language and
    entry with the counts a translator works down; exit status 1 when any is an error."""
    found = content_problems(content_dir, today, agency_file) + translation_problems(
        content_dir, agency_file, root
    )
    found += reply_problems(reply_files(root), agency_file)  # the agency's facts in translated texts
    problems = language_problems(found)
    if problems:
        print(translation_report(problems))
    errors = sum(p.error for p in problems)
    print(f"translation check: {errors} error(s), {len(problems) - errors} warning(s)")
    return 1 if errors else 0


def main(
    run_rasa: bool = True,
    content_dir: Path = CONTENT_DIR,
    today: date | None = None,
    translations: bool = False,
) -> int:
    if translations:
        return translations_main(content_dir, today)
    problems = content_problems(content_dir, today)
    if content_dir == CONTENT_DIR:
        problems += translation_problems(content_dir, AGENCY_FILE)
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
