"""Rasa's own evaluations on the trained model: test stories and held-out NLU."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.nlp.evaluate import Parser, evaluate, read_examples

ROOT = Path(__file__).resolve().parent.parent
NLU_TESTS = ROOT / "tests" / "nlu"
RASA = Path(sys.executable).parent / "rasa"
LIFELINE = {
    "sensitive_mental_health_crisis": "988",
    "sensitive_homelessness_help": "outreach",
    "sensitive_abuse_help": "911",
    "sensitive_immediate_danger": "911",
}


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


@pytest.fixture(scope="module")
def parser(model_path):
    loaded = Parser(str(model_path))
    yield loaded
    loaded.close()


# The target: the suite fails below intent F1 0.95. The model measures 0.952 (answer
# weighted F1 0.946; docs/measurements.md) and training is seeded, so a fresh clone reproduces it.
INTENT_F1_FLOOR = 0.95
ANSWER_F1_FLOOR = 0.92


def test_held_out_intent_f1_and_faq_answers(parser):
    """Intent F1 as `rasa test nlu` reports it, and the FAQ answer itself.

    Both count a correct guess the gates turned into a clarification as a miss; an
    out-of-scope message that falls back counts as declined (bot.nlp.evaluate.EQUIVALENT).
    """
    report = evaluate(parser, read_examples(sorted(NLU_TESTS.glob("holdout_*.yml"))))
    print(
        f"held-out: {report.total} examples; intent F1 {report.intent_f1:.3f}; "
        f"full intent incl. which FAQ: accuracy {report.accuracy:.3f}, weighted F1 {report.f1_weighted:.3f}"
    )
    assert report.intent_f1 >= INTENT_F1_FLOOR, report.errors
    assert report.f1_weighted >= ANSWER_F1_FLOOR, report.errors


def test_crisis_messages_get_their_lifeline_through_the_whole_pipeline(parser):
    """Recall on paraphrases never trained on: the keyword net plus the classifier.

    The paraphrase and tuning sets were used to write the trigger patterns, so they
    must be caught in full; sensitive_blind.yml was written without seeing the
    patterns or the training data, and is the honest measure (docs/measurements.md).
    """
    floors = {"sensitive_paraphrases.yml": 0.98, "sensitive_tuning.yml": 0.98, "sensitive_blind.yml": 0.94}
    for name, floor in floors.items():
        rows = evaluate(parser, read_examples([NLU_TESTS / name])).rows
        crisis = [(t, w, g) for t, w, g in rows if w in LIFELINE]
        missed = [(t, w, g) for t, w, g in crisis if LIFELINE.get(g) != LIFELINE[w]]
        alarms = [(t, w, g) for t, w, g in rows if w not in LIFELINE and g in LIFELINE]
        recall = 1 - len(missed) / len(crisis)
        ordinary = len(rows) - len(crisis)
        print(f"{name}: lifeline recall {recall:.3f} of {len(crisis)}, false alarms {len(alarms)}/{ordinary}")
        assert recall >= floor, missed
