"""The console's own texts in the conversation's language: notices, counts, the next staffed time,
canned replies and the language's own name; English exactly as before."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from bot.handoff.texts import (
    canned_replies,
    language_name,
    next_open_text,
    offered_languages,
    spoken,
    text,
    wait_words,
)
from bot.language.texts import translated_languages, untranslated

ROOT = Path(__file__).resolve().parents[3]
DATA_DIR = Path("data/handoff")
NEW_YORK = ZoneInfo("America/New_York")
# The strftime pattern messages.yml had before the CLDR one: English must read exactly as it did.
OLD_FORMAT = "%A, %B %-d at %-I:%M %p"


@pytest.fixture(autouse=True)
def at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def test_every_citizen_text_of_the_handoff_files_has_its_spanish() -> None:
    for name in ("messages.yml", "canned_replies.yml", "ratings.yml"):
        raw = yaml.safe_load((DATA_DIR / name).read_text(encoding="utf-8"))
        assert "es" in translated_languages(raw), name
        assert untranslated(raw, "es") == [], name


def test_notices_are_said_in_spanish_with_the_facts_in_spanish() -> None:
    assert (
        text(DATA_DIR, "agent_joined", language="es", agent="Dana")
        == "Dana, de la Ciudad de Harbor City, se unió al chat."
    )
    said = text(DATA_DIR, "wait_grew", language="es", position=3, **wait_words(DATA_DIR, 3, 12, "es"))
    assert said == (
        "Gracias por esperar. Usted es el número 3 en la fila; ahora la espera puede ser de "
        "aproximadamente 12 minutos."
    )


def test_counts_in_spanish_take_the_singular_or_the_plural() -> None:
    assert wait_words(DATA_DIR, 1, 1, "es") == {
        "ahead": "nadie delante de usted",
        "wait": "aproximadamente 1 minuto",
    }
    assert wait_words(DATA_DIR, 2, 2, "es") == {
        "ahead": "1 persona delante de usted",
        "wait": "aproximadamente 2 minutos",
    }
    assert wait_words(DATA_DIR, 5, 20, "es")["ahead"] == "4 personas delante de usted"


def test_english_is_said_as_before_and_a_language_not_offered_is_said_in_english() -> None:
    english = text(DATA_DIR, "agent_joined", agent="Dana")
    assert english == "Dana from the City of Harbor City has joined the chat."
    # the slot is the citizen's to set: a code the agency does not offer is English, not an error
    for language in ("fr", "", "<img src=x>", "../agency"):
        assert spoken(language) == "en"
        assert text(DATA_DIR, "agent_joined", language=language, agent="Dana") == english
        assert wait_words(DATA_DIR, 2, 2, language) == wait_words(DATA_DIR, 2, 2)


def test_the_next_staffed_time_in_english_reads_exactly_as_the_old_strftime_pattern() -> None:
    start = datetime(2026, 3, 2, 0, 0, tzinfo=NEW_YORK)  # a Monday; every hour of a week, odd minutes
    for hour in range(0, 7 * 24, 5):
        when = start + timedelta(hours=hour, minutes=hour % 60)
        assert next_open_text(DATA_DIR, when) == when.strftime(OLD_FORMAT)
    assert (
        next_open_text(DATA_DIR, datetime(2026, 3, 2, 7, 0, tzinfo=NEW_YORK)) == "Monday, March 2 at 7:00 AM"
    )
    assert next_open_text(DATA_DIR, None) == "(none)"


def test_the_next_staffed_time_in_spanish_names_the_day_and_month_in_spanish() -> None:
    morning = datetime(2026, 3, 2, 7, 0, tzinfo=NEW_YORK)
    assert next_open_text(DATA_DIR, morning, "es") == "el lunes 2 de marzo a las 7:00 a. m."
    evening = datetime(2026, 12, 5, 13, 30, tzinfo=NEW_YORK)
    assert next_open_text(DATA_DIR, evening, "es") == "el sábado 5 de diciembre a las 1:30 p. m."
    assert next_open_text(DATA_DIR, None, "es") == "(sin fecha prevista)"
    assert "\u202f" not in next_open_text(DATA_DIR, morning, "es")  # plain spaces, as elsewhere


def test_a_language_without_its_own_pattern_writes_the_time_its_usual_way(tmp_path: Path) -> None:
    """A translation without ``next_open_format`` does not get the English "at" between its names."""
    messages = {
        "next_open_format": "EEEE, MMMM d 'at' h:mm a",
        "next_open_unknown": "(none)",
        "translations": {"es": {"next_open_unknown": "(sin fecha)"}},
    }
    (tmp_path / "messages.yml").write_text(yaml.safe_dump(messages, allow_unicode=True), encoding="utf-8")
    said = next_open_text(tmp_path, datetime(2026, 3, 2, 7, 0, tzinfo=NEW_YORK), "es")
    assert "2 de marzo" in said and "7:00" in said and " at " not in said


def test_an_older_strftime_pattern_still_works_in_english(tmp_path: Path) -> None:
    (tmp_path / "messages.yml").write_text(f'next_open_format: "{OLD_FORMAT}"\n', encoding="utf-8")
    when = datetime(2026, 3, 2, 19, 0, tzinfo=NEW_YORK)
    assert next_open_text(tmp_path, when) == "Monday, March 2 at 7:00 PM"


def test_canned_replies_come_in_the_language_asked_with_the_same_titles() -> None:
    english = canned_replies(DATA_DIR)
    spanish = canned_replies(DATA_DIR, "es")
    assert [r["title"] for r in spanish] == [r["title"] for r in english]
    replies = {reply["title"]: reply["text"] for reply in spanish}
    assert replies["Greeting"] == "Hola, gracias por esperar. ¿En qué puedo ayudarle hoy?"
    assert replies["311 by phone"] == (
        "También puede comunicarse con el 311 por teléfono, de lunes a sábado, de 7 a. m. a 7 p. m.: "
        "llame al 311 (555-010-3110 desde fuera de la ciudad)."
    )
    assert not [t for t in replies.values() if "{" in t]
    assert canned_replies(DATA_DIR, "fr") == english


def test_a_reply_not_translated_yet_is_offered_in_english_and_a_language_may_add_its_own(
    tmp_path: Path,
) -> None:
    raw = {
        "canned_replies": [{"title": "Hi", "text": "Hello."}, {"title": "Bye", "text": "Goodbye."}],
        "translations": {
            "es": {"canned_replies": [{"title": "Bye", "text": "Adiós."}, {"title": "Ojo", "text": "Ojo."}]}
        },
    }
    (tmp_path / "canned_replies.yml").write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    assert canned_replies(tmp_path, "es") == [
        {"title": "Hi", "text": "Hello."},
        {"title": "Bye", "text": "Adiós."},
        {"title": "Ojo", "text": "Ojo."},
    ]
    assert canned_replies(tmp_path) == raw["canned_replies"]


def test_each_offered_language_has_its_own_name_and_anything_else_is_shown_as_it_is() -> None:
    assert offered_languages()[:2] == ("en", "es")
    assert language_name("es") == "Español"
    assert language_name("en") == "English"
    assert language_name("<b>x</b>") == "<b>x</b>"  # escaped where it is shown, never read as a file
