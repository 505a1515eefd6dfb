"""The keyword net in Spanish: every crisis gets its lifeline, ordinary questions get none.

tests/nlu/sensitive_es.yml is the Spanish crisis set the Spanish trigger patterns
(data/safety/triggers.yml, under ``# Spanish``) were written against, so the net must catch
all of it (recall 100%, issue #19), with the lifeline of the message's own intent, and must
stay silent for its ordinary and about-the-topic messages (statistics, homework, news,
volunteering, city services that share the crisis words).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.nlp.evaluate import read_examples
from bot.nlp.safety import load_triggers, match, strip_accents

SET = Path(__file__).resolve().parents[2] / "nlu" / "sensitive_es.yml"
LIFELINES = {
    "sensitive_mental_health_crisis",
    "sensitive_homelessness_help",
    "sensitive_abuse_help",
    "sensitive_immediate_danger",
}


@pytest.fixture(scope="module")
def triggers():
    return load_triggers()


@pytest.fixture(scope="module")
def examples() -> list[tuple[str, str]]:
    return read_examples([SET])


def test_the_set_covers_every_lifeline_and_ordinary_messages(examples):
    crisis = [intent for _, intent in examples if intent in LIFELINES]
    assert len(crisis) >= 60
    assert set(crisis) == LIFELINES
    assert len([i for _, i in examples if i not in LIFELINES]) >= 30


def test_every_spanish_crisis_message_gets_its_lifeline_from_the_keyword_net(triggers, examples):
    crisis = [(text, intent) for text, intent in examples if intent in LIFELINES]
    missed = [
        (text, intent, match(triggers, text)) for text, intent in crisis if match(triggers, text) != intent
    ]
    assert not missed, missed


def test_ordinary_and_about_the_topic_spanish_messages_get_no_lifeline(triggers, examples):
    ordinary = [(text, intent) for text, intent in examples if intent not in LIFELINES]
    alarms = [(text, intent, match(triggers, text)) for text, intent in ordinary if match(triggers, text)]
    assert not alarms, alarms


@pytest.mark.parametrize(
    "text,intent",
    [
        ("me quiero morir", "sensitive_mental_health_crisis"),
        ("ya no quiero vivir", "sensitive_mental_health_crisis"),
        ("mi hermana dice que se va a matar", "sensitive_mental_health_crisis"),
        ("alguien entró a mi casa", "sensitive_immediate_danger"),
        ("mi ex dice que me va a matar", "sensitive_immediate_danger"),
        ("no tengo dónde dormir esta noche", "sensitive_homelessness_help"),
        ("estoy durmiendo en el carro", "sensitive_homelessness_help"),
        ("mi esposo me pega", "sensitive_abuse_help"),
        ("tengo miedo de volver a casa", "sensitive_abuse_help"),
        ("anoche mi pareja me dio una bofetada", "sensitive_abuse_help"),
        ("se inundó la casa y estamos atrapados en el segundo piso", "sensitive_immediate_danger"),
        ("la niña se tragó unas pastillas del botiquín", "sensitive_immediate_danger"),
        ("la señora que cuida a mi abuela le pega cuando no estamos", "sensitive_abuse_help"),
    ],
)
def test_typical_phrasings_with_and_without_accents(triggers, text, intent):
    assert match(triggers, text) == intent
    assert match(triggers, strip_accents(text)) == intent
    assert match(triggers, text.upper()) == intent


@pytest.mark.parametrize(
    "text",
    [
        "quiero reportar un bache",
        "a qué hora abre la biblioteca",
        "cómo pago mi multa",
        "mi casa se inundó, ¿dónde consigo sacos de arena?",
        "vivo en la calle Oak, ¿qué día pasa la basura?",
        "me corté el pelo y necesito una foto nueva para la licencia",
        "¿cuántas personas sin hogar hay en el país?",
        "causas de la violencia doméstica",
        "quiero ser voluntaria en el albergue",
        "estoy atrapado en el tráfico, ¿a qué hora cierra la alcaldía?",
        "el caballo le dio una patada a la cerca del parque",
        "¿cuántos suicidios hubo en el estado el año pasado?",
        "estoy escribiendo un cuento sobre un allanamiento, ¿qué hace la policía primero?",
        "¿por qué septiembre es el mes de prevención del suicidio?",
        "¿qué porcentaje de los jóvenes sin hogar son mujeres?",
    ],
)
def test_city_questions_and_questions_about_a_topic_get_no_lifeline(triggers, text):
    assert match(triggers, text) is None


def test_strip_accents_keeps_the_letters_and_drops_the_marks():
    assert strip_accents("¿Dónde duermo? Año, niño, pingüino") == "¿Donde duermo? Ano, nino, pinguino"
