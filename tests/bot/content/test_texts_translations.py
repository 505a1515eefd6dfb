"""Texts files in `content check`: the `translations:` block of each file the services read
(bot.language.texts) in every offered language, the canned replies and the subscription catalog,
the agency's facts in translated texts, and the agency file's own fact translations."""

from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path

import pytest

from bot.content import check
from bot.content.lint import LanguageProblem, Problem
from bot.content.translations import MISSING, TODO_HEADING

ROOT = Path(__file__).resolve().parents[3]
GOOD = ROOT / "tests" / "fixtures" / "content" / "good"
TODAY = date(2026, 11, 26)
# The content's settings in Spanish too: the project has no entries, and no finding about its content.
SETTINGS_ES = """\
translations:
  es:
    templates:
      faq: "{answer}\\nMás información: {source}"
      rumor: "Rumor: \\"{claim}\\" {verdict} {answer}\\nMás información: {source}"
      referral: "De eso se encarga {agency}, no la ciudad: {answer}\\nMás información: {source}"
      topic_menu: "Esto es lo que le puedo decir sobre {title}:"
      capabilities: "Soy el asistente automático de la ciudad. Elija un tema o escriba su pregunta:"
      topics: "Elija un tema o escriba su pregunta:"
      more_topics: "Preguntas por tema"
    verdicts:
      "true": "Es cierto."
      "false": "Es falso."
      misleading: "Es engañoso."
"""
AGENCY = """\
name: "City of Testville"
website: "https://www.testville.example"
phone_311: "311"
phone_311_outside: "555-010-7000"
hours_311: "Monday to Friday 9 am to 5 pm"
web_311: "testville.example/311"
languages_offered: [en, es]
translations:
  es:
    hours_311: "de lunes a viernes, de 9 a. m. a 5 p. m."
"""
HANDOFF = """\
agent_joined: "{agent} from the {agency.name} has joined the chat."
wait_grew: "You are number {position} in line; it may now take {wait}."
counts:
  wait:
    one: "about {n} minute"
    other: "about {n} minutes"
translations:
  es:
    agent_joined: "{agent}, de la {agency.name}, se unió al chat."
    wait_grew: "Usted es el número {position} en la fila; la espera puede ser de {wait}."
    counts:
      wait:
        one: "unos {n} minuto"
        other: "unos {n} minutos"
"""
CANNED = """\
canned_replies:
  - title: Greeting
    text: "Hello, how can I help?"
  - title: By phone
    text: "Call {agency.phone_311_outside}, {agency.hours_311}."
translations:
  es:
    canned_replies:
      - title: Greeting
        text: "Hola, ¿en qué puedo ayudarle?"
      - title: By phone
        text: "Llame al {agency.phone_311_outside}, {agency.hours_311}."
"""
CATALOG = """\
program: "Testville Alerts"
frequency: "A few messages a month."
topics:
  - id: emergencies
    name: "Emergencies"
    description: "Storms and floods"
    words: [storm, flood]
  - id: water
    name: "Water"
    description: "Boil-water notices"
    words: [boil water]
areas:
  - id: downtown
    name: "Downtown"
    words: [city center]
translations:
  es:
    frequency: "Unos pocos mensajes al mes."
    topics:
      emergencies:
        name: "Emergencias"
        description: "Tormentas e inundaciones"
        words: [tormenta, inundación]
      water:
        name: "Agua"
        description: "Avisos de hervir el agua"
"""
CHANNELS = """\
too_long: "Please keep it to {limit} characters."
options_label: "Options"
"""
# A texts file no service of the city's citizens reads (found by its translations block).
KIOSK = """\
welcome: "Welcome to the kiosk."
goodbye: "Goodbye."
translations:
  es:
    welcome: "Bienvenido al quiosco."
"""


@dataclasses.dataclass
class Project:
    """A project directory with an agency file, an empty content directory and texts files."""

    root: Path

    def path(self, name: str) -> Path:
        return self.root / "data" / name

    def write(self, name: str, text: str) -> Path:
        path = self.path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    def edit(self, name: str, old: str, new: str) -> Path:
        text = self.path(name).read_text(encoding="utf-8")
        assert old in text, old
        return self.write(name, text.replace(old, new))

    def problems(self) -> list[Problem]:
        return check.translation_problems(self.path("content"), self.path("agency.yml"), self.root)

    def reply_problems(self) -> list[Problem]:
        return check.reply_problems(check.reply_files(self.root), self.path("agency.yml"))

    def found(self) -> list[str]:
        return [str(p).removeprefix(f"{self.root}/") for p in self.problems() + self.reply_problems()]


@pytest.fixture
def project(tmp_path: Path) -> Project:
    project = Project(tmp_path)
    settings = (GOOD / "_settings.yml").read_text(encoding="utf-8")
    project.write("content/_settings.yml", settings + SETTINGS_ES)
    project.write("agency.yml", AGENCY)
    project.write("handoff/messages.yml", HANDOFF)
    project.write("handoff/canned_replies.yml", CANNED)
    project.write("subscriptions/catalog.yml", CATALOG)
    return project


def test_texts_translated_in_every_offered_language_have_no_findings(project: Project) -> None:
    assert project.found() == []
    assert check.texts_files(project.root) == [
        project.path("handoff/messages.yml"),
        project.path("handoff/canned_replies.yml"),
        project.path("subscriptions/catalog.yml"),
    ]


# --- missing: every key of the English in every offered language -----------------------------


def test_keys_missing_in_a_language_are_one_error_that_lists_them(project: Project) -> None:
    project.edit("handoff/messages.yml", '    wait_grew: "Usted es', '    # wait_grew: "Usted es')
    project.edit("handoff/messages.yml", '        other: "unos {n} minutos"\n', "")
    (found,) = project.problems()
    assert str(found) == (
        f"{project.path('handoff/messages.yml')}:9: error: translations: es: missing: 2 text(s) with no es "
        "translation, so es speakers read them in English: wait_grew, counts.wait.other; add them under "
        "`translations: es:`"
    )
    assert isinstance(found, LanguageProblem)
    assert (found.language, found.todo, found.group) == ("es", MISSING, ""), "an error, listed in file order"


def test_a_file_citizens_read_without_any_translation_is_an_error(project: Project) -> None:
    project.write("channels/messages.yml", CHANNELS)
    assert project.found() == [
        "data/channels/messages.yml:1: error: translations: es: missing: 2 text(s) with no es translation, "
        "so es speakers read them in English: too_long, options_label; add them under `translations: es:`"
    ]


def test_in_a_file_citizens_do_not_read_a_missing_key_is_a_warning_to_do(project: Project) -> None:
    project.write("kiosk/texts.yml", KIOSK)
    (found,) = project.problems()
    assert str(found) == (
        f"{project.path('kiosk/texts.yml')}:5: warning: translations: es: missing: 1 text(s) with no es "
        "translation, so es speakers read them in English: goodbye; add them under `translations: es:`"
    )
    assert isinstance(found, LanguageProblem) and found.group == TODO_HEADING.format(code="es")
    assert project.path("kiosk/texts.yml") in check.reply_files(project.root)


def test_files_with_a_layout_of_their_own_are_checked_by_it(project: Project) -> None:
    project.edit("handoff/canned_replies.yml", "      - title: Greeting\n", "      - title: Hello\n")
    project.edit("subscriptions/catalog.yml", '        description: "Avisos de hervir el agua"\n', "")
    project.edit("subscriptions/catalog.yml", '    frequency: "Unos pocos mensajes al mes."\n', "")
    assert project.found() == [
        "data/handoff/canned_replies.yml:8: error: translations: es: missing: 1 reply(s) with no es "
        "translation, so es speakers read them in English: Greeting; add them under `translations: es:`",
        "data/subscriptions/catalog.yml:18: error: translations: es: missing: 2 text(s) with no es "
        "translation, so es speakers read them in English: frequency, topics.water.description; add them "
        "under `translations: es:`",
    ], "a reply of Spanish only ('Hello') is no finding; districts and the program may keep their names"


# --- what a translated text must keep --------------------------------------------------------


def test_a_translated_text_keeps_the_placeholders_of_its_english(project: Project) -> None:
    project.edit("handoff/messages.yml", "en la fila; la espera puede ser de {wait}.", "en la fila.")
    project.edit("handoff/messages.yml", '        one: "unos {n} minuto"', '        one: "un minuto{s}"')
    project.edit("handoff/canned_replies.yml", "Llame al {agency.phone_311_outside}, ", "Llame al 311, ")
    assert project.found() == [
        "data/handoff/messages.yml:10: error: translations: es: wait_grew: has {position}, the English "
        "{position}, {wait}: keep the same placeholders (they are filled in)",
        "data/handoff/messages.yml:13: error: translations: es: counts.wait.one: has {s}, the English {n}: "
        "keep the same placeholders (they are filled in)",
        "data/handoff/canned_replies.yml:11: error: translations: es: canned reply 'By phone' has "
        "{agency.hours_311}, the English {agency.hours_311}, {agency.phone_311_outside}: keep the same "
        "placeholders",
    ]


def test_a_text_of_another_kind_is_an_error_and_a_key_the_english_lacks_a_warning(project: Project) -> None:
    project.edit(
        "handoff/messages.yml",
        '      wait:\n        one: "unos {n} minuto"\n        other: "unos {n} minutos"\n',
        '      wait: "unos {n} minutos"\n    agent_joind: "Hola."\n',
    )
    found = project.found()
    assert found[:2] == [
        "data/handoff/messages.yml:12: error: translations: es: counts.wait: a text where the English has "
        "a mapping: write it as the English is",
        "data/handoff/messages.yml:13: warning: translations: es: agent_joind: the English has no such key, "
        "so this is never said (a typo?)",
    ]
    assert found[2].startswith("data/handoff/messages.yml:9: error: translations: es: missing: 2 text(s)")


def test_a_language_that_is_not_offered_or_english_is_never_said(project: Project) -> None:
    text = HANDOFF + '  fr:\n    agent_joined: "{agent} vous répond."\n  en:\n    agent_joined: "Hi."\n'
    project.write("handoff/messages.yml", text)
    assert project.found() == [
        f"data/handoff/messages.yml:16: warning: translations: fr: fr is not in languages_offered "
        f"({project.path('agency.yml')}), so these texts are never said: add the language there, or remove "
        "them",
        "data/handoff/messages.yml:18: warning: translations: en: the English texts are the file's own "
        "(above `translations:`), so this block is never read",
    ]


def test_every_offered_language_is_required(project: Project) -> None:
    project.edit("agency.yml", "languages_offered: [en, es]", "languages_offered: [en, es, vi]")
    found = [line for line in project.found() if not line.startswith("data/content/")]
    assert [line.split(": missing: ")[0] for line in found] == [
        "data/handoff/messages.yml:1: error: translations: vi",
        "data/handoff/canned_replies.yml:1: error: translations: vi",
        "data/subscriptions/catalog.yml:1: error: translations: vi",
    ]
    assert found[2].endswith(
        "frequency, topics.emergencies.name, topics.emergencies.description, topics.water.name, "
        "topics.water.description; add them under `translations: vi:`"
    )


# --- the agency's facts in every language ----------------------------------------------------


def test_agency_facts_in_translated_texts_are_checked_like_the_english(project: Project) -> None:
    project.edit("handoff/messages.yml", "se unió al chat.", "se unió al chat. Llame al 555-010-9999.")
    project.edit(
        "handoff/messages.yml", '        other: "unos {n} minutos"', '        other: "{agency.minutes}"'
    )
    project.edit(
        "handoff/messages.yml", '    other: "about {n} minutes"', '    other: "see testville.example/wait"'
    )
    project.edit(
        "handoff/canned_replies.yml", "Llame al {agency.phone_311_outside}", "Llame al {agency.phone}"
    )
    found = project.reply_problems()
    assert [str(p).removeprefix(f"{project.root}/") for p in found] == [
        "data/handoff/canned_replies.yml:12: error: translations: es: canned reply 'By phone': unknown "
        f"placeholder {{agency.phone}}: {project.path('agency.yml')} has no such fact",
        "data/handoff/messages.yml:6: error: counts.wait.other: web address 'testville.example/wait' is not "
        f"one of the agency's: write {{agency.<key>}} with a key from {project.path('agency.yml')}, or add "
        "the address there",
        "data/handoff/messages.yml:9: error: translations: es: agent_joined: phone number '555-010-9999' is "
        f"not one of the agency's: write {{agency.<key>}} with a key from {project.path('agency.yml')}, or "
        "add the number there",
        "data/handoff/messages.yml:14: error: translations: es: counts.wait.other: unknown placeholder "
        f"{{agency.minutes}}: {project.path('agency.yml')} has no such fact",
    ]
    assert [(type(p).__name__, getattr(p, "language", "")) for p in found] == [
        ("LanguageProblem", "es"),
        ("Problem", ""),
        ("LanguageProblem", "es"),
        ("LanguageProblem", "es"),
    ]


def test_a_translated_fact_gives_the_numbers_and_addresses_of_the_english(project: Project) -> None:
    project.edit(
        "agency.yml",
        '    hours_311: "de lunes a viernes, de 9 a. m. a 5 p. m."\n',
        '    hours_311: "de lunes a viernes; en español, 555-010-7000 o 555-010-7099"\n'
        '    web_311: "testville.example/es/311"\n',
    )
    agency = project.path("agency.yml")
    assert project.found() == [
        "data/agency.yml:10: error: translations: es: hours_311: phone number '555-010-7099' is not one of "
        "the agency's: a translated fact gives the numbers and addresses of the English facts (add it to "
        "those first)",
        "data/agency.yml:11: error: translations: es: web_311: web address 'testville.example/es/311' is "
        "not one of the agency's: a translated fact gives the numbers and addresses of the English facts "
        "(add it to those first)",
    ]
    assert all(p.path == str(agency) for p in project.problems())


def test_facts_in_a_language_that_is_not_offered_are_a_warning(project: Project) -> None:
    project.edit(
        "agency.yml", "translations:\n", 'translations:\n  fr:\n    hours_311: "du lundi au vendredi"\n'
    )
    assert project.found() == [
        f"data/agency.yml:9: warning: translations: fr: fr is not in languages_offered "
        f"({project.path('agency.yml')}), so these facts are never read: add the language there, or remove "
        "them"
    ]


def test_a_translated_key_that_is_not_a_fact_fails_the_check(project: Project) -> None:
    project.edit("agency.yml", "    hours_311:", "    hours_411:")
    found = [
        str(p) for p in check.content_problems(project.path("content"), TODAY, project.path("agency.yml"))
    ]
    assert (
        f"{project.path('agency.yml')}:1: error: translations: es: hours_411 is not one of the facts above"
        in found
    )
    assert project.problems() == [], "the other checks need the facts: the one finding is the file's"


# --- the reports -----------------------------------------------------------------------------


def test_check_translations_lists_the_texts_by_file(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    project.edit("handoff/messages.yml", '    wait_grew: "Usted es', '    # wait_grew: "Usted es')
    project.edit("handoff/messages.yml", "se unió al chat.", "se unió al chat. Llame al 555-010-9999.")
    project.write("kiosk/texts.yml", KIOSK)
    status = check.translations_main(project.path("content"), TODAY, project.path("agency.yml"), project.root)
    out = capsys.readouterr().out.splitlines()
    handoff, kiosk = project.path("handoff/messages.yml"), project.path("kiosk/texts.yml")
    assert status == 1
    assert out == [
        "es: 0 stale, 0 not yet stamped, 2 missing, 1 other finding(s) (1 error(s))",
        f"  {handoff}:",
        f"    {handoff}:9: error: agent_joined: phone number '555-010-9999' is not one of the agency's: "
        f"write {{agency.<key>}} with a key from {project.path('agency.yml')}, or add the number there",
        f"    {handoff}:9: error: missing: 1 text(s) with no es translation, so es speakers read them in "
        "English: wait_grew; add them under `translations: es:`",
        f"  {kiosk}:",
        f"    {kiosk}:5: warning: missing: 1 text(s) with no es translation, so es speakers read them in "
        "English: goodbye; add them under `translations: es:`",
        "translation check: 2 error(s), 1 warning(s)",
    ]


def test_the_shipped_texts_files_are_translated_in_every_offered_language() -> None:
    """Issue #19: `content check` fails when a text citizens read has no Spanish."""
    files = check.texts_files(ROOT)
    assert [ROOT / name for name in check.CITIZEN_TEXTS] == files[: len(check.CITIZEN_TEXTS)]
    found = check.translation_problems(ROOT / "data" / "content", ROOT / "data" / "agency.yml", ROOT)
    texts = [str(p) for p in found if Path(p.path) in files or p.path.endswith("agency.yml")]
    assert texts == []
