"""`python -m bot content check | export | import | translations`: argument parsing and printing only."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path
from typing import Any

from bot.content import check as content_check
from bot.content.agency import AGENCY_FILE, load_agency
from bot.content.csvio import ImportRefused, export_csv
from bot.content.importer import ImportPlan, import_csv
from bot.content.model import CONTENT_DIR, ContentError, load_content
from bot.content.translations import STAMP_COMMAND, Stamping, other_languages, stamp_content

CHECK_EPILOG = """\
errors (exit status 1):
  a file or entry that cannot be read (YAML, unknown key, wrong type, bad id/kind/verdict),
  a duplicate id, a missing answer/source/department/example question, a rumor without
  claim or verdict, a referral without agency (or an agency on another kind), a rumor's
  `related` that is not the id of a non-rumor, non-crisis entry, an `overridden_by` event
  not in data/agency.yml's alert_events, a referral whose source is a city page, a
  last_reviewed that is not a YYYY-MM-DD date, a source or a link in
  a reply that is not an absolute https:// URL, the same example question (ignoring case,
  punctuation and word order) under two entries, generated files out of date, an agency
  file (data/agency.yml) that cannot be read, data/analytics/settings.yml (cost per
  contact, currency, source, wording) that cannot be used; in a content entry, a response (domain.yml,
  data/responses), a canned reply or a handoff message: a phone number or agency web
  address that is not in data/agency.yml (an entry may also name its own source page), or
  an {agency.<key>} placeholder it does not have; `rasa data validate --fail-on-warnings`
  failing.
  message tests (`variants:`, docs/experiments.md): fewer than 2 variants, a variant id that
  is not lowercase letters, digits and _ or is used twice, a weight that is not a whole
  number of 1 or more, a variant without an answer, variants on a crisis entry; each
  variant's answer and short_answer get the same rules (and warnings) as the entry's.
  the studio's fields (docs/content-studio.md): valid_from / valid_until that are not
  YYYY-MM-DD dates or end before they start, `retired` or `sensitive` written in quotes,
  a placeholder left in a reply ([address], <name>, {name} other than {agency.<key>},
  TBD/TBA/TODO/FIXME/XXX). Retired entries are left out of the question and menu checks.
  buttons after answers (`answer_buttons` in _settings.yml): an item without a title, an
  intent or `after`, two buttons for one intent, an intent not in domain.yml, an `after` id
  that is no entry's (a retired entry may stay listed), a kind of problem that is not a
  `service:` in data/entities/*.yml.
warnings (shown, exit status 0):
  example questions nearly the same (similarity >= 0.9) under two entries, an SMS reply
  (as rendered with the template and the agency's facts, its buttons as numbered options)
  longer than sms_limit, a menu or answer button title over 20 characters, reading
  level above grade 9 (Flesch-Kincaid), unbalanced brackets, quotes or */_ markdown, and
  entries whose last_reviewed is over 12 months old or missing (listed by department) or in
  the future, an entry whose valid_until has passed (no longer answered), a rumor whose
  `related` FAQ is retired.
translations (each language of languages_offered in data/agency.yml besides English):
  every rule above on each entry's translation, as read in its language with the settings'
  wording for it (not the reading level, an English formula); errors: a translation without an
  answer or example question, an English response variation (per channel and condition) without
  one in each offered language, a variation in a language not offered, a translated variation
  with other {placeholders} than the English, settings templates it cannot fill, a button after
  answers without its title in the language; warnings: a
  translation made from English that changed since (stale) or never stamped, an entry or menu
  topic title without one, fewer than 15 example questions, settings and languages_offered that
  disagree. `--translations` prints only these, by language and entry, with counts.
"""

EXPORT_DESCRIPTION = """\
Write every entry of data/content to one CSV (UTF-8 with a byte-order mark for Excel, a header
row, one example question per line inside the `questions` cell). A cell starting with =, +, -, @
or ' gets a leading ' so a spreadsheet does not run it as a formula; `content import` removes it.
A message test's variants get one set of columns each (variant1_id, variant1_weight,
variant1_answer, variant1_short_answer, variant2_...), only when some entry has variants.
Each language of languages_offered (data/agency.yml) besides English has its columns last:
questions_es, answer_es, short_answer_es, claim_es, agency_es, translated_from_es (empty for an
entry without a translation). Edit the CSV, then `python -m bot content import FILE.csv`.
"""

IMPORT_EPILOG = """\
Rows are matched to entries by id: a new id becomes a new entry in the topic file named
by its `topic` (created if new), a known id replaces that entry. Entries whose id is not
in the CSV are NOT deleted: remove them from data/content/*.yml by hand. A CSV with any
bad row is refused whole, with the row number as a spreadsheet shows it (the header is
row 1), and nothing is written. A cell's leading ' is removed (export adds one before
=, +, -, @ so spreadsheets do not run the cell as a formula). A language's columns (answer_es, ...)
replace the entries' text in that language, and emptying all of them removes it; a CSV without
them leaves it as it is; columns for a language not in languages_offered are refused.
"""

TRANSLATIONS_DESCRIPTION = f"""\
Without options: the translations report (as `content check --translations`).
A translation records the English it was made from (translated_from, a digest of the English
answer, short answer, claim and agency). When the English changes, `content check` reports the
translation stale; once someone has checked it (and fixed it), stamp it again:
  {STAMP_COMMAND} ID ...        every translation of these entries
  {STAMP_COMMAND}               every translation never stamped
  python -m bot content translations --stamp-all-stale   every stale translation (after review)
"""


def _today(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-09-01") from exc


def _check(args: argparse.Namespace) -> int:
    return content_check.main(run_rasa=not args.no_rasa, today=args.today, translations=args.translations)


def _languages() -> tuple[str, ...]:
    """The languages the CSV has columns for: those offered besides English (none without an agency
    file, as in a directory of content only; a file that cannot be read is an error)."""
    return other_languages(load_agency(AGENCY_FILE)) if AGENCY_FILE.exists() else ()


def _export(args: argparse.Namespace) -> int:
    try:
        count = export_csv(load_content(CONTENT_DIR), args.file, _languages())
    except ContentError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {count} entries to {args.file}")
    return 0


def _import(args: argparse.Namespace) -> int:
    try:
        topics = load_content(CONTENT_DIR)
        plan = import_csv(args.file, topics, CONTENT_DIR, write=not args.dry_run, languages=_languages())
    except (ImportRefused, ContentError) as exc:
        problems = exc.problems if isinstance(exc, ImportRefused) else [str(exc)]
        print("\n".join(f"error: {problem}" for problem in problems), file=sys.stderr)
        print(f"import refused ({len(problems)} problem(s)); nothing was written", file=sys.stderr)
        return 1
    print(_summary(plan, dry_run=args.dry_run))
    return 0


def _summary(plan: ImportPlan, dry_run: bool) -> str:
    verb = "would write" if dry_run else "wrote"
    lines = [f"{verb} {topic.path}" for topic in plan.changed]
    lines += [f"note: {note}" for note in plan.notes]
    lines.append(
        f"{len(plan.added)} added, {len(plan.updated)} updated, {plan.unchanged} unchanged; "
        f"{plan.kept} entries not in the CSV kept (import never deletes)"
    )
    if plan.changed and not dry_run:
        lines.append("next: `make validate`, then `make content` (or `make run`) to use the changes")
    return "\n".join(lines)


def _translations(args: argparse.Namespace) -> int:
    if args.stamp is None and not args.stamp_all_stale:
        return content_check.main(translations=True)
    ids = args.stamp or []
    try:
        stamping = stamp_content(CONTENT_DIR, ids, unstamped=args.stamp == [], stale=args.stamp_all_stale)
    except ContentError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(_stamped(stamping))
    return 0


def _stamped(stamping: Stamping) -> str:
    lines = [
        f"stamped {stamp.path}: {stamp.entry} {stamp.language}"
        + (" (was stale)" if stamp.before else " (was not stamped)")
        for stamp in stamping.stamps
    ]
    lines += [f"note: {note}" for note in stamping.notes]
    lines.append(f"{len(stamping.stamps)} translation(s) stamped")
    return "\n".join(lines)


def add_commands(content: Any) -> None:
    """Register check, export, import and translations under `python -m bot content`."""
    check = content.add_parser(
        "check",
        help="validate content, then run `rasa data validate`",
        description="Report content problems with the file and line to open.",
        epilog=CHECK_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    check.add_argument("--no-rasa", action="store_true", help="skip `rasa data validate`")
    check.add_argument(
        "--translations",
        action="store_true",
        help="only the translations report: stale, unstamped and missing text and problems, by language",
    )
    check.add_argument(
        "--today",
        type=_today,
        default=None,
        metavar="YYYY-MM-DD",
        help="judge review dates as of this day (default: today)",
    )
    check.set_defaults(handler=_check)

    export = content.add_parser(
        "export",
        help="write every entry to one CSV for a spreadsheet",
        description=EXPORT_DESCRIPTION,
    )
    export.add_argument("file", type=Path, metavar="FILE.csv")
    export.set_defaults(handler=_export)

    importer = content.add_parser(
        "import",
        help="add and update entries from a CSV (never deletes)",
        description="Add and update content entries from a CSV written by `content export`.",
        epilog=IMPORT_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    importer.add_argument("file", type=Path, metavar="FILE.csv")
    importer.add_argument("--dry-run", action="store_true", help="report what would change; write nothing")
    importer.set_defaults(handler=_import)

    translations = content.add_parser(
        "translations",
        help="the translations report; --stamp marks translations as made from the current English",
        description=TRANSLATIONS_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    translations.add_argument(
        "--stamp",
        nargs="*",
        metavar="ID",
        default=None,
        help="stamp every translation of these entries; without ids, every translation not yet stamped",
    )
    translations.add_argument(
        "--stamp-all-stale",
        action="store_true",
        help="stamp every stale translation (after someone checked each against the English)",
    )
    translations.set_defaults(handler=_translations)
