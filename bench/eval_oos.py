"""Out-of-scope evaluation on CLINC150 (read from ../shared/datasets, never copied).

A false accept is a query outside city services answered with an agency fact
(an FAQ or rumor answer). Tunes on ``oos_val``: prints the false-accept rate and
the held-out in-scope accuracy for a grid of the two thresholds in config.yml
(FallbackClassifier and RetrievalGate). Reports with the thresholds the model
was trained with on ``oos_test`` and on CLINC's other-domain test queries.

    .venv/bin/python bench/eval_oos.py [--datasets ../shared/datasets/clinc150] [--model FILE]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.nlp.evaluate import Parser, full_intent, read_examples, selector_prediction  # noqa: E402

FACT_PREFIXES = ("faq/",)
GRID = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]


def raw_scores(parse: dict[str, Any]) -> tuple[str, float, float]:
    """The classifier's own top intent and confidence, and the selector's, before any gate."""
    ranking = [r for r in parse.get("intent_ranking") or [] if r.get("name") != "nlu_fallback"]
    top = ranking[0] if ranking else {"name": "", "confidence": 0.0}
    chosen = selector_prediction(parse, str(top["name"]))
    return (
        str(top["name"]),
        float(top["confidence"]),
        float(chosen.get("response", {}).get("confidence", 0.0)),
    )


def answers_with_fact(
    name: str, intent_conf: float, selector_conf: float, t_intent: float, t_sel: float
) -> bool:
    return name == "faq" and intent_conf >= t_intent and selector_conf >= t_sel


def false_accept_rate(parses: list[dict[str, Any]]) -> float:
    return sum(full_intent(p).startswith(FACT_PREFIXES) for p in parses) / len(parses)


def flatten(queries: list[Any]) -> list[str]:
    """A domain's query texts, interleaved across its CLINC intents for a varied sample."""
    by_intent: dict[str, list[str]] = {}
    for item in queries:
        text, intent = (item["text"], item.get("clinc_intent", "")) if isinstance(item, dict) else (item, "")
        by_intent.setdefault(intent, []).append(text)
    return [q for row in zip(*by_intent.values(), strict=False) for q in row]


def latest_model() -> str:
    return str(max((ROOT / "models").glob("*.tar.gz"), key=lambda p: p.stat().st_mtime))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=Path, default=ROOT.parent / "shared" / "datasets" / "clinc150")
    parser.add_argument("--model", help="model archive (default: the newest in models/)")
    parser.add_argument("--other-domains-sample", type=int, default=50, help="queries per CLINC domain")
    args = parser.parse_args()
    oos = json.loads((args.datasets / "oos.json").read_text())
    other = json.loads((args.datasets / "other_domains_test.json").read_text())
    holdout = read_examples(sorted((ROOT / "tests" / "nlu").glob("holdout_*.yml")))
    config = yaml.safe_load((ROOT / "config.yml").read_text())
    thresholds = {c["name"]: c.get("threshold") for c in config["pipeline"] if "threshold" in c}

    model = Parser(args.model or latest_model())
    val = model.parse(oos["oos_val"])
    held = model.parse([text for text, _ in holdout])
    facts = [(raw_scores(p), intent) for p, (_, intent) in zip(held, holdout, strict=True)]

    print("tuning on oos_val (100 queries) against our held-out in-scope examples")
    print("t_intent t_selector  oos_val false-accept  held-out FAQ answers kept")
    for t_intent in GRID:
        for t_sel in GRID:
            far = sum(answers_with_fact(*raw_scores(p), t_intent, t_sel) for p in val) / len(val)
            faq = [(s, i) for s, i in facts if i.startswith(FACT_PREFIXES)]
            kept = sum(answers_with_fact(*s, t_intent, t_sel) for s, _ in faq) / len(faq)
            print(f"  {t_intent:4.2f}     {t_sel:4.2f}        {far:6.1%}                 {kept:6.1%}")

    test = model.parse(oos["oos_test"])
    sample = [q for domain in other.values() for q in flatten(domain)[: args.other_domains_sample]]
    domains = model.parse(sample)
    print(f"\nwith config.yml thresholds {thresholds}:")
    print(f"  oos_test false-accept rate: {false_accept_rate(test):.1%} of {len(test)} queries")
    print(f"  other-domain false-accept rate: {false_accept_rate(domains):.1%} of {len(domains)} queries")
    model.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
