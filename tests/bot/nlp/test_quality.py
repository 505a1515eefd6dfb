"""Answer-quality measures (bot.nlp.quality): what counts as an answer, a decline, a caught crisis;
the margin rule of the floors; the threshold simulation; batched parsing against one at a time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.inbox import selection
from bot.nlp import domain_gate, quality
from bot.nlp.evaluate import Parser

KINDS = {"faq/water_bill": "faq", "faq/water_shutoff_friday": "rumor", "faq/dmv_license": "referral"}
RELATED = {"faq/water_shutoff_friday": "faq/water_bill"}


def parse(
    ranking: list[tuple[str, float]],
    answer: tuple[str, float] = ("faq/water_bill", 0.9),
    final: str | None = None,
    gate: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A parse as the pipeline reports it: the classifier's ranking, the selector's pick, a final intent."""
    name = final or ranking[0][0]
    result: dict[str, Any] = {
        "intent": {"name": name, "confidence": 1.0 if final else ranking[0][1]},
        "intent_ranking": [{"name": n, "confidence": c} for n, c in ranking],
        "response_selector": {
            "all_retrieval_intents": ["faq"],
            "default": {
                "response": {"intent_response_key": answer[0], "confidence": answer[1]},
                "ranking": [],
            },
        },
    }
    if final:
        result["intent_ranking"].insert(0, {"name": final, "confidence": 1.0})
    if gate is not None:
        result[quality.DOMAIN_GATE] = gate
    return result


class Canned:
    """A parser with one prepared parse per text."""

    def __init__(self, parses: dict[str, dict[str, Any]]) -> None:
        self.parses = parses

    def parse(self, texts: list[str]) -> list[dict[str, Any]]:
        return [self.parses[text] for text in texts]


def test_what_each_reply_counts_as() -> None:
    assert quality.outcome("faq/water_bill", KINDS) == quality.FACT
    assert quality.outcome("faq/water_shutoff_friday", KINDS) == quality.VERDICT
    assert quality.outcome("faq/dmv_license", KINDS) == quality.REFERRAL  # a decline with a pointer
    assert quality.outcome("faq/not_in_the_content", KINDS) == quality.FACT
    assert quality.outcome("ask_alerts", KINDS) == quality.LOOKUP
    assert quality.outcome("sensitive_abuse_help", KINDS) == quality.LIFELINE
    assert quality.outcome("nlu_fallback", KINDS) == quality.outcome("out_of_scope", KINDS) == quality.DECLINE
    assert quality.outcome("greet", KINDS) == quality.OTHER
    assert quality.REFERRAL in quality.DECLINES and quality.REFERRAL not in quality.AGENCY_ANSWERS
    # two lifeline intents share the 911 reply; a new sensitive intent is its own
    assert quality.lifeline_reply("sensitive_abuse_help") == quality.lifeline_reply(
        "sensitive_immediate_danger"
    )
    assert quality.lifeline_reply("sensitive_new_entry") == "sensitive_new_entry"
    assert quality.lifeline_reply("greet") == ""


def test_the_content_says_which_answer_is_a_rumor() -> None:
    kinds = quality.answer_kinds()
    assert kinds["faq/water_shutoff_friday"] == "rumor" and kinds["faq/water_bill"] == "faq"
    assert not any(key.startswith("sensitive_") for key in kinds)


def test_a_live_routed_answer_is_its_faq() -> None:
    routed = parse([("faq", 0.9)], final=quality.LIVE_ROUTED)
    assert quality.answer(routed) == "faq/water_bill"


def test_measures_of_each_kind_of_set() -> None:
    answers = quality.EvalSet(
        "blind",
        "answers",
        quality.ANSWERS,
        (
            ("pay water", "faq/water_bill"),
            ("shutoff?", "faq/water_shutoff_friday"),
            ("stocks", "out_of_scope"),
        ),
    )
    oos = quality.EvalSet(
        "own_oos", "oos", quality.OWN_OUT_OF_SCOPE, (("a", "out_of_scope"), ("b", "out_of_scope"))
    )
    crisis = quality.EvalSet(
        "blind_crisis",
        "crisis",
        quality.CRISIS,
        (
            ("hurt", "sensitive_immediate_danger"),
            ("stats", "out_of_scope"),
            ("sad", "sensitive_mental_health_crisis"),
        ),
    )
    canned = Canned(
        {
            "pay water": parse([("faq", 0.9)]),
            "shutoff?": parse([("faq", 0.9)]),  # the selector picked the FAQ, not the rumor
            "stocks": parse([("out_of_scope", 0.3), ("faq", 0.2)], final="nlu_fallback"),  # same as declining
            "a": parse([("faq", 0.9)], ("faq/dmv_license", 0.8)),  # a referral: declined
            "b": parse([("faq", 0.9)], ("faq/water_shutoff_friday", 0.8)),  # a verdict
            "hurt": parse([("greet", 0.5)], final="sensitive_abuse_help"),  # the 911 reply all the same
            "stats": parse([("greet", 0.5)], final="sensitive_mental_health_crisis"),  # a false lifeline
            "sad": parse([("greet", 0.9)]),  # missed
        }
    )
    parsed = quality.parse_sets(canned, [answers, oos, crisis], KINDS)
    found = {key: (m.hits, m.n) for key, m in quality.all_measures(parsed).items()}
    assert found == {
        "intent_f1/blind": (3, 3),
        "exact_answer/blind": (1, 2),
        "paraphrase/blind": (1, 2),
        "false_lifeline/blind": (0, 2),
        "declined/blind": (1, 1),
        "answered/own_oos": (1, 2),
        "verdicts/own_oos": (1, 2),
        "lifelines/own_oos": (0, 2),
        "declined/own_oos": (1, 2),
        "recall/blind_crisis": (1, 2),
        "false_alarm/blind_crisis": (1, 1),
    }
    assert quality.misses(parsed) == [
        ("blind", "shutoff?", "faq/water_shutoff_friday", "faq/water_bill", "wrong answer"),
        ("own_oos", "b", "out_of_scope", "faq/water_shutoff_friday", "answered out of scope (verdict)"),
        ("blind_crisis", "stats", "out_of_scope", "sensitive_mental_health_crisis", "false lifeline"),
        ("blind_crisis", "sad", "sensitive_mental_health_crisis", "greet", "missed lifeline"),
    ]


def measure(key: str, value: float, n: int = 1000) -> quality.Measure:
    return quality.Measure(key, "a set", round(value * n), n, value)


def test_the_margin_rule_of_the_floors() -> None:
    # a point below, rounded down to the hundredth; never stricter than the target
    assert quality.floor_by_rule(measure("intent_f1/blind", 0.962)) == 0.95
    assert quality.floor_by_rule(measure("intent_f1/blind", 0.99)) == 0.95
    assert quality.floor_by_rule(measure("intent_f1/validation", 0.99)) == 0.98  # no target
    assert quality.floor_by_rule(measure("declined/own_oos", 0.812, 282)) == 0.80
    # a set smaller than 100 messages: one message is the margin
    assert quality.floor_by_rule(measure("recall/blind_crisis", 86 / 88, 88)) == 0.96
    # ceilings: a point above, rounded up; a target looser than that is the ceiling
    assert quality.floor_by_rule(measure("answered/oos_test", 0.146)) == 0.16
    assert quality.floor_by_rule(measure("answered/oos_test", 0.004)) == 0.03
    # no margin: verdicts out of scope, and the sets the trigger patterns were written from
    assert quality.floor_by_rule(measure("verdicts/oos_test", 0.0)) == 0.0
    assert quality.floor_by_rule(measure("verdicts/oos_test", 0.014)) == 0.014
    assert quality.floor_by_rule(measure("recall/sensitive_tuning", 1.0, 120)) == 1.0


def test_the_simulated_gates_follow_the_pipeline() -> None:
    gates = quality.Gates(fallback=0.4, ambiguity=0.05, retrieval=0.2, domain=20.0, claim=0.6)
    near = {"score": 10.0, "out_of_domain": False}
    assert quality.gated(parse([("faq", 0.9), ("greet", 0.05)], gate=near), gates) == "faq/water_bill"
    assert quality.gated(parse([("faq", 0.3), ("greet", 0.1)]), gates) == "nlu_fallback"  # low
    assert quality.gated(parse([("faq", 0.5), ("ask_alerts", 0.48)]), gates) == "nlu_fallback"  # too close
    assert (
        quality.gated(parse([("faq", 0.9)], ("faq/water_bill", 0.1)), gates) == "nlu_fallback"
    )  # which answer
    far = {"score": 25.0, "out_of_domain": True}
    assert (
        quality.gated(parse([("ask_alerts", 0.9)], final="out_of_scope", gate=far), gates) == "out_of_scope"
    )
    assert quality.gated(parse([("greet", 0.9)], gate=far), gates) == "greet"  # not a gated intent
    # lifelines are left alone; a lifeline the classifier picked but the guard held back is a decline
    assert (
        quality.gated(parse([("greet", 0.2)], final="sensitive_abuse_help"), gates) == "sensitive_abuse_help"
    )
    assert (
        quality.gated(parse([("sensitive_abuse_help", 0.8)], final="out_of_scope"), gates) == "out_of_scope"
    )
    # a rumor's verdict only near its claim, else its related FAQ
    rumor = parse([("faq", 0.9)], ("faq/water_shutoff_friday", 0.9), gate={**near, "claim_similarity": 0.5})
    assert quality.gated(rumor, gates, RELATED) == "faq/water_bill"
    assert quality.gated(rumor, quality.Gates(claim=0.4), RELATED) == "faq/water_shutoff_friday"


def spanish(pick: float, runner_up: float) -> dict[str, Any]:
    """A Spanish parse whose answer selector picks water_bill at `pick`, a second answer at `runner_up`."""
    found = parse([("faq", 0.9)], ("faq/water_bill", pick))
    found["response_selector"]["default"]["ranking"] = [
        {"intent_response_key": "faq/water_bill", "confidence": pick},
        {"intent_response_key": "faq/water_leak", "confidence": runner_up},
    ]
    return {**found, "language": "es"}


def test_a_spanish_pick_under_its_threshold_is_answered_when_it_clearly_leads() -> None:
    gates = quality.Gates(
        retrieval=0.2, retrieval_by_language={"es": 0.3}, lead_by_language={"es": {"ratio": 2, "floor": 0.15}}
    )
    assert quality.gated(spanish(0.35, 0.3), gates) == "faq/water_bill"  # above its threshold
    assert quality.gated(spanish(0.2, 0.09), gates) == "faq/water_bill"  # more than twice the next
    assert quality.gated(spanish(0.2, 0.12), gates) == "nlu_fallback"  # not clear enough
    assert quality.gated(spanish(0.12, 0.01), gates) == "nlu_fallback"  # under the floor
    english = {**spanish(0.19, 0.01), "language": "en"}
    assert quality.gated(english, gates) == "nlu_fallback"  # no lead rule in English


def test_the_retrieval_gate_component_applies_the_same_rule() -> None:
    from rasa.shared.nlu.training_data.message import Message

    from bot.nlp.retrieval_gate import RetrievalGate

    config = {**RetrievalGate.get_default_config(), "threshold": 0.2, "language_thresholds": {"es": 0.3}}
    gate = RetrievalGate({**config, "language_leads": {"es": {"ratio": 2, "floor": 0.15}}})
    messages = [Message(data=spanish(0.2, 0.09)), Message(data=spanish(0.2, 0.12))]
    gate.process(messages)
    assert [m.get("intent")["name"] for m in messages] == ["faq", "nlu_fallback"]


def test_the_thresholds_are_read_from_the_config(tmp_path: Path) -> None:
    config = tmp_path / "config.yml"
    config.write_text(
        "pipeline:\n- name: FallbackClassifier\n  threshold: 0.4\n  ambiguity_threshold: 0.05\n"
        "- name: bot.nlp.retrieval_gate.RetrievalGate\n  threshold: 0.2\n"
        "- name: bot.nlp.domain_gate.DomainGate\n  threshold: 21.5\n  gated_intents: [faq]\n"
    )
    assert quality.Gates.from_config(config) == quality.Gates(0.4, 0.05, 0.2, 21.5, None, ("faq",))
    assert quality.config_thresholds(config)["DomainGate"] == {"threshold": 21.5}
    assert quality.Gates.from_config(quality.CONFIG).fallback > 0  # the project's own config reads


def test_the_domain_gate_report_is_read_under_its_own_name() -> None:
    assert quality.DOMAIN_GATE == selection.DOMAIN_GATE == domain_gate.OUTPUT


@pytest.fixture(scope="module")
def parser(model_path: Path) -> Any:
    loaded = Parser(str(model_path))
    yield loaded
    loaded.close()


def test_a_batch_parses_like_one_message_at_a_time(parser: Parser) -> None:
    sets = quality.project_sets(keys=["validation", "sensitive_blind"])
    texts = [text for s in sets for text, _ in s.examples][::7]
    batched = parser.parse(texts)
    single = [parser.loop.run_until_complete(parser.agent.parse_message(text)) for text in texts]
    assert [quality.answer(p) for p in batched] == [quality.answer(p) for p in single]
    for one, other in zip(batched, single, strict=True):
        assert one["intent"]["confidence"] == pytest.approx(other["intent"]["confidence"], abs=1e-5)
        assert quality.selector_pick(one) == quality.selector_pick(other)
