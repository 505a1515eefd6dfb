"""Message tests in the content: ``variants:`` read, checked at file:line, written back, generated
for Rasa with their metadata, and carried through the CSV; content without variants is unchanged."""

from __future__ import annotations

import csv
import dataclasses
import shutil
from datetime import date
from pathlib import Path

import pytest
import yaml

from bot.content import check
from bot.content.csvio import COLUMNS, ImportRefused, export_csv, export_text
from bot.content.generate import generated_files, responses_yaml
from bot.content.importer import import_csv
from bot.content.model import Variant, load_content, load_render_settings, load_topic
from bot.content.writer import topic_text, write_topic

ROOT = Path(__file__).resolve().parents[3]
GOOD = ROOT / "tests" / "fixtures" / "content" / "good"
AGENCY = ROOT / "data" / "agency.yml"
TODAY = date(2026, 11, 26)

TESTED = (ROOT / "tests" / "fixtures" / "content" / "tested" / "city.yml").read_text(encoding="utf-8")


def content_dir(tmp_path: Path, text: str = TESTED) -> Path:
    target = tmp_path / "data" / "content"
    target.mkdir(parents=True)
    shutil.copy(GOOD / "_settings.yml", target / "_settings.yml")
    (target / "city.yml").write_text(text, encoding="utf-8")
    return target


def errors_and_warnings(directory: Path) -> list[str]:
    return [str(p) for p in check.content_problems(directory, TODAY, AGENCY)]


def test_variants_are_read_with_their_weights(tmp_path: Path) -> None:
    entry = load_topic(content_dir(tmp_path) / "city.yml").entries[0]
    assert [(v.id, v.weight, v.short_answer) for v in entry.variants] == [
        ("plain", 1, "Library open 9-6, Mon-Sat."),
        ("warm", 3, ""),
    ]
    assert entry.variants[1].answer.startswith("Come by any day")
    assert load_topic(content_dir(tmp_path / "b") / "city.yml").entries[1].variants == ()


def test_a_clean_test_passes_the_check(tmp_path: Path) -> None:
    found = [p for p in errors_and_warnings(content_dir(tmp_path)) if ": error:" in p]
    assert found == []


@pytest.mark.parametrize(
    ("variants", "line_text", "message"),
    [
        ("  - id: only\n    answer: Just one.\n", "- id: only", "at least 2 variants"),
        (
            "  - id: same\n    answer: One.\n  - id: same\n    answer: Two.\n",
            "- id: same",
            "variant id 'same' is used twice",
        ),
        (
            "  - id: a\n    answer: One.\n  - id: b\n    answer: Two.\n    weight: 0\n",
            "- id: b",
            "variant b: weight must be a whole number of 1 or more",
        ),
        (
            "  - id: a\n    answer: One.\n  - id: b\n    answer: Two.\n    weight: lots\n",
            "- id: b",
            "weight must be a whole number",
        ),
        (
            "  - id: a\n    answer: One.\n  - id: B c\n    answer: Two.\n",
            "- id: B c",
            "variant id 'B c' must be",
        ),
        (
            "  - id: a\n    answer: One.\n  - id: b\n    anwser: Two.\n",
            "- id: b",
            "unknown key 'anwser' in a variant",
        ),
        ("  - id: a\n    answer: One.\n  - id: b\n", "- id: b", "variant b: missing answer"),
    ],
)
def test_bad_variants_are_errors_at_their_line(
    tmp_path: Path, variants: str, line_text: str, message: str
) -> None:
    text = TESTED.split("  variants:\n")[0] + "  variants:\n" + variants + TESTED.split("    weight: 3\n")[1]
    directory = content_dir(tmp_path, text)
    line = [n for n, raw in enumerate(text.splitlines(), start=1) if raw.strip() == line_text][-1]
    found = [p for p in errors_and_warnings(directory) if message in p]
    assert found, errors_and_warnings(directory)
    assert found[0].startswith(f"{directory / 'city.yml'}:{line}: error: library_hours: ")


def test_a_crisis_entry_is_never_tested(tmp_path: Path) -> None:
    text = TESTED.replace(
        "  kind: faq\n  department: Library\n", "  kind: faq\n  department: Library\n  sensitive: true\n"
    )
    found = errors_and_warnings(content_dir(tmp_path, text))
    assert any("a crisis (sensitive) entry is never tested" in p and ": error:" in p for p in found), found


def test_variant_wordings_follow_the_same_text_rules_as_the_answer(tmp_path: Path) -> None:
    text = (
        TESTED.replace(
            "answer: The library is open 9 to 6, Monday to Saturday.",
            "answer: The library is open 9 to 6. Questions? Call 555-0199 or see http://library.example.org",
        )
        .replace("Library open 9-6, Mon-Sat.", "'Hours: {agency.library_hours_typo}'")
        .replace("weight: 3", "weight: 3\n    short_answer: " + "Open daily but Sunday, 9 to 6. " * 12)
    )
    directory = content_dir(tmp_path, text)
    found = errors_and_warnings(directory)
    plain = next(n for n, raw in enumerate(text.splitlines(), start=1) if raw.strip() == "- id: plain")
    warm = next(n for n, raw in enumerate(text.splitlines(), start=1) if raw.strip() == "- id: warm")
    where = f"{directory / 'city.yml'}"
    expected = [
        (plain, True, "variant plain answer: phone number '555-0199' is not one of the agency's"),
        (plain, True, "variant plain answer: "),  # the http:// link
        (plain, True, "variant plain short_answer: "),  # the unknown placeholder
        (warm, False, "variant warm: SMS reply is"),
    ]
    for line, error, message in expected:
        kind = "error" if error else "warning"
        assert any(p.startswith(f"{where}:{line}: {kind}: library_hours: {message}") for p in found), (
            message,
            found,
        )
    assert any("http://" in p and f":{plain}: error:" in p for p in found), found


def test_the_writer_keeps_variants_and_rewrites_byte_for_byte(tmp_path: Path) -> None:
    path = content_dir(tmp_path) / "city.yml"
    topic = load_topic(path)
    assert topic_text(topic, "# Fixture: an entry under a message test.\n") == TESTED
    assert not write_topic(topic)
    changed = dataclasses.replace(
        topic.entries[0], variants=(*topic.entries[0].variants, Variant("short", "Open 9-6.", "", 2))
    )
    write_topic(dataclasses.replace(topic, entries=(changed, *topic.entries[1:])))
    assert load_topic(path).entries[0].variants[-1] == Variant("short", "Open 9-6.", "", 2)


def test_generate_writes_one_variation_per_variant_with_its_metadata(tmp_path: Path) -> None:
    directory = content_dir(tmp_path)
    responses = yaml.safe_load(responses_yaml(load_content(directory), load_render_settings(directory)))
    tested = responses["responses"]["utter_faq/library_hours"]
    more = "\nMore: https://www.harborcity.example/library"
    assert tested == [
        {
            "text": "The library is open 9 to 6, Monday to Saturday." + more,
            "metadata": {"variant": "plain", "weight": 1},
        },
        {
            "text": "Library open 9-6, Mon-Sat." + more,
            "channel": "twilio",
            "metadata": {"variant": "plain", "weight": 1},
        },
        {
            "text": "Come by any day but Sunday - the library is open 9 to 6." + more,
            "metadata": {"variant": "warm", "weight": 3},
        },
        {
            "text": "Come by any day but Sunday - the library is open 9 to 6." + more,
            "channel": "twilio",
            "metadata": {"variant": "warm", "weight": 3},
        },
    ]
    untested = responses["responses"]["utter_faq/trash_day"]
    assert untested == [
        {
            "text": "Trash is collected once a week. Look up your day on the city map.\nMore: https://www.harborcity.example/trash"
        }
    ]


def test_the_shipped_content_generates_exactly_the_committed_files() -> None:
    for item in generated_files(load_content(), load_render_settings()):
        assert (ROOT / item.path).read_text(encoding="utf-8") == item.text, item.path


def test_rasa_accepts_the_variations_metadata(tmp_path: Path) -> None:
    """Rasa's own domain schema (what `rasa data validate` checks) on the generated responses."""
    from rasa.shared.core.domain import Domain

    directory = content_dir(tmp_path)
    text = responses_yaml(load_content(directory), load_render_settings(directory))
    domain = Domain.from_yaml(text)
    variations = domain.responses["utter_faq/library_hours"]
    assert [v.get("metadata", {}).get("variant") for v in variations] == ["plain", "plain", "warm", "warm"]


# --- CSV ---------------------------------------------------------------------------------------


def test_content_with_no_test_running_exports_without_variant_columns() -> None:
    untested = [
        dataclasses.replace(topic, entries=tuple(dataclasses.replace(e, variants=()) for e in topic.entries))
        for topic in load_content()
    ]
    header = export_text(untested).split("\r\n", 1)[0]
    assert header == ",".join(COLUMNS)


def test_variants_round_trip_through_the_csv(tmp_path: Path) -> None:
    directory = content_dir(tmp_path)
    path = tmp_path / "content.csv"
    export_csv(load_content(directory), path)
    with path.open(encoding="utf-8-sig", newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert rows[0]["variant1_id"] == "plain" and rows[0]["variant2_weight"] == "3"
    assert rows[1]["variant1_id"] == "" and rows[1]["variant2_answer"] == ""
    before = (directory / "city.yml").read_bytes()
    plan = import_csv(path, load_content(directory), directory)
    assert (plan.added, plan.updated, plan.unchanged) == ([], [], 2)
    assert (directory / "city.yml").read_bytes() == before

    rows[0]["variant2_answer"] = "The library: open 9 to 6, every day but Sunday."
    rows[1].update(
        variant1_id="a", variant1_answer="Pickup is weekly.", variant2_id="b", variant2_answer="Weekly!"
    )
    with path.open("w", encoding="utf-8-sig", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=list(rows[0]), lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(rows)
    plan = import_csv(path, load_content(directory), directory)
    assert sorted(plan.updated) == ["library_hours", "trash_day"]
    entries = {e.id: e for t in load_content(directory) for e in t.entries}
    assert entries["library_hours"].variants[1].answer == "The library: open 9 to 6, every day but Sunday."
    assert [(v.id, v.weight) for v in entries["trash_day"].variants] == [("a", 1), ("b", 1)]


def test_a_csv_without_variant_columns_keeps_the_tests(tmp_path: Path) -> None:
    directory = content_dir(tmp_path)
    path = tmp_path / "old.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as stream:
        stream.write(
            export_text(
                [
                    dataclasses.replace(
                        t, entries=tuple(dataclasses.replace(e, variants=()) for e in t.entries)
                    )
                    for t in load_content(directory)
                ]
            )
        )
    plan = import_csv(path, load_content(directory), directory)
    assert plan.updated == []
    assert [v.id for v in load_topic(directory / "city.yml").entries[0].variants] == ["plain", "warm"]


def test_a_bad_variant_in_the_csv_is_refused_with_its_row(tmp_path: Path) -> None:
    directory = content_dir(tmp_path)
    path = tmp_path / "content.csv"
    export_csv(load_content(directory), path)
    text = path.read_text(encoding="utf-8-sig").replace(",warm,3,", ",warm,zero,")
    path.write_text(text, encoding="utf-8-sig")
    before = (directory / "city.yml").read_bytes()
    with pytest.raises(ImportRefused) as refused:
        import_csv(path, load_content(directory), directory)
    assert "row 2: library_hours: variant warm: weight must be a whole number" in str(refused.value)
    assert (directory / "city.yml").read_bytes() == before
