"""Wilson intervals and the two-proportion z-test against published values, and the results built on
them: denominators, the best variant per outcome, "too few to decide"."""

from __future__ import annotations

import pytest

from bot.experiments.results import Arm, csv_rows, experiment_result
from bot.experiments.stats import two_proportion_z, wilson


# Newcombe (1998), "Two-sided confidence intervals for the single proportion", Statistics in
# Medicine 17:857-872, Table I, method 3 (Wilson score without continuity correction).
@pytest.mark.parametrize(
    ("successes", "trials", "low", "high"),
    [(81, 263, 0.2553, 0.3662), (15, 148, 0.0624, 0.1605), (0, 20, 0.0, 0.1611), (1, 29, 0.0061, 0.1718)],
)
def test_wilson_matches_newcombes_table(successes: int, trials: int, low: float, high: float) -> None:
    interval = wilson(successes, trials)
    assert interval is not None
    assert interval == pytest.approx((low, high), abs=5e-5)


def test_wilson_without_trials_says_nothing_and_stays_in_bounds() -> None:
    assert wilson(0, 0) is None
    assert wilson(20, 20) == pytest.approx((0.8389, 1.0), abs=5e-5)
    with pytest.raises(ValueError):
        wilson(3, 2)


def test_the_z_test_matches_the_pearson_chi_square_of_the_same_table() -> None:
    # 45/100 against 56/100: Pearson's chi-square (no continuity correction) is 2.4202, p 0.1198;
    # the pooled z-test's z is its square root with the sign of the difference.
    test = two_proportion_z(45, 100, 56, 100)
    assert test is not None
    assert test.z == pytest.approx(-1.5557, abs=5e-5)
    assert test.z**2 == pytest.approx(2.4202, abs=5e-4)
    assert test.p_value == pytest.approx(0.1198, abs=5e-5)
    assert not test.significant
    strong = two_proportion_z(300, 1000, 240, 1000)  # 30% vs 24%: pooled 27%, z 3.022, p 0.0025
    assert strong is not None and strong.significant
    assert strong.z == pytest.approx(3.0220, abs=5e-4)
    assert strong.p_value == pytest.approx(0.00251, abs=5e-5)


def test_no_spread_and_no_trials_are_no_evidence() -> None:
    same = two_proportion_z(0, 50, 0, 80)
    assert same is not None and (same.z, same.p_value, same.significant) == (0.0, 1.0, False)
    assert two_proportion_z(3, 10, 0, 0) is None


def counts(exposures: int, helpful: int, not_helpful: int, **rest: int) -> dict[str, int]:
    base = {"exposures": exposures, "helpful": helpful, "not_helpful": not_helpful}
    return {**base, "asked_again": 0, "handed_off": 0, "clicked": 0, **rest}


def test_rates_use_rated_answers_for_ratings_and_answers_shown_for_the_rest() -> None:
    arms = [Arm("a", 1, "A"), Arm("b", 1, "B")]
    result = experiment_result(
        "x",
        "X?",
        arms,
        {"a": counts(200, 60, 40, clicked=20), "b": counts(200, 90, 10, asked_again=30)},
        100,
        True,
    )
    a, b = result.variants
    assert (a.rates["helpful"].count, a.rates["helpful"].of, a.rates["helpful"].rate) == (60, 100, 0.6)
    assert (a.rates["clicked"].of, a.rates["clicked"].rate) == (200, 0.1)
    assert (b.rates["asked_again"].of, b.rates["asked_again"].rate) == (200, 0.15)
    assert result.leader == "b" and result.too_few == [] and result.decided
    helpful = next(c for c in result.comparisons if c.outcome == "helpful")
    assert (helpful.best, helpful.variant, round(helpful.difference, 2)) == ("b", "a", -0.3)
    asked = next(c for c in result.comparisons if c.outcome == "asked_again")
    assert asked.best == "a", "fewer repeat questions is better"
    rows = csv_rows(result)
    assert len(rows) == 10
    assert rows[0][:12] == [
        "x",
        "running",
        "a",
        "1",
        "200",
        "helpful",
        "60",
        "100",
        "rated",
        "0.6000",
        "0.5020",
        "0.6906",
    ]


def test_three_variants_are_each_compared_with_the_best_and_small_samples_decide_nothing() -> None:
    arms = [Arm("a", 1, "A"), Arm("b", 1, "B"), Arm("c", 2, "C")]
    result = experiment_result(
        "x", "X?", arms, {"a": counts(40, 10, 10), "b": counts(50, 30, 5), "c": counts(20, 5, 5)}, 100, True
    )
    helpful = [c for c in result.comparisons if c.outcome == "helpful"]
    assert [(c.best, c.variant) for c in helpful] == [("b", "a"), ("b", "c")]
    assert result.too_few == ["a", "b", "c"] and not result.decided
    ended = experiment_result("x", "X?", [], {"a": counts(5, 1, 0), "gone": counts(3, 0, 1)}, 100, False)
    assert [v.id for v in ended.variants] == ["a", "gone"] and ended.summary()["status"] == "ended"
