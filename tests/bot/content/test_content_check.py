"""`content check`: every kind of finding, at the file and line a person opens."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from bot.content import check
from bot.content.lint import Problem, months_before
from bot.content.model import CONTENT_DIR

ROOT = Path(__file__).resolve().parents[3]
FIXTURES = ROOT / "tests" / "fixtures" / "content"
PROBLEMS = FIXTURES / "problems"
TODAY = date(2026, 11, 26)


def line_of(name: str, text: str) -> int:
    """The line of a problems fixture that reads ``text`` (ignoring indentation)."""
    lines = (PROBLEMS / name).read_text(encoding="utf-8").splitlines()
    return next(number for number, line in enumerate(lines, start=1) if line.strip() == text)


@pytest.fixture(scope="module")
def found() -> list[Problem]:
    return check.content_problems(PROBLEMS, TODAY)


# (file, text on the line the finding must point at, error?, part of the message)
EXPECTED = [
    ("broken.yml", 'answer: "never closed', True, "not valid YAML: while scanning a quoted scalar"),
    ("schema.yml", "- id: Bad Id", True, "id 'Bad Id' must be lowercase"),
    ("schema.yml", "- id: typo_key", True, "unknown key 'anwser'"),
    ("schema.yml", "- id: typo_key", True, "typo_key: missing answer"),
    ("schema.yml", "- id: quoted_sensitive", True, "sensitive must be true or false"),
    ("schema.yml", "- id: list_answer", True, "answer must be a text, not a list"),
    ("schema.yml", "- id: missing_fields", True, "missing_fields: missing answer"),
    ("schema.yml", "- id: missing_fields", True, "missing_fields: missing source link"),
    ("schema.yml", "- id: missing_fields", True, "missing_fields: missing department"),
    ("schema.yml", "- id: missing_fields", True, "needs at least one example question"),
    ("schema.yml", "- id: missing_fields", True, "last_reviewed '09/01/2026' is not a date"),
    ("schema.yml", "- id: claimless_rumor", True, "a rumor needs the claim"),
    ("schema.yml", "- id: odd_verdict", True, "verdict 'maybe' must be true / false / misleading"),
    ("quality.yml", "- id: long_sms", True, "long_sms: duplicate id"),
    ("questions.yml", "- id: long_sms", True, "long_sms: duplicate id"),
    (
        "quality.yml",
        "- id: long_sms",
        False,
        "SMS reply is 235 characters, over sms_limit 200: add a short_answer",
    ),
    ("quality.yml", "- id: hard_words", False, "answer reads at grade"),
    (
        "quality.yml",
        "- id: bad_links",
        True,
        "source 'http://www.harborcity.example/forms' must start with https://",
    ),
    ("quality.yml", "- id: bad_links", True, "link 'www.harborcity.example/forms' must start with https://"),
    ("quality.yml", "- id: bad_links", True, "link 'https:/forms.harborcity.example' is not a well-formed"),
    (
        "quality.yml",
        "- id: bad_links",
        True,
        "answer: web address 'https:/forms.harborcity.example' is not one of the agency's",
    ),
    ("quality.yml", "- id: unbalanced", False, "'(' is never closed"),
    ("quality.yml", "- id: unbalanced", False, "odd number of '\"' quotes"),
    ("quality.yml", "- id: unbalanced", False, "odd number of '**'"),
    ("quality.yml", "- id: stale_review", False, "last reviewed 2025-01-15, over 12 months ago"),
    ("quality.yml", "- id: no_review", False, "no last_reviewed date"),
    ("quality.yml", "- id: future_review", False, "is in the future"),
    (
        "questions.yml",
        "- when do the POOLS open",
        True,
        "'when do the POOLS open' is the same as 'When do the pools open?' under pool_hours "
        f"({PROBLEMS / 'questions.yml'}:{line_of('questions.yml', '- When do the pools open?')})",
    ),
    (
        "questions.yml",
        "- what time does the swimming pool open toda",
        False,
        "is nearly the same (similarity 0.99) as 'what time does the swimming pool open today' "
        "under pool_hours",
    ),
]


@pytest.mark.parametrize(("name", "anchor", "error", "message"), EXPECTED, ids=[e[3][:60] for e in EXPECTED])
def test_each_kind_of_problem_is_found_at_its_line(
    found: list[Problem], name: str, anchor: str, error: bool, message: str
) -> None:
    where = (str(PROBLEMS / name), line_of(name, anchor))
    matches = [p for p in found if (p.path, p.line) == where and message in p.message]
    assert matches, f"{name}:{where[1]}: {message!r} not in\n" + "\n".join(map(str, found))
    assert all(p.error is error for p in matches)


def test_nothing_unexpected_is_reported(found: list[Problem]) -> None:
    assert len(found) == len(EXPECTED), "\n".join(map(str, found))


def test_clean_content_has_no_findings() -> None:
    assert check.content_problems(FIXTURES / "good", TODAY) == []
    assert check.content_problems(FIXTURES / "awkward", TODAY) == []


def test_errors_fail_the_check_and_warnings_alone_do_not(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert check.main(run_rasa=False, content_dir=PROBLEMS, today=TODAY) == 1
    assert "error(s)" in capsys.readouterr().out
    assert check.main(run_rasa=False, content_dir=FIXTURES / "good", today=TODAY) == 0
    assert check.main(run_rasa=False, content_dir=FIXTURES / "good", today=date(2030, 1, 1)) == 0
    out = capsys.readouterr().out
    assert "content check: 0 error(s), 3 warning(s)" in out


def test_stale_reviews_are_listed_by_department(capsys: pytest.CaptureFixture[str]) -> None:
    check.main(run_rasa=False, content_dir=FIXTURES / "good", today=date(2027, 8, 20))
    out = capsys.readouterr().out.splitlines()
    communications, sanitation = (
        out.index("review due, Communications:"),
        out.index("review due, Sanitation:"),
    )
    assert communications < sanitation and "review due, Library:" not in out, (
        "2026-09-01 is not 12 months old"
    )
    assert (
        out[communications + 1].strip().endswith("free_parking: last reviewed 2026-06-01, over 12 months ago")
    )
    assert out[sanitation + 1].strip().endswith("trash_day: last reviewed 2026-08-15, over 12 months ago")
    assert out[sanitation + 1].startswith("  ") and ":17: warning:" in out[sanitation + 1]


def test_a_bad_settings_file_is_an_error(tmp_path: Path) -> None:
    directory = tmp_path / "content"
    shutil.copytree(FIXTURES / "good", directory)
    (directory / "_settings.yml").write_text("templates: {}\n", encoding="utf-8")
    problems = check.content_problems(directory, TODAY)
    assert [p.path for p in problems if p.error] == [str(directory / "_settings.yml")]


def test_the_shipped_content_passes(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(ROOT)
    assert [str(p) for p in check.content_problems(CONTENT_DIR) if p.error] == []
    assert check.main(run_rasa=False) == 0, capsys.readouterr().out


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 11, 26), date(2025, 11, 26)),
        (date(2024, 2, 29), date(2023, 2, 28)),
        (date(2026, 3, 31), date(2025, 3, 31)),
    ],
)
def test_twelve_months_before(day: date, expected: date) -> None:
    assert months_before(day, 12) == expected
    assert months_before(date(2026, 3, 31), 1) == date(2026, 2, 28)
