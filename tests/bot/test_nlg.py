"""Rasa's responses get the agency's facts (bot.nlg), the way endpoints.yml configures it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import structlog.testing
import yaml
from rasa.core.actions.action import ActionBotResponse
from rasa.core.channels import CollectingOutputChannel
from rasa.core.nlg import NaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, UserUttered
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


# --- rated answers and message tests (bot/feedback, docs/feedback.md) ---------------------------------

SHIPPED = [ROOT / "domain.yml", *sorted((ROOT / "data" / "responses").glob("*.yml"))]
HALL = "https://www.harborcity.example/city-hall"
UNDER_TEST = f"""
version: "3.1"
responses:
  utter_faq/city_hall_hours:
  - text: "City Hall is open weekdays 8:30 to 4:30.\\nMore: {HALL}"
    metadata: {{variant: plain, weight: 1}}
  - text: "Open weekdays 8:30-4:30. {HALL}"
    channel: twilio
    metadata: {{variant: plain, weight: 1}}
  - text: "Drop by City Hall any weekday between 8:30 am and 4:30 pm!\\nMore: {HALL}"
    metadata: {{variant: friendly, weight: 1}}
"""


@pytest.fixture(scope="module")
def shipped() -> Domain:
    return Domain.load([str(f) for f in SHIPPED])


async def say(
    nlg: AgencyNaturalLanguageGenerator, action: str, conversation: str = "c1", **kwargs: Any
) -> Any:
    said = await nlg.generate(action, DialogueStateTracker.from_events(conversation, []), "rest", **kwargs)
    assert said is not None
    return said


async def test_a_faq_answer_offers_the_two_rating_buttons_and_says_what_it_rates(shipped: Domain) -> None:
    nlg = AgencyNaturalLanguageGenerator(domain=shipped)
    said = await say(nlg, "utter_faq/city_hall_hours")
    answer = said["rating"]["answer"]
    assert said["rating"] == {
        "answer": answer, "entry": "city_hall_hours", "variant": "", "kind": "faq", "topic": "city_hall",
        "language": "en",
    }  # fmt: skip
    assert said["buttons"] == [
        {"title": "👍 Yes", "payload": '/feedback{"answer":"' + answer + '","value":"up"}'},
        {"title": "👎 No", "payload": '/feedback{"answer":"' + answer + '","value":"down"}'},
    ]
    again = await say(nlg, "utter_faq/city_hall_hours")
    assert again["rating"]["answer"] != answer, "one id per answer shown"
    assert (await say(nlg, "utter_faq/water_shutoff_friday"))["rating"]["kind"] == "rumor"
    assert (await say(nlg, "utter_faq/passport"))["rating"]["kind"] == "referral"


async def test_lifelines_greetings_and_questions_are_never_rated(shipped: Domain) -> None:
    nlg = AgencyNaturalLanguageGenerator(domain=shipped)
    for action in ("utter_sensitive_mental_health_crisis", "utter_greet", "utter_facility_which"):
        said = await say(nlg, action)
        payloads = [b["payload"] for b in said.get("buttons") or []]
        assert "rating" not in said and not any(p.startswith("/feedback") for p in payloads)


async def test_a_lookup_answer_is_rated_as_its_lookup(shipped: Domain) -> None:
    nlg = AgencyNaturalLanguageGenerator(domain=shipped)
    said = await say(nlg, "utter_collection_day", address="12 Elm St", district="A", pickups="Trash", note="")
    assert said["rating"]["entry"] == "collection_day" and said["rating"]["kind"] == "lookup"
    assert [b["title"] for b in said["buttons"]] == ["👍 Yes", "👎 No"]
    unavailable = await say(nlg, "utter_collection_unavailable")
    assert "rating" not in unavailable


async def test_an_answer_sent_with_an_actions_own_choices_is_not_rated(shipped: Domain) -> None:
    nlg = AgencyNaturalLanguageGenerator(domain=shipped)
    choices = [{"title": "Collection day", "payload": "/ask_collection_day"}]
    said = await say(nlg, "utter_faq/city_hall_hours", buttons=choices)
    assert "rating" not in said


async def test_an_answer_that_describes_a_task_keeps_its_button_before_the_rating_buttons(
    shipped: Domain,
) -> None:
    """The generated responses' buttons after an answer (`answer_buttons`) pass through the NLG, on every
    channel and in each language, with the feedback buttons after them."""
    nlg = AgencyNaturalLanguageGenerator(domain=shipped)
    report = {"title": "Report it here", "payload": '/report_problem{"service":"pothole"}'}
    for channel in ("rest", "twilio"):
        tracker = DialogueStateTracker.from_events("c1", [], slots=shipped.slots)
        said = await nlg.generate("utter_faq/pothole", tracker, channel)
        assert said is not None and said["text"].startswith("Report it through 311 or this chat")
        assert said["buttons"][0] == report and len(said["buttons"]) == 3, said["buttons"]
        assert [b["payload"].split("{")[0] for b in said["buttons"][1:]] == ["/feedback", "/feedback"]
    tracker = DialogueStateTracker.from_events("c2", [], slots=shipped.slots)
    tracker.slots["language"].value = "es"
    spanish = await nlg.generate("utter_faq/alert_signup", tracker, "rest")
    assert spanish is not None and spanish["text"].startswith(
        "Inscríbase en HarborAlert en harborcity.example/alerts"
    )
    assert spanish["buttons"][0] == {"title": "Suscribirme", "payload": "/subscribe_alerts"}
    assert [b["title"] for b in spanish["buttons"][1:]] == ["👍 Sí", "👎 No"]


async def test_rasa_puts_the_rating_on_the_bot_event(shipped: Domain) -> None:
    """What the aggregator and the channels read: BotUttered metadata, the way Rasa builds it."""
    nlg = AgencyNaturalLanguageGenerator(domain=shipped)
    tracker = DialogueStateTracker.from_events("c1", [], slots=shipped.slots)
    events = await ActionBotResponse("utter_faq/city_hall_hours").run(
        CollectingOutputChannel(), nlg, tracker, shipped
    )
    bot = events[0]
    assert isinstance(bot, BotUttered)
    assert bot.metadata["rating"]["entry"] == "city_hall_hours"
    assert bot.metadata["utter_action"] == "utter_faq/city_hall_hours"
    assert len(bot.data["buttons"]) == 2


async def test_an_entry_under_test_shows_each_conversation_its_own_variant(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RASA_PUBLIC_URL", "https://chat.harborcity.example")
    nlg = AgencyNaturalLanguageGenerator(domain=Domain.from_yaml(UNDER_TEST))
    seen = {}
    for conversation in (f"c{n}" for n in range(40)):
        said = [await say(nlg, "utter_faq/city_hall_hours", conversation) for _ in range(3)]
        variants = {s["rating"]["variant"] for s in said}
        assert len(variants) == 1, "one wording for the conversation's whole life"
        seen[variants.pop()] = said[0]
    assert set(seen) == {"plain", "friendly"}
    friendly = seen["friendly"]
    assert friendly["text"] == (
        "Drop by City Hall any weekday between 8:30 am and 4:30 pm!\n"
        "More: https://chat.harborcity.example/webhooks/links/go/city_hall_hours/friendly"
    )
    assert HALL not in seen["plain"]["text"] and "metadata" not in friendly, "the test's bookkeeping stays in"


async def test_sms_gets_the_short_wording_of_the_conversations_variant() -> None:
    nlg = AgencyNaturalLanguageGenerator(domain=Domain.from_yaml(UNDER_TEST), public_url="https://c.example")
    tracked = "https://c.example/webhooks/links/go/city_hall_hours"
    for conversation in (f"+1555010{n:04d}" for n in range(30)):
        web = await say(nlg, "utter_faq/city_hall_hours", conversation)
        tracker = DialogueStateTracker.from_events(conversation, [])
        sms = await nlg.generate("utter_faq/city_hall_hours", tracker, "twilio")
        assert sms is not None and sms["rating"]["variant"] == web["rating"]["variant"]
        if web["rating"]["variant"] == "plain":
            assert sms["text"] == f"Open weekdays 8:30-4:30. {tracked}/plain"
        else:  # no short wording of this variant: its plain one
            assert sms["text"].startswith("Drop by City Hall")


async def test_a_spanish_reader_gets_the_spanish_answer_and_rating_buttons(shipped: Domain) -> None:
    nlg = AgencyNaturalLanguageGenerator(domain=shipped)
    tracker = DialogueStateTracker.from_events("c1", [], slots=shipped.slots)
    tracker.slots["language"].value = "es"
    said = await nlg.generate("utter_faq/city_hall_hours", tracker, "rest")
    assert said is not None
    assert "Más información:" in said["text"] and said["rating"]["language"] == "es"
    assert [b["title"] for b in said["buttons"]] == ["👍 Sí", "👎 No"]


def asked(domain: Domain, parse: dict[str, Any], language: str = "en") -> DialogueStateTracker:
    """A conversation in `language` whose last message was parsed as ``parse`` (an out-of-scope question)."""
    message = UserUttered("a question", {"name": "out_of_scope", "confidence": 1.0}, parse_data=parse)
    tracker = DialogueStateTracker.from_events("c1", [message], slots=domain.slots)
    tracker.slots["language"].value = language
    return tracker


async def test_a_declined_question_about_a_crisis_topic_ends_with_where_help_is(shipped: Domain) -> None:
    nlg = AgencyNaturalLanguageGenerator(domain=shipped)
    about = {"safety": {"topic": "sensitive_homelessness_help"}}
    said = await nlg.generate("utter_out_of_scope", asked(shipped, about), "rest")
    assert said is not None
    decline, line = said["text"].split("\n\n")
    assert decline.startswith("Sorry, I can only help with Harbor City services")
    assert line == (
        "If you or someone close to you needs a place to stay, the Homeless Outreach line, 555-010-5050, "
        "answers at any time."
    )
    spanish = await nlg.generate("utter_out_of_scope", asked(shipped, about, "es"), "rest")
    assert spanish is not None and spanish["text"].startswith("Lo siento")
    assert spanish["text"].endswith("personas sin hogar, 555-010-5050, atiende a cualquier hora.")


@pytest.mark.parametrize(
    "parse",
    [{}, {"safety": {"net": "keywords"}}, {"safety": {"topic": "sensitive_not_in_the_responses"}}],
    ids=["no report", "a lifeline's report", "a topic without a line"],
)
async def test_any_other_decline_is_the_decline_alone(shipped: Domain, parse: dict[str, Any]) -> None:
    nlg = AgencyNaturalLanguageGenerator(domain=shipped)
    said = await nlg.generate("utter_out_of_scope", asked(shipped, parse), "rest")
    assert said is not None and "\n\n" not in said["text"]


async def test_a_lifeline_for_a_message_with_two_needs_ends_with_where_to_turn_for_the_other(
    shipped: Domain,
) -> None:
    nlg = AgencyNaturalLanguageGenerator(domain=shipped)
    both = {"safety": {"net": "keywords", "also": ["sensitive_abuse_help"]}}
    said = await nlg.generate("utter_sensitive_homelessness_help", asked(shipped, both), "rest")
    assert said is not None
    lifeline, line = said["text"].split("\n\n")
    assert lifeline.startswith("Call the 24/7 Homeless Outreach line at 555-010-5050")
    assert line.startswith(
        "If you or someone close to you is being hurt, you can call the police non-emergency"
    )
    spanish = await nlg.generate("utter_sensitive_homelessness_help", asked(shipped, both, "es"), "rest")
    assert spanish is not None and spanish["text"].split("\n\n")[1].startswith(
        "Si a usted o a alguien cercano"
    )
    alone = await nlg.generate(
        "utter_sensitive_homelessness_help", asked(shipped, {"safety": {"net": "keywords"}}), "rest"
    )
    assert alone is not None and "\n\n" not in alone["text"]


async def test_only_a_decline_gets_the_line(shipped: Domain) -> None:
    nlg = AgencyNaturalLanguageGenerator(domain=shipped)
    tracker = asked(shipped, {"safety": {"topic": "sensitive_mental_health_crisis"}})
    said = await nlg.generate("utter_faq/city_hall_hours", tracker, "rest")
    assert said is not None and "988" not in said["text"]
    declined = await nlg.generate("utter_out_of_scope", tracker, "rest")
    assert declined is not None and declined["text"].endswith(
        "you can call or text 988 (Suicide and Crisis Lifeline) at any time."
    )
