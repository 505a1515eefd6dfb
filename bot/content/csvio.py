"""Content as one spreadsheet: ``content export`` writes it, ``content import`` reads it back.

Staff who prefer a spreadsheet to YAML edit the CSV. This module is the CSV format:
columns, formula protection, and validating rows into entries. A message test's variants are
one set of columns each after the others (``variant1_id``, ``variant1_weight``,
``variant1_answer``, ``variant1_short_answer``, then ``variant2_...``): exported only when an
entry has variants, so a CSV without them is unchanged; so are the columns ``retired``,
``valid_from`` and ``valid_until`` (after ``last_reviewed``), exported only when some entry is
retired or has a window. Each language the agency offers besides English (``languages_offered`` in
data/agency.yml) has its set of columns last: ``questions_es``, ``answer_es``, ``short_answer_es``,
``claim_es``, ``agency_es``, ``translated_from_es``; a CSV without a language's columns leaves the
entries' text in that language as it is, and a column for a language not offered is refused. A CSV
with any bad row is refused whole, with row numbers as a spreadsheet shows them (the header is
row 1); ``importer`` merges the entries into the content files.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from datetime import date
from pathlib import Path

from bot.content.agency import AGENCY_FILE
from bot.content.model import (
    ID_PATTERN,
    KINDS,
    TRANSLATION_KEYS,
    VERDICTS,
    Entry,
    Topic,
    Translation,
    Variant,
    parse_weight,
    variant_problems,
)
from bot.content.textcheck import url_problem
from bot.content.writer import ENTRY_KEYS, WINDOW_KEYS

# The CSV is the topic file's name, then an entry's keys in the order content files use.
COLUMNS = ("topic", *ENTRY_KEYS)
# Columns added after CSVs were first exported: a CSV without them still imports, and the
# entries it updates keep what the content files say there (``importer.plan_import``).
LATER_COLUMNS = ("agency", "related", "overridden_by")
# After ``last_reviewed``, only when some entry is retired or answered within dates; a CSV without
# them imports, and the entries it updates keep their values (``absent_columns``).
WINDOW_COLUMNS = WINDOW_KEYS
ONE_LINE = (
    "topic",
    "id",
    "kind",
    "department",
    "agency",
    "verdict",
    "related",
    "sensitive",
    "source",
    "last_reviewed",
    *WINDOW_COLUMNS,
)
# A cell starting with one of these is a formula to Excel, LibreOffice and Google Sheets
# (CSV injection). Export puts a ' in front; import removes one leading ', so any text,
# including one that really starts with ', comes back unchanged.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "'")
# One set of these per variant, numbered from 1: variant1_id, variant1_weight, ...
VARIANT_FIELDS = ("id", "weight", "answer", "short_answer")
VARIANT_COLUMN = re.compile(r"^variant([1-9][0-9]*)_(id|weight|answer|short_answer)$")
VARIANTS = "variants"  # in ``absent_columns``: the CSV has no variant columns at all
# One set per language, after everything else: questions_es, answer_es, ..., translated_from_es.
TRANSLATION_COLUMN = re.compile(rf"^({'|'.join(TRANSLATION_KEYS)})_([a-z]{{2}})$")
TRANSLATIONS = "translations"  # in ``absent_columns``: the CSV has no translation columns at all
ONE_LINE_TRANSLATED = ("agency", "translated_from")
TRUE_WORDS = {"true", "yes", "1"}
FALSE_WORDS = {"false", "no", "0", ""}


def protect(cell: str) -> str:
    """Make a cell safe to open in a spreadsheet; ``unprotect`` reverses it exactly."""
    return "'" + cell if cell.startswith(FORMULA_START) else cell


def unprotect(cell: str) -> str:
    return cell[1:] if cell.startswith("'") else cell


# --- export -----------------------------------------------------------------------------------


def variant_columns(sets: int) -> list[str]:
    return [f"variant{n}_{name}" for n in range(1, sets + 1) for name in VARIANT_FIELDS]


def _variant_cells(entry: Entry, sets: int) -> list[str]:
    cells = []
    for n in range(sets):
        if n < len(entry.variants):
            v = entry.variants[n]
            cells += [v.id, str(v.weight), v.answer, v.short_answer]
        else:
            cells += [""] * len(VARIANT_FIELDS)
    return cells


def translation_columns(languages: Sequence[str]) -> list[str]:
    return [f"{key}_{code}" for code in languages for key in TRANSLATION_KEYS]


def _translation_cells(entry: Entry, languages: Sequence[str]) -> list[str]:
    cells = []
    for code in languages:
        found = entry.translation(code)
        if found is None:
            cells += [""] * len(TRANSLATION_KEYS)
        else:
            cells += ["\n".join(found.questions), *(getattr(found, key) for key in TRANSLATION_KEYS[1:])]
    return cells


def uses_window(entry: Entry) -> bool:
    """Whether the entry needs the ``WINDOW_COLUMNS`` to be exported as it is."""
    return entry.retired or bool(entry.valid_from or entry.valid_until)


def entry_row(
    entry: Entry, variant_sets: int = 0, window: bool = False, languages: Sequence[str] = ()
) -> list[str]:
    """The entry's cells; the ``WINDOW_COLUMNS`` if ``window``, then ``variant_sets`` sets of variant
    columns, then a set of translation columns per language of ``languages``."""
    values = {
        "topic": entry.topic,
        "id": entry.id,
        "kind": entry.kind,
        "department": entry.department,
        "agency": entry.agency,
        "claim": entry.claim,
        "verdict": entry.verdict,
        "related": entry.related,
        "sensitive": "true" if entry.sensitive else "false",
        "overridden_by": "\n".join(entry.overridden_by),
        "questions": "\n".join(entry.questions),
        "answer": entry.answer,
        "short_answer": entry.short_answer,
        "source": entry.source,
        "last_reviewed": entry.last_reviewed,
        "retired": "true" if entry.retired else "false",
        "valid_from": entry.valid_from,
        "valid_until": entry.valid_until,
    }
    columns = [*COLUMNS, *WINDOW_COLUMNS] if window else COLUMNS
    cells = [values[column] for column in columns] + _variant_cells(entry, variant_sets)
    return [protect(cell) for cell in cells + _translation_cells(entry, languages)]


def export_text(topics: Iterable[Topic], languages: Sequence[str] = ()) -> str:
    """All entries, in file order, as CSV text (header first); the ``WINDOW_COLUMNS`` when some entry
    uses them, variant columns for the most variants any entry has (none when no entry is under
    test), and the translation columns of ``languages`` (the offered ones besides English)."""
    topics = list(topics)
    entries = [entry for topic in topics for entry in topic.entries]
    sets = max((len(entry.variants) for entry in entries), default=0)
    window = any(uses_window(entry) for entry in entries)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    header = [*COLUMNS, *(WINDOW_COLUMNS if window else ()), *variant_columns(sets)]
    writer.writerow(header + translation_columns(languages))
    writer.writerows(entry_row(entry, sets, window, languages) for entry in entries)
    return buffer.getvalue()


def export_csv(topics: list[Topic], path: Path, languages: Sequence[str] = ()) -> int:
    """Write the CSV with a UTF-8 byte-order mark: without it Excel reads UTF-8 as ANSI."""
    with path.open("w", encoding="utf-8-sig", newline="") as stream:
        stream.write(export_text(topics, languages))
    return sum(len(topic.entries) for topic in topics)


# --- import: reading and validating rows ------------------------------------------------------


class ImportRefused(Exception):
    """The CSV (or the content it would change) has problems; nothing was written."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


def read_csv(path: Path, languages: Sequence[str] = ()) -> list[tuple[int, dict[str, str]]]:
    """(spreadsheet row number, cells by column) for every non-empty row; refuses a bad header, and
    translation columns for a language not in ``languages`` (the offered ones besides English).

    A column of ``LATER_COLUMNS`` or ``WINDOW_COLUMNS`` the header lacks is absent from the cells,
    not empty.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportRefused([f"{path}: not UTF-8 ({exc.reason}); save it as 'CSV UTF-8'"]) from exc
    rows = list(csv.reader(io.StringIO(text, newline="")))
    if not rows:
        raise ImportRefused([f"{path}: empty file; expected a header row: {','.join(COLUMNS)}"])
    header = [cell.strip() for cell in rows[0]]
    _check_header(path, header, languages)
    return [
        (number, _cells(header, row))
        for number, row in enumerate(rows[1:], start=2)
        if any(cell.strip() for cell in row)
    ]


def _check_header(path: Path, header: list[str], languages: Sequence[str] = ()) -> None:
    problems = _translation_header_problems(path, header, languages)
    missing = [column for column in COLUMNS if column not in header and column not in LATER_COLUMNS]
    if missing:
        hint = " (the file looks ;-separated: export comma-separated)" if ";" in "".join(header) else ""
        problems.append(f"{path}: row 1: missing column(s) {', '.join(missing)}{hint}")
    known = (*COLUMNS, *WINDOW_COLUMNS)
    unknown = [
        column
        for column in header
        if column not in known and not VARIANT_COLUMN.match(column) and not TRANSLATION_COLUMN.match(column)
    ]
    if unknown and not missing:
        problems.append(f"{path}: row 1: unknown column(s) {', '.join(map(repr, unknown))}")
    for number in _variant_numbers(header):
        lacking = [
            f"variant{number}_{name}" for name in ("id", "answer") if f"variant{number}_{name}" not in header
        ]
        if lacking:
            problems.append(f"{path}: row 1: variant {number} needs the column(s) {', '.join(lacking)}")
    repeated = sorted({column for column in header if header.count(column) > 1})
    if repeated:
        problems.append(f"{path}: row 1: column(s) given twice: {', '.join(repeated)}")
    if problems:
        raise ImportRefused(problems)


def _translation_header_problems(path: Path, header: list[str], languages: Sequence[str]) -> list[str]:
    """A language's columns come as a whole set, and only for a language the assistant offers."""
    problems = []
    for code in translation_languages(header):
        columns = [
            column for column in header if (m := TRANSLATION_COLUMN.match(column)) and m.group(2) == code
        ]
        if code not in languages:
            offered = ", ".join(languages) or "none"
            problems.append(
                f"{path}: row 1: column(s) {', '.join(columns)}: {code!r} is not a language the assistant "
                f"offers besides English (languages_offered in {AGENCY_FILE}; offered: {offered}); add it "
                "there first, or remove the columns"
            )
        elif lacking := [column for column in translation_columns([code]) if column not in header]:
            problems.append(f"{path}: row 1: the {code} translation needs the column(s) {', '.join(lacking)}")
    return problems


def translation_languages(columns: Iterable[str]) -> list[str]:
    """The languages that have any translation column, in the order they first appear."""
    codes = [match.group(2) for column in columns if (match := TRANSLATION_COLUMN.match(column))]
    return list(dict.fromkeys(codes))


def _variant_numbers(columns: Iterable[str]) -> list[int]:
    """The variant numbers that have any column, in order."""
    return sorted({int(match.group(1)) for column in columns if (match := VARIANT_COLUMN.match(column))})


def _cells(header: list[str], row: list[str]) -> dict[str, str]:
    """Every column of the header (a short row's last cells empty), so only a column the header
    lacks is missing."""
    cells = dict.fromkeys(header, "")
    for column, value in zip(header, row, strict=False):
        cells[column] = unprotect(value.strip()).strip()
    if len(row) > len(header) and any(value.strip() for value in row[len(header) :]):
        cells["__extra__"] = f"has {len(row)} cells but the header has {len(header)}"
    return cells


def _unix_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _bool(value: str) -> bool | None:
    word = value.lower()
    return True if word in TRUE_WORDS else False if word in FALSE_WORDS else None


def row_problems(cells: dict[str, str]) -> list[str]:
    """Everything wrong with one row, in words a member of staff can act on."""
    problems = [cells["__extra__"]] if "__extra__" in cells else []
    return (
        problems
        + _name_problems(cells)
        + _field_problems(cells)
        + _rumor_problems(cells)
        + _referral_problems(cells)
        + _variant_row_problems(cells)
        + _translation_row_problems(cells)
    )


def _row_translations(cells: dict[str, str]) -> tuple[Translation, ...]:
    """The translations of a row: each language with any cell filled in, in column order."""
    translations = []
    for code in translation_languages(cells):
        get = {key: cells.get(f"{key}_{code}", "") for key in TRANSLATION_KEYS}
        if any(get.values()):
            translations.append(
                Translation(
                    language=code,
                    questions=_questions(get["questions"]),
                    answer=_unix_newlines(get["answer"]),
                    short_answer=_unix_newlines(get["short_answer"]),
                    claim=_unix_newlines(get["claim"]),
                    agency=get["agency"],
                    translated_from=get["translated_from"],
                )
            )
    return tuple(translations)


def _translation_row_problems(cells: dict[str, str]) -> list[str]:
    """A language's text needs its answer and a question (or every cell of the language left empty)."""
    problems = [
        f"{key}_{code} must be on one line"
        for code in translation_languages(cells)
        for key in ONE_LINE_TRANSLATED
        if any(c in cells.get(f"{key}_{code}", "") for c in "\r\n")
    ]
    for found in _row_translations(cells):
        code = found.language
        if not found.answer:
            problems.append(
                f"answer_{code}: missing (a {code} translation needs its answer, or no {code} cell)"
            )
        if not found.questions:
            problems.append(f"questions_{code}: a {code} translation needs at least one example question")
    return problems


def _row_variants(cells: dict[str, str]) -> tuple[Variant, ...]:
    """The variants of a row: each numbered set with any cell filled in, in number order."""
    variants = []
    for number in _variant_numbers(cells):
        get = {name: cells.get(f"variant{number}_{name}", "") for name in VARIANT_FIELDS}
        if any(get.values()):
            variants.append(
                Variant(
                    id=get["id"],
                    answer=_unix_newlines(get["answer"]),
                    short_answer=_unix_newlines(get["short_answer"]),
                    weight=parse_weight(get["weight"] or None),
                )
            )
    return tuple(variants)


def _variant_row_problems(cells: dict[str, str]) -> list[str]:
    variants = _row_variants(cells)
    kind = cells.get("kind", "").lower()
    sensitive = bool(_bool(cells.get("sensitive", "")))
    one_line = [f"variant {v.id or '?'}: id must be on one line" for v in variants if "\n" in v.id]
    return one_line + [message for _, message in variant_problems(variants, kind, sensitive)]


def _name_problems(cells: dict[str, str]) -> list[str]:
    """id and topic become an intent name and a file name, so they are strict."""
    problems = []
    for column, role in (("id", "it names the intent"), ("topic", "it names the file")):
        value = cells.get(column, "")
        if not value:
            problems.append(f"missing {column}")
        elif not ID_PATTERN.match(value):
            problems.append(f"{column} {value!r} must be lowercase letters, digits and _ ({role})")
    kind = cells.get("kind", "")
    if kind.lower() not in KINDS:
        named = f"unknown kind {kind!r}" if kind else "missing kind"
        problems.append(f"{named} (use {', '.join(KINDS[:-1])} or {KINDS[-1]})")
    return problems


def _field_problems(cells: dict[str, str]) -> list[str]:
    get = cells.get
    problems = [
        f"{column} must be on one line" for column in ONE_LINE if any(c in get(column, "") for c in "\r\n")
    ]
    problems += [f"missing {column}" for column in ("answer", "source", "department") if not get(column)]
    if get("source") and (problem := url_problem(get("source", ""))):
        problems.append(f"source {get('source')!r} {problem}")
    if not _questions(get("questions", "")):
        problems.append("needs at least one example question (one per line in the cell)")
    problems += [
        f"{column} {get(column)!r} must be true or false"
        for column in ("sensitive", "retired")
        if _bool(get(column, "")) is None
    ]
    problems += [
        f"{column} {get(column)!r} is not a date like 2026-09-01 "
        "(a spreadsheet may have reformatted it: format the column as text)"
        for column in ("last_reviewed", "valid_from", "valid_until")
        if get(column) and not _is_date(get(column, ""))
    ]
    return problems


def _rumor_problems(cells: dict[str, str]) -> list[str]:
    verdict, is_rumor = cells.get("verdict", "").lower(), cells.get("kind", "").lower() == "rumor"
    problems = []
    if verdict and verdict not in VERDICTS:
        problems.append(f"verdict {cells.get('verdict')!r} must be {' / '.join(VERDICTS)}")
    elif is_rumor and not verdict:
        problems.append(f"rumor without a verdict: use {' / '.join(VERDICTS)}")
    if is_rumor and not cells.get("claim"):
        problems.append("rumor without a claim")
    return problems


def _referral_problems(cells: dict[str, str]) -> list[str]:
    is_referral = cells.get("kind", "").lower() == "referral"
    problems = []
    # Without the column (an older export) the entry keeps its agency; `content check` has the last word.
    if is_referral and "agency" in cells and not cells["agency"]:
        problems.append("referral without an agency (the government that handles it)")
    related = cells.get("related", "")
    if related and not ID_PATTERN.match(related):
        problems.append(f"related {related!r} must be an entry id (lowercase letters, digits and _)")
    return problems


def _is_date(text: str) -> bool:
    try:
        return len(text) == 10 and bool(date.fromisoformat(text))
    except ValueError:
        return False


def _questions(cell: str) -> tuple[str, ...]:
    """The non-empty lines of a cell: example questions, or alert event names."""
    return tuple(line.strip() for line in _unix_newlines(cell).split("\n") if line.strip())


def row_entry(cells: dict[str, str]) -> Entry:
    """The entry a valid row describes, exactly as the loader would read it back."""
    return Entry(
        id=cells["id"],
        kind=cells["kind"].lower(),
        questions=_questions(cells["questions"]),
        answer=_unix_newlines(cells["answer"]),
        short_answer=_unix_newlines(cells.get("short_answer", "")),
        source=cells["source"],
        department=cells["department"],
        last_reviewed=cells.get("last_reviewed", ""),
        claim=_unix_newlines(cells.get("claim", "")),
        verdict=cells.get("verdict", "").lower(),
        related=cells.get("related", ""),
        agency=cells.get("agency", ""),
        overridden_by=_questions(cells.get("overridden_by", "")),
        sensitive=bool(_bool(cells.get("sensitive", ""))),
        variants=_row_variants(cells),
        retired=bool(_bool(cells.get("retired", ""))),
        valid_from=cells.get("valid_from", ""),
        valid_until=cells.get("valid_until", ""),
        translations=_row_translations(cells),
        topic=cells["topic"],
    )


def absent_columns(rows: list[tuple[int, dict[str, str]]]) -> frozenset[str]:
    """The ``LATER_COLUMNS`` and ``WINDOW_COLUMNS`` the CSV's header does not have (every row has
    each header column), ``variants`` when it has no variant columns and ``translations`` when it
    has no translation columns: the entries it updates keep their values for them (and their tests)."""
    if not rows:
        return frozenset()
    absent = {column for column in (*LATER_COLUMNS, *WINDOW_COLUMNS) if column not in rows[0][1]}
    if not _variant_numbers(rows[0][1]):
        absent.add(VARIANTS)
    if not translation_languages(rows[0][1]):
        absent.add(TRANSLATIONS)
    return frozenset(absent)


def csv_languages(rows: list[tuple[int, dict[str, str]]]) -> frozenset[str]:
    """The languages the CSV has translation columns for: the others' text is kept as it is."""
    return frozenset(translation_languages(rows[0][1])) if rows else frozenset()


def parse_rows(rows: list[tuple[int, dict[str, str]]], label: str = "") -> list[Entry]:
    """Entries for all rows, or ImportRefused listing every bad row."""
    prefix = f"{label}: " if label else ""
    problems: list[str] = []
    entries: list[Entry] = []
    first_row: dict[str, int] = {}
    for number, cells in rows:
        found = row_problems(cells)
        entry_id = cells.get("id", "")
        if entry_id in first_row:
            found.append(f"duplicate id {entry_id!r} (also row {first_row[entry_id]})")
        first_row.setdefault(entry_id, number)
        problems += [f"{prefix}row {number}: {entry_id or '?'}: {problem}" for problem in found]
        if not found:
            entries.append(row_entry(cells))
    if problems:
        raise ImportRefused(problems)
    return entries
