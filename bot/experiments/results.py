"""One message test's results: each variant's outcome rates with intervals, and which differences count.

Built from the analytics' counts (`bot.analytics.summary.variant_outcomes`) and the entry's variants
in the content; pure, so the page, the JSON and the CSV show the same numbers.

Denominators: "helpful" and "not helpful" are shares of the answers that were rated (a citizen may
ignore the buttons); "asked again", "handed off" and "clicked" are shares of the answers shown
(exposures). Each outcome compares every variant with the best one on that outcome (with two
variants, the one difference); the leader, whose wording Promote proposes, is the best on helpful.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.experiments.stats import two_proportion_z, wilson

RATED = "rated"
SHOWN = "exposures"


@dataclass(frozen=True)
class Outcome:
    name: str
    denominator: str  # RATED or SHOWN
    higher_is_better: bool


OUTCOMES = (
    Outcome("helpful", RATED, True),
    Outcome("not_helpful", RATED, False),
    Outcome("asked_again", SHOWN, False),
    Outcome("handed_off", SHOWN, False),
    Outcome("clicked", SHOWN, True),
)


@dataclass(frozen=True)
class Rate:
    count: int
    of: int
    rate: float | None
    low: float | None
    high: float | None

    def as_dict(self) -> dict[str, Any]:
        return {"count": self.count, "of": self.of, "rate": self.rate, "low": self.low, "high": self.high}


def rate_of(count: int, of: int) -> Rate:
    count = max(0, min(count, of))  # counts of one test never exceed its exposures; never trust it blindly
    interval = wilson(count, of)
    if interval is None:
        return Rate(count, of, None, None, None)
    return Rate(count, of, count / of, interval[0], interval[1])


@dataclass(frozen=True)
class VariantResult:
    id: str
    weight: int  # 0 when the variant is no longer in the content
    answer: str
    exposures: int
    rated: int
    rates: dict[str, Rate]

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "weight": self.weight,
            "answer": self.answer,
            "exposures": self.exposures,
            "rated": self.rated,
            "outcomes": {name: rate.as_dict() for name, rate in self.rates.items()},
        }


@dataclass(frozen=True)
class Comparison:
    outcome: str
    best: str
    variant: str
    difference: float  # variant's rate - best's rate
    p_value: float
    significant: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome,
            "best": self.best,
            "variant": self.variant,
            "difference": self.difference,
            "p_value": self.p_value,
            "significant": self.significant,
        }


@dataclass(frozen=True)
class ExperimentResult:
    entry: str
    title: str
    running: bool
    min_exposures: int
    variants: tuple[VariantResult, ...]
    comparisons: tuple[Comparison, ...]
    leader: str

    @property
    def exposures(self) -> int:
        return sum(v.exposures for v in self.variants)

    @property
    def too_few(self) -> list[str]:
        """Variants still under the minimum number of exposures: too few to decide."""
        return [v.id for v in self.variants if v.exposures < self.min_exposures]

    @property
    def decided(self) -> bool:
        """Enough exposures everywhere and the leader's helpful rate beats every other significantly."""
        helpful = [c for c in self.comparisons if c.outcome == "helpful"]
        return not self.too_few and bool(helpful) and all(c.significant for c in helpful)

    def summary(self) -> dict[str, Any]:
        return {
            "entry": self.entry,
            "title": self.title,
            "status": "running" if self.running else "ended",
            "exposures": self.exposures,
            "variants": [v.id for v in self.variants],
            "leader": self.leader,
            "enough_data": not self.too_few,
            "decided": self.decided,
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.summary(),
            "min_exposures": self.min_exposures,
            "too_few": self.too_few,
            "denominators": {o.name: o.denominator for o in OUTCOMES},
            "variant_results": [v.as_dict() for v in self.variants],
            "comparisons": [c.as_dict() for c in self.comparisons],
        }


@dataclass(frozen=True)
class Arm:
    """A variant as the content has it now (id, weight, answer)."""

    id: str
    weight: int
    answer: str


def variant_result(arm: Arm, counts: Mapping[str, int]) -> VariantResult:
    exposures = int(counts.get("exposures", 0))
    rated = int(counts.get("helpful", 0)) + int(counts.get("not_helpful", 0))
    totals = {RATED: rated, SHOWN: exposures}
    rates = {o.name: rate_of(int(counts.get(o.name, 0)), totals[o.denominator]) for o in OUTCOMES}
    return VariantResult(arm.id, arm.weight, arm.answer, exposures, rated, rates)


def _best(variants: Sequence[VariantResult], outcome: Outcome) -> VariantResult | None:
    measured = [v for v in variants if v.rates[outcome.name].rate is not None]
    if not measured:
        return None
    sign = 1 if outcome.higher_is_better else -1
    # Ties go to the variant listed first (the content's order).
    return max(measured, key=lambda v: (sign * (v.rates[outcome.name].rate or 0.0), -variants.index(v)))


def comparisons(variants: Sequence[VariantResult]) -> list[Comparison]:
    found = []
    for outcome in OUTCOMES:
        best = _best(variants, outcome)
        if best is None:
            continue
        top = best.rates[outcome.name]
        for variant in variants:
            mine = variant.rates[outcome.name]
            test = two_proportion_z(mine.count, mine.of, top.count, top.of) if variant is not best else None
            if test is not None:
                found.append(
                    Comparison(
                        outcome.name, best.id, variant.id, test.difference, test.p_value, test.significant
                    )
                )
    return found


def experiment_result(
    entry: str,
    title: str,
    arms: Sequence[Arm],
    outcomes: Mapping[str, Mapping[str, int]],
    min_exposures: int,
    running: bool,
) -> ExperimentResult:
    """The results of ``entry``'s test: ``arms`` from the content (empty once ended), ``outcomes``
    from the analytics; a variant with data but no longer in the content is still shown."""
    known = {arm.id for arm in arms}
    every = [*arms, *(Arm(v, 0, "") for v in sorted(outcomes) if v not in known)]
    variants = tuple(variant_result(arm, outcomes.get(arm.id, {})) for arm in every)
    helpful = next(o for o in OUTCOMES if o.name == "helpful")
    leader = _best(variants, helpful) or (variants[0] if variants else None)
    return ExperimentResult(
        entry=entry,
        title=title,
        running=running,
        min_exposures=min_exposures,
        variants=variants,
        comparisons=tuple(comparisons(variants)),
        leader=leader.id if leader else "",
    )


CSV_COLUMNS = (
    "entry",
    "status",
    "variant",
    "weight",
    "exposures",
    "outcome",
    "count",
    "of",
    "denominator",
    "rate",
    "low_95",
    "high_95",
    "best",
    "difference_vs_best",
    "p_value",
    "significant",
)


def csv_rows(result: ExperimentResult) -> list[list[str]]:
    """One row per variant and outcome (numbers as plain decimals, empty where not measured)."""

    def number(value: float | None) -> str:
        return "" if value is None else f"{value:.4f}"

    denominators = {o.name: o.denominator for o in OUTCOMES}
    by_pair = {(c.outcome, c.variant): c for c in result.comparisons}
    best = {c.outcome: c.best for c in result.comparisons}
    status = "running" if result.running else "ended"
    rows = []
    for variant in result.variants:
        for name, rate in variant.rates.items():
            compared = by_pair.get((name, variant.id))
            rows.append(
                [
                    result.entry,
                    status,
                    variant.id,
                    str(variant.weight),
                    str(variant.exposures),
                    name,
                    str(rate.count),
                    str(rate.of),
                    denominators[name],
                    number(rate.rate),
                    number(rate.low),
                    number(rate.high),
                    best.get(name, ""),
                    number(compared.difference) if compared else "",
                    number(compared.p_value) if compared else "",
                    ("yes" if compared.significant else "no") if compared else "",
                ]
            )
    return rows
