"""Rasa's responses get the agency's facts (bot.nlg), the way endpoints.yml configures it."""

from __future__ import annotations

from pathlib import Path

import pytest
import structlog.testing
import yaml
from rasa.core.nlg import NaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from bot.content.agency import UnknownFactError
from bot.nlg import AgencyNaturalLanguageGenerator

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = """
version: "3.1"
slots:
  area:
    type: text
    mappings:
    - type: custom
responses:
  utter_queued:
  - text: "You're number {position} in line. In an emergency call {agency.emergency}."
    buttons:
    - title: "Call {agency.phone_311_outside}"
      payload: "/call"
  - text: "Outside {area}? Call {agency.phone_311_outside}."
    channel: twilio
  utter_part_more:
  - text: "More: {agency.web_trash} {note}"
"""


@pytest.fixture(autouse=True)
def at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


@pytest.fixture
def domain() -> Domain:
    return Domain.from_yaml(DOMAIN)


async def test_a_response_gets_the_facts_and_rasa_still_fills_its_own_values(domain: Domain) -> None:
    nlg = AgencyNaturalLanguageGenerator(domain=domain)
    tracker = DialogueStateTracker.from_events("c1", [], slots=domain.slots)
    said = await nlg.generate("utter_queued", tracker, "rest", position=3)
    assert said is not None
    assert said["text"] == "You're number 3 in line. In an emergency call 911."
    assert said["buttons"] == [{"title": "Call 555-010-3110", "payload": "/call"}]


async def test_slots_and_channel_variations_are_filled_too(domain: Domain) -> None:
    nlg = AgencyNaturalLanguageGenerator(domain=domain)
    tracker = DialogueStateTracker.from_events("c1", [], slots=domain.slots)
    tracker.slots["area"].value = "Harbor City"
    said = await nlg.generate("utter_queued", tracker, "twilio")
    assert said is not None and said["text"] == "Outside Harbor City? Call 555-010-3110."


def test_responses_assigned_at_model_load_are_expanded(domain: Domain) -> None:
    """``Agent.load_model`` assigns ``nlg.responses`` from the model's domain."""
    nlg = AgencyNaturalLanguageGenerator()
    assert nlg.responses == {}
    nlg.responses = domain.responses
    assert nlg.responses["utter_part_more"] == [{"text": "More: harborcity.example/trash {note}"}]
    assert domain.responses["utter_part_more"] == [{"text": "More: {agency.web_trash} {note}"}], (
        "not in place"
    )


def test_an_unknown_fact_stops_loading_with_the_response_named() -> None:
    domain = Domain.from_yaml(
        'version: "3.1"\nresponses:\n  utter_x:\n  - text: "Call {agency.phone_411}."\n'
    )
    with pytest.raises(UnknownFactError, match=r"\{agency.phone_411\} in response utter_x"):
        AgencyNaturalLanguageGenerator(domain=domain)


def test_rasa_builds_it_from_the_endpoints_file(domain: Domain) -> None:
    config = yaml.safe_load((ROOT / "endpoints.yml").read_text(encoding="utf-8"))["nlg"]
    nlg = NaturalLanguageGenerator.create(EndpointConfig.from_dict(config), domain)
    assert isinstance(nlg, AgencyNaturalLanguageGenerator)
    assert nlg.responses["utter_part_more"][0]["text"] == "More: harborcity.example/trash {note}"


def test_the_agency_file_can_be_set_in_the_endpoint(tmp_path: Path, domain: Domain) -> None:
    facts = (ROOT / "data" / "agency.yml").read_text(encoding="utf-8").replace('"911"', '"112"')
    (tmp_path / "agency.yml").write_text(facts, encoding="utf-8")
    config = EndpointConfig(
        type="bot.nlg.AgencyNaturalLanguageGenerator", agency_file=str(tmp_path / "agency.yml")
    )
    nlg = NaturalLanguageGenerator.create(config, domain)
    assert nlg.responses["utter_queued"][0]["text"].endswith("call 112.")


def test_every_shipped_response_expands() -> None:
    files = [ROOT / "domain.yml", *sorted((ROOT / "data" / "responses").glob("*.yml"))]
    responses = AgencyNaturalLanguageGenerator(domain=Domain.load([str(f) for f in files])).responses
    texts = [v.get("text") or "" for variations in responses.values() for v in variations]
    assert texts and not [t for t in texts if "{agency." in t]
    out_of_scope = responses["utter_out_of_scope"][0]["text"]
    assert "call 311 (555-010-3110 from outside the city), Monday to Saturday 7 am to 7 pm" in out_of_scope


async def test_a_button_with_entities_is_sent_as_written_and_logs_no_error() -> None:
    """Rasa took `{"rating":"1"}` for a slot: an error with a traceback each time the buttons went out."""
    domain = Domain.from_yaml(
        'version: "3.1"\nresponses:\n  utter_rate:\n  - text: "How did we do, {name}?"\n'
        "    buttons:\n"
        '    - {title: "1", payload: \'/rate{"rating":"1"}\'}\n'
        '    - {title: "Topics", payload: \'/explore_topic{"topic":"parks","more":{"page":2}}\'}\n'
        '    - {title: "Yours", payload: "{choice}"}\n'
    )
    nlg = AgencyNaturalLanguageGenerator(domain=domain)
    tracker = DialogueStateTracker.from_events("c1", [])
    with structlog.testing.capture_logs() as logged:
        said = await nlg.generate("utter_rate", tracker, "rest", name="Sam", choice="/affirm")
    assert said is not None and said["text"] == "How did we do, Sam?"
    assert [b["payload"] for b in said["buttons"]] == [
        '/rate{"rating":"1"}',
        '/explore_topic{"topic":"parks","more":{"page":2}}',
        "/affirm",
    ]
    assert not [entry for entry in logged if entry.get("log_level") in ("error", "exception")], logged
