"""The refuse/force rule: a model that scores lower on held-out NLU is not swapped in unless forced."""

from __future__ import annotations

from bot.model_ops.scoring import Scores, compare

RUNNING = Scores(intent_f1=0.947, answer_f1=0.916, examples=373)


def test_a_better_or_equal_model_is_swapped() -> None:
    verdict = compare(RUNNING, Scores(0.951, 0.916, 373))
    assert verdict.swap
    assert verdict.reason == (
        "running model: intent F1 0.947, answer F1 0.916 on 373 held-out messages; "
        "new model: intent F1 0.951, answer F1 0.916 on 373 held-out messages"
    )


def test_a_worse_model_is_refused_with_both_scores() -> None:
    verdict = compare(RUNNING, Scores(0.951, 0.902, 373))
    assert not verdict.swap
    assert "running model: intent F1 0.947, answer F1 0.916" in verdict.reason
    assert "new model: intent F1 0.951, answer F1 0.902" in verdict.reason
    assert verdict.reason.endswith("refusing: answer F1 lower (use --force to swap anyway)")


def test_force_swaps_a_worse_model_and_says_so() -> None:
    verdict = compare(RUNNING, Scores(0.93, 0.90, 373), force=True)
    assert verdict.swap
    assert verdict.reason.endswith("intent F1 and answer F1 lower, swapping anyway (--force)")


def test_a_tolerance_absorbs_training_noise() -> None:
    assert compare(RUNNING, Scores(0.942, 0.913, 373), tolerance=0.01).swap
    assert not compare(RUNNING, Scores(0.935, 0.913, 373), tolerance=0.01).swap
