"""The Rasa data for the live lookups fits the code and the project's existing data.

Every response an action sends exists; every action the domain lists is registered; examples
are plentiful, annotated with known entities, and never repeat an existing example; held-out
examples are never training examples; rules and test stories read with the merged domain.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import pytest
from lookup_support import ROOT
from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader
from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader
from rasa_sdk.executor import ActionExecutor

from actions.parsing import request_number

NLU = ROOT / "data" / "nlu" / "lookups.yml"
RULES = ROOT / "data" / "rules" / "lookups.yml"
STORIES = ROOT / "tests" / "test_stories.yml"
HOLDOUT = ROOT / "tests" / "nlu" / "holdout_lookups.yml"
NEW_INTENTS = (
    "check_request_status", "report_problem", "ask_alerts", "ask_facility_hours",
    "ask_collection_day", "ask_service_status", "inform", "cancel",
)  # fmt: skip


def examples(path: Path) -> dict[str, list[str]]:
    data = RasaYAMLReader().read(str(path))
    found: dict[str, list[str]] = defaultdict(list)
    for message in data.intent_examples:
        found[message.get("intent")].append(message.get("text"))
    return found


def normal(text: str) -> str:
    return " ".join(re.sub(r"[^\w#@]+", " ", text.lower()).split())


def used_responses() -> set[str]:
    names = set()
    for path in (ROOT / "actions").rglob("*.py"):
        source = path.read_text()
        names |= set(re.findall(r'response="(utter_[a-z_]+)"', source))
        names |= set(re.findall(r'fragment\(\s*domain,\s*"(utter_[a-z_]*[a-z])"', source))
        names |= set(re.findall(r'"(utter_[a-z_]*[a-z])"', source))
    return names


def test_every_response_the_actions_send_is_in_the_domain(domain):
    names = used_responses()
    assert "utter_online_service_" not in names
    statuses = {f"utter_online_service_{s}" for s in ("up", "degraded", "down")}
    parts = {f"utter_part_online_service_{s}" for s in ("degraded", "down")}
    missing = (names | statuses | parts) - set(domain.responses)
    assert not missing


def test_the_domain_lists_exactly_the_registered_actions(domain):
    executor = ActionExecutor()
    executor.register_package("actions")
    custom = {a for a in domain.user_actions if not a.startswith("utter_")} - set(domain.form_names)
    assert custom == set(executor.actions)


def test_forms_and_slots(domain):
    assert domain.forms["report_issue_form"]["required_slots"] == [
        "service_code",
        "location",
        "description",
        "contact",
    ]
    slots = {s.name: s for s in domain.slots}
    for name in ("request_id", "address", "service_code", "service_name", "service_candidates", "location"):
        assert not slots[name].influence_conversation
        assert [m["type"] for m in slots[name].mappings] == ["custom"]


def test_at_least_20_varied_examples_per_new_intent_with_known_entities(domain):
    staged = examples(NLU)
    for intent in NEW_INTENTS:
        assert len(set(map(normal, staged[intent]))) >= 20, intent
    data = RasaYAMLReader().read(str(NLU))
    for message in data.intent_examples:
        for found in message.get("entities") or []:
            assert found["entity"] in domain.entities
            if found["entity"] == "request_id":
                assert request_number(found["value"]), found


def test_no_example_repeats_an_existing_one():
    existing = {}
    for path in sorted((ROOT / "data" / "nlu").glob("*.yml")):
        for intent, texts in examples(path).items():
            existing.update({normal(t): intent for t in texts})
    seen: dict[str, str] = {}
    for intent, texts in examples(NLU).items():
        for text in texts:
            key = normal(text)
            assert key not in existing or existing[key] == intent, (text, existing.get(key))
            assert seen.setdefault(key, intent) == intent, (text, seen[key])


def test_held_out_examples_are_at_least_six_per_intent_and_never_trained_on():
    held_out = examples(HOLDOUT)
    trained = {normal(t) for p in [NLU, *(ROOT / "data" / "nlu").glob("*.yml")]
               for texts in examples(p).values() for t in texts}  # fmt: skip
    for intent in NEW_INTENTS:
        assert len(held_out[intent]) >= 6, intent
        assert not {normal(t) for t in held_out[intent]} & trained, intent


@pytest.mark.parametrize("path", [RULES, STORIES], ids=["rules", "test stories"])
def test_rules_and_stories_read_with_the_merged_domain(domain, path):
    name = path.name
    steps = YAMLStoryReader(domain).read_from_file(path)
    assert steps
    # utter_faq answers the retrieval intent; Rasa adds it for the faq/* responses.
    known = {*domain.action_names_or_texts, "utter_faq"}
    for step in steps:
        for event in step.events:
            action = getattr(event, "action_name", None)
            if action:
                assert action in known, (name, step.block_name, action)
            intent = (getattr(event, "intent", None) or {}).get("name")
            if intent:
                assert intent in domain.intents, (name, step.block_name, intent)
