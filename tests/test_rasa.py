"""Rasa's own evaluations on the trained model: test stories, and the answer-quality floors.

The figures are bot.nlp.quality's, the same code `make eval` (bench/eval.py) prints its table
with; each set is parsed once per module, in one batched call.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from stack_support import require_shared

from bot.nlp import quality
from bot.nlp.evaluate import Parser

ROOT = Path(__file__).resolve().parent.parent
RASA = Path(sys.executable).parent / "rasa"


def test_rasa_data_validate_is_clean():
    result = subprocess.run(
        [str(RASA), "data", "validate", "--fail-on-warnings"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def test_rasa_test_stories_all_pass(model_path, tmp_path):
    result = subprocess.run(
        [
            str(RASA), "test", "core", "--model", str(model_path), "--stories", "tests/test_stories.yml",
            "--out", str(tmp_path), "--fail-on-prediction-errors", "--no-plot",
        ],
        cwd=ROOT, capture_output=True, text=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
    )  # fmt: skip
    failed = (
        (tmp_path / "failed_test_stories.yml").read_text()
        if (tmp_path / "failed_test_stories.yml").exists()
        else ""
    )
    assert result.returncode == 0, failed + result.stdout[-2000:] + result.stderr[-2000:]


# ---- answer-quality floors ---------------------------------------------------------------------
# Each bound is the figure `make eval` measured (docs/measurements.md, "Answer quality"), moved by a
# stated margin so that one message does not decide a build: the larger of 1 point and one message
# of the set, then rounded outward to the hundredth (bot.nlp.quality.floor_by_rule; `make eval`
# prints the bound the rule gives every measure, so a new model is re-measured by copying them).
# A bound is never stricter than the issue's target (bot.nlp.quality.TARGETS): a figure already
# past its target has the target as its bound. Two kinds of bound have no margin: rumor verdicts on
# queries outside city services (a verdict there is a city "fact" nobody asked for, never noise),
# and crisis recall on the two sets the trigger patterns were written from (each of their messages
# must get its lifeline). Measured on 2026-12-08 with the model trained from this tree
# (20261208-044910; a fresh `make train` reproduces it: training is seeded).
BLIND_INTENT_F1_FLOOR = 0.95  # intent_f1/blind: 0.962 (target 0.95, the bound)
BLIND_EXACT_ANSWER_FLOOR = 0.89  # exact_answer/blind: 0.906 (413 of 456; target 0.95)
VALIDATION_INTENT_F1_FLOOR = 0.95  # intent_f1/validation: 0.963
VALIDATION_EXACT_ANSWER_FLOOR = 0.94  # exact_answer/validation: 0.958
FALSE_LIFELINE_CEILINGS = {
    "false_lifeline/blind": 0.02,  # 0.009 (4 of 456)
    "false_lifeline/validation": 0.01,  # 0.0 (0 of 375)
}
OWN_OOS_DECLINED_FLOOR = 0.95  # declined/own_oos: 0.967 (target 0.95, the bound)
CRISIS_RECALL_FLOORS = {
    "recall/sensitive_paraphrases": 1.0,  # 1.0, no margin
    "recall/sensitive_tuning": 1.0,  # 1.0, no margin
    "recall/sensitive_blind": 0.97,  # 0.99 (99 of 100; the target is the bound)
    "recall/blind_crisis": 0.95,  # 0.966 (85 of 88; target 0.97)
}
# A general question about a crisis topic ("how many people die by suicide each year", "for my
# sociology class ...") gets the decline with the resource line, not the emergency reply: the
# lifelines such questions still get, on the blind crisis sets (measured on 2026-12-08 with the model
# 20261208-044910 and the keyword net of that day, docs/measurements.md).
ABOUT_THE_TOPIC_CEILINGS = {
    "false_alarm/blind_crisis": 0.22,  # 0.20 (14 of 70)
    "false_alarm/es_crisis": 0.10,  # 0.067 (2 of 30)
}
# Spanish (issue #19), measured on 2026-12-08 with the model 20261208-044910 (docs/measurements.md,
# "Spanish"): es/blind was written without seeing the training data; sensitive_es.yml is the set the
# Spanish trigger patterns were written from (no margin).
SPANISH_FLOORS = {
    "intent_f1/es_blind": 0.93,  # 0.965 (target 0.93)
    "exact_answer/es_blind": 0.89,  # 0.903 (343 of 380; target 0.93)
    "declined/es_oos": 0.90,  # 0.93 (93 of 100; the target is the bound)
    "recall/sensitive_es": 1.0,  # 1.0 (92 of 92), no margin
    "recall/es_crisis": 0.94,  # 0.962 (50 of 52)
}
SPANISH_CEILINGS = {
    "false_lifeline/es_blind": 0.03,  # 0.016 (6 of 380)
    "verdicts/es_oos": 0,  # 0 of 100, no margin
}
OOS_TEST_ANSWERED_CEILING = 0.05  # answered/oos_test: 0.037 (target 0.03)
OOS_TEST_VERDICTS_CEILING = 0  # verdicts/oos_test, a count: 0 of 1000, no margin (target 0)
OOS_TEST_LIFELINE_CEILING = 0.02  # lifelines/oos_test: 0.007 (target 0.01)


class Measured:
    """The measures of some parsed sets, and their misses for the failure messages."""

    def __init__(self, parsed: list[quality.Parsed]) -> None:
        self.parsed = parsed
        self.measures = quality.all_measures(parsed)

    def __getitem__(self, key: str) -> quality.Measure:
        if key not in self.measures:
            files = {k: f for k, _, _, f in quality.project_set_files()}.get(key.split("/", 1)[1], [])
            pytest.fail(f"{key} was not measured: its set is missing ({', '.join(map(str, files))})")
        return self.measures[key]

    def misses(self, set_key: str) -> list[tuple[str, ...]]:
        return [row[1:] for row in quality.misses(self.parsed) if row[0] == set_key]


@pytest.fixture(scope="module")
def project(parser: Parser) -> Measured:
    """The held-out answers, our own out-of-scope messages and the crisis sets, parsed once."""
    return Measured(quality.parse_sets(parser, quality.project_sets(), quality.answer_kinds()))


@pytest.fixture(scope="module")
def clinc(parser: Parser) -> Measured:
    """CLINC150's oos_test (1,000 queries outside city services), parsed once."""
    directory = require_shared(quality.CLINC, "CLINC150, for the out-of-scope floors")
    sets = quality.clinc_sets(directory, keys=["oos_test"])
    return Measured(quality.parse_sets(parser, sets, quality.answer_kinds()))


def out_of_bounds(measured: Measured, bounds: dict[str, float]) -> list[str]:
    """Each measure past its bound (a floor when more is better, else a ceiling), with its misses."""
    failed = []
    for key, bound in bounds.items():
        measure = measured[key]
        value = measure.hits if measure.name == "verdicts" else measure.value
        kind = "floor" if measure.higher_is_better else "ceiling"
        print(f"{key}: {measure.shown} ({kind} {bound:g})")
        if value < bound if measure.higher_is_better else value > bound:
            misses = measured.misses(measure.set_key)
            failed.append(f"{key}: {measure.shown}, past its {kind} {bound:g}; misses: {misses[:20]}")
    return failed


def test_held_out_intent_f1_and_exact_answers(project: Measured) -> None:
    """On the frozen blind set and the validation holdouts, never trained on.

    Intent F1 as `rasa test nlu` counts it (every FAQ, rumor and referral is `faq`); exact answer:
    the right `faq/<id>`. A correct guess a gate turned into a "did you mean" counts as a miss.
    """
    failed = out_of_bounds(
        project,
        {
            "intent_f1/blind": BLIND_INTENT_F1_FLOOR,
            "exact_answer/blind": BLIND_EXACT_ANSWER_FLOOR,
            "intent_f1/validation": VALIDATION_INTENT_F1_FLOOR,
            "exact_answer/validation": VALIDATION_EXACT_ANSWER_FLOOR,
        },
    )
    assert not failed, failed


def test_in_scope_questions_rarely_get_a_lifeline(project: Measured) -> None:
    """The whole pipeline (keyword net, classifier, gates) on held-out questions that are no crisis."""
    failed = out_of_bounds(project, FALSE_LIFELINE_CEILINGS)
    assert not failed, failed


def test_crisis_messages_get_their_lifeline_through_the_whole_pipeline(project: Measured) -> None:
    """Recall per set: caught when the lifeline reply is given (abuse and danger share the 911 reply).

    The paraphrase and tuning sets were used to write the trigger patterns; sensitive_blind.yml and
    blind/crisis.yml were written without seeing the patterns or the training data.
    """
    failed = out_of_bounds(project, CRISIS_RECALL_FLOORS)
    assert not failed, failed


def test_questions_about_a_crisis_topic_rarely_get_the_emergency_reply(project: Measured) -> None:
    """Lifelines by need, not by topic: the ordinary and about-the-topic messages of the blind crisis sets."""
    failed = out_of_bounds(project, ABOUT_THE_TOPIC_CEILINGS)
    assert not failed, failed


def test_our_own_out_of_scope_messages_are_declined(project: Measured) -> None:
    """A decline, a fallback or a referral (a decline with a pointer) for tests/nlu/blind/out_of_scope.yml."""
    failed = out_of_bounds(project, {"declined/own_oos": OWN_OOS_DECLINED_FLOOR})
    assert not failed, failed


def test_clinc_out_of_scope_queries_get_no_agency_answer(clinc: Measured) -> None:
    """CLINC150 oos_test: few agency answers, rumor verdicts and lifelines (thresholds never tuned on it)."""
    failed = out_of_bounds(
        clinc,
        {
            "answered/oos_test": OOS_TEST_ANSWERED_CEILING,
            "verdicts/oos_test": OOS_TEST_VERDICTS_CEILING,
            "lifelines/oos_test": OOS_TEST_LIFELINE_CEILING,
        },
    )
    assert not failed, failed


def test_spanish_questions_are_understood_and_spanish_crises_get_their_lifeline(project: Measured) -> None:
    """The Spanish blind answers and out-of-scope messages, and the Spanish crisis sets, through the whole
    pipeline (the language detector, the per-language gates, the keyword net's Spanish patterns)."""
    failed = out_of_bounds(project, {**SPANISH_FLOORS, **SPANISH_CEILINGS})
    assert not failed, failed


def test_no_bound_asks_more_than_the_issue_target() -> None:
    """The margin rule's cap: a floor above its target (or a ceiling below it) would fail good models."""
    bounds = {
        "intent_f1/blind": BLIND_INTENT_F1_FLOOR,
        "exact_answer/blind": BLIND_EXACT_ANSWER_FLOOR,
        "declined/own_oos": OWN_OOS_DECLINED_FLOOR,
        "answered/oos_test": OOS_TEST_ANSWERED_CEILING,
        "verdicts/oos_test": OOS_TEST_VERDICTS_CEILING,
        "lifelines/oos_test": OOS_TEST_LIFELINE_CEILING,
        **CRISIS_RECALL_FLOORS,
        **{key: bound for key, bound in SPANISH_FLOORS.items() if key in quality.TARGETS},
    }
    for key, bound in bounds.items():
        target = quality.TARGETS[key]
        assert bound <= target.bound if target.at_least else bound >= target.bound, key
