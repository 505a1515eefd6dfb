"""`content check`: every kind of finding, at the file and line a person opens."""

from __future__ import annotations

import dataclasses
import shutil
from datetime import date
from pathlib import Path

import pytest
import yaml

from bot.content import check
from bot.content.generate import MENU_LIMITS
from bot.content.lint import Problem, menu_findings, months_before
from bot.content.model import CONTENT_DIR, Entry, Topic, load_render_settings

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


# --- referrals, a rumor's related entry, the alerts that override an entry ---------------------

AGENCY = ROOT / "data" / "agency.yml"
REFERRAL = {
    "id": "passports",
    "kind": "referral",
    "department": "311",
    "agency": "the U.S. Department of State",
    "questions": ["how do i renew my passport", "passport renewal"],
    "answer": "Apply for or renew a passport on the State Department's pages.",
    "source": "https://travel.state.gov/content/travel/en/passports.html",
    "last_reviewed": "2026-09-01",
}


def with_entries(tmp_path: Path, *entries: dict[str, object]) -> Path:
    """The good fixture plus ``entries`` in ``extra.yml``."""
    directory = tmp_path / "content"
    shutil.copytree(FIXTURES / "good", directory)
    text = yaml.safe_dump({"entries": list(entries)}, sort_keys=False)
    (directory / "extra.yml").write_text(text, encoding="utf-8")
    return directory


def errors_in(directory: Path) -> list[str]:
    return [str(p) for p in check.content_problems(directory, TODAY, AGENCY) if p.error]


def test_a_referral_to_another_government_s_page_is_clean(tmp_path: Path) -> None:
    assert errors_in(with_entries(tmp_path, REFERRAL)) == []


def rumor(**changes: object) -> dict[str, object]:
    entry = {
        "id": "meters_rumor",
        "kind": "rumor",
        "department": "Communications",
        "claim": "Meters are free on holidays.",
        "verdict": "true",
        "questions": ["are meters free on holidays"],
        "answer": "Meters are free on city holidays.",
        "source": "https://www.harborcity.example/parking",
        "last_reviewed": "2026-09-01",
    }
    return {**entry, **changes}


BAD_ENTRIES = [
    (
        {**REFERRAL, "agency": ""},
        "passports: a referral needs the agency that handles it",
    ),
    (
        {**REFERRAL, "source": "http://travel.state.gov/passports"},
        "passports: source 'http://travel.state.gov/passports' must start with https://",
    ),
    (
        {**REFERRAL, "source": "https://www.harborcity.example/passports"},
        "passports: source 'https://www.harborcity.example/passports' is the city's: a referral links to "
        "the other government's page (for a city page use kind: faq)",
    ),
    (
        {**REFERRAL, "kind": "faq"},
        "passports: agency: only a referral names another agency (use kind: referral)",
    ),
    (
        rumor(related="no_such_faq"),
        "meters_rumor: related 'no_such_faq' is not the id of any entry: name the FAQ that answers "
        "this topic",
    ),
    (
        rumor(related="free_parking"),
        "meters_rumor: related 'free_parking' is a rumor: name an FAQ that answers the topic without "
        "a verdict",
    ),
    (
        {**REFERRAL, "related": "library_hours"},
        "passports: related: only a rumor names a related entry",
    ),
    (
        rumor(overridden_by=["Heat Advisory", "Boil Water Advisory"]),
        "meters_rumor: overridden_by: 'Boil Water Advisory' is not an alert event in ",
    ),
    (
        rumor(overridden_by="Boil Water Notice"),
        "meters_rumor: overridden_by must be a list of alert event names, e.g. [Boil Water Notice]",
    ),
]


@pytest.mark.parametrize(("entry", "message"), BAD_ENTRIES, ids=[m[:60] for _, m in BAD_ENTRIES])
def test_each_new_rule_names_the_entry_and_what_to_fix(
    tmp_path: Path, entry: dict[str, object], message: str
) -> None:
    directory = with_entries(tmp_path, entry)
    found = errors_in(directory)
    assert len(found) == 1, found
    assert found[0].startswith(f"{directory / 'extra.yml'}:2: error: {message}"), found


def test_a_related_crisis_entry_is_refused(tmp_path: Path) -> None:
    crisis = {**REFERRAL, "id": "crisis", "kind": "faq", "agency": "", "sensitive": True}
    crisis["questions"] = ["i need help right now"]
    found = errors_in(with_entries(tmp_path, crisis, rumor(related="crisis")))
    assert [m.split(": error: ")[1] for m in found] == [
        "meters_rumor: related 'crisis' is a crisis entry: name an FAQ that answers this topic"
    ]


def test_overridden_by_matches_the_feed_s_names_ignoring_case(tmp_path: Path) -> None:
    entry = rumor(related="library_hours", overridden_by=["boil water notice", "Flood Warning"])
    assert errors_in(with_entries(tmp_path, entry)) == []
    (found,) = errors_in(with_entries(tmp_path / "unknown", rumor(overridden_by=["Boil Water Advisory"])))
    assert "agency.yml (alert_events: Boil Water Notice, Flood Watch, Flood Warning, Heat Advisory" in found
    assert found.endswith("; use one of those names, or add the feed's name there")


def test_settings_need_a_template_per_kind_with_known_placeholders(tmp_path: Path) -> None:
    directory = tmp_path / "content"
    shutil.copytree(FIXTURES / "good", directory)
    settings = directory / "_settings.yml"
    shipped = settings.read_text(encoding="utf-8")
    settings.write_text(shipped.replace("  referral:", "  referal:"), encoding="utf-8")
    assert [p.message for p in check.content_problems(directory, TODAY) if p.error] == [
        "templates: missing 'referral'"
    ]
    settings.write_text(shipped.replace("{claim}", "{claims}"), encoding="utf-8")
    problems = [p.message for p in check.content_problems(directory, TODAY) if p.error]
    assert problems == [
        "templates: rumor has a placeholder it cannot fill ('claims'); it may use "
        "{answer}, {source}, {verdict}, {claim}, {agency}"
    ]


# --- retired entries and validity windows ----------------------------------------------------


def findings_in(directory: Path) -> list[str]:
    return [str(p).split(": ", 1)[1] for p in check.content_problems(directory, TODAY, AGENCY)]


def test_a_window_that_ends_before_it_starts_or_has_ended_is_reported(tmp_path: Path) -> None:
    backwards = {**REFERRAL, "valid_from": "2026-09-01", "valid_until": "2026-06-01"}
    assert findings_in(with_entries(tmp_path / "a", backwards)) == [
        "error: passports: valid_until 2026-06-01 is before valid_from 2026-09-01"
    ]
    ended = {**REFERRAL, "valid_from": "2026-06-01", "valid_until": "2026-09-30"}
    assert findings_in(with_entries(tmp_path / "b", ended)) == [
        "warning: passports: valid_until 2026-09-30 has passed: no longer answered since 2026-10-01, "
        "retire it or extend the window"
    ]
    assert findings_in(with_entries(tmp_path / "c", {**ended, "retired": True})) == [], (
        "retired: nothing to do"
    )
    current = {**REFERRAL, "valid_from": "2026-11-01", "valid_until": "2026-11-26"}
    assert findings_in(with_entries(tmp_path / "d", current)) == [], "both days are included"
    (found,) = findings_in(with_entries(tmp_path / "e", {**REFERRAL, "valid_until": "30/09/2026"}))
    assert found == "error: passports: valid_until must be a date written as 2026-12-24"


def test_a_retired_entry_s_questions_may_repeat_another_s(tmp_path: Path) -> None:
    repeated = {**REFERRAL, "questions": ["When is the library open?"]}
    assert findings_in(with_entries(tmp_path / "live", repeated)) == [
        f"error: passports: example question 'When is the library open?' is the same as "
        f"'when is the library open' under library_hours ({tmp_path / 'live' / 'content' / 'city.yml'}:11)"
    ]
    assert findings_in(with_entries(tmp_path / "retired", {**repeated, "retired": True})) == []


def test_retired_must_be_a_plain_true_or_false(tmp_path: Path) -> None:
    assert findings_in(with_entries(tmp_path, {**REFERRAL, "retired": "no"})) == [
        "error: passports: retired must be true or false, without quotes"
    ]


def test_a_rumor_whose_related_entry_is_retired_is_a_warning(tmp_path: Path) -> None:
    faq = {**REFERRAL, "id": "meter_hours", "kind": "faq", "agency": "", "retired": True}
    faq["source"], faq["questions"] = "https://www.harborcity.example/parking", ["meter hours"]
    assert findings_in(with_entries(tmp_path, faq, rumor(related="meter_hours"))) == [
        "warning: meters_rumor: related 'meter_hours' is retired (never answered): "
        "name an FAQ that is answered"
    ]


@pytest.mark.parametrize("placeholder", ["[address]", "<date>", "{phone}", "TBD"])
def test_text_left_to_fill_in_is_an_error(tmp_path: Path, placeholder: str) -> None:
    entry = {**REFERRAL, "answer": f"Apply at the office at {placeholder} with your old passport."}
    assert findings_in(with_entries(tmp_path, entry)) == [
        f"error: passports: answer: {placeholder!r} is a placeholder left to fill in: write what citizens "
        "should read (an agency fact as {agency.<key>})"
    ]


def test_links_and_agency_facts_are_no_placeholders(tmp_path: Path) -> None:
    entry = {
        **REFERRAL,
        "answer": "See [the State's page](https://travel.state.gov/x) or call {agency.phone_311}. Step [1].",
    }
    assert findings_in(with_entries(tmp_path, entry)) == []


def test_findings_about_one_field_name_it(found: list[Problem]) -> None:
    """For the studio (bot.content.entrycheck); `content check` does not print it."""
    fields = {p.message.split(": ", 1)[1]: p.field for p in found if p.message.startswith("missing_fields: ")}
    assert fields == {
        "missing answer": "answer",
        "missing source link": "source",
        "missing department": "department",
        "needs at least one example question": "questions",
        "last_reviewed '09/01/2026' is not a date like 2026-09-01": "last_reviewed",
    }
    assert {p.field for p in found if "same as 'When do the pools open?'" in p.message} == {"questions.0"}
    assert {p.field for p in found if "SMS reply" in p.message} == {"short_answer"}
    assert all(str(p) == str(dataclasses.replace(p, field="")) for p in found), "never printed"


def test_a_topic_of_retired_entries_is_not_in_the_menu_checks() -> None:
    settings = load_render_settings(FIXTURES / "good")
    limit = min(MENU_LIMITS.values())
    entry = Entry(
        id="e",
        kind="faq",
        questions=("q",),
        answer="A.",
        source="https://a.example/",
        department="D",
        last_reviewed="2026-09-01",
    )

    def topic(name: str, retired: bool) -> Topic:
        return Topic(name, name, Path(f"{name}.yml"), (dataclasses.replace(entry, retired=retired),))

    full = [topic(f"t{n}", retired=False) for n in range(limit)]
    assert menu_findings([*full, topic("old", retired=True)], settings, "s.yml") == []
    (found,) = menu_findings([*full, topic("old", retired=False)], settings, "s.yml")
    assert found.message == f"{limit + 1} topics in the menu: whatsapp shows the first {limit}"
