"""Which language a message is in, and when a message says so clearly enough to move a conversation."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.content.model import ContentError
from bot.language.detect import Detector
from bot.language.words import fold, load_language_words
from bot.nlp.language_detector import load_detector

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def detector() -> Detector:
    return load_detector(ROOT / "data/agency.yml", ROOT / "data/language")


@pytest.mark.parametrize(
    "text",
    [
        "cuando pasa la basura en mi calle",
        "necesito pagar mi factura de agua",
        "donde puedo sacar un permiso de construccion",
        "me quiero morir",
        "a que hora abre la biblioteca hoy",
    ],
)
def test_a_spanish_question_sets_spanish(detector: Detector, text: str) -> None:
    assert detector.detect(text).language == "es"


@pytest.mark.parametrize(
    "text", ["when is trash pickup on my street", "how do i pay my water bill", "is the pool open today"]
)
def test_an_english_question_sets_english(detector: Detector, text: str) -> None:
    assert detector.detect(text).language == "en"


@pytest.mark.parametrize(
    "text", ["ok", "gracias", "hola", "SR-512077", "#512077", "48 Quarry Lane", "👍", ""]
)
def test_a_short_message_never_sets_the_language(detector: Detector, text: str) -> None:
    """ "gracias" or an address keeps the conversation's language: at most a guess."""
    assert detector.detect(text).language is None


def test_a_first_hola_is_a_spanish_guess(detector: Detector) -> None:
    assert detector.detect("hola").guess == "es"
    assert detector.detect("Gracias!").guess == "es"


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("english please", "en"),
        ("English, please!", "en"),
        ("can you answer in english", "en"),
        ("en español", "es"),
        ("En espanol por favor", "es"),
        ("¿Habla español?", "es"),
        ("do you speak spanish", "es"),
        ("Spanish please", "es"),
    ],
)
def test_asking_for_a_language_switches_to_it(detector: Detector, text: str, language: str) -> None:
    detection = detector.detect(text)
    assert (detection.switch, detection.language) == (language, language)


@pytest.mark.parametrize(
    "text",
    ["is the spanish festival this weekend", "where can i take english classes", "no entiendo ingles"],
)
def test_a_message_about_a_language_is_not_a_switch(detector: Detector, text: str) -> None:
    assert detector.detect(text).switch is None


def test_accents_are_optional_in_the_words() -> None:
    assert fold("Español ÁRBOL ñandú") == "espanol arbol nandu"


def test_an_offered_language_without_its_words_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ContentError, match="'vi' is offered but has no words file"):
        load_language_words("vi", tmp_path)


def test_only_one_language_detects_nothing_and_switches_to_nothing(tmp_path: Path) -> None:
    words = load_language_words("en", ROOT / "data/language")
    detector = Detector(("en",), {"en": words})
    assert detector.detect("cuando pasa la basura").language is None
    assert detector.detect("english please").switch == "en"


@pytest.mark.parametrize(
    ("text", "language"), [("hello", "en"), ("Hi!", "en"), ("¡Buenos días!", "es"), ("Ayuda", "es")]
)
def test_a_languages_own_short_messages_guess_it(detector: Detector, text: str, language: str) -> None:
    """One or two words fool any identifier ("hello" scores as Spanish): these are listed per language."""
    assert detector.detect(text).guess == language


@pytest.mark.parametrize("text", ["bache", "ok", "no", "si"])
def test_an_unsure_short_word_guesses_nothing(detector: Detector, text: str) -> None:
    assert detector.detect(text).guess is None
