"""The two statistics the results page rests on: Wilson intervals and the two-proportion z-test.

Pure functions on counts, with no dependency beyond ``math``, so they are checked against
published values (tests/bot/experiments/test_stats.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

Z95 = 1.959963984540054  # the standard normal's 97.5th percentile: a two-sided 95% interval
ALPHA = 0.05


def wilson(successes: int, trials: int, z: float = Z95) -> tuple[float, float] | None:
    """The Wilson score interval for ``successes`` of ``trials`` (None without trials).

    Unlike the normal approximation it stays inside [0, 1] and is honest for small samples and
    rates near 0 or 1, which is where early test results sit.
    """
    if trials <= 0:
        return None
    if not 0 <= successes <= trials:
        raise ValueError(f"successes must be within 0..{trials}, not {successes}")
    p = successes / trials
    z2 = z * z
    denominator = 1 + z2 / trials
    centre = (p + z2 / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class ZTest:
    """The pooled two-proportion z-test of rate a against rate b (two-sided)."""

    difference: float  # rate a - rate b
    z: float
    p_value: float

    @property
    def significant(self) -> bool:
        return self.p_value < ALPHA


def two_proportion_z(successes_a: int, trials_a: int, successes_b: int, trials_b: int) -> ZTest | None:
    """Whether two rates differ more than chance would make them (None when either has no trials).

    With no spread at all (both 0% or both 100%) there is no evidence of a difference: z 0, p 1.
    """
    if trials_a <= 0 or trials_b <= 0:
        return None
    rate_a, rate_b = successes_a / trials_a, successes_b / trials_b
    pooled = (successes_a + successes_b) / (trials_a + trials_b)
    spread = math.sqrt(pooled * (1 - pooled) * (1 / trials_a + 1 / trials_b))
    if spread == 0:
        return ZTest(rate_a - rate_b, 0.0, 1.0)
    z = (rate_a - rate_b) / spread
    return ZTest(rate_a - rate_b, z, math.erfc(abs(z) / math.sqrt(2)))
