"""The wording of relays, the notice's lead and the replies to a broadcast in Spanish, and every texts
file this feature says to citizens translated completely (`bot.language.texts.untranslated`)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.broadcasts.notice import Notice
from bot.broadcasts.texts import language_name, load_texts, notice_lead
from bot.language.texts import untranslated

ROOT = Path(__file__).resolve().parents[3]
TEXTS_FILES = (
    "data/broadcasts/alerts.yml",
    "data/broadcasts/messages.yml",
    "data/subscriptions/messages.yml",
    "data/feedback/messages.yml",
)


@pytest.fixture(autouse=True)
def at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


@pytest.mark.parametrize("name", TEXTS_FILES)
def test_every_text_a_citizen_reads_has_its_spanish(name: str) -> None:
    raw = yaml.safe_load((ROOT / name).read_text(encoding="utf-8"))
    assert untranslated(raw, "es") == []


def test_the_notice_lead_is_in_the_reader_s_language() -> None:
    notice = Notice("Cooling centers are open.", "https://harborcity.example/heat", 2e9, "erin", 1e9)
    assert notice_lead(notice, "es") == "Aviso: Cooling centers are open. https://harborcity.example/heat"
    assert notice_lead(notice) == "Notice: Cooling centers are open. https://harborcity.example/heat"


def test_a_spanish_reply_is_understood_with_or_without_accents_and_in_english() -> None:
    spanish = load_texts(language="es")
    assert spanish.question_kind("¿Cuánto tiempo va a durar?") == "how_long"
    assert spanish.question_kind("hasta cuando") == "how_long"
    assert spanish.question_kind("¿Mi calle está afectada?") == "where"
    assert spanish.question_kind("que debo hacer") == "what_to_do"
    assert spanish.question_kind("how long will it last") == "how_long"  # citizens mix languages
    assert spanish.question_kind("¿a qué hora abre la biblioteca?") is None
    assert load_texts().question_kind("que debo hacer") is None  # English texts: English phrases only


def test_spanish_wording_of_a_relay_and_of_the_replies() -> None:
    spanish = load_texts(language="es")
    assert spanish.prefix("Update") == "Actualización: " and spanish.prefix("Cancel") == "Cancelada: "
    assert spanish.text("relay", "whole_city") == "toda la ciudad"
    assert spanish.reply("area_in", district="Riverside") == "Sí: Riverside está incluido."
    assert spanish.reply("person_button") == "Hablar con una persona"
    assert load_texts().text("relay", "whole_city") == "the whole city"


def test_language_names_come_from_cldr_in_the_reader_s_language() -> None:
    assert language_name("en", "es") == "inglés"
    assert language_name("es", "en") == "Spanish"
    assert language_name("xx-unknown", "es") == "xx-unknown"
