"""Buttons after an answer (``answer_buttons`` in _settings.yml): an answer that describes a task the
chat does ends with a button that starts it, in every language and on every wording of the entry;
the settings are read at file:line and `content check` names what would break the button."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.content import check
from bot.content.agency import load_agency
from bot.content.generate import RESPONSES_OUT, entry_variations, generated_files, render_answer
from bot.content.model import (
    AnswerButton,
    ContentError,
    all_entries,
    load_content,
    load_render_settings,
    load_topic,
)
from bot.content.translations import settings_findings
from bot.language.conversation import in_language

ROOT = Path(__file__).resolve().parents[3]
FIXTURES = ROOT / "tests" / "fixtures" / "content"
AGENCY = ROOT / "data" / "agency.yml"
TODAY = date(2026, 11, 26)
REPORT = '/report_problem{"service":"pothole"}'
# Where the report form's buttons lead: the entries whose answers say "report it through this chat".
REPORTED = {
    "pothole": "pothole",
    "streetlight": "streetlight",
    "graffiti": "graffiti",
    "water_leak": "water leak",
    "missed_collection": "missed collection",
}

BUTTONS = """\
answer_buttons:
  - title: "Report it here"
    intent: report_problem
    after:
      library_hours: pothole
      trash_day:
  - title: "Sign me up"
    intent: subscribe_alerts
    after: [trash_day]
"""
SPANISH = """\
translations:
  es:
    answer_buttons:
      report_problem: "Reportarlo aquí"
"""


@pytest.fixture(autouse=True)
def at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    """domain.yml and data/entities are read from the project, as `content check` does."""
    monkeypatch.chdir(ROOT)


def content(tmp_path: Path, settings: str, fixture: str = "good") -> Path:
    """A copy of a content fixture with `settings` added to its _settings.yml."""
    directory = tmp_path / "content"
    shutil.copytree(FIXTURES / fixture, directory)
    if fixture == "tested":
        shutil.copy(FIXTURES / "good" / "_settings.yml", directory / "_settings.yml")
    path = directory / "_settings.yml"
    path.write_text(path.read_text(encoding="utf-8") + settings, encoding="utf-8")
    return directory


def line_of(path: Path, text: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(number for number, line in enumerate(lines, start=1) if line.strip() == text)


# --- reading the settings ------------------------------------------------------------------------


def test_buttons_are_read_with_their_entries_services_and_titles_per_language(tmp_path: Path) -> None:
    directory = content(tmp_path, BUTTONS + SPANISH)
    settings = load_render_settings(directory)
    report, subscribe = settings.answer_buttons
    assert report == AnswerButton(
        "Report it here", "report_problem", {"library_hours": "pothole", "trash_day": ""}
    )
    assert subscribe == AnswerButton("Sign me up", "subscribe_alerts", {"trash_day": ""})
    assert report.line == line_of(directory / "_settings.yml", '- title: "Report it here"')
    assert report.payload("library_hours") == REPORT
    assert report.payload("trash_day") == "/report_problem" == report.payload("not_listed")
    assert subscribe.payload("trash_day") == "/subscribe_alerts"
    assert [b.title for b in settings.buttons_after("trash_day")] == ["Report it here", "Sign me up"]
    assert settings.buttons_after("nothing") == []

    spanish = settings.for_language("es").answer_buttons
    assert [(b.title, b.titled) for b in spanish] == [("Reportarlo aquí", True), ("Sign me up", False)]
    assert spanish[0].after == report.after, "the entries and services are the English ones"


def test_settings_without_buttons_have_none() -> None:
    assert load_render_settings(FIXTURES / "good").answer_buttons == ()


MALFORMED = [
    (
        '  - title: "Report it here"\n    after: [pothole]\n',
        '- title: "Report it here"',
        "answer_buttons: each needs a title, an intent such as report_problem and `after:` its entries",
    ),
    (
        '  - title: "Report it here"\n    intent: "/report problem"\n    after: [pothole]\n',
        '- title: "Report it here"',
        "answer_buttons: each needs a title, an intent such as report_problem",
    ),
    (
        "  - intent: report_problem\n    after: [pothole]\n",
        "- intent: report_problem",
        "answer_buttons: each needs a title",
    ),
    (
        '  - title: "Report it here"\n    intent: report_problem\n',
        '- title: "Report it here"',
        "answer_buttons: 'Report it here': after must list entry ids, [pothole, graffiti], or give each "
        "the kind of problem the task starts with, {pothole: pothole}",
    ),
    (
        '  - title: "Report it here"\n    intent: report_problem\n    after: [Big Pothole]\n',
        '- title: "Report it here"',
        "answer_buttons: 'Report it here': after must list entry ids",
    ),
    (
        '  - title: "Report it here"\n    intent: report_problem\n    after: {pothole: [a, b]}\n',
        '- title: "Report it here"',
        "answer_buttons: 'Report it here': after must list entry ids",
    ),
    (
        '  - title: "Report it here"\n    intent: report_problem\n    afterwards: [pothole]\n',
        '- title: "Report it here"',
        "answer_buttons: unknown key 'afterwards' (use title, intent, after)",
    ),
    (
        '  - title: "Report it"\n    intent: report_problem\n    after: [pothole]\n'
        '  - title: "Report it here"\n    intent: report_problem\n    after: [graffiti]\n',
        '- title: "Report it here"',
        "answer_buttons: two buttons start report_problem: list all their entries under one `after`",
    ),
]


@pytest.mark.parametrize(("items", "anchor", "message"), MALFORMED, ids=[m[2][16:70] for m in MALFORMED])
def test_a_malformed_button_is_refused_at_its_line(
    tmp_path: Path, items: str, anchor: str, message: str
) -> None:
    directory = content(tmp_path, "answer_buttons:\n" + items)
    with pytest.raises(ContentError) as refused:
        load_render_settings(directory)
    assert message in str(refused.value)
    assert refused.value.line == line_of(directory / "_settings.yml", anchor)
    (found,) = [p for p in check.content_problems(directory, TODAY, AGENCY) if p.error]
    assert (found.path, found.line) == (str(directory / "_settings.yml"), refused.value.line)
    assert message in found.message, "the check reports it at the same place"


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ("answer_buttons: report_problem\n", "answer_buttons: needs a list of {title, intent, after}"),
        ("answer_buttons:\n  - report_problem\n", "answer_buttons: each needs a title"),
        (
            BUTTONS + "translations:\n  es:\n    answer_buttons: [Reportarlo aquí]\n",
            "translations: es: templates, verdicts, services and answer_buttons are mappings",
        ),
    ],
)
def test_a_section_of_the_wrong_shape_is_refused(tmp_path: Path, settings: str, message: str) -> None:
    with pytest.raises(ContentError, match=message.replace("{", r"\{").replace("}", r"\}")):
        load_render_settings(content(tmp_path, settings))


# --- content check ---------------------------------------------------------------------------------

RETIRED = """\
- id: old_trash_day
  kind: faq
  department: Sanitation
  retired: true
  questions:
  - what was the old trash day
  answer: Trash used to be collected on Mondays.
  source: https://www.harborcity.example/trash
  last_reviewed: '2026-08-15'
"""


def findings(directory: Path) -> list[str]:
    return [
        str(p).removeprefix(f"{directory / '_settings.yml'}:")
        for p in check.content_problems(directory, TODAY, AGENCY)
    ]


def test_well_formed_buttons_have_no_findings_and_a_retired_entry_may_stay_listed(tmp_path: Path) -> None:
    directory = content(tmp_path, BUTTONS.replace("[trash_day]", "[trash_day, old_trash_day]"))
    city = directory / "city.yml"
    city.write_text(city.read_text(encoding="utf-8") + RETIRED, encoding="utf-8")
    assert [e.id for e in load_topic(city).entries if e.retired] == ["old_trash_day"]
    assert findings(directory) == []


@pytest.mark.parametrize(
    ("change", "anchor", "finding"),
    [
        (
            ("library_hours: pothole", "library_hour: pothole"),
            '- title: "Report it here"',
            "error: answer_buttons: 'Report it here': after 'library_hour' is not the id of an entry",
        ),
        (
            ("intent: subscribe_alerts", "intent: subscribe_to_alerts"),
            '- title: "Sign me up"',
            "error: answer_buttons: 'Sign me up' starts 'subscribe_to_alerts', which is not an intent in "
            "domain.yml",
        ),
        (
            ("library_hours: pothole", "library_hours: potholes"),
            '- title: "Report it here"',
            "error: answer_buttons: 'Report it here': library_hours: 'potholes' is not a kind of problem the "
            "assistant recognises (`service:` in data/entities/*.yml)",
        ),
        (
            ('"Sign me up"', '"Sign me up for the alerts"'),
            '- title: "Sign me up for the alerts"',
            "warning: answer_buttons: 'Sign me up for the alerts' is cut to 20 characters on Messenger",
        ),
    ],
    ids=["unknown entry", "unknown intent", "unknown service", "long title"],
)
def test_content_check_names_what_would_break_a_button_at_its_line(
    tmp_path: Path, change: tuple[str, str], anchor: str, finding: str
) -> None:
    directory = content(tmp_path, BUTTONS.replace(*change))
    line = line_of(directory / "_settings.yml", anchor)
    assert findings(directory) == [f"{line}: {finding}"]


def test_a_service_is_recognised_whatever_its_case(tmp_path: Path) -> None:
    assert (
        findings(content(tmp_path, BUTTONS.replace("library_hours: pothole", "library_hours: Water Leak")))
        == []
    )


def test_each_language_needs_a_title_for_each_button(tmp_path: Path) -> None:
    directory = content(tmp_path, BUTTONS + SPANISH)
    path = str(directory / "_settings.yml")
    found = [
        p
        for p in settings_findings(load_render_settings(directory), load_agency(AGENCY), path)
        if "answer_buttons" in p.message
    ]
    assert [(p.line, p.error, p.message) for p in found] == [
        (
            line_of(directory / "_settings.yml", 'report_problem: "Reportarlo aquí"'),
            True,
            "translations: es: answer_buttons: no es title for subscribe_alerts (English 'Sign me up'), "
            'so es readers get the English button: add `subscribe_alerts: "..."`',
        )
    ]
    assert all(p.language == "es" for p in found), "listed in the translations report"
    long = SPANISH + '      subscribe_alerts: "Suscribirme a las alertas"\n'
    directory = content(tmp_path / "long", BUTTONS + long)
    path = str(directory / "_settings.yml")
    found = [
        p
        for p in settings_findings(load_render_settings(directory), load_agency(AGENCY), path)
        if "answer_buttons" in p.message
    ]
    assert [(p.error, p.message) for p in found] == [
        (
            False,
            "translations: es: answer_buttons: 'Suscribirme a las alertas' is cut to 20 characters on "
            "Messenger",
        )
    ]


def test_an_sms_reply_is_measured_with_its_buttons_as_the_sms_channel_numbers_them(tmp_path: Path) -> None:
    directory = content(tmp_path, BUTTONS)
    settings = load_render_settings(directory)
    trash_day = next(e for e in all_entries(load_content(directory)) if e.id == "trash_day")
    sent = (
        render_answer(trash_day, settings, short=True)
        + "\n1. Report it here\n2. Sign me up\nReply with the number of your choice."
    )
    limit = len(sent) - 1
    path = directory / "_settings.yml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("sms_limit: 320", f"sms_limit: {limit}"), encoding="utf-8"
    )
    (found,) = [p for p in check.content_problems(directory, TODAY, AGENCY) if "SMS" in p.message]
    assert found.message == (
        f"trash_day: SMS reply is {len(sent)} characters with its buttons, over sms_limit {limit}: "
        "add a short_answer"
    )
    assert len(render_answer(trash_day, settings, short=True)) < limit, "the text alone would fit"


# --- the generated replies ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shipped() -> dict[str, list[dict[str, Any]]]:
    """The generated responses of the shipped content, as Rasa reads them."""
    files = {
        f.path: f.text
        for f in generated_files(
            load_content(ROOT / "data" / "content"), load_render_settings(ROOT / "data" / "content")
        )
    }
    responses: dict[str, list[dict[str, Any]]] = yaml.safe_load(files[RESPONSES_OUT])["responses"]
    return responses


def test_the_pothole_answer_ends_with_report_it_here_in_english_and_spanish(shipped: dict[str, Any]) -> None:
    pothole = shipped["utter_faq/pothole"]
    (english,) = in_language(pothole, "en")
    (spanish,) = in_language(pothole, "es")
    assert english["text"].startswith("Report it through 311 or this chat")
    assert english["buttons"] == [{"title": "Report it here", "payload": REPORT}]
    assert spanish["text"].startswith("Reporte el bache al 311 o por este chat")
    assert spanish["buttons"] == [{"title": "Reportarlo aquí", "payload": REPORT}]


def test_every_answer_that_says_this_chat_does_it_offers_it_and_no_other_does(
    shipped: dict[str, Any],
) -> None:
    with_buttons = {
        name.removeprefix("utter_faq/"): [v.get("buttons") for v in variations]
        for name, variations in shipped.items()
        if name.startswith("utter_faq/") and any("buttons" in v for v in variations)
    }
    assert set(with_buttons) == {*REPORTED, "alert_signup"}
    for entry_id, service in REPORTED.items():
        payload = '/report_problem{"service":"' + service + '"}'
        titles = [b[0]["title"] for b in with_buttons[entry_id]]
        # one variation per language, and one more for SMS where the entry has a short answer
        assert set(titles) == {"Report it here", "Reportarlo aquí"}, entry_id
        assert all(
            b == [{"title": t, "payload": payload}]
            for b, t in zip(with_buttons[entry_id], titles, strict=True)
        )
    assert with_buttons["alert_signup"] == [
        [{"title": "Sign me up", "payload": "/subscribe_alerts"}],
        [{"title": "Suscribirme", "payload": "/subscribe_alerts"}],
    ]
    assert "buttons" not in shipped["utter_faq/city_hall_hours"][0], "an entry not listed has none"


def test_every_arm_of_a_message_test_and_its_sms_wording_get_the_button(tmp_path: Path) -> None:
    directory = content(tmp_path, BUTTONS, fixture="tested")
    settings = load_render_settings(directory)
    files = {f.path: f.text for f in generated_files(load_content(directory), settings)}
    responses = yaml.safe_load(files[RESPONSES_OUT])["responses"]
    library = responses["utter_faq/library_hours"]
    assert [(v["metadata"]["variant"], v.get("channel", "")) for v in library] == [
        ("plain", ""),
        ("plain", "twilio"),
        ("warm", ""),
        ("warm", "twilio"),
    ]
    assert all(v["buttons"] == [{"title": "Report it here", "payload": REPORT}] for v in library)
    entries = {e.id: e for e in all_entries(load_content(directory))}
    assert library == entry_variations(entries["library_hours"], settings), "the studio publishes the same"
    trash = responses["utter_faq/trash_day"]
    assert [b["payload"] for b in trash[0]["buttons"]] == ["/report_problem", "/subscribe_alerts"]
