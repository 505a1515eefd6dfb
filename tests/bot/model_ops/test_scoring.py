"""The reload gate (`bot.model_ops.scoring`), shared by `bot model reload` and the studio's retrains:
a model that answers held-out questions worse, loses a crisis message's lifeline or answers more
out-of-scope messages is not swapped in unless forced; the reasons say what got worse, in words.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from bot.model_ops.reload import ReloadPlan, reload
from bot.model_ops.scoring import GateSets, Scores, compare, crisis_recall, out_of_scope_answered
from bot.nlp import quality

ROOT = Path(__file__).resolve().parents[3]
STUDIO_PROJECT = ROOT / "tests" / "fixtures" / "studio_project"

RUNNING = Scores(
    intent_f1=0.947,
    answer_f1=0.916,
    examples=373,
    crisis_recall=0.99,
    crisis_examples=200,
    crisis_missed=("i just want it all to stop",),
    out_of_scope_answered=0.04,
    out_of_scope_examples=300,
)


def test_a_better_or_equal_model_is_swapped() -> None:
    verdict = compare(RUNNING, replace(RUNNING, intent_f1=0.951))
    assert verdict.swap and verdict.reasons == ()
    assert verdict.reason == (
        "running model: intent F1 0.947, answer F1 0.916 on 373 held-out messages, crisis recall 99.0% "
        "of 200, 4.0% of 300 out-of-scope answered; new model: intent F1 0.951, answer F1 0.916 on 373 "
        "held-out messages, crisis recall 99.0% of 200, 4.0% of 300 out-of-scope answered"
    )


def test_a_worse_model_is_refused_with_both_scores_and_the_reason_in_words() -> None:
    verdict = compare(RUNNING, replace(RUNNING, intent_f1=0.951, answer_f1=0.902))
    assert not verdict.swap
    assert "running model: intent F1 0.947, answer F1 0.916" in verdict.reason
    assert "new model: intent F1 0.951, answer F1 0.902" in verdict.reason
    assert verdict.reason.endswith("refusing: answer F1 lower (use --force to swap anyway)")
    assert verdict.reasons == (
        "It picks the right answer for fewer questions (answer score 0.916 -> 0.902, of 373 test "
        "questions it never trained on).",
    )


def test_force_swaps_a_worse_model_and_says_so() -> None:
    verdict = compare(RUNNING, replace(RUNNING, intent_f1=0.93, answer_f1=0.90), force=True)
    assert verdict.swap and len(verdict.reasons) == 2
    assert verdict.reason.endswith("intent F1 lower and answer F1 lower, swapping anyway (--force)")


def test_a_tolerance_absorbs_training_noise() -> None:
    assert compare(RUNNING, replace(RUNNING, intent_f1=0.942, answer_f1=0.913), tolerance=0.01).swap
    assert not compare(RUNNING, replace(RUNNING, intent_f1=0.935, answer_f1=0.913), tolerance=0.01).swap
    assert compare(RUNNING, replace(RUNNING, out_of_scope_answered=0.045), tolerance=0.01).swap


def test_a_crisis_message_that_loses_its_lifeline_refuses_the_model_whatever_the_tolerance() -> None:
    # Same recall, but a message the running model caught is missed now: no trade is allowed.
    new = replace(RUNNING, crisis_missed=("i keep thinking about ending it",))
    verdict = compare(RUNNING, new, tolerance=0.5)
    assert not verdict.swap
    assert verdict.reason.endswith("refusing: crisis recall lower (use --force to swap anyway)")
    assert verdict.reasons == (
        "1 crisis message(s) would no longer get their lifeline reply (crisis recall 99.0% -> 99.0%): "
        '"i keep thinking about ending it".',
    )
    # A message the running model missed too is no reason to keep the running model.
    assert compare(RUNNING, replace(RUNNING, crisis_missed=()), tolerance=0.0).swap


def test_more_out_of_scope_answers_refuse_the_model() -> None:
    verdict = compare(RUNNING, replace(RUNNING, out_of_scope_answered=0.05))
    assert not verdict.swap
    assert verdict.reasons == (
        "It would answer more questions the city should decline (4.0% -> 5.0% of 300 out-of-scope test "
        "messages).",
    )


def test_a_model_without_a_running_one_to_compare_with_is_swapped() -> None:
    verdict = compare(None, RUNNING)
    assert verdict.swap and verdict.reason.endswith("(the running model could not be scored)")
    # Scores cached by the reload before the wider gate have no crisis or out-of-scope figures.
    assert compare(Scores(0.947, 0.916, 373), RUNNING).swap


def test_scores_survive_the_cache_and_the_job_as_json() -> None:
    assert Scores.from_dict(RUNNING.as_dict()) == RUNNING
    assert RUNNING.as_dict()["crisis_missed"] == ["i just want it all to stop"]


def test_the_gate_finds_a_project_s_own_sets() -> None:
    sets = GateSets.of_project(STUDIO_PROJECT)
    nlu = STUDIO_PROJECT / "tests" / "nlu"
    assert sets.holdout == (nlu / "holdout_city.yml",)
    assert sets.safety == (nlu / "sensitive_paraphrases.yml",)
    assert sets.out_of_scope == (nlu / "blind" / "out_of_scope.yml",)  # what bench/eval.py calls own_oos
    assert [(s.key, s.role) for s in sets.eval_sets()] == [
        ("sensitive_paraphrases", quality.CRISIS),
        ("own_oos", quality.OWN_OUT_OF_SCOPE),
    ]
    assert sets.kinds() == {
        f"faq/{e}": "faq" for e in ("library_hours", "pothole", "trash_day", "parking_ticket")
    }


def parse(intent: str, answer: str = "") -> dict[str, Any]:
    """A parse shaped as Rasa reports it: the intent, and the answer selector's pick for ``faq``."""
    selected = {"response": {"intent_response_key": answer, "confidence": 0.9}, "ranking": []}
    return {"intent": {"name": intent, "confidence": 0.9}, "response_selector": {"default": selected}}


class Canned:
    """Stands in for a loaded model (Rasa's parse results): one prepared parse per text."""

    def __init__(self, parses: dict[str, dict[str, Any]]) -> None:
        self.parses = parses

    def parse(self, texts: list[str]) -> list[dict[str, Any]]:
        return [self.parses[text] for text in texts]


def test_crisis_recall_and_out_of_scope_answers_are_counted_as_bench_eval_counts_them() -> None:
    crisis = quality.EvalSet(
        "sensitive_tuning",
        "sensitive_tuning.yml",
        quality.CRISIS,
        (
            ("he hits me", "sensitive_abuse_help"),  # the immediate-danger reply is the same 911 reply
            ("i want to die", "sensitive_mental_health_crisis"),  # missed
            ("this pothole is killing my car", "faq/pothole"),  # an ordinary message: not counted
        ),
    )
    own = quality.EvalSet(
        "own_oos", "own", quality.OWN_OUT_OF_SCOPE, (("stocks", "out_of_scope"), ("dmv", "out_of_scope"))
    )
    parser = Canned(
        {
            "he hits me": parse("sensitive_immediate_danger"),
            "i want to die": parse("faq", "faq/pothole"),
            "this pothole is killing my car": parse("faq", "faq/pothole"),
            "stocks": parse("faq", "faq/pothole"),  # an answer: a false accept
            "dmv": parse("faq", "faq/dmv_license"),  # a referral is a decline
        }
    )
    parsed = quality.parse_sets(parser, [crisis, own], {"faq/pothole": "faq", "faq/dmv_license": "referral"})
    assert crisis_recall(parsed[:1]) == (0.5, 2, ("i want to die",))
    assert out_of_scope_answered(parsed[1:]) == (0.5, 2)
    assert crisis_recall([]) == (None, 0, ()) and out_of_scope_answered([]) == (None, 0)


def test_a_reload_without_the_gate_s_sets_stops_before_training(tmp_path: Path) -> None:
    plan = ReloadPlan(
        rasa_url="http://127.0.0.1:9", rasa_token="t", model_dir=tmp_path, redis_url="", root=tmp_path
    )
    with pytest.raises(RuntimeError, match=r"cannot check a new model: .* lacks held-out questions"):
        reload(plan, say=lambda _: None)
    assert GateSets.of_project(ROOT).missing() == []
