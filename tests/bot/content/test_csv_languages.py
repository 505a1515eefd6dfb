"""`content export` / `content import` with a set of columns per offered language (questions_es, ...)."""

from __future__ import annotations

import csv
import dataclasses
import re
import shutil
from pathlib import Path

import pytest

from bot.__main__ import main as bot_main
from bot.content.csvio import COLUMNS, ImportRefused, export_csv, translation_columns
from bot.content.importer import import_csv
from bot.content.model import Entry, Translation, english_digest, load_content
from bot.content.writer import write_topic

ROOT = Path(__file__).resolve().parents[3]
GOOD = ROOT / "tests" / "fixtures" / "content" / "good"
SPANISH = ("es",)
ES_COLUMNS = [
    "questions_es",
    "answer_es",
    "short_answer_es",
    "claim_es",
    "agency_es",
    "translated_from_es",
]
Rows = list[dict[str, str]]


def translated(entry: Entry) -> tuple[Translation, ...]:
    """Spanish for the good fixture's entries; trash_day stays English only."""
    if entry.id == "library_hours":
        spanish = Translation(
            language="es",
            questions=("¿A qué hora abre la biblioteca?", "horario de la biblioteca"),
            answer='La biblioteca principal abre de 9 a 6, de lunes a sábado.\n"Cerrada" los días feriados.',
            short_answer="-Abre de 9 a 6.",
            translated_from=english_digest(entry),
        )
        return (spanish,)
    if entry.id == "free_parking":
        spanish = Translation(
            language="es",
            questions=("¿Es gratis estacionarse los domingos?",),
            answer="Sí. Los parquímetros son gratis los domingos.",
            claim="El estacionamiento es gratis los domingos.",
        )
        french = Translation(language="fr", questions=("stationnement gratuit le dimanche ?",), answer="Oui.")
        return (french, spanish)
    return ()


@pytest.fixture
def directory(tmp_path: Path) -> Path:
    """The good fixture with Spanish (and one French translation, a language not offered)."""
    target = tmp_path / "data" / "content"
    shutil.copytree(GOOD, target)
    for topic in load_content(target):
        entries = tuple(dataclasses.replace(e, translations=translated(e)) for e in topic.entries)
        write_topic(dataclasses.replace(topic, entries=entries))
    return target


def snapshot(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.glob("*.yml"))}


def entries(directory: Path) -> dict[str, Entry]:
    return {e.id: dataclasses.replace(e, path="", line=0) for t in load_content(directory) for e in t.entries}


def exported(directory: Path, tmp_path: Path, name: str = "content.csv") -> Path:
    path = tmp_path / name
    export_csv(load_content(directory), path, SPANISH)
    return path


def read_rows(path: Path) -> tuple[list[str], Rows]:
    with path.open(encoding="utf-8-sig", newline="") as stream:
        reader = csv.DictReader(stream)
        return list(reader.fieldnames or []), list(reader)


def write_rows(path: Path, header: list[str], rows: Rows) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=header, lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(rows)


def do_import(path: Path, directory: Path) -> list[str]:
    plan = import_csv(path, load_content(directory), directory, languages=SPANISH)
    return plan.updated


# --- export ----------------------------------------------------------------------------------


def test_each_offered_language_has_its_columns_last(directory: Path, tmp_path: Path) -> None:
    header, rows = read_rows(exported(directory, tmp_path))
    assert header == [*COLUMNS, *ES_COLUMNS] == [*COLUMNS, *translation_columns(SPANISH)]
    library, trash, parking = rows
    assert library["questions_es"] == "¿A qué hora abre la biblioteca?\nhorario de la biblioteca"
    assert library["short_answer_es"] == "'-Abre de 9 a 6.", "a cell that starts a formula is protected"
    assert library["translated_from_es"] == english_digest(entries(directory)["library_hours"])
    assert {trash[column] for column in ES_COLUMNS} == {""}, "no translation: empty cells"
    assert parking["claim_es"] == "El estacionamiento es gratis los domingos."
    assert not any(column.endswith("_fr") for column in header), "French is not offered: no columns"


def test_without_languages_the_csv_is_english_only(directory: Path, tmp_path: Path) -> None:
    path = tmp_path / "english.csv"
    export_csv(load_content(directory), path)
    assert read_rows(path)[0] == list(COLUMNS)


# --- round trips -----------------------------------------------------------------------------


def test_export_import_export_is_byte_identical_with_spanish_columns(directory: Path, tmp_path: Path) -> None:
    before = snapshot(directory)
    first = exported(directory, tmp_path, "first.csv")
    plan = import_csv(first, load_content(directory), directory, languages=SPANISH)
    assert (plan.changed, plan.added, plan.updated) == ([], [], [])
    assert snapshot(directory) == before, "the French translation, with no columns, is kept too"
    assert exported(directory, tmp_path, "second.csv").read_bytes() == first.read_bytes()


def test_importing_into_an_empty_directory_recreates_the_spanish(directory: Path, tmp_path: Path) -> None:
    path = exported(directory, tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    import_csv(path, [], empty, languages=SPANISH)
    recreated = entries(empty)
    for entry_id, entry in entries(directory).items():
        spanish = tuple(t for t in entry.translations if t.language == "es")
        assert recreated[entry_id].translations == spanish, entry_id
    assert exported(empty, tmp_path, "again.csv").read_bytes() == path.read_bytes()


def test_the_shipped_content_round_trips_with_its_spanish(tmp_path: Path) -> None:
    shipped = tmp_path / "content"
    shutil.copytree(ROOT / "data" / "content", shipped)
    before = snapshot(shipped)
    first = exported(shipped, tmp_path, "first.csv")
    assert import_csv(first, load_content(shipped), shipped, languages=SPANISH).changed == []
    assert snapshot(shipped) == before
    assert exported(shipped, tmp_path, "second.csv").read_bytes() == first.read_bytes()


# --- editing the Spanish in the spreadsheet --------------------------------------------------


def test_spanish_cells_add_change_and_remove_a_translation(directory: Path, tmp_path: Path) -> None:
    path = exported(directory, tmp_path)
    header, rows = read_rows(path)
    rows[0]["answer_es"] = "La biblioteca abre de 10 a 6."
    rows[1].update(
        questions_es="¿Qué día pasa la basura?\r\ndía de basura", answer_es="Busque su día en el mapa."
    )
    rows[2].update(dict.fromkeys(ES_COLUMNS, ""))
    write_rows(path, header, rows)
    assert do_import(path, directory) == ["library_hours", "trash_day", "free_parking"]
    after = entries(directory)
    assert after["library_hours"].translations[0].answer == "La biblioteca abre de 10 a 6."
    assert after["library_hours"].answer == entries(directory)["library_hours"].answer
    (trash,) = after["trash_day"].translations
    assert (trash.language, trash.questions) == ("es", ("¿Qué día pasa la basura?", "día de basura"))
    assert [t.language for t in after["free_parking"].translations] == ["fr"], (
        "the Spanish is removed, the French (no columns) kept"
    )


def test_a_csv_without_the_spanish_columns_keeps_the_translations(directory: Path, tmp_path: Path) -> None:
    path = exported(directory, tmp_path)
    header, rows = read_rows(path)
    english = [c for c in header if c not in ES_COLUMNS]
    rows = [{c: row[c] for c in english} for row in rows]
    rows[0]["answer"] = "The main library is open 10 to 6."
    write_rows(path, english, rows)
    assert do_import(path, directory) == ["library_hours"]
    after = entries(directory)["library_hours"]
    assert after.answer == "The main library is open 10 to 6."
    assert after.translations[0].answer.startswith("La biblioteca principal abre de 9 a 6")


# --- refusing bad Spanish columns ------------------------------------------------------------


def test_columns_for_a_language_not_offered_are_refused(directory: Path, tmp_path: Path) -> None:
    path = exported(directory, tmp_path)
    header, rows = read_rows(path)
    french = [column.replace("_es", "_fr") for column in ES_COLUMNS]
    write_rows(path, header + french, rows)
    before = snapshot(directory)
    with pytest.raises(ImportRefused) as refused:
        do_import(path, directory)
    (problem,) = refused.value.problems
    assert problem == (
        f"{path}: row 1: column(s) {', '.join(french)}: 'fr' is not a language the assistant offers besides "
        "English (languages_offered in data/agency.yml; offered: es); add it there first, or remove the "
        "columns"
    )
    assert snapshot(directory) == before


def test_a_language_needs_all_its_columns(directory: Path, tmp_path: Path) -> None:
    path = exported(directory, tmp_path)
    header, rows = read_rows(path)
    header.remove("translated_from_es")
    write_rows(path, header, [{c: row[c] for c in header} for row in rows])
    with pytest.raises(
        ImportRefused, match=re.escape("row 1: the es translation needs the column(s) translated_from_es")
    ):
        do_import(path, directory)


@pytest.mark.parametrize(
    ("cells", "message"),
    [
        (
            {"answer_es": ""},
            "row 2: library_hours: answer_es: missing (a es translation needs its answer, or no es cell)",
        ),
        (
            {"questions_es": "\n"},
            "row 2: library_hours: questions_es: a es translation needs at least one example question",
        ),
        ({"agency_es": "el Estado\nde Harbor"}, "row 2: library_hours: agency_es must be on one line"),
        ({"translated_from_es": "abc\ndef"}, "row 2: library_hours: translated_from_es must be on one line"),
    ],
)
def test_a_bad_spanish_cell_refuses_the_csv(
    directory: Path, tmp_path: Path, cells: dict[str, str], message: str
) -> None:
    path = exported(directory, tmp_path)
    header, rows = read_rows(path)
    rows[0].update(cells)
    write_rows(path, header, rows)
    before = snapshot(directory)
    with pytest.raises(ImportRefused) as refused:
        do_import(path, directory)
    assert any(message in problem for problem in refused.value.problems), refused.value.problems
    assert snapshot(directory) == before


# --- the command line ------------------------------------------------------------------------


def test_the_commands_use_the_agency_s_languages(
    directory: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copy(ROOT / "data" / "agency.yml", tmp_path / "data" / "agency.yml")
    monkeypatch.chdir(tmp_path)
    assert bot_main(["content", "export", "out.csv"]) == 0
    assert read_rows(tmp_path / "out.csv")[0][-len(ES_COLUMNS) :] == ES_COLUMNS
    assert bot_main(["content", "import", "out.csv"]) == 0
    assert "0 added, 0 updated, 3 unchanged" in capsys.readouterr().out

    text = (tmp_path / "data" / "agency.yml").read_text(encoding="utf-8")
    (tmp_path / "data" / "agency.yml").write_text(text.replace("[en, es]", "[en]"), encoding="utf-8")
    assert bot_main(["content", "import", "out.csv"]) == 1
    err = capsys.readouterr().err
    assert (
        "'es' is not a language the assistant offers besides English" in err and "nothing was written" in err
    )
