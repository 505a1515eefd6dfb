"""Replies in the conversation's language (bot/nlg.py): its language first, then channel and slots."""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker

from bot.nlg import AgencyNaturalLanguageGenerator

ROOT = Path(__file__).resolve().parents[3]
DOMAIN = """
version: "3.1"
slots:
  language:
    type: text
    mappings:
    - type: custom
  language_guess:
    type: text
    mappings:
    - type: custom
  topic:
    type: text
    mappings:
    - type: custom
responses:
  utter_hours:
  - text: "Call {agency.phone_311}."
  - text: "Text 311."
    channel: twilio
  - text: "Llame al {agency.phone_311}."
    condition:
    - type: slot
      name: language
      value: es
  - text: "Envíe un mensaje al 311."
    channel: twilio
    condition:
    - type: slot
      name: language
      value: es
  utter_topic:
  - condition:
    - type: slot
      name: topic
      value: parking
    text: "About parking:"
  - condition:
    - type: slot
      name: topic
      value: parking
    - type: slot
      name: language
      value: es
    text: "Sobre el estacionamiento:"
  - text: "Pick a topic:"
  - text: "Elija un tema:"
    condition:
    - type: slot
      name: language
      value: es
  utter_only_english:
  - text: "Only in English."
"""


@pytest.fixture(autouse=True)
def at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


@pytest.fixture
def domain() -> Domain:
    return Domain.from_yaml(DOMAIN)


def tracker(domain: Domain, **slots: str) -> DialogueStateTracker:
    found = DialogueStateTracker.from_events("c1", [], slots=domain.slots)
    for name, value in slots.items():
        found.slots[name].value = value
    return found


async def say(domain: Domain, name: str, channel: str = "rest", **slots: str) -> str:
    said = await AgencyNaturalLanguageGenerator(domain=domain).generate(
        name, tracker(domain, **slots), channel
    )
    assert said is not None
    return str(said["text"])


async def test_a_conversation_in_spanish_is_answered_in_spanish(domain: Domain) -> None:
    assert await say(domain, "utter_hours", language="es") == "Llame al 311."
    assert await say(domain, "utter_hours") == "Call 311."


async def test_each_reply_names_its_conversations_language_for_the_channels_own_words(domain: Domain) -> None:
    """The messaging connectors put their privacy notice and option prompts in this language."""
    nlg = AgencyNaturalLanguageGenerator(domain=domain)
    spanish = await nlg.generate("utter_hours", tracker(domain, language="es"), "twilio")
    english = await nlg.generate("utter_hours", tracker(domain), "twilio")
    guessed = await nlg.generate("utter_only_english", tracker(domain, language_guess="es"), "rest")
    assert spanish is not None and english is not None and guessed is not None
    assert (spanish["language"], english["language"], guessed["language"]) == ("es", "en", "es")


async def test_sms_gets_the_spanish_sms_wording_not_the_english_one(domain: Domain) -> None:
    """Rasa alone would prefer the English SMS variation (a channel match) to the Spanish plain one."""
    assert await say(domain, "utter_hours", "twilio", language="es") == "Envíe un mensaje al 311."
    assert await say(domain, "utter_hours", "twilio", language="en") == "Text 311."


async def test_a_first_short_message_guess_counts_until_a_language_is_clear(domain: Domain) -> None:
    assert await say(domain, "utter_hours", language_guess="es") == "Llame al 311."
    assert await say(domain, "utter_hours", language="en", language_guess="es") == "Call 311."


async def test_other_conditions_still_choose_within_the_language(domain: Domain) -> None:
    assert await say(domain, "utter_topic", language="es", topic="parking") == "Sobre el estacionamiento:"
    assert await say(domain, "utter_topic", language="es", topic="all") == "Elija un tema:"
    assert await say(domain, "utter_topic", language="es") == "Elija un tema:"
    assert await say(domain, "utter_topic", topic="parking") == "About parking:"
    assert await say(domain, "utter_topic") == "Pick a topic:"


async def test_a_response_without_the_language_is_said_in_english(domain: Domain) -> None:
    assert await say(domain, "utter_only_english", language="es") == "Only in English."


async def test_a_spanish_reply_gets_the_agencys_facts_in_spanish() -> None:
    domain = Domain.from_yaml(
        DOMAIN.replace('"Llame al {agency.phone_311}."', '"Llame al {agency.phone_311}, {agency.hours_311}"')
    )
    said = await say(domain, "utter_hours", language="es")
    assert said == "Llame al 311, de lunes a sábado, de 7 a. m. a 7 p. m."
