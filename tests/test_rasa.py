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


def test_held_out_intent_f1_is_at_least_095(parser):
    report = evaluate(parser, read_examples(sorted(NLU_TESTS.glob("holdout_*.yml"))))
    print(
        f"held-out: {report.total} examples, accuracy {report.accuracy:.3f}, "
        f"weighted F1 {report.f1_weighted:.3f}, macro F1 {report.f1_macro:.3f}"
    )
    assert report.f1_weighted >= 0.95, report.errors


def test_crisis_messages_get_their_lifeline_through_the_whole_pipeline(parser):
    """Paraphrases never trained on (sensitive_blind.yml was written blind): keyword net + classifier."""
    for name in ("sensitive_paraphrases.yml", "sensitive_tuning.yml", "sensitive_blind.yml"):
        rows = evaluate(parser, read_examples([NLU_TESTS / name])).rows
        crisis = [(t, w, g) for t, w, g in rows if w in LIFELINE]
        missed = [(t, w, g) for t, w, g in crisis if LIFELINE.get(g) != LIFELINE[w]]
        alarms = [(t, w, g) for t, w, g in rows if w not in LIFELINE and g in LIFELINE]
        recall = 1 - len(missed) / len(crisis)
        print(f"{name}: lifeline recall {recall:.3f} ({len(crisis)}), false alarms {len(alarms)}")
        assert recall >= 0.95, missed
