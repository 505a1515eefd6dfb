"""Reading what citizens type in Spanish (actions/parsing.py with data/language/es.yml), and that the
English reading is unchanged: cancel, skip, menu, corrections, request numbers, corners, questions."""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

import pytest
import yaml

from actions.collection_days import load_stream_words, streams_asked
from actions.language import load_language, words_in
from actions.parsing import (
    describes,
    is_cancel,
    is_menu,
    is_place,
    is_question,
    is_restart,
    is_skip,
    is_small_talk,
    looks_like_location,
    names_a_problem,
    never_an_answer,
    parse_correction,
    problem_details,
    request_number,
    street_address,
    street_corner,
)
from bot.clients.collection import Pickup
from bot.content.agency import load_agency
from bot.days import MissingWords, load_day_words, unaccented

ROOT = Path(__file__).resolve().parents[2]
ES = "es"


@pytest.mark.parametrize(
    "text",
    ["cancelar", "Cancelar", "¡Cancelar!", "cancela", "cancelar, por favor", "ok, olvídalo", "olvidalo",
     "ya no, gracias", "no importa", "déjelo así", "cambié de opinión", "no lo envíe", "para", "basta ya"],
)  # fmt: skip
def test_cancel(text: str) -> None:
    assert is_cancel(text, ES) and never_an_answer(text, ES)


@pytest.mark.parametrize(
    "text",
    ["la señal de alto está caída", "cancelar mi servicio de agua", "un poste que no para de parpadear",
     "hay un bache para reportar", ""],
)  # fmt: skip
def test_not_cancel(text: str) -> None:
    assert not is_cancel(text, ES)


@pytest.mark.parametrize(
    "text",
    ["omitir", "Omitir", "no", "no, gracias", "no gracias", "prefiero no", "mejor no", "anónimo", "anonimo",
     "sin contacto", "no me contacten", "n/a", "siguiente"],
)  # fmt: skip
def test_skip(text: str) -> None:
    assert is_skip(text, ES)


@pytest.mark.parametrize("text", ["mi correo es jo@example.org", "555-010-3110", "no hay luz en la calle"])
def test_not_skip(text: str) -> None:
    assert not is_skip(text, ES)


@pytest.mark.parametrize(
    "text", ["empezar de nuevo", "Empecemos de nuevo", "mejor volvamos a empezar", "reiniciar", "desde cero"]
)
def test_restart(text: str) -> None:
    assert is_restart(text, ES) and never_an_answer(text, ES)


@pytest.mark.parametrize(
    "text", ["menú", "menu", "Menú principal", "el menú, por favor", "volver al menú principal", "opciones"]
)
def test_menu(text: str) -> None:
    assert is_menu(text, ES) and never_an_answer(text, ES)


@pytest.mark.parametrize(
    "text",
    ["ok", "sí", "si", "¡Gracias!", "muchas gracias", "ok, gracias", "buenos días", "está bien", "no sé"],
)
def test_small_talk(text: str) -> None:
    assert is_small_talk(text, ES) and never_an_answer(text, ES)


@pytest.mark.parametrize(
    "text",
    ["espere, ¿está abierto el ayuntamiento hoy?", "espere, ¿la biblioteca abre hoy", "¿a qué hora cierra",
     "cuándo pasa la basura", "y dónde pago una multa", "por qué necesitan mi correo",
     "oiga, cómo puedo pagar el agua", "¿qué?"],
)  # fmt: skip
def test_questions_are_not_answers(text: str) -> None:
    assert is_question(text, ES) and not describes(text, ES) and not is_place(text, ["City Hall"], ES)


@pytest.mark.parametrize(
    "text",
    ["hay un bache enorme en el carril de bicis", "como un hoyo grande",
     "que se cayó un árbol en la banqueta", "está en la segunda farola", "12 Elm St"],
)  # fmt: skip
def test_answers_are_no_question_small_talk_or_exit(text: str) -> None:
    assert not never_an_answer(text, ES) and not is_question(text, ES)


def test_descriptions() -> None:
    assert describes("hay vidrios por toda la banqueta", ES)
    assert not describes("gracias", ES)
    assert not describes("cancelar", ES)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("cambie la dirección a 12 Elm St", ("location", "12 Elm St")),
        ("cambie la direccion a 12 Elm St", ("location", "12 Elm St")),
        ("Cámbieme la dirección por 140 Elm Street", ("location", "140 Elm Street")),
        ("la dirección es 12 Elm St", ("location", "12 Elm St")),
        ("no, la dirección correcta es 88 Main St", ("location", "88 Main St")),
        ("perdón, la ubicación está en 52 Quarry Lane", ("location", "52 Quarry Lane")),
        ("mejor en 5 Oak Ave", ("location", "5 Oak Ave")),
        ("no, mejor en la esquina de Oak y 3rd", ("location", "la esquina de Oak y 3rd")),
        ("dirección equivocada, es 12 Elm St", ("location", "12 Elm St")),
        ("cambie los detalles a hay basura en la banqueta", ("description", "hay basura en la banqueta")),
        ("la descripción debe decir que el hoyo es muy hondo", ("description", "que el hoyo es muy hondo")),
        ("no, mi correo es jo@example.org", ("contact", "jo@example.org")),
        ("cambie mi teléfono a 555-010-3110", ("contact", "555-010-3110")),
        ("¿puede cambiar el tipo a grafiti?", ("service_code", "grafiti")),
        ("la calle Peña está en 12 Elm St", None),  # "calle" names no part of a report
        ("la calle está muy mal", None),
        ("hay un bache en la dirección de la escuela", None),
        ("el problema es que no pasan", None),
    ],
)
def test_corrections(text: str, expected: tuple[str, str] | None) -> None:
    assert parse_correction(text, ES) == expected


def test_a_corrected_value_keeps_its_accents() -> None:
    assert parse_correction("cambie la dirección a 12 Calle Peña", ES) == ("location", "12 Calle Peña")


@pytest.mark.parametrize(
    "text",
    ["solicitud 512077", "Solicitud #512077", "mi número de solicitud es 512077", "caso núm. 512077",
     "caso num 512077", "nº 512077", "folio 512077", "SR-512077", "¿cómo va mi reporte 512077?", "512077"],
)  # fmt: skip
def test_request_numbers(text: str) -> None:
    assert request_number(text, ES) == "512077"


@pytest.mark.parametrize("text", ["¿cómo va mi solicitud?", "llámeme al 555-010-3110", "1234"])
def test_no_request_number_is_guessed(text: str) -> None:
    assert request_number(text, ES) is None


@pytest.mark.parametrize(
    ("text", "corner"),
    [
        ("Oak Ave y 3rd St", "Oak Ave y 3rd St"),
        ("hidrante en Oak Ave y 3rd St", "Oak Ave y 3rd St"),
        ("en la esquina de Oak y 3rd", "en la esquina de Oak y 3rd"),
        ("en la intersección de Elm y Main", "en la intersección de Elm y Main"),
        ("oak y 3rd", "oak y 3rd"),
        ("Oak Ave esquina con 3rd St", "Oak Ave esquina con 3rd St"),
        ("calle Oak y calle Elm", "calle Oak y calle Elm"),
        ("8th Ave & Judah St", "8th Ave & Judah St"),
    ],
)
def test_corners(text: str, corner: str) -> None:
    assert street_corner(text, ES) == corner
    assert is_place(text, (), ES)


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("12 Elm St", "12 Elm St"),
        ("frente al 140 Elm Street", "140 Elm Street"),
        ("calle Elm 12", "calle Elm 12"),
        ("Avenida Peña #140", "Avenida Peña #140"),
        ("en el 12 de la calle Elm", None),
        ("12 calle Elm, hay un bache", "12 calle Elm"),
    ],
)
def test_addresses(text: str, address: str | None) -> None:
    assert street_address(text, ES) == address


@pytest.mark.parametrize(
    "text", ["basura y vidrios", "mi gato está triste", "espere, ¿está abierto?", "omitir", "gracias"]
)
def test_no_place(text: str) -> None:
    assert not is_place(text, (), ES)


def test_a_landmark_is_a_place_unless_asked_about() -> None:
    assert is_place("enfrente del City Hall", ["City Hall"], ES)
    assert not is_place("¿está abierto el City Hall?", ["City Hall"], ES)


def test_locations_for_the_collection_form() -> None:
    assert looks_like_location("12 Elm St", ES)
    assert not looks_like_location("omitir", ES)


def test_the_details_of_a_first_message() -> None:
    text = (
        "quiero reportar un bache en 88 Main St, está en el carril de bicis y es muy hondo, "
        "mi correo es jo@example.org"
    )
    assert problem_details(text, ES) == "está en el carril de bicis y es muy hondo"
    assert problem_details("quiero hacer un reporte", ES) is None


def test_a_problem_is_named_or_only_a_report_is_asked_for() -> None:
    assert not names_a_problem("hola, quiero hacer un reporte al 311 por favor", ES)
    assert names_a_problem("quiero reportar un mapache muerto", ES)


def test_the_collection_streams_in_spanish() -> None:
    pickups = [
        Pickup("trash", "monday", "weekly", (date(2026, 12, 7),)),
        Pickup("recycling", "monday", "biweekly", (date(2026, 12, 7),)),
        Pickup("yard_waste", "wednesday", "weekly", (date(2026, 12, 9),)),
    ]
    assert [p.stream for p in streams_asked("¿pasa la basura el lunes?", pickups, ES)] == ["trash"]
    assert [p.stream for p in streams_asked("¿y el reciclaje?", pickups, ES)] == ["recycling"]
    assert [p.stream for p in streams_asked("¿recogen las hojas?", pickups, ES)] == ["yard_waste"]
    assert len(streams_asked("¿qué pasa el lunes?", pickups, ES)) == 3


# --- English is unchanged, and each language has its own words -------------------------------------


def test_english_is_read_as_before() -> None:
    assert is_cancel("never mind") and is_skip("no thanks") and is_menu("back to the main menu")
    assert parse_correction("change the address to 12 Elm St") == ("location", "12 Elm St")
    assert parse_correction("actually it's at 5 Oak Ave") == ("location", "5 Oak Ave")
    assert street_corner("Oak Ave and 3rd St") == "Oak Ave and 3rd St"
    assert request_number("case no. 512077") == "512077"
    assert is_question("wait, is city hall open today")


def test_the_words_of_one_language_are_not_the_others() -> None:
    assert not is_cancel("cancelar") and not is_cancel("never mind", ES)
    assert parse_correction("cambie la dirección a 12 Elm St") is None
    assert street_corner("Oak Ave y 3rd St") is None


def test_a_language_without_a_words_file_reads_english_and_says_so_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING):
        assert is_cancel("never mind", "qq") and is_skip("no thanks", "qq")
    warnings = [r for r in caplog.records if "qq.yml" in r.getMessage()]
    assert len(warnings) == 1


def test_a_file_with_only_the_language_section_has_no_words_yet(tmp_path: Path) -> None:
    path = tmp_path / "vi.yml"
    path.write_text("language: {name: Tiếng Việt, names: [tiếng việt, vietnamese]}\n", encoding="utf-8")
    for load in (load_language, load_day_words, load_stream_words):
        with pytest.raises(MissingWords):
            load(path)


def test_a_file_with_a_part_missing_names_it(tmp_path: Path) -> None:
    path = tmp_path / "xx.yml"
    path.write_text("stopwords: [a]\ncancel: {before: [ok], phrases: [stop], after: [now]}\n")
    with pytest.raises(ValueError, match="request_number") as error:
        load_language(path)
    assert not isinstance(error.value, MissingWords)


def test_every_offered_language_has_all_its_words() -> None:
    languages = load_agency(ROOT / "data" / "agency.yml").languages
    assert "es" in languages
    for code in languages:
        assert load_language(code) == words_in(code)
        assert load_day_words(code).weekdays[0]
        assert set(load_stream_words(code)) == set(load_stream_words("en"))


def test_the_spanish_file_has_every_section_of_the_english_one() -> None:
    english = yaml.safe_load((ROOT / "data/language/en.yml").read_text(encoding="utf-8"))
    spanish = yaml.safe_load((ROOT / "data/language/es.yml").read_text(encoding="utf-8"))

    def keys(section: object, where: str = "") -> set[str]:
        if not isinstance(section, dict) or where.endswith("holidays"):
            return set()
        return {f"{where}.{k}" for k in section} | {
            x for k, v in section.items() for x in keys(v, f"{where}.{k}")
        }

    assert keys(english) <= keys(spanish)
    assert len(spanish["days"]["holidays"]) == len(english["days"]["holidays"])
    assert [h["name"] for h in spanish["days"]["holidays"]] == [
        h["name"] for h in english["days"]["holidays"]
    ]


def test_unaccented_keeps_every_letter_in_its_place() -> None:
    for text in ["mañana", "¿Dónde está la dirección?", "Año Nuevo", "nº 5", "ﬁn", "plain"]:
        assert len(unaccented(text)) == len(text)
    assert unaccented("¿Dónde está la DIRECCIÓN?") == "¿Donde esta la DIRECCION?"
