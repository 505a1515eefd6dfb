"""The rating's wording in Spanish (data/feedback/messages.yml `translations:`): buttons that fit the
platforms, their screen-reader names and the SMS prompt, English where a language has none."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.feedback.answers import feedback_buttons
from bot.feedback.texts import MESSAGES_FILE, FeedbackFileError, load_texts, parse_texts

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(autouse=True)
def at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def test_a_spanish_reader_gets_the_spanish_wording() -> None:
    spanish = load_texts(language="es")
    assert spanish.buttons == {"up": "👍 Sí", "down": "👎 No"}
    assert spanish.accessible["up"] == "Esto respondió mi pregunta"
    assert spanish.sms_prompt.startswith("¿Le fue útil?") and "Y" in spanish.sms_prompt
    assert all(len(title) <= 20 for title in spanish.buttons.values())  # Messenger cuts past 20
    assert [b["title"] for b in feedback_buttons("0123456789ab", spanish.buttons)] == ["👍 Sí", "👎 No"]


def test_english_is_as_it_was_and_an_untranslated_language_reads_english() -> None:
    english = load_texts()
    assert english.buttons == {"up": "👍 Yes", "down": "👎 No"}
    assert english.sms_prompt == "Was this helpful? Reply Y or N"
    assert load_texts(language="vi") is english


def test_a_translation_missing_a_button_is_refused() -> None:
    raw = yaml.safe_load((ROOT / MESSAGES_FILE).read_text(encoding="utf-8"))
    raw["translations"]["es"]["buttons"] = {"up": "👍 Sí", "down": ""}
    with pytest.raises(FeedbackFileError, match="buttons needs a text for each of up, down"):
        parse_texts(raw, MESSAGES_FILE)
