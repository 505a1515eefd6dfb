"""`content export` / `content import`: lossless round trips, all-or-nothing imports."""

from __future__ import annotations

import csv
import dataclasses
import io
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.__main__ import main as bot_main
from bot.content.csvio import COLUMNS, ImportRefused, export_csv, protect, unprotect
from bot.content.importer import NEW_FILE_COMMENT, ImportPlan, import_csv
from bot.content.model import Entry, Topic, load_content

ROOT = Path(__file__).resolve().parents[3]
FIXTURES = ROOT / "tests" / "fixtures" / "content"
Rows = list[dict[str, str]]


def content_copy(tmp_path: Path, name: str) -> Path:
    target = tmp_path / "data" / "content"
    shutil.copytree(FIXTURES / name, target)
    return target


def snapshot(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


def entries(directory: Path) -> dict[str, Entry]:
    return {e.id: dataclasses.replace(e, path="", line=0) for t in load_content(directory) for e in t.entries}


def read_rows(path: Path) -> Rows:
    with path.open(encoding="utf-8-sig", newline="") as stream:
        return list(csv.DictReader(stream))


def write_rows(path: Path, rows: Rows, lineterminator: str = "\r\n", bom: bool = True) -> None:
    with path.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=COLUMNS, lineterminator=lineterminator)
        writer.writeheader()
        writer.writerows(rows)


def exported(directory: Path, tmp_path: Path, name: str = "content.csv") -> Path:
    path = tmp_path / name
    export_csv(load_content(directory), path)
    return path


def do_import(path: Path, directory: Path) -> ImportPlan:
    return import_csv(path, load_content(directory), directory)


# --- export ----------------------------------------------------------------------------------


def test_export_has_a_header_one_row_per_entry_and_a_bom_for_excel(tmp_path: Path) -> None:
    directory = content_copy(tmp_path, "awkward")
    path = exported(directory, tmp_path)
    assert path.read_bytes().startswith(b"\xef\xbb\xbftopic,id,kind,")
    rows = read_rows(path)
    assert [row["id"] for row in rows] == [
        "quotes_commas",
        "multi_line",
        "unicode_text",
        "formula_cells",
        "other_government",
    ]
    assert rows[1]["questions"] == "how do i apply\napply in steps", "one example per line inside the cell"


def test_export_neutralises_formulas_and_import_reverses_it(tmp_path: Path) -> None:
    directory = content_copy(tmp_path, "awkward")
    with exported(directory, tmp_path).open(encoding="utf-8-sig", newline="") as stream:
        cells = [cell for row in csv.reader(stream) for cell in row]
    assert not [cell for cell in cells if cell[:1] in ("=", "+", "-", "@")], "no cell may start a formula"
    rumor = read_rows(tmp_path / "content.csv")[3]
    assert rumor["questions"].startswith("'=SUM(A1:A9)\n+1 555")
    assert rumor["answer"].startswith("'=1+1") and rumor["department"] == "'@Finance"
    assert rumor["short_answer"] == "'-Free on Sundays only."
    assert rumor["claim"] == "''Tis the season: parking is free", "a real leading ' is protected too"
    for text in ("=x", "+1", "-1", "@a", "'a", "''a", "plain", "", "a'", "\tx"):
        assert unprotect(protect(text)) == text


# --- round trips -----------------------------------------------------------------------------


@pytest.mark.parametrize("fixture", ["awkward", "good"])
def test_export_import_export_is_byte_identical_and_writes_nothing(fixture: str, tmp_path: Path) -> None:
    directory = content_copy(tmp_path, fixture)
    before = snapshot(directory)
    first = exported(directory, tmp_path, "first.csv")
    plan = do_import(first, directory)
    assert (plan.changed, plan.added, plan.updated) == ([], [], [])
    assert snapshot(directory) == before
    assert exported(directory, tmp_path, "second.csv").read_bytes() == first.read_bytes()


def test_shipped_content_round_trips_without_a_change(tmp_path: Path) -> None:
    directory = tmp_path / "content"
    shutil.copytree(ROOT / "data" / "content", directory)
    before = snapshot(directory)
    first = exported(directory, tmp_path, "first.csv")
    assert do_import(first, directory).changed == []
    assert snapshot(directory) == before
    assert exported(directory, tmp_path, "second.csv").read_bytes() == first.read_bytes()


def test_importing_into_an_empty_directory_recreates_every_value(tmp_path: Path) -> None:
    source = content_copy(tmp_path, "awkward")
    path = exported(source, tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    plan = do_import(path, empty)
    assert sorted(plan.added) == sorted(entries(source))
    assert entries(empty) == entries(source), "quotes, commas, line breaks, emoji and accents all survive"
    assert (empty / "awkward.yml").read_text(encoding="utf-8").startswith(NEW_FILE_COMMENT)
    assert exported(empty, tmp_path, "again.csv").read_bytes() == path.read_bytes()


# --- adding, updating, keeping ---------------------------------------------------------------


def test_import_adds_new_ids_and_updates_changed_rows(tmp_path: Path) -> None:
    directory = content_copy(tmp_path, "good")
    rumors_before = (directory / "rumors.yml").read_bytes()
    path = exported(directory, tmp_path)
    rows = read_rows(path)
    rows[1]["answer"] = 'Trash goes out on "your day", before 7 am.\nSee the map, then set a reminder.'
    new = dict(rows[0], id="library_cards", questions="how do i get a library card\nlibrary card")
    new_topic = dict(
        rows[0], topic="water", id="water_bill", department="Water Utility", questions="pay water"
    )
    write_rows(path, [*rows, new, new_topic])

    plan = do_import(path, directory)

    assert (plan.added, plan.updated, plan.unchanged) == (["library_cards", "water_bill"], ["trash_day"], 2)
    after = entries(directory)
    assert (
        after["trash_day"].answer.endswith("then set a reminder.")
        and '"your day"' in after["trash_day"].answer
    )
    assert after["library_cards"].topic == "city" and after["water_bill"].topic == "water"
    city = (directory / "city.yml").read_text(encoding="utf-8")
    assert city.startswith("# Fixture: clean content."), "the top comment of an updated file is kept"
    assert city.index("- id: trash_day") < city.index("- id: library_cards"), "new entries are appended"
    assert (directory / "rumors.yml").read_bytes() == rumors_before, "an untouched file is not rewritten"
    assert (directory / "water.yml").exists()


def test_ids_missing_from_the_csv_are_kept(tmp_path: Path) -> None:
    directory = content_copy(tmp_path, "good")
    before = snapshot(directory)
    path = exported(directory, tmp_path)
    write_rows(path, read_rows(path)[1:])
    plan = do_import(path, directory)
    assert plan.kept == 1 and plan.changed == []
    assert snapshot(directory) == before and "library_hours" in entries(directory)


def test_changing_the_topic_moves_the_entry_to_that_file(tmp_path: Path) -> None:
    directory = content_copy(tmp_path, "good")
    path = exported(directory, tmp_path)
    rows = read_rows(path)
    rows[2]["topic"] = "city"
    write_rows(path, rows)
    plan = do_import(path, directory)
    assert plan.updated == ["free_parking"] and len(plan.changed) == 2
    topics = {t.id: [e.id for e in t.entries] for t in load_content(directory)}
    assert topics == {"city": ["library_hours", "trash_day", "free_parking"], "rumors": []}


def test_spreadsheet_quirks_are_accepted(tmp_path: Path) -> None:
    """No BOM, CRLF inside cells, TRUE/FALSE and RUMOR in capitals, empty rows at the end."""
    directory = content_copy(tmp_path, "good")
    path = exported(directory, tmp_path)
    rows = read_rows(path)
    rows[0]["questions"] = rows[0]["questions"].replace("\n", "\r\n") + "\r\n\r\n"
    rows[0]["sensitive"] = "FALSE"
    rows[2]["kind"], rows[2]["verdict"] = "RUMOR", "TRUE"
    write_rows(path, [*rows, dict.fromkeys(COLUMNS, "")], bom=False)
    before = snapshot(directory)
    plan = do_import(path, directory)
    assert plan.changed == [] and snapshot(directory) == before


# --- refusing bad CSVs -----------------------------------------------------------------------


def set_cell(row: int, column: str, value: str) -> Callable[[Rows], Rows]:
    def change(rows: Rows) -> Rows:
        rows[row - 2][column] = value
        return rows

    return change


def duplicate_row(rows: Rows) -> Rows:
    return [*rows, dict(rows[0])]


BAD_ROWS = [
    (set_cell(3, "kind", "question"), "row 3: trash_day: unknown kind 'question'"),
    (set_cell(3, "id", ""), "row 3: ?: missing id"),
    (set_cell(3, "id", "Trash Day"), "row 3: Trash Day: id 'Trash Day' must be lowercase"),
    (set_cell(3, "answer", ""), "row 3: trash_day: missing answer"),
    (set_cell(3, "source", ""), "row 3: trash_day: missing source"),
    (
        set_cell(3, "source", "www.harborcity.example/trash"),
        "source 'www.harborcity.example/trash' must start",
    ),
    (set_cell(3, "last_reviewed", "8/15/2026"), "row 3: trash_day: last_reviewed '8/15/2026' is not a date"),
    (set_cell(3, "last_reviewed", "2026-02-30"), "last_reviewed '2026-02-30' is not a date"),
    (set_cell(3, "questions", "\n \n"), "row 3: trash_day: needs at least one example question"),
    (set_cell(3, "sensitive", "maybe"), "sensitive 'maybe' must be true or false"),
    (set_cell(3, "topic", "../etc"), "topic '../etc' must be lowercase letters"),
    (set_cell(4, "verdict", ""), "row 4: free_parking: rumor without a verdict"),
    (set_cell(4, "verdict", "mostly"), "row 4: free_parking: verdict 'mostly' must be"),
    (set_cell(4, "claim", ""), "row 4: free_parking: rumor without a claim"),
    (set_cell(3, "kind", "referral"), "row 3: trash_day: referral without an agency (the government"),
    (set_cell(4, "related", "Trash Day"), "row 4: free_parking: related 'Trash Day' must be an entry id"),
    (set_cell(3, "agency", "State DMV\nOffice"), "row 3: trash_day: agency must be on one line"),
    (duplicate_row, "row 5: library_hours: duplicate id 'library_hours' (also row 2)"),
]


@pytest.mark.parametrize(("change", "message"), BAD_ROWS, ids=[m for _, m in BAD_ROWS])
def test_a_bad_row_refuses_the_whole_csv_and_writes_nothing(
    change: Callable[[Rows], Rows], message: str, tmp_path: Path
) -> None:
    directory = content_copy(tmp_path, "good")
    path = exported(directory, tmp_path)
    rows = read_rows(path)
    rows[0]["answer"] = "A valid change in another row that must not be written either."
    write_rows(path, change(rows))
    before = snapshot(directory)
    with pytest.raises(ImportRefused) as refused:
        do_import(path, directory)
    assert any(message in problem for problem in refused.value.problems), refused.value.problems
    assert snapshot(directory) == before


def test_every_bad_row_is_reported_at_once(tmp_path: Path) -> None:
    directory = content_copy(tmp_path, "good")
    path = exported(directory, tmp_path)
    rows = set_cell(2, "kind", "x")(set_cell(4, "source", "")(read_rows(path)))
    write_rows(path, rows)
    with pytest.raises(ImportRefused) as refused:
        do_import(path, directory)
    assert [p.split(": ")[1] for p in refused.value.problems] == ["row 2", "row 4"]


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("topic,id,kind", "missing column(s) department, claim"),
        (",".join([*COLUMNS, "notes"]), "unknown column(s) 'notes'"),
        (";".join(COLUMNS), "looks ;-separated"),
    ],
)
def test_a_bad_header_is_refused(header: str, message: str, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(header + "\r\n", encoding="utf-8")
    with pytest.raises(ImportRefused, match=re.escape(message)):
        do_import(path, content_copy(tmp_path, "good"))


def test_referrals_related_entries_and_overriding_alerts_round_trip(tmp_path: Path) -> None:
    directory = content_copy(tmp_path, "awkward")
    rows = {row["id"]: row for row in read_rows(exported(directory, tmp_path))}
    referral, rumor = rows["other_government"], rows["formula_cells"]
    assert referral["kind"] == "referral"
    assert referral["agency"] == 'the "State" Office of Records, Licences & Fees'
    assert (rumor["related"], rumor["overridden_by"]) == ("quotes_commas", "Boil Water Notice\nFlood Watch")
    empty = tmp_path / "empty"
    empty.mkdir()
    do_import(tmp_path / "content.csv", empty)
    assert entries(empty)["other_government"] == entries(directory)["other_government"]
    assert entries(empty)["formula_cells"].overridden_by == ("Boil Water Notice", "Flood Watch")


def test_a_csv_from_before_the_new_columns_imports_and_keeps_their_values(tmp_path: Path) -> None:
    """agency, related and overridden_by came later: an older export has none of them."""
    directory = content_copy(tmp_path, "awkward")
    before = snapshot(directory)
    path = exported(directory, tmp_path)
    old_columns = [c for c in COLUMNS if c not in ("agency", "related", "overridden_by")]
    rows = [{c: row[c] for c in old_columns} for row in read_rows(path)]

    def write_old(rows: Rows) -> None:
        with path.open("w", encoding="utf-8-sig", newline="") as stream:
            writer = csv.DictWriter(stream, fieldnames=old_columns, lineterminator="\r\n")
            writer.writeheader()
            writer.writerows(rows)

    write_old(rows)
    plan = do_import(path, directory)
    assert (plan.changed, plan.added, plan.updated) == ([], [], [])
    assert snapshot(directory) == before

    rows[3]["answer"] = "Meters are free on Sundays."
    write_old(rows)
    assert do_import(path, directory).updated == ["formula_cells"]
    after = entries(directory)
    assert after["formula_cells"].answer == "Meters are free on Sundays."
    assert after["formula_cells"].related == "quotes_commas", "a value the CSV has no column for is kept"
    assert after["formula_cells"].overridden_by == ("Boil Water Notice", "Flood Watch")
    assert after["other_government"].agency.startswith('the "State" Office')


def test_a_file_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes((",".join(COLUMNS) + "\r\ncity,caf\xe9\r\n").encode("latin-1"))
    with pytest.raises(ImportRefused, match="not UTF-8"):
        do_import(path, content_copy(tmp_path, "good"))


def test_a_content_file_with_an_unknown_key_is_not_rewritten(tmp_path: Path) -> None:
    directory = content_copy(tmp_path, "good")
    city = directory / "city.yml"
    city.write_text(city.read_text(encoding="utf-8") + "  notes: keep me\n", encoding="utf-8")
    path = exported(directory, tmp_path)
    write_rows(path, set_cell(3, "answer", "Changed.")(read_rows(path)))
    before = snapshot(directory)
    with pytest.raises(ImportRefused, match="unknown key 'notes' would be lost"):
        do_import(path, directory)
    assert snapshot(directory) == before


def test_a_new_topic_may_not_overwrite_a_file_holding_another_topic(tmp_path: Path) -> None:
    directory = content_copy(tmp_path, "good")
    (directory / "city.yml").rename(directory / "town.yml")
    path = exported(directory, tmp_path)
    write_rows(path, [*read_rows(path), dict(read_rows(path)[0], id="new_one", topic="town")])
    with pytest.raises(ImportRefused, match="which holds topic 'city'"):
        do_import(path, directory)


# --- the command line ------------------------------------------------------------------------


def test_the_commands_export_and_import(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    directory = content_copy(tmp_path, "good")
    monkeypatch.chdir(tmp_path)
    assert bot_main(["content", "export", "out.csv"]) == 0
    assert bot_main(["content", "import", "out.csv"]) == 0
    assert "0 added, 0 updated, 3 unchanged" in capsys.readouterr().out

    rows = read_rows(tmp_path / "out.csv")
    rows[1]["kind"] = "question"
    write_rows(tmp_path / "out.csv", rows)
    before = snapshot(directory)
    assert bot_main(["content", "import", "out.csv"]) == 1
    err = capsys.readouterr().err
    assert "row 3: trash_day: unknown kind 'question'" in err and "nothing was written" in err
    assert snapshot(directory) == before


def test_dry_run_reports_without_writing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    directory = content_copy(tmp_path, "good")
    monkeypatch.chdir(tmp_path)
    bot_main(["content", "export", "out.csv"])
    write_rows(tmp_path / "out.csv", set_cell(2, "answer", "New text.")(read_rows(tmp_path / "out.csv")))
    before = snapshot(directory)
    assert bot_main(["content", "import", "--dry-run", "out.csv"]) == 0
    assert "would write data/content/city.yml" in capsys.readouterr().out
    assert snapshot(directory) == before


def test_import_help_says_nothing_is_deleted(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        bot_main(["content", "import", "--help"])
    assert "NOT deleted" in capsys.readouterr().out


def test_topics_keep_their_file_order_in_the_export(tmp_path: Path) -> None:
    directory = content_copy(tmp_path, "good")
    text = exported(directory, tmp_path).read_text(encoding="utf-8-sig")
    ids = [row["id"] for row in csv.DictReader(io.StringIO(text))]
    expected = [e.id for t in load_content(directory) for e in t.entries]
    assert ids == expected
    assert isinstance(load_content(directory)[0], Topic)


# --- retired entries and validity windows ----------------------------------------------------


def test_the_window_columns_are_exported_only_when_some_entry_uses_them(tmp_path: Path) -> None:
    shipped = tmp_path / "shipped"
    shutil.copytree(ROOT / "data" / "content", shipped)
    header = next(csv.reader(exported(shipped, tmp_path).open(encoding="utf-8-sig", newline="")))
    assert [c for c in header if not c.startswith("variant")] == list(COLUMNS), (
        "content without retired entries or windows: the CSV is as before"
    )

    directory = content_copy(tmp_path, "good")
    city = directory / "city.yml"
    text = city.read_text(encoding="utf-8")
    city.write_text(
        text.replace(
            "  last_reviewed: '2026-09-01'\n", "  last_reviewed: '2026-09-01'\n  retired: true\n", 1
        ),
        encoding="utf-8",
    )
    windowed = {e.id: e for t in load_content(directory) for e in t.entries}
    retired_id = next(entry_id for entry_id, e in windowed.items() if e.retired)
    path = exported(directory, tmp_path, "window.csv")
    header = next(csv.reader(path.open(encoding="utf-8-sig", newline="")))
    assert header[header.index("last_reviewed") + 1 :] == ["retired", "valid_from", "valid_until"]
    rows = read_rows(path)
    assert [row["retired"] for row in rows if row["id"] == retired_id] == ["true"]
    assert {row["retired"] for row in rows if row["id"] != retired_id} == {"false"}

    empty = tmp_path / "empty"
    empty.mkdir()
    do_import(path, empty)
    assert entries(empty) == entries(directory), "retired comes back"
    assert exported(empty, tmp_path, "again.csv").read_bytes() == path.read_bytes()


def write_window_rows(path: Path, rows: Rows) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as stream:
        columns = [*COLUMNS, "retired", "valid_from", "valid_until"]
        writer = csv.DictWriter(stream, fieldnames=columns, lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(rows)


def test_a_window_set_in_the_csv_is_imported_and_one_without_the_columns_keeps_it(tmp_path: Path) -> None:
    directory = content_copy(tmp_path, "good")
    path = exported(directory, tmp_path)
    rows = [{**row, "retired": "", "valid_from": "", "valid_until": ""} for row in read_rows(path)]
    rows[0].update(valid_from="2026-06-01", valid_until="2026-09-30")
    rows[1].update(retired="TRUE")
    write_window_rows(path, rows)
    assert do_import(path, directory).updated == [rows[0]["id"], rows[1]["id"]]
    after = entries(directory)
    assert (after[rows[0]["id"]].valid_from, after[rows[0]["id"]].valid_until) == ("2026-06-01", "2026-09-30")
    assert after[rows[1]["id"]].retired
    assert "  retired: true\n" in (directory / "city.yml").read_text(encoding="utf-8")

    before = snapshot(directory)
    old = tmp_path / "old.csv"
    write_rows(old, [{c: row[c] for c in COLUMNS} for row in rows])
    plan = do_import(old, directory)
    assert (plan.changed, plan.updated) == ([], []), (
        "a CSV without the columns leaves the window and retirement"
    )
    assert snapshot(directory) == before


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("retired", "maybe", "retired 'maybe' must be true or false"),
        ("valid_from", "6/1/2026", "valid_from '6/1/2026' is not a date like 2026-09-01"),
        ("valid_until", "2026-09-31", "valid_until '2026-09-31' is not a date like 2026-09-01"),
        ("valid_until", "2026-09-30\n2026-10-31", "valid_until must be on one line"),
    ],
)
def test_a_bad_window_cell_refuses_the_csv(column: str, value: str, message: str, tmp_path: Path) -> None:
    directory = content_copy(tmp_path, "good")
    path = exported(directory, tmp_path)
    rows = [{**row, "retired": "", "valid_from": "", "valid_until": ""} for row in read_rows(path)]
    rows[1][column] = value
    write_window_rows(path, rows)
    before = snapshot(directory)
    with pytest.raises(ImportRefused, match=re.escape(f"row 3: {rows[1]['id']}: {message}")):
        do_import(path, directory)
    assert snapshot(directory) == before
