"""The domain gate and the lifelines-by-need rule, on the real trained model and on their own.

An agency answer only for a message like the ones the assistant knows; a rumor's verdict only
for a message about its claim; a lifeline for a person in need, never for a question about a
topic, and the keyword net's lifeline whatever the gate says (bot/nlp/domain_gate.py,
bot/nlp/safety_guard.py). The gate's own held-out sets (ood_holdout.yml, rumor_near_misses.yml
here) were used to choose its thresholds, so their floors guard against regressions only. The
examples reword the issue's: several of those are CLINC150 queries, which the project never copies.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlp import quality
from bot.nlp.domain_gate import OUTPUT, UNCHECKED_RUMOR, DomainGate, DomainModel
from bot.nlp.evaluate import Parser, read_examples
from bot.nlp.linear_text import EMBEDDING_ALIAS
from bot.nlp.safety import load_triggers, match

HERE = Path(__file__).resolve().parent
NLU_TESTS = HERE.parents[1] / "nlu"


@pytest.fixture(scope="module")
def kinds() -> dict[str, str]:
    return quality.answer_kinds()


def outcome_of(parse: dict[str, Any], kinds: dict[str, str]) -> str:
    return quality.outcome(quality.answer(parse), kinds)


# ---- on the trained model -------------------------------------------------------------------


@pytest.mark.parametrize(
    "text,rumor",
    [
        ("How much does a bottle of water cost?", "faq/tap_water_unsafe"),
        ("is it true the city will charge for yard waste pickup?", "faq/recycling_fee"),
    ],
)
def test_a_rumor_verdict_only_for_a_message_about_its_claim(
    parser: Parser, kinds: dict[str, str], text: str, rumor: str
) -> None:
    [parse] = parser.parse([text])
    got = quality.answer(parse)
    assert got != rumor and quality.outcome(got, kinds) != quality.VERDICT, parse
    related = quality.rumor_related().get(rumor)
    if got.startswith("faq/") and (parse.get(OUTPUT) or {}).get("not_about_claim") == rumor:
        assert got == related  # the rumor's topic, answered without a verdict


def test_the_rumors_own_questions_still_get_the_verdict(parser: Parser, kinds: dict[str, str]) -> None:
    holdout = read_examples(sorted(NLU_TESTS.glob("holdout_*.yml")))
    rumors = [(t, w) for t, w in holdout if kinds.get(w) == "rumor"]
    assert len(rumors) >= 20
    got = [quality.answer(p) for p in parser.parse([t for t, _ in rumors])]
    right = sum(g == w for g, (_, w) in zip(got, rumors, strict=True))
    assert right / len(rumors) >= 0.9, [(t, w, g) for g, (t, w) in zip(got, rumors, strict=True) if g != w]


@pytest.mark.parametrize(
    "text",
    [
        "how many people are homeless in this country",
        "what are the main causes of people becoming homeless",
        "is it actually illegal to shout fire in a packed theater",
    ],
)
def test_a_question_about_a_crisis_topic_gets_no_lifeline(
    parser: Parser, kinds: dict[str, str], text: str
) -> None:
    [parse] = parser.parse([text])
    assert outcome_of(parse, kinds) in (quality.FACT, *quality.DECLINES), parse


@pytest.mark.parametrize(
    "text,topic",
    [
        ("how many people are homeless in this country", "sensitive_homelessness_help"),
        ("what percentage of marriages involve domestic violence", "sensitive_abuse_help"),
    ],
)
def test_a_declined_question_about_a_crisis_topic_names_its_topic(
    parser: Parser, kinds: dict[str, str], text: str, topic: str
) -> None:
    """The decline then ends with the topic's resource line (bot/nlg.py, tests/bot/test_nlg.py)."""
    [parse] = parser.parse([text])
    assert outcome_of(parse, kinds) in quality.DECLINES, parse
    assert parse["safety"] == {"topic": topic}
    [ordinary] = parser.parse(["what's the weather like in paris"])
    assert "safety" not in ordinary


def test_a_lifeline_the_classifier_held_back_names_its_topic(parser: Parser) -> None:
    """A lifeline the classifier picked but its net held back (a topic question) is the topic."""
    guard = next(
        node._component
        for name, node in parser.agent.processor.graph_runner._instantiated_nodes.items()  # type: ignore[union-attr]
        if name.rstrip("0123456789").endswith("SafetyGuard")
    )
    message = Message({"text": "what are the statistics across the nation"})
    message.set("intent", {"name": "sensitive_mental_health_crisis", "confidence": 0.9})
    message.set("intent_ranking", [{"name": "sensitive_mental_health_crisis", "confidence": 0.9}])
    guard.process([message])
    assert message.get("intent")["name"] == "out_of_scope"
    assert message.get("safety") == {"topic": "sensitive_mental_health_crisis"}


@pytest.mark.parametrize(
    "text",
    [
        "someone backed into my parked car and left, nobody is hurt, who do i call",
        "nadie salio herido, pero alguien choco mi carro estacionado y se fue",
    ],
)
def test_a_message_saying_nobody_is_in_danger_gets_no_lifeline_from_the_classifier(
    parser: Parser, kinds: dict[str, str], text: str
) -> None:
    """The classifier alone would give 911 (it ranks the danger lifeline high on both); the decline
    that replaces it still ends with "if anyone is in danger right now, call 911"."""
    [parse] = parser.parse([text])
    assert not quality.lifeline_reply(quality.answer(parse)), parse
    assert (parse.get("safety") or {}).get("topic") == "sensitive_immediate_danger"


@pytest.mark.parametrize(
    "text,lifeline",
    [
        ("whats the point of going on", "988"),
        ("he hit me again and im scared to go home", "911"),
        ("im homeless, how many nights can i stay at the shelter", "outreach"),
        ("my husband is abusive, how common is that", "911"),
    ],
)
def test_a_person_in_need_gets_the_lifeline(parser: Parser, text: str, lifeline: str) -> None:
    [parse] = parser.parse([text])
    assert quality.lifeline_reply(quality.answer(parse)) == lifeline, parse


def test_questions_outside_city_services_are_declined(parser: Parser, kinds: dict[str, str]) -> None:
    own = read_examples([HERE / "ood_holdout.yml"])
    outcomes = [outcome_of(p, kinds) for p in parser.parse([t for t, _ in own])]
    declined = sum(o in quality.DECLINES for o in outcomes) / len(own)
    print(f"own held-out out-of-scope: {declined:.3f} declined of {len(own)}")
    assert declined >= 0.93, [
        (t, o) for (t, _), o in zip(own, outcomes, strict=True) if o not in quality.DECLINES
    ]
    assert outcomes.count(quality.VERDICT) == 0


def test_near_a_rumor_is_not_its_verdict(parser: Parser, kinds: dict[str, str]) -> None:
    near = read_examples([HERE / "rumor_near_misses.yml"])
    got = [quality.answer(p) for p in parser.parse([t for t, _ in near])]
    verdicts = [
        (t, g) for (t, _), g in zip(near, got, strict=True) if quality.outcome(g, kinds) == quality.VERDICT
    ]
    assert len(verdicts) <= 1, verdicts


@pytest.fixture
def gate_declining_everything(parser: Parser) -> Iterator[DomainGate]:
    """The model's DomainGate with its threshold at 0: every message is out of the domain."""
    processor = parser.agent.processor
    assert processor is not None
    nodes = processor.graph_runner._instantiated_nodes  # type: ignore[attr-defined]
    gate = next(
        node._component for name, node in nodes.items() if name.rstrip("0123456789").endswith("DomainGate")
    )
    saved = dict(gate.config)
    gate.config.update(threshold=0.0, unsure_threshold=0.0, rescue_below=None)
    yield gate
    gate.config.clear()
    gate.config.update(saved)


def test_the_gate_never_overrides_a_keyword_net_lifeline(
    parser: Parser, kinds: dict[str, str], gate_declining_everything: DomainGate
) -> None:
    triggers = load_triggers()
    crisis = [
        (t, w)
        for t, w in read_examples(
            [NLU_TESTS / "sensitive_paraphrases.yml", NLU_TESTS / "sensitive_tuning.yml"]
        )
        if quality.lifeline_reply(w)
        and quality.lifeline_reply(match(triggers, t) or "") == quality.lifeline_reply(w)
    ]
    assert len(crisis) >= 150
    parses = parser.parse([t for t, _ in crisis])
    assert all((p.get(OUTPUT) or {}).get("out_of_domain") for p in parses)
    missed = [
        (t, quality.answer(p))
        for (t, w), p in zip(crisis, parses, strict=True)
        if quality.lifeline_reply(quality.answer(p)) != quality.lifeline_reply(w)
    ]
    assert missed == []
    assert all((p.get("safety") or {}).get("net") == "keywords" for p in parses)
    # and with everything out of the domain, an ordinary question is declined
    [ordinary] = parser.parse(["how do i pay my water bill"])
    assert outcome_of(ordinary, kinds) == quality.DECLINE


# ---- the component on its own ---------------------------------------------------------------

DATA = """
version: "3.1"
nlu:
- intent: faq/water_bill
  examples: |
    - how do i pay my water bill
    - pay water bill online
- intent: faq/water_shutoff_friday
  examples: |
    - are they shutting off water friday
    - water shutoff friday rumor
- intent: greet
  examples: |
    - hi
    - hello there
- intent: out_of_scope
  examples: |
    - who won the game
responses:
  utter_faq/water_bill:
  - text: Pay online.
  utter_faq/water_shutoff_friday:
  - text: False.
"""

CONTENT = """
topic:
  id: rumors
entries:
- id: water_shutoff_friday
  kind: rumor
  claim: The city is shutting off water to every home that hasn't paid by Friday.
  verdict: 'false'
  related: water_bill
  questions: [are they shutting off water friday]
  answer: No.
- id: water_bill
  kind: faq
  questions: [how do i pay my water bill]
  answer: Online.
"""


def embedded(text: str, seed: int) -> Message:
    """A message carrying a (random, unit) sentence embedding, as the featurizer would add one."""
    vector = np.random.default_rng(seed).normal(size=384).astype(np.float32)
    message = Message({"text": text})
    message.add_features(
        Features((vector / np.linalg.norm(vector))[None, :], "sentence", "text", EMBEDDING_ALIAS)
    )
    return message


def gate(storage: LocalModelStorage, resource: Resource, content: Path, load: bool = False) -> DomainGate:
    config = {**DomainGate.get_default_config(), "content_dir": str(content), "threshold": 30.0}
    context = ExecutionContext(GraphSchema({}), "test")
    if load:
        return DomainGate.load(config, storage, resource, context)
    return DomainGate.create(config, storage, resource, context)


def trained_gate(tmp_path: Path) -> tuple[DomainGate, TrainingData, LocalModelStorage, Resource, Path]:
    """A gate trained on DATA (random unit embeddings) with CONTENT's rumor, in `tmp_path`."""
    content = tmp_path / "content"
    content.mkdir()
    (content / "rumors.yml").write_text(CONTENT, encoding="utf-8")
    data = RasaYAMLReader().reads(DATA)
    for seed, example in enumerate(data.training_examples):
        example.features = embedded(example.get("text"), seed).features
    (tmp_path / "model").mkdir()
    storage, resource = LocalModelStorage(tmp_path / "model"), Resource("domain_gate")
    trained = gate(storage, resource, content)
    trained.train(data)
    return trained, data, storage, resource, content


def test_a_saved_and_loaded_gate_scores_the_same(tmp_path: Path) -> None:
    trained, _, storage, resource, content = trained_gate(tmp_path)
    loaded = gate(storage, resource, content, load=True)

    asked = [embedded(f"message {i}", 100 + i) for i in range(5)]
    again = [embedded(f"message {i}", 100 + i) for i in range(5)]
    assert [m.get(OUTPUT) for m in trained.process(asked)] == [m.get(OUTPUT) for m in loaded.process(again)]
    assert all(m.get(OUTPUT)["score"] > 0 for m in asked)
    rumor = loaded._rumors["faq/water_shutoff_friday"]
    assert rumor.related == "faq/water_bill"
    assert rumor.questions.shape == (2, 384)


def test_mahalanobis_distance_is_the_textbook_one() -> None:
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(60, 8))
    labels = ["a"] * 20 + ["b"] * 20 + ["c"] * 20
    model = DomainModel.fit(vectors, labels, "mahalanobis", shrinkage=0.0, neighbours=1)
    means = np.stack([vectors[i * 20 : (i + 1) * 20].mean(axis=0) for i in range(3)])
    residuals = vectors - np.repeat(means, 20, axis=0)
    precision = np.linalg.inv(residuals.T @ residuals / len(vectors))
    x = rng.normal(size=8)
    expected = min(np.sqrt((x - m) @ precision @ (x - m)) for m in means)
    assert model.score(x.astype(np.float32)) == pytest.approx(expected, rel=1e-4)
    nearest = DomainModel.fit(
        vectors / np.linalg.norm(vectors, axis=1, keepdims=True), labels, "nearest", 0.0, 1
    )
    unit = x / np.linalg.norm(x)
    assert nearest.score(unit) == pytest.approx(1 - max(v @ unit for v in nearest.centres), abs=1e-5)


def test_an_untrained_gate_changes_nothing(tmp_path: Path) -> None:
    loaded = gate(LocalModelStorage(tmp_path), Resource("never-trained"), tmp_path, load=True)
    message = embedded("anything", 1)
    message.set("intent", {"name": "faq", "confidence": 0.9})
    loaded.process([message])
    assert OUTPUT not in message.data and message.get("intent")["name"] == "faq"


def classified(intents: list[tuple[str, float]], answer: float, embedding_of: Message) -> Message:
    """`embedding_of`'s text and embedding, as the classifiers before the gate left it: the intent
    ranking `intents` (the first one picked) and the water bill's answer at confidence `answer`."""
    message = Message({"text": embedding_of.get("text")}, features=embedding_of.features)
    ranking = [{"name": name, "confidence": confidence} for name, confidence in intents]
    message.set("intent", ranking[0])
    message.set("intent_ranking", ranking)
    response = {"intent_response_key": "faq/water_bill", "confidence": answer, "responses": []}
    message.set("response_selector", {"default": {"response": response, "ranking": [response]}})
    return message


@pytest.mark.parametrize(
    "intents,answer,rescued",
    [
        ([("out_of_scope", 0.6), ("faq", 0.4)], 0.9, True),  # unsure outside, sure answer
        ([("out_of_scope", 0.95), ("faq", 0.05)], 0.9, False),  # sure outside
        ([("out_of_scope", 0.6), ("faq", 0.4)], 0.75, True),  # rescue_selector 0.7
        # a clarification between outside and the FAQs needs a surer answer (rescue_fallback 0.8)
        ([("nlu_fallback", 0.4), ("out_of_scope", 0.51), ("faq", 0.49)], 0.9, True),
        ([("nlu_fallback", 0.4), ("faq", 0.38), ("out_of_scope", 0.3)], 0.9, True),
        ([("nlu_fallback", 0.4), ("out_of_scope", 0.51), ("faq", 0.49)], 0.75, False),
        # a clarification between two things the assistant does stays a "did you mean"
        ([("nlu_fallback", 0.4), ("subscribe_alerts", 0.5), ("faq", 0.47)], 0.95, False),
    ],
)
def test_an_unsure_decline_with_a_sure_answer_is_answered(
    tmp_path: Path, intents: list[tuple[str, float]], answer: float, rescued: bool
) -> None:
    trained, data, *_ = trained_gate(tmp_path)
    trained.config.update(rescue_below=0.8, rescue_selector=0.7, rescue_fallback=0.8)
    [message] = trained.process([classified(intents, answer, data.training_examples[0])])
    assert (message.get("intent")["name"] == "faq") is rescued
    assert (message.get(OUTPUT).get("rescued") == "faq/water_bill") is rescued
    if rescued:
        assert [r["name"] for r in message.get("intent_ranking")].count("nlu_fallback") == 0


@pytest.mark.parametrize(
    "intents,answer,rescued",
    [
        # "how do i report a broken streetlight": an unsure task, a sure FAQ (rescue_task_selector 0.9)
        ([("report_problem", 0.74), ("faq", 0.26)], 0.96, True),
        ([("report_problem", 0.74), ("faq", 0.26)], 0.85, False),
        # "report the graffiti on the bus shelter for me": a sure task stays the task
        ([("report_problem", 0.95), ("faq", 0.05)], 0.99, False),
        # a task not in rescue_intents (a person asked for) is never turned into an answer
        ([("request_human", 0.6), ("faq", 0.4)], 0.99, False),
        # a clarification between a listed task and the FAQs is one between the FAQs (rescue_fallback)
        ([("nlu_fallback", 0.4), ("subscribe_alerts", 0.5), ("faq", 0.47)], 0.85, True),
        ([("nlu_fallback", 0.4), ("subscribe_alerts", 0.5), ("faq", 0.47)], 0.75, False),
        ([("nlu_fallback", 0.4), ("request_human", 0.5), ("faq", 0.47)], 0.95, False),
        # the FAQs third: the clarification stays
        ([("nlu_fallback", 0.4), ("subscribe_alerts", 0.4), ("ask_alerts", 0.35), ("faq", 0.2)], 0.95, False),
    ],
)
def test_an_unsure_task_with_a_sure_answer_is_answered(
    tmp_path: Path, intents: list[tuple[str, float]], answer: float, rescued: bool
) -> None:
    trained, data, *_ = trained_gate(tmp_path)
    trained.config.update(
        rescue_below=0.9,
        rescue_selector=0.7,
        rescue_fallback=0.8,
        rescue_intents=["report_problem", "subscribe_alerts"],
        rescue_task_selector=0.9,
    )
    [message] = trained.process([classified(intents, answer, data.training_examples[0])])
    assert (message.get("intent")["name"] == "faq") is rescued
    assert (message.get(OUTPUT).get("rescued") == "faq/water_bill") is rescued


def held_back(
    answer_key: str, confidence: float, out_of_domain: bool = False, rumor_related: str | None = None
) -> Message:
    """A message whose classifier picked 911 but which says nobody is hurt (the net holds it back),
    with the answer selector's pick `answer_key` at `confidence` and the domain gate's report: its
    verdict, and for a rumor pick the rumor's related FAQ (`UNCHECKED_RUMOR`)."""
    message = Message({"text": "someone dinged my parked car, nobody is hurt, who do i call"})
    picked = {"name": "sensitive_immediate_danger", "confidence": 0.7}
    message.set("intent", picked)
    message.set("intent_ranking", [picked, {"name": "faq", "confidence": 0.3}])
    response = {"intent_response_key": answer_key, "confidence": confidence, "utter_action": "x"}
    message.set("response_selector", {"default": {"response": response, "ranking": [response]}})
    report: dict[str, Any] = {"score": 12.0, "out_of_domain": out_of_domain}
    if rumor_related is not None:
        report[UNCHECKED_RUMOR] = rumor_related
    message.set(OUTPUT, report)
    return message


def guard_answering_held_back_lifelines() -> Any:
    from bot.nlp.safety import TRIGGERS_FILE, load_topic_question
    from bot.nlp.safety_guard import SafetyGuard

    config = {**SafetyGuard.get_default_config(), "held_back_answer": 0.9}
    return SafetyGuard(config, load_triggers(TRIGGERS_FILE), load_topic_question(TRIGGERS_FILE))


@pytest.mark.parametrize(
    "message,answer",
    [
        (held_back("faq/emergency_numbers", 0.94), "faq/emergency_numbers"),
        (held_back("faq/emergency_numbers", 0.85), None),  # not sure enough: declined
        (held_back("faq/emergency_numbers", 0.94, out_of_domain=True), None),
        # a rumor's verdict needs the claim check: its related FAQ answers, or the message is declined
        (held_back("faq/crime_wave", 0.97, rumor_related="faq/emergency_numbers"), "faq/emergency_numbers"),
        (held_back("faq/unrelated_rumor", 0.97, rumor_related=""), None),
    ],
    ids=["sure", "unsure", "out of domain", "rumor with a related FAQ", "rumor without one"],
)
def test_a_held_back_lifeline_gets_the_answer_the_selector_is_sure_of(
    message: Message, answer: str | None
) -> None:
    guard_answering_held_back_lifelines().process([message])
    got = quality.answer(message.as_dict())
    assert got == (answer or "out_of_scope")
    # declined or answered, the parse names the topic (a decline ends with its resource line)
    assert message.get("safety") == {"topic": "sensitive_immediate_danger"}


def test_without_the_gates_report_a_held_back_lifeline_is_declined() -> None:
    """No DomainGate report means no claim check: answering could give a rumor's verdict unchecked."""
    message = held_back("faq/emergency_numbers", 0.99)
    message.data.pop(OUTPUT)
    [message] = guard_answering_held_back_lifelines().process([message])
    assert quality.answer(message.as_dict()) == "out_of_scope"


def test_the_gate_names_the_related_faq_of_a_rumor_pick_it_did_not_check(tmp_path: Path) -> None:
    """A lifeline's message is not claim-checked; its rumor pick's related FAQ is in the report."""
    trained, data, *_ = trained_gate(tmp_path)
    lifeline = [("sensitive_immediate_danger", 0.7), ("faq", 0.3)]
    [plain, rumor] = [classified(lifeline, 0.95, data.training_examples[0]) for _ in range(2)]
    rumor.get("response_selector")["default"]["response"]["intent_response_key"] = "faq/water_shutoff_friday"
    trained.process([plain, rumor])
    assert UNCHECKED_RUMOR not in plain.get(OUTPUT)
    assert rumor.get(OUTPUT)[UNCHECKED_RUMOR] == "faq/water_bill"
    assert rumor.get("intent")["name"] == "sensitive_immediate_danger"  # the gate leaves it to the guard
