"""What the channels say themselves, in each language (data/channels/messages.yml `translations:`).

`ChannelNotices` (web chat and REST) and `load_texts` (the messaging connectors) read the same file;
a conversation in Spanish gets the Spanish notices, a language the file lacks gets English, and a
broken translation stops the start naming the file and the language.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from bot.channels.base import ChannelConfigError
from bot.channels.notices import MESSAGES_FILE, ChannelNotices
from bot.channels.wording import TextsError, load_texts, load_texts_by_language
from bot.content.agency import SOURCE_LANGUAGE, load_agency
from bot.language.texts import localized, untranslated

PLACEHOLDER = re.compile(r"\{[\w.]+\}")


def raw_texts() -> dict[str, object]:
    return yaml.safe_load(MESSAGES_FILE.read_text(encoding="utf-8"))


def leaves(texts: object, prefix: str = "") -> dict[str, str]:
    """Dotted key -> text."""
    if isinstance(texts, dict):
        found: dict[str, str] = {}
        for key, value in texts.items():
            found.update(leaves(value, f"{prefix}{key}."))
        return found
    return {prefix.rstrip("."): str(texts)}


def other_languages() -> list[str]:
    return [code for code in load_agency().languages if code != SOURCE_LANGUAGE]


def test_every_language_the_agency_offers_has_every_text_with_the_same_placeholders() -> None:
    raw = raw_texts()
    english = leaves(localized(raw, SOURCE_LANGUAGE))
    assert other_languages(), "the agency offers no language but English"
    for code in other_languages():
        assert untranslated(raw, code) == [], code
        own = leaves(localized(raw, code))
        for key, text in own.items():
            assert sorted(PLACEHOLDER.findall(text)) == sorted(PLACEHOLDER.findall(english[key])), (code, key)


def test_the_web_notices_in_spanish_and_english_as_before() -> None:
    notices = ChannelNotices.load()
    assert notices.too_long(2000).startswith("Sorry, your message is too long for me to read")
    assert "2,000 characters" in notices.too_long(2000)
    assert notices.rate_limited(1).endswith("wait 1 second, then send your message again.")
    spanish = notices.in_language("es")
    assert spanish.too_long(2000) == (
        "Lo siento, su mensaje es demasiado largo para que pueda leerlo: por favor, no pase de 2,000"
        " caracteres. Puede enviar primero la parte más importante."
    )
    assert "espere 1 segundo y" in spanish.rate_limited(1)
    assert "espere 30 segundos y" in spanish.rate_limited(30)
    assert spanish.store_unavailable.startswith("Lo siento, algo salió mal de nuestra parte.")
    # A language the file does not have, or none known: English.
    assert notices.in_language("vi") is notices
    assert notices.in_language(None) is notices
    assert notices.in_language(SOURCE_LANGUAGE) is notices


def test_the_connectors_texts_in_spanish_with_the_agencys_facts() -> None:
    english, spanish = load_texts(), load_texts(language="es")
    assert english.privacy_notice == "How we use your data: https://harborcity.example/privacy"
    assert spanish.privacy_notice == "Cómo usamos sus datos: https://harborcity.example/privacy"
    assert spanish.too_long_for(2000) == ChannelNotices.load().in_language("es").too_long(2000)
    assert len(spanish.options_label) <= 20  # WhatsApp's limit for the list button
    by_language = load_texts_by_language()
    assert sorted(by_language) == sorted([SOURCE_LANGUAGE, *other_languages()])
    assert by_language["es"] == spanish and by_language[SOURCE_LANGUAGE] == english
    assert load_texts(language="vi") == english


def with_translation(tmp_path: Path, spanish: dict[str, object]) -> Path:
    raw = {key: value for key, value in raw_texts().items() if key != "translations"}
    path = tmp_path / "messages.yml"
    path.write_text(
        yaml.safe_dump({**raw, "translations": {"es": spanish}}, allow_unicode=True), encoding="utf-8"
    )
    return path


def test_a_text_not_translated_yet_is_said_in_english(tmp_path: Path) -> None:
    path = with_translation(tmp_path, {"store_unavailable": "Inténtelo de nuevo en un minuto."})
    spanish = ChannelNotices.load(path).in_language("es")
    assert spanish.store_unavailable == "Inténtelo de nuevo en un minuto."
    assert spanish.too_long(10) == ChannelNotices.load(path).too_long(10)
    assert load_texts(path, "es").unsupported == load_texts(path).unsupported


def test_a_broken_translation_stops_the_start_naming_its_language(tmp_path: Path) -> None:
    path = with_translation(tmp_path, {"rate_limited": "Espere."})
    with pytest.raises(ChannelConfigError, match=r"translations: es"):
        ChannelNotices.load(path)
    path = with_translation(tmp_path, {"privacy_notice": "Datos: https://{agency.no_such_fact}"})
    with pytest.raises(TextsError, match=r"translations: es"):
        load_texts_by_language(path)
    load_texts(path)  # the English texts alone are fine
