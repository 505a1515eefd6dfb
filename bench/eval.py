"""`make eval`: the answer quality of the trained model, in one table (docs/measurements.md).

Held-out answers (the frozen blind set tests/nlu/blind/ and the validation holdouts
tests/nlu/holdout_*.yml), our own out-of-scope messages, the crisis sets, and CLINC150's
out-of-scope and other-domain queries (read from ../shared/datasets, never copied). The measures
are bot.nlp.quality's, the same code tests/test_rasa.py's floors use.

Also writes every miss to results/eval_misses.csv (set, text, wanted, got, kind of miss) for review,
and the trade-off of each threshold in config.yml, swept on CLINC's oos_val against the validation
holdouts, to docs/eval-tradeoff.png. Thresholds are chosen on those two only, never on oos_test or
the blind sets.

    .venv/bin/python bench/eval.py [--model FILE] [--datasets DIR] [--other-domains-sample N] [--no-plot]
"""

from __future__ import annotations

import argparse
import csv
import logging
import math
import os
import sys
import time
import warnings
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.nlp import quality  # noqa: E402
from bot.nlp.evaluate import Parser  # noqa: E402

MISSES = ROOT / "results" / "eval_misses.csv"
PLOT = ROOT / "docs" / "eval-tradeoff.png"
GRID = [round(0.05 * i, 2) for i in range(19)]  # 0.00 .. 0.90
NOTES = [
    "An agency answer is a FAQ answer, a rumor verdict, a live lookup or a lifeline. A referral "
    "(an entry of kind referral) is a decline with a pointer to the agency that handles it: it "
    "counts as declined, never as answered. Greetings, thanks and the like are neither.",
    "Intent F1 as `rasa test nlu` counts it: every FAQ, rumor and referral is `faq`; on the blind "
    "answers (all `faq/<id>`) it is 2r/(1+r) for the share r understood as some answer at all.",
    "Exact answer: the full pipeline gives the right `faq/<id>`; a correct guess turned into a "
    '"did you mean" by a gate counts as a miss. FAQ paraphrase accuracy: the answer selector\'s own '
    "pick on the same questions, whatever the intent classifier and the gates said.",
    "A crisis message is caught when its lifeline reply is given (abuse and immediate danger share "
    "the 911 reply).",
]


def latest_model() -> str:
    return str(max((ROOT / "models").glob("*.tar.gz"), key=lambda p: p.stat().st_mtime))


def quiet_rasa() -> None:
    """Rasa logs every parse at debug level on stdout; the table is what this prints."""
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)
    logging.getLogger().setLevel(logging.WARNING)


def target_text(measure: quality.Measure) -> str:
    target = measure.target
    if target is None:
        return ""
    sign = "≥" if target.at_least else "≤"
    if measure.name == "intent_f1":
        return f"{sign} {target.bound:.2f}"
    if measure.name == "verdicts":
        return "0"
    return f"{sign} {target.bound:.0%}"


def bound_text(measure: quality.Measure) -> str:
    bound = quality.floor_by_rule(measure)
    if measure.name == "verdicts":
        return f"at most {round(bound * measure.n)} of {measure.n}"
    return f"{'floor' if measure.higher_is_better else 'ceiling'} {bound:.2f}"


def table(found: dict[str, quality.Measure]) -> list[str]:
    lines = ["| Measure | Set | Result | Target |", "|---|---|---|---|"]
    for measure in found.values():
        target = measure.target
        flag = "" if target is None or target.met(measure.value) else " **(short of the target)**"
        lines.append(
            f"| {measure.label} | {measure.set_title} | {measure.shown}{flag} | {target_text(measure)} |"
        )
    return lines


def write_misses(parsed: list[quality.Parsed]) -> int:
    rows = quality.misses(parsed)
    MISSES.parent.mkdir(parents=True, exist_ok=True)
    with MISSES.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(["set", "text", "wanted", "got", "miss"])
        writer.writerows(rows)
    return len(rows)


def swept(gates: quality.Gates, parses: list[dict[str, Any]]) -> list[tuple[str, str, list[float | None]]]:
    """(Gates field, its name in config.yml, the values to try) for each threshold the pipeline has."""
    pipeline = quality.pipeline_config()
    found: list[tuple[str, str, list[float | None]]] = []
    if "FallbackClassifier" in pipeline:
        found.append(("fallback", "FallbackClassifier threshold", [*GRID]))
        found.append(("ambiguity", "FallbackClassifier ambiguity_threshold", [*GRID]))
    if "RetrievalGate" in pipeline:
        found.append(("retrieval", "RetrievalGate threshold", [*GRID]))
    scores = [float(p[quality.DOMAIN_GATE]["score"]) for p in parses if quality.DOMAIN_GATE in p]
    if "DomainGate" in pipeline and scores:
        # the gate's score is a distance with no fixed scale: try the scores' own quantiles, 40 to 95 %
        ranked = sorted(scores)
        cuts = [round(ranked[min(len(ranked) - 1, int(q * len(ranked) / 20))], 2) for q in range(8, 20)]
        found.append(("domain", "DomainGate threshold", [None, *cuts]))
    values = []
    for field, name, grid in found:
        now = getattr(gates, field)
        values.append((field, name, sorted({*grid, now}, key=lambda v: math.inf if v is None else v)))
    return values


def shown(value: float | None) -> str:
    return "off" if value is None else f"{value:g}"


def print_grid(points: list[tuple[float | None, float, float]], per_line: int = 6) -> None:
    for row in range(0, len(points), per_line):
        print("  " + "  ".join(f"{shown(t)}: {a:.0%}/{b:.1%}" for t, a, b in points[row : row + per_line]))


def sweep(oos_val: quality.Parsed, validation: quality.Parsed, kinds: dict[str, str]) -> None:
    """Print and plot each threshold's trade-off, the others held at their config.yml values."""
    gates = quality.Gates.from_config()
    related = quality.rumor_related()
    print(f"\nthresholds in config.yml: {quality.config_thresholds()}")
    oos = list(oos_val.parses)
    labelled = list(zip(validation.set.examples, validation.parses, strict=True))
    both = [*oos, *validation.parses]
    print(
        "the sweep recomputes the gates from the scores the parse reports; with the config.yml values "
        f"it reproduces {quality.agreement(both, gates, related):.1%} of the model's own answers"
    )
    curves = {}
    for field, name, values in swept(gates, both):
        now = getattr(gates, field)
        points = quality.trade_off(oos, labelled, kinds, gates, field, values, related)
        curves[name] = (now, points)
        best = max(points, key=lambda p: (p.accuracy - p.oos_answered, p.threshold == now))
        print(f"\n{name} (config.yml: {shown(now)}): oos_val answered / validation in-scope right")
        print_grid([(p.threshold, p.oos_answered, p.accuracy) for p in points])
        print(f"  best by validation right minus oos_val answered: {shown(best.threshold)}")
    if "DomainGate" in quality.pipeline_config():
        points = quality.trade_off(oos, labelled, kinds, gates, "claim", [None, *GRID], related)
        print(f"\nDomainGate claim_threshold (config.yml: {shown(gates.claim)}): ", end="")
        print("oos_val rumor verdicts / validation in-scope right")
        print_grid([(p.threshold, p.oos_verdicts, p.accuracy) for p in points])
    in_scope = len([w for _, w in validation.set.examples if w not in quality.DECLINE_INTENTS])
    plot(curves, len(oos), in_scope)


def plot(curves: dict[str, tuple[float | None, list[quality.Point]]], n_oos: int, n_valid: int) -> None:
    with warnings.catch_warnings():  # matplotlib's use of an older pyparsing API
        warnings.simplefilter("ignore")
        import matplotlib  # type: ignore[import-untyped]

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt  # type: ignore[import-untyped]

    figure, axes = plt.subplots(figsize=(6.4, 4.2), dpi=100)
    for name, (now, points) in curves.items():
        line = axes.plot(
            [100 * p.oos_answered for p in points], [100 * p.accuracy for p in points], marker=".", label=name
        )
        current = next(p for p in points if p.threshold == now)
        axes.plot(
            100 * current.oos_answered, 100 * current.accuracy, marker="*", markersize=14,
            color=line[0].get_color(), markeredgecolor="black",
        )  # fmt: skip
    axes.set_xlabel(f"CLINC oos_val given an agency answer (%, of {n_oos})")
    axes.set_ylabel(f"validation in-scope right (%, of {n_valid})")
    axes.set_title("Each threshold swept, the others at their config.yml values (stars)", fontsize=10)
    axes.grid(alpha=0.3)
    axes.legend(fontsize=8, loc="lower right")
    figure.tight_layout()
    PLOT.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(PLOT)
    plt.close(figure)
    print(f"\nplot: {PLOT.relative_to(ROOT)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="model archive (default: the newest in models/)")
    parser.add_argument("--datasets", type=Path, default=quality.CLINC, help="the CLINC150 folder")
    parser.add_argument(
        "--other-domains-sample", type=int, default=None, help="queries per CLINC domain (default: all 450)"
    )
    parser.add_argument("--no-plot", action="store_true", help="skip the threshold sweep and its plot")
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    warnings.filterwarnings("ignore", category=DeprecationWarning)  # the libraries', not ours

    kinds = quality.answer_kinds()
    sets = quality.project_sets()
    present = {s.key for s in sets}
    missing = [
        str(f[0].relative_to(ROOT))
        for key, _, _, f in quality.project_set_files()
        if key not in present and f
    ]
    clinc_keys = ("oos_test", "other_domains") if args.no_plot else ("oos_val", "oos_test", "other_domains")
    if (args.datasets / "oos.json").exists():
        sets += quality.clinc_sets(args.datasets, clinc_keys, args.other_domains_sample)
    else:
        print(f"CLINC150 is not in {args.datasets}: no CLINC rows, no threshold trade-off")

    model = args.model or latest_model()
    started = time.perf_counter()
    quiet_rasa()
    loaded = Parser(model)
    quiet_rasa()
    load_seconds = time.perf_counter() - started
    started = time.perf_counter()
    parsed = quality.parse_sets(loaded, sets, kinds)
    parse_seconds = time.perf_counter() - started
    loaded.close()
    total = sum(len(s.examples) for s in sets)
    clinc = sum(len(s.examples) for s in sets if s.role == quality.CLINC_OOS)
    print(f"model: {Path(model).name}; loaded in {load_seconds:.0f}s")
    print(
        f"parsed {total} messages ({clinc} of them CLINC queries) in {parse_seconds:.0f}s, batched "
        f"{Parser.BATCH} at a time ({1000 * parse_seconds / total:.1f} ms a message)"
    )
    if missing:
        print(f"not written yet, so not measured: {', '.join(missing)}")

    by_key = {p.set.key: p for p in parsed}
    reported = [p for p in parsed if p.set.key != "oos_val"]  # tuning data: in the sweep only
    found = quality.all_measures(reported)
    print()
    print("\n".join(table(found)))
    print()
    for note in NOTES:
        print(f"- {note}")
    print("\nbounds by the margin rule (bot.nlp.quality.floor_by_rule), for tests/test_rasa.py:")
    for measure in found.values():
        print(f"  {measure.key}: measured {measure.value:.4f} -> {bound_text(measure)}")
    print(f"\n{write_misses(reported)} misses written to {MISSES.relative_to(ROOT)}")
    if "oos_val" in by_key:
        sweep(by_key["oos_val"], by_key["validation"], kinds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
