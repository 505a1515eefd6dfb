"""Content in other languages becomes training blocks and reply variations (bot/content/generate.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.content.generate import NLU_OUT, RESPONSES_OUT, generated_files
from bot.content.model import load_content, load_render_settings
from bot.language.conversation import in_language, variation_language

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def generated() -> dict[Path, Any]:
    content = ROOT / "data" / "content"
    files = generated_files(load_content(content), load_render_settings(content))
    return {item.path: yaml.safe_load(item.text) for item in files}


def spanish(variations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [v for v in variations if variation_language(v) == "es"]


def test_spanish_questions_train_the_same_answer_marked_as_spanish(generated: dict[Path, Any]) -> None:
    blocks = [b for b in generated[NLU_OUT]["nlu"] if b["intent"] == "faq/bulky_item_pickup"]
    english, translated = blocks
    assert "metadata" not in english
    assert translated["metadata"] == {"language": "es"}
    assert "¿Cómo" in translated["examples"] or "como" in translated["examples"].lower()


def test_every_answer_has_its_spanish_wording_and_sms_wording(generated: dict[Path, Any]) -> None:
    responses = generated[RESPONSES_OUT]["responses"]
    bulky = responses["utter_faq/bulky_item_pickup"]
    own = spanish(bulky)
    assert [v.get("channel") for v in own] == [None, "twilio"], "the short answer goes to SMS in Spanish too"
    assert own[0]["text"].endswith("Más información: https://www.harborcity.example/bulky-items")


def test_a_rumor_in_spanish_names_the_claim_with_the_spanish_verdict(generated: dict[Path, Any]) -> None:
    (said,) = spanish(generated[RESPONSES_OUT]["responses"]["utter_faq/recycling_fee"])
    assert said["text"].startswith('Rumor: "La ciudad') and "Es falso." in said["text"]


def test_the_menu_and_topics_are_offered_in_spanish(generated: dict[Path, Any]) -> None:
    responses = generated[RESPONSES_OUT]["responses"]
    menu = in_language(responses["utter_capabilities"], "es")
    titles = [b["title"] for b in menu[0]["buttons"]]
    assert titles[0] == "Reportar un problema" and "Basura y reciclaje" in titles
    english = in_language(responses["utter_capabilities"], "en")
    assert [b["payload"] for b in english[0]["buttons"]] == [b["payload"] for b in menu[0]["buttons"]]


def test_a_spanish_topic_button_sends_its_spanish_question(generated: dict[Path, Any]) -> None:
    """The tap is read as Spanish, so a Spanish conversation stays in Spanish."""
    topics = in_language(generated[RESPONSES_OUT]["responses"]["utter_topic"], "es")
    trash = next(
        v
        for v in topics
        if v.get("condition") == [{"type": "slot", "name": "topic", "value": "trash_recycling"}]
    )
    assert trash["text"].endswith(":") and "Basura y reciclaje" in trash["text"]
    assert all(b["title"] == b["payload"] for b in trash["buttons"])
    assert trash["buttons"][0]["payload"].startswith("¿")
    plain = [v for v in topics if not v.get("condition")]
    assert len(plain) == 1 and "tema" in plain[0]["text"]
