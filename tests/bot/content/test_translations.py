"""Translations in `content check`: stale, unstamped and missing text, each rule in each language,
responses in every offered language, the to-do report and `content translations --stamp`."""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.__main__ import main as bot_main
from bot.content import check
from bot.content.lint import Problem
from bot.content.model import Translation, english_digest, load_content
from bot.content.translations import (
    MIN_QUESTIONS,
    MISSING,
    STALE,
    UNSTAMPED,
    LanguageProblem,
    stamp_content,
)
from bot.content.writer import write_topic

ROOT = Path(__file__).resolve().parents[3]
GOOD = ROOT / "tests" / "fixtures" / "content" / "good"
TODAY = date(2026, 11, 26)

SPANISH: dict[str, dict[str, Any]] = {
    "library_hours": {
        "questions": [
            "¿A qué hora abre la biblioteca?",
            "horario de la biblioteca",
            "a que hora cierra la biblioteca",
            "la biblioteca abre los domingos?",
            "cuándo está abierta la biblioteca principal",
            "biblioteca abierta hoy",
            "horas de la biblioteca el sábado",
            "hasta que hora esta abierta la biblio",
            "puedo ir a la biblioteca en la mañana",
            "la biblioteca abre temprano?",
            "qué días abre la biblioteca",
            "horario biblioteca central",
            "esta cerrada la biblioteca hoy",
            "a que hora puedo devolver libros",
            "biblioteca horario de atencion",
        ],
        "answer": "La biblioteca principal abre de 9 a 6, de lunes a sábado.",
    },
    "trash_day": {
        "questions": [
            "¿Qué día pasa la basura?",
            "cuando recogen la basura",
            "que dia es la recoleccion de basura en mi calle",
            "a que hora pasa el camion de la basura",
            "dia de basura",
            "cuándo sacan los botes de basura",
            "no se que dia pasan por la basura",
            "recolección de basura esta semana",
            "pasa la basura los lunes?",
            "horario del camion de basura",
            "cuando pasa el camion recolector",
            "calendario de recoleccion",
            "olvidé sacar la basura, cuándo vuelven a pasar",
            "el dia de basura cambia en dias feriados?",
            "mi día de recolección",
        ],
        "answer": "La basura se recoge una vez por semana. Busque su día en el mapa de la ciudad.",
    },
    "free_parking": {
        "questions": [
            "¿Es gratis estacionarse los domingos?",
            "tengo que pagar el parquímetro el domingo",
            "los parquimetros son gratis en domingo?",
            "se paga estacionamiento los domingos",
            "estacionamiento gratis domingo",
            "es cierto que no se paga parking el domingo",
            "hay que poner monedas en el parquimetro",
            "dicen que el domingo no cobran el estacionamiento",
            "me pueden multar por no pagar en domingo",
            "el domingo es gratis estacionar en la calle?",
            "cobran parquimetro en domingo",
            "domingo parking gratis es verdad",
            "escuché que estacionar no cuesta nada el fin de semana",
            "pago el medidor el domingo?",
            "los domingos se estaciona gratis en el centro?",
        ],
        "answer": "Sí. Los parquímetros son gratis los domingos.",
        "claim": "El estacionamiento es gratis los domingos.",
    },
}
TITLES = {"city": "Servicios de la ciudad", "rumors": "Rumores"}
SETTINGS_ES = """\
translations:
  es:
    templates:
      faq: "{answer}\\nMás información: {source}"
      rumor: "Rumor: \\"{claim}\\" {verdict} {answer}\\nMás información: {source}"
      referral: "De eso se encarga {agency}, no la ciudad: {answer}\\nMás información: {source}"
      topic_menu: "Esto es lo que le puedo decir sobre {title}:"
      capabilities: "Soy el asistente automático de Harbor City. Elija un tema o escriba su pregunta:"
      topics: "Elija un tema o escriba su pregunta:"
      more_topics: "Preguntas por tema"
    verdicts:
      "true": "Es cierto."
      "false": "Es falso."
      misleading: "Es engañoso."
"""
DOMAIN = """\
version: "3.1"
responses:
  utter_greet:
  - text: "Hi! Call {agency.phone_311} for a person."
  - text: "Hi! Text HELP for a person."
    channel: twilio
  - text: "¡Hola! Llame al {agency.phone_311} para hablar con una persona."
    condition:
    - type: slot
      name: language
      value: es
  - text: "¡Hola! Envíe AYUDA para hablar con una persona."
    channel: twilio
    condition:
    - type: slot
      name: language
      value: es
"""


@dataclasses.dataclass
class Project:
    """A project directory: content (the good fixture, in Spanish too), agency file and domain."""

    root: Path

    @property
    def content(self) -> Path:
        return self.root / "data" / "content"

    @property
    def agency(self) -> Path:
        return self.root / "data" / "agency.yml"

    @property
    def domain(self) -> Path:
        return self.root / "domain.yml"

    def problems(self) -> list[Problem]:
        found = check.content_problems(self.content, TODAY, self.agency)
        return found + check.translation_problems(self.content, self.agency, self.root)

    def messages(self, error: bool | None = None) -> list[str]:
        return [p.message for p in self.problems() if error is None or p.error is error]

    def translate(self, entry_id: str, questions: Sequence[str], **text: str) -> None:
        """Give ``entry_id`` this Spanish translation (replacing its own), written canonically."""
        translation = Translation(language="es", questions=tuple(questions), **text)
        for topic in load_content(self.content):
            entries = tuple(
                dataclasses.replace(e, translations=(translation,)) if e.id == entry_id else e
                for e in topic.entries
            )
            write_topic(dataclasses.replace(topic, entries=entries))

    def change(self, entry_id: str, **fields: str) -> None:
        """Change the English of ``entry_id``."""
        for topic in load_content(self.content):
            entries = tuple(
                dataclasses.replace(e, **fields) if e.id == entry_id else e for e in topic.entries
            )
            write_topic(dataclasses.replace(topic, entries=entries))


def make_project(root: Path, stamped: bool = True) -> Project:
    project = Project(root)
    shutil.copytree(GOOD, project.content)
    shutil.copy(ROOT / "data" / "agency.yml", project.agency)
    project.domain.write_text(DOMAIN, encoding="utf-8")
    with (project.content / "_settings.yml").open("a", encoding="utf-8") as stream:
        stream.write(SETTINGS_ES)
    for topic in load_content(project.content):
        entries = []
        for entry in topic.entries:
            text = SPANISH[entry.id]
            translation = Translation(
                language="es",
                questions=tuple(text["questions"]),
                answer=str(text["answer"]),
                claim=str(text.get("claim", "")),
                translated_from=english_digest(entry) if stamped else "",
            )
            entries.append(dataclasses.replace(entry, translations=(translation,)))
        titles = {"es": TITLES[topic.id]}
        write_topic(dataclasses.replace(topic, entries=tuple(entries), titles=titles))
    return project


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return make_project(tmp_path)


def only(found: list[str], part: str) -> str:
    matches = [message for message in found if part in message]
    assert len(matches) == 1, found
    return matches[0]


# --- a complete translation is clean ---------------------------------------------------------


def test_content_translated_stamped_and_answered_in_every_language_has_no_findings(project: Project) -> None:
    assert [str(p) for p in project.problems()] == []


def test_the_shipped_agency_offers_spanish() -> None:
    """The fixtures above rely on it: data/agency.yml's languages_offered is [en, es]."""
    assert yaml.safe_load((ROOT / "data" / "agency.yml").read_text(encoding="utf-8"))[
        "languages_offered"
    ] == [
        "en",
        "es",
    ]


# --- stale, not stamped, missing -------------------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [{"answer": "The main library is open 10 to 6."}, {"short_answer": "Open 9-6."}, {"claim": "x"}],
    ids=["answer", "short_answer", "claim"],
)
def test_a_translation_is_stale_when_its_english_changes(project: Project, change: dict[str, str]) -> None:
    entry_id = "free_parking" if "claim" in change else "library_hours"
    project.change(entry_id, **change)
    found = [p for p in project.problems() if isinstance(p, LanguageProblem) and p.todo == STALE]
    assert [(p.language, p.error) for p in found] == [("es", False)]
    assert found[0].message == (
        f"{entry_id}: es: stale: the English answer, short answer, claim or agency changed since this "
        "translation was made; check the es text against the English, then run "
        f"`python -m bot content translations --stamp {entry_id}`"
    )
    assert found[0].field == "translations.es.translated_from"


def test_a_change_the_translation_does_not_follow_leaves_it_current(project: Project) -> None:
    project.change("library_hours", source="https://www.harborcity.example/library/hours", department="Parks")
    assert project.problems() == []


def test_a_translation_without_a_stamp_is_reported(tmp_path: Path) -> None:
    project = make_project(tmp_path, stamped=False)
    found = [p for p in project.problems() if isinstance(p, LanguageProblem) and p.todo]
    assert {(p.todo, p.message.split(":")[0]) for p in found} == {
        (UNSTAMPED, "library_hours"),
        (UNSTAMPED, "trash_day"),
        (UNSTAMPED, "free_parking"),
    }
    assert not any(p.error for p in found)
    assert "run `python -m bot content translations --stamp trash_day`" in only(
        [p.message for p in found], "trash_day"
    )


def test_an_entry_or_a_topic_title_without_spanish_is_missing(project: Project) -> None:
    for topic in load_content(project.content):
        if topic.id == "city":
            entries = tuple(
                dataclasses.replace(e, translations=()) if e.id == "trash_day" else e for e in topic.entries
            )
            write_topic(dataclasses.replace(topic, entries=entries, titles={}))
    found = [p for p in project.problems() if isinstance(p, LanguageProblem)]
    assert [(p.todo, p.error, p.path.endswith("city.yml")) for p in found] == [(MISSING, False, True)] * 2
    messages = sorted(p.message for p in found)
    assert messages[0] == (
        "topic city: missing: no es title, so the es menu shows 'City services'; add "
        "`translations: es: title: ...` under `topic:`"
    )
    assert messages[1].startswith("trash_day: es: missing: no es translation, so es speakers get the English")


def test_a_retired_entry_needs_no_translation(project: Project) -> None:
    for topic in load_content(project.content):
        entries = tuple(
            dataclasses.replace(e, translations=(), retired=True) if e.id == "trash_day" else e
            for e in topic.entries
        )
        write_topic(dataclasses.replace(topic, entries=entries))
    assert project.problems() == []


def test_translations_in_a_language_that_is_not_offered_and_settings_without_it(project: Project) -> None:
    text = project.agency.read_text(encoding="utf-8")
    project.agency.write_text(text.replace("languages_offered: [en, es]", "languages_offered: [en]"))
    found = project.messages()
    assert all(f"not in languages_offered ({project.agency})" in m for m in found), found
    assert len(found) == 7, "three entries, the settings, utter_greet's two Spanish variations, the facts"
    assert only(found, "so these facts are never read").startswith(
        "translations: es: es is not in languages_offered"
    )
    assert only(found, "wording").startswith("translations: es: es is not in languages_offered")

    project.agency.write_text(text, encoding="utf-8")
    settings = project.content / "_settings.yml"
    settings.write_text(settings.read_text(encoding="utf-8").split("translations:")[0], encoding="utf-8")
    assert project.messages() == [
        "translations: es: no es wording for the reply templates, verdicts and menu, so no es answers are "
        f"generated at all: add `translations: es:` to {settings}"
    ]


def test_settings_wording_that_cannot_be_filled_is_an_error(project: Project) -> None:
    settings = project.content / "_settings.yml"
    text = settings.read_text(encoding="utf-8")
    settings.write_text(text.replace('      faq: "{answer}', '      faq: "{respuesta}'), encoding="utf-8")
    assert project.messages(error=True) == [
        "translations: es: templates: faq has a placeholder it cannot fill ('respuesta'); it may use "
        "{answer}, {source}, {verdict}, {claim}, {agency}"
    ]
    settings.write_text(text.replace('"Es falso."', '"That\'s false."'), encoding="utf-8")
    assert project.messages() == ["translations: es: verdicts: false is the English wording: translate it"]


# --- every rule in each language -------------------------------------------------------------


def test_each_rule_runs_on_the_translation_and_names_the_language(project: Project) -> None:
    project.translate(
        "library_hours",
        questions=SPANISH["library_hours"]["questions"],
        answer="Llame al 555-123-4567 o visite www.harborcity.example/biblioteca. "
        "La dirección es [dirección].",
        short_answer="La biblioteca abre de 9 a 6 de lunes a sábado. " * 8,
        translated_from=english_digest(next(e for t in load_content(project.content) for e in t.entries)),
    )
    found = [p for p in project.problems() if p.path.endswith("city.yml")]
    messages = [p.message for p in found]
    assert only(messages, "phone number").startswith(
        "library_hours: es: answer: phone number '555-123-4567' is not one of the agency's"
    )
    assert only(messages, "link").startswith(
        "library_hours: es: answer: link 'www.harborcity.example/biblioteca' must start with https://"
    )
    assert only(messages, "placeholder left").startswith(
        "library_hours: es: answer: '[dirección]' is a placeholder"
    )
    sms = only(messages, "SMS reply")
    assert sms.startswith("library_hours: es: SMS reply is ") and sms.endswith("shorten the short_answer")
    assert {p.field for p in found if "SMS" in p.message} == {"translations.es.short_answer"}
    assert all(isinstance(p, LanguageProblem) and p.language == "es" for p in found)
    line = next(p.line for p in found if "phone number" in p.message)
    lines = (project.content / "city.yml").read_text(encoding="utf-8").splitlines()
    assert [text.strip() for text in lines[line - 2 : line]] == ["es:", "questions:"], (
        "the translation's line"
    )


def test_the_sms_of_a_translation_uses_the_language_s_template(project: Project) -> None:
    """'Más información:' is 11 characters longer than "More:": an answer that fits in English does not."""
    english_length = len(
        "{answer}\nMore: {source}".format(answer="", source="https://www.harborcity.example/library")
    )
    answer = "x" * (320 - english_length)
    project.change("library_hours", answer=answer)
    project.translate("library_hours", questions=SPANISH["library_hours"]["questions"], answer=answer)
    found = project.messages()
    assert not any("library_hours: SMS" in m for m in found), "the English fits"
    assert only(found, "SMS reply").startswith(f"library_hours: es: SMS reply is {320 + 11} characters")


def test_the_english_reading_level_is_not_applied_to_spanish(project: Project) -> None:
    hard = (
        "La administración municipal proporciona información complementaria sobre la disponibilidad "
        "institucional correspondiente, considerando las particularidades organizativas extraordinarias "
        "establecidas reglamentariamente por la autoridad responsable."
    )
    project.translate("library_hours", questions=SPANISH["library_hours"]["questions"], answer=hard)
    assert not any("reads at grade" in m for m in project.messages())


def test_a_translation_needs_an_answer_and_its_own_claim(project: Project) -> None:
    project.translate("library_hours", questions=SPANISH["library_hours"]["questions"], answer="")
    project.translate("free_parking", questions=SPANISH["free_parking"]["questions"], answer="Sí.")
    found = project.problems()
    assert "library_hours: es: missing answer" in [p.message for p in found if p.error]
    assert only([p.message for p in found if not p.error], "no claim in es") == (
        "free_parking: es: no claim in es, so the es reply quotes the English claim "
        "'Parking is free on Sundays.'"
    )


def test_questions_in_a_language_are_checked_like_english_ones(project: Project) -> None:
    library = SPANISH["library_hours"]["questions"]
    project.translate(
        "trash_day", questions=[*SPANISH["trash_day"]["questions"], library[1].upper()], answer="A."
    )
    errors = project.messages(error=True)
    assert only(errors, "is the same as").startswith(
        "trash_day: es: example question 'HORARIO DE LA BIBLIOTECA' is the same as "
        "'horario de la biblioteca' "
        "under library_hours"
    )

    project.translate(
        "trash_day", questions=["que dia pasa la basura", "when do they collect garbage"], answer="A."
    )
    found = project.messages()
    assert only(found, "example question(s) in es") == (
        f"trash_day: es: 2 example question(s) in es: aim for at least {MIN_QUESTIONS}, "
        "the ways people ask it "
        "in es (typos and short forms too)"
    )
    assert not any("the same as the English" in m for m in found), "its own English question is no conflict"

    project.translate("trash_day", questions=["when is the library open"], answer="A.")
    assert only(project.messages(error=True), "the same as the English").startswith(
        "trash_day: es: example question 'when is the library open' is the same as the English 'when is the "
        "library open' under library_hours"
    )

    project.translate("trash_day", questions=[], answer="A.")
    assert "trash_day: es: needs at least one example question in es" in project.messages(error=True)


def test_the_studio_s_check_of_one_entry_covers_its_translation(project: Project) -> None:
    topics, _ = check.load_checked(project.content)
    known, _ = check.known_facts(project.agency)
    settings, _ = check.render_settings(project.content)
    entry = next(e for t in topics for e in t.entries if e.id == "trash_day")
    (translation,) = entry.translations
    broken = dataclasses.replace(
        translation, answer="Llame al 555-123-4567.", questions=translation.questions[:3]
    )
    candidate = dataclasses.replace(entry, translations=(broken,))
    topics = [
        dataclasses.replace(t, entries=tuple(candidate if e.id == entry.id else e for e in t.entries))
        for t in topics
    ]
    found = check.rule_problems(topics, known, settings, "s.yml", TODAY, only=candidate)
    assert {(p.field, p.error) for p in found} == {
        ("translations.es.answer", True),
        ("translations.es.questions", False),
    }, "the English did not change: the stamp still holds"


# --- responses -------------------------------------------------------------------------------


def response_errors(project: Project) -> list[str]:
    return [str(p) for p in project.problems() if p.error]


def test_a_response_without_its_spanish_sms_variation_is_an_error(project: Project) -> None:
    lines = DOMAIN.splitlines(keepends=True)
    project.domain.write_text("".join(lines[:11]), encoding="utf-8")
    assert response_errors(project) == [
        f"{project.domain}:5: error: utter_greet: no es variation for channel twilio, so es speakers get the "
        "English; add one with `condition: [{type: slot, name: language, value: es}]`"
    ]


def test_a_response_without_spanish_at_all_is_an_error_per_channel(project: Project) -> None:
    (project.root / "data" / "responses").mkdir()
    responses = project.root / "data" / "responses" / "extra.yml"
    responses.write_text(
        'version: "3.1"\nresponses:\n  utter_bye:\n  - text: "Bye"\n  - text: "Bye!"\n'
        '  - text: "Bye, see {agency.web_311}"\n    channel: twilio\n'
        "  utter_topic_help:\n  - text: Parking help\n    condition:\n    - type: slot\n      name: topic\n"
        "      value: parking\n",
        encoding="utf-8",
    )
    generated = project.root / "data" / "responses" / "content.generated.yml"
    generated.write_text('responses:\n  utter_x:\n  - text: "not checked"\n', encoding="utf-8")
    assert [e.split(": error: ")[1].split(", so")[0] for e in response_errors(project)] == [
        "utter_bye: no es variation",
        "utter_bye: no es variation for channel twilio",
        "utter_topic_help: no es variation when topic is parking",
    ]


def test_spanish_placeholders_must_match_the_english(project: Project) -> None:
    project.domain.write_text(DOMAIN.replace("Llame al {agency.phone_311}", "Llame al 311"), encoding="utf-8")
    (found,) = response_errors(project)
    assert found == (
        f"{project.domain}:7: error: utter_greet: the es variation has no placeholders, the English "
        "{agency.phone_311}: keep the same placeholders (the assistant fills them in)"
    )


def test_a_variation_in_a_language_not_offered_is_an_error(project: Project) -> None:
    french = (
        '  - text: "Bonjour !"\n    condition:\n    - type: slot\n      name: language\n      value: fr\n'
    )
    project.domain.write_text(DOMAIN + french, encoding="utf-8")
    (found,) = response_errors(project)
    assert found == (
        f"{project.domain}:18: error: utter_greet: a variation in 'fr', which is not in languages_offered "
        f"({project.agency}): add the language there, or remove the variation"
    )


def test_the_shipped_responses_are_read() -> None:
    """The real files parse, and each response named in them is seen (a smoke test of the reader)."""
    known, _ = check.known_facts(ROOT / "data" / "agency.yml")
    assert known is not None
    assert all(
        isinstance(p, LanguageProblem)
        for p in check.translation_problems(ROOT / "data" / "content", ROOT / "data" / "agency.yml", ROOT)
    )


# --- the report ------------------------------------------------------------------------------


def test_check_translations_prints_a_to_do_list_by_language_and_entry(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = make_project(tmp_path, stamped=False)
    project.change("library_hours", answer="The main library is open 10 to 6.")  # unstamped stays unstamped
    project.translate(
        "trash_day",
        questions=SPANISH["trash_day"]["questions"],
        answer="Busque su día en el mapa.",
        translated_from="0000000000",
    )
    for topic in load_content(project.content):
        if topic.id == "rumors":
            write_topic(dataclasses.replace(topic, titles={}))
    project.domain.write_text("".join(DOMAIN.splitlines(keepends=True)[:11]), encoding="utf-8")
    status = check.translations_main(project.content, TODAY, project.agency, project.root)
    out = capsys.readouterr().out.splitlines()
    at = {
        e.id: f"{e.path}:{e.translations[0].line}" for t in load_content(project.content) for e in t.entries
    }
    assert status == 1, "a response without its Spanish is an error"
    assert out[0] == "es: 1 stale, 2 not yet stamped, 1 missing, 1 other finding(s) (1 error(s))"
    assert out[1:] == [
        "  library_hours:",
        f"    {at['library_hours']}: warning: not yet stamped: once the es text says what the English says, "
        "run `python -m bot content translations --stamp library_hours` (it records the English it follows)",
        "  trash_day:",
        f"    {at['trash_day']}: warning: stale: the English answer, short answer, claim or agency "
        "changed since this translation was made; check the es text against the English, then run "
        "`python -m bot content translations --stamp trash_day`",
        "  topic rumors:",
        f"    {project.content}/rumors.yml:1: warning: missing: no es title, so the es menu shows "
        "'Rumor control'; "
        "add `translations: es: title: ...` under `topic:`",
        "  free_parking:",
        f"    {at['free_parking']}: warning: not yet stamped: once the es text says what the English "
        "says, run `python -m bot content translations --stamp free_parking` "
        "(it records the English it follows)",
        "  utter_greet:",
        f"    {project.domain}:5: error: no es variation for channel twilio, so es speakers get the "
        "English; add "
        "one with `condition: [{type: slot, name: language, value: es}]`",
        "translation check: 1 error(s), 4 warning(s)",
    ]


def test_content_check_lists_the_translations_to_do_under_their_language(tmp_path: Path) -> None:
    project = make_project(tmp_path, stamped=False)
    out = check.report(project.problems()).splitlines()
    heading = out.index("translations to do, es:")
    assert [line.split(": warning: ")[1].split(":")[0] for line in out[heading + 1 : heading + 4]] == [
        "library_hours",
        "trash_day",
        "free_parking",
    ]
    assert len(out) == heading + 4


# --- stamping --------------------------------------------------------------------------------


def stamps(project: Project) -> dict[str, str]:
    return {e.id: e.translations[0].translated_from for t in load_content(project.content) for e in t.entries}


def test_stamping_named_entries_writes_the_english_digest(tmp_path: Path) -> None:
    project = make_project(tmp_path, stamped=False)
    before = (project.content / "rumors.yml").read_bytes()
    stamping = stamp_content(project.content, ["library_hours", "trash_day"])
    assert [(s.entry, s.language, s.before) for s in stamping.stamps] == [
        ("library_hours", "es", ""),
        ("trash_day", "es", ""),
    ]
    entries = {e.id: e for t in load_content(project.content) for e in t.entries}
    assert stamps(project) == {
        "library_hours": english_digest(entries["library_hours"]),
        "trash_day": english_digest(entries["trash_day"]),
        "free_parking": "",
    }
    assert (project.content / "rumors.yml").read_bytes() == before, "an untouched file is not rewritten"
    city = (project.content / "city.yml").read_text(encoding="utf-8")
    assert city.startswith("# Fixture: clean content."), "the top comment is kept"
    assert "    es:\n      questions:\n      - ¿A qué hora abre la biblioteca?" in city
    assert f"      translated_from: {english_digest(entries['library_hours'])}\n" in city


def test_stamp_without_ids_stamps_the_unstamped_and_all_stale_the_stale(tmp_path: Path) -> None:
    project = make_project(tmp_path, stamped=False)
    stamp_content(project.content, ["library_hours"])
    project.change("library_hours", answer="The main library is open 10 to 6.")
    stamping = stamp_content(project.content, [], unstamped=True)
    assert sorted(s.entry for s in stamping.stamps) == ["free_parking", "trash_day"]
    assert [p.message.split(":")[0] for p in project.problems()] == ["library_hours"], "still stale"

    stamping = stamp_content(project.content, [], stale=True)
    assert [(s.entry, bool(s.before)) for s in stamping.stamps] == [("library_hours", True)]
    assert project.problems() == []
    assert stamp_content(project.content, [], unstamped=True, stale=True).stamps == []


def test_the_stamp_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    project = make_project(tmp_path, stamped=False)
    monkeypatch.chdir(tmp_path)
    before = {p.name: p.read_bytes() for p in project.content.glob("*.yml")}
    assert bot_main(["content", "translations", "--stamp", "library_hours", "no_such_entry"]) == 1
    assert "no entry with id 'no_such_entry': nothing was stamped" in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in project.content.glob("*.yml")} == before

    assert bot_main(["content", "translations", "--stamp", "library_hours"]) == 0
    out = capsys.readouterr().out
    assert (
        out == "stamped data/content/city.yml: library_hours es (was not stamped)\n1 translation(s) stamped\n"
    )
    assert bot_main(["content", "translations", "--stamp"]) == 0
    assert capsys.readouterr().out.endswith("2 translation(s) stamped\n")
    assert bot_main(["content", "translations"]) == 0
    assert capsys.readouterr().out == "translation check: 0 error(s), 0 warning(s)\n"
    assert bot_main(["content", "check", "--translations"]) == 0


def test_translation_errors_count_for_tools_that_refuse_a_write(project: Project) -> None:
    """The studio and Promote refuse a write that adds a content error: a broken translation is one."""
    assert check.content_errors(project.content, project.agency) == set()
    project.translate(
        "trash_day", questions=SPANISH["trash_day"]["questions"], answer="Llame al 555-123-4567."
    )
    (found,) = check.content_errors(project.content, project.agency)
    assert found.startswith(
        f"{project.content / 'city.yml'}: trash_day: es: answer: phone number '555-123-4567'"
    )
