"""Choose the domain gate's and the safety guard's thresholds: the trade-off on the tuning sets.

Tuning sets only: CLINC150's ``oos_val`` (read from ../shared/datasets, never copied) and the
validation split, i.e. the held-out in-scope examples (tests/nlu/holdout_*.yml,
validation_v1/), the crisis sets (tests/nlu/sensitive_*.yml), the Spanish validation split
(tests/nlu/es/validation/) and the gate's own held-out sets (tests/bot/nlp/*.yml).
Never ``oos_test``, CLINC's other domains or tests/nlu/blind/: those are for reporting.

The model's pipeline runs once up to the answer selector; then the gates (FallbackClassifier,
RetrievalGate, DomainGate, SafetyGuard: the real components, loaded from the model) run again
on a copy of each message for every combination of the thresholds given, e.g.

    .venv/bin/python bench/tune_ood.py --model models/X.tar.gz \\
        --grid gate.threshold=none,24,26,28 --grid safety.max_domain_score=none,28,30 \\
        [--method mahalanobis,nearest] [--show-errors]

Keys: ``gate.<DomainGate option>``, ``safety.<SafetyGuard option>``,
``fallback.<FallbackClassifier option>``, ``retrieval.<RetrievalGate option>``; ``none`` for None;
a list option's value is its names joined by ``+`` (``gate.rescue_intents=report_problem+ask_alerts``).
A mapping option's key is reached with dots: ``retrieval.language_thresholds.es=0.2,0.3``.
"""

from __future__ import annotations

import argparse
import copy
import itertools
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


STAGES = {
    "language": "LanguageDetector",  # not tuned: the language the gates' per-language settings follow
    "fallback": "FallbackClassifier",
    "retrieval": "RetrievalGate",
    "gate": "DomainGate",
    "safety": "SafetyGuard",
}


def _value(text: str) -> Any:
    """``none`` is None, a number a float, names joined by ``+`` a list (``report_problem+ask_alerts``)."""
    if text.lower() == "none":
        return None
    try:
        return float(text)
    except ValueError:
        return [name for name in text.split("+") if name]


class Pipeline:
    """The loaded model, split in two: the part before the gates (run once) and the gates."""

    def __init__(self, model: str) -> None:
        from rasa.core.agent import Agent

        self.agent = Agent.load(model)
        processor = self.agent.processor
        assert processor is not None
        self.runner = processor.graph_runner
        nodes = list(self.runner._graph_schema.nodes)  # type: ignore[attr-defined]
        self.selector_node = next(n for n in nodes if "EmbeddingResponseSelector" in n)
        self.gates: dict[str, Any] = {}
        for key, name in STAGES.items():
            node = next(n for n in nodes if n.startswith("run_") and n.rstrip("0123456789").endswith(name))
            self.gates[key] = self.runner._instantiated_nodes[node]._component  # type: ignore[attr-defined]

    def encoder(self) -> Any:
        """The model's sentence encoder (its featurizer's: fine-tuned when the model tuned it)."""
        nodes = self.runner._instantiated_nodes  # type: ignore[attr-defined]
        node = next(n for n in nodes if n.startswith("run_") and "SentenceEmbeddingFeaturizer" in n)
        return nodes[node]._component.encoder

    def raw(self, texts: list[str]) -> list[Any]:
        from rasa.core.channels.channel import UserMessage
        from rasa.engine.constants import PLACEHOLDER_MESSAGE, PLACEHOLDER_TRACKER
        from rasa.shared.core.trackers import DialogueStateTracker

        out = []
        for start in range(0, len(texts), 64):
            result = self.runner.run(
                inputs={
                    PLACEHOLDER_MESSAGE: [UserMessage(t) for t in texts[start : start + 64]],
                    PLACEHOLDER_TRACKER: DialogueStateTracker.from_events("tune", []),
                },
                targets=[self.selector_node],
            )
            out += result[self.selector_node]
        return out

    def gated(self, settings: dict[str, dict[str, Any]], domain_model: Any = None) -> list[Any]:
        """The gate components with ``settings`` merged into their loaded configs."""
        from bot.nlp.domain_gate import DomainGate

        built = []
        for key in STAGES:
            component = self.gates[key]
            if key == "language":
                built.append(component)
                continue
            loaded = (
                getattr(component, "config", None) or component.component_config
            )  # Rasa's own: the latter
            config = copy.deepcopy(dict(loaded))
            for option, value in settings.get(key, {}).items():
                _set_nested(config, option.split("."), value)
            if key == "gate":
                state = {"model": domain_model or component._model, "rumors": component._rumors}
                built.append(DomainGate(config, component._storage, component._resource, state))
            elif key == "safety":
                built.append(type(component)(config, component.triggers, component.topic_question))
            else:
                built.append(type(component)(config))
        return built


def shown(value: Any) -> str:
    """A grid value as ``--grid`` takes it: ``none``, a number, names joined by ``+``."""
    if value is None:
        return "none"
    return "+".join(value) if isinstance(value, list) else str(value)


def _set_nested(config: dict[str, Any], path: list[str], value: Any) -> None:
    """``language_thresholds.es`` = 0.3 sets one key of a mapping option, keeping its others."""
    for part in path[:-1]:
        config[part] = dict(config.get(part) or {})
        config = config[part]
    config[path[-1]] = value


def run_gates(gates: list[Any], raw: list[Any]) -> list[dict[str, Any]]:
    from rasa.shared.nlu.training_data.message import Message

    messages = [
        Message(data=copy.deepcopy(m.data), output_properties=set(m.output_properties), features=m.features)
        for m in raw
    ]
    for gate in gates:
        gate.process(messages)
    parses = []
    for m in messages:
        parse = m.as_dict(only_output_properties=True)
        parse.setdefault("intent", {"name": None, "confidence": 0.0})
        parses.append(parse)
    return parses


OWN_SETS = ROOT / "tests" / "bot" / "nlp"


def load_sets(datasets: Path) -> list[Any]:
    """The tuning sets as bot.nlp.quality sets: validation, crisis, oos_val and the gate's own."""
    from bot.nlp import quality

    sets = quality.project_sets(
        keys=[
            "validation",
            "validation_v1",
            "own_oos_v1",
            "crisis_v1",
            "sensitive_paraphrases",
            "sensitive_tuning",
            "sensitive_blind",
            "es_validation",
            "es_oos_validation",
            "es_crisis_validation",
            "validation_v2",
            "own_oos_v2",
            "crisis_v2",
            "es_validation_v2",
            "es_oos_validation_v2",
            "es_crisis_validation_v2",
        ]
    )
    sets += quality.clinc_sets(datasets, keys=["oos_val"])
    own = [
        ("own_oos_val", "tests/bot/nlp/ood_holdout.yml", quality.OWN_OUT_OF_SCOPE, "ood_holdout.yml"),
        ("rumor_near", "tests/bot/nlp/rumor_near_misses.yml", quality.ANSWERS, "rumor_near_misses.yml"),
    ]
    for key, title, role, name in own:
        found = quality.nlu_set(key, title, role, [OWN_SETS / name])
        if found is not None:
            sets.append(found)
    return sets


class _Fixed:
    """A "parser" that returns parses computed already (bot.nlp.quality.parse_sets asks one)."""

    def __init__(self, parses: list[dict[str, Any]]) -> None:
        self.parses = parses

    def parse(self, texts: list[str]) -> list[dict[str, Any]]:
        assert len(texts) == len(self.parses)
        return self.parses


COLUMNS = [
    ("intent_f1/validation", "intF1", "{:.3f}"),
    ("exact_answer/validation", "exact", "{:.3f}"),
    ("exact_answer/validation_v1", "exact_v1", "{:.3f}"),
    ("false_lifeline/validation", "falseLL", "{:.3f}"),
    ("recall/sensitive_paraphrases", "rec_para", "{:.3f}"),
    ("recall/sensitive_tuning", "rec_tun", "{:.3f}"),
    ("false_alarm/sensitive_tuning", "fa_tun", "{:.3f}"),
    ("recall/sensitive_blind", "rec_sblind", "{:.3f}"),
    ("false_alarm/sensitive_blind", "fa_sblind", "{:.3f}"),
    ("answered/oos_val", "oosv_ans", "{:.3f}"),
    ("verdicts/oos_val", "oosv_verd", "{:.0f}"),
    ("lifelines/oos_val", "oosv_life", "{:.0f}"),
    ("declined/own_oos_val", "own_decl", "{:.3f}"),
    ("declined/own_oos_v1", "v1_decl", "{:.3f}"),
    ("exact_answer/es_validation", "es_exact", "{:.3f}"),
    ("declined/es_oos_validation", "es_decl", "{:.3f}"),
    ("recall/es_crisis_validation", "es_rec", "{:.3f}"),
    ("exact_answer/validation_v2", "exact_v2", "{:.3f}"),
    ("declined/own_oos_v2", "v2_decl", "{:.3f}"),
    ("recall/crisis_v2", "rec_v2", "{:.3f}"),
    ("false_alarm/crisis_v2", "fa_v2", "{:.3f}"),
    ("false_lifeline/validation_v2", "fll_v2", "{:.3f}"),
    ("exact_answer/es_validation_v2", "es_exact2", "{:.3f}"),
    ("declined/es_oos_validation_v2", "es_decl2", "{:.3f}"),
    ("recall/es_crisis_validation_v2", "es_rec2", "{:.3f}"),
    ("false_alarm/es_crisis_validation_v2", "es_fa2", "{:.3f}"),
    ("verdicts/rumor_near", "near_verd", "{:.0f}"),
    ("exact_answer/rumor_near", "near_exact", "{:.3f}"),
]


def score(sets: list[Any], parses: dict[str, list[dict[str, Any]]], kinds: dict[str, str]) -> dict[str, Any]:
    """bot.nlp.quality's measures of every set, and its misses."""
    from bot.nlp import quality

    ordered = [p for s in sets for p in parses[s.key]]
    parsed = quality.parse_sets(_Fixed(ordered), sets, kinds)
    found = quality.all_measures(parsed)
    values: dict[str, Any] = {}
    for key, _, _ in COLUMNS:
        measure = found.get(key)
        if measure is None:
            values[key] = None
        else:
            values[key] = measure.hits if measure.name == "verdicts" else measure.value
    for near in (p for p in parsed if p.set.key == "rumor_near"):  # an answers set: count its verdicts too
        values["verdicts/rumor_near"] = sum(r.outcome == quality.VERDICT for r in near.rows)
    values["misses"] = quality.misses(parsed)
    return values


def training_vectors(pipeline: Pipeline) -> tuple[np.ndarray, list[str]]:
    """The training examples' embeddings and full intents, for refitting the domain model."""
    from rasa.shared.importers.importer import TrainingDataImporter
    from rasa.shared.nlu.constants import INTENT, INTENT_RESPONSE_KEY, TEXT

    gate = pipeline.gates["gate"]
    importer = TrainingDataImporter.load_from_config(
        str(ROOT / "config.yml"),
        domain_path=str(ROOT / "domain.yml"),
        training_data_paths=[str(ROOT / "data")],
    )
    data = importer.get_nlu_data()
    outside = set(gate.config["outside_intents"])
    examples = [e for e in data.intent_examples if e.get(TEXT) and e.get(INTENT) not in outside]
    labels = [str(e.get(INTENT_RESPONSE_KEY) or e.get(INTENT)) for e in examples]
    return pipeline.encoder().encode([e.get(TEXT) for e in examples]), labels


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="model archive")
    parser.add_argument("--datasets", type=Path, default=ROOT.parent / "shared" / "datasets" / "clinc150")
    parser.add_argument("--grid", action="append", default=[], help="stage.option=v1,v2,... (none for None)")
    parser.add_argument("--method", default="", help="refit the domain model: mahalanobis,nearest")
    parser.add_argument("--shrinkage", type=float, default=0.1)
    parser.add_argument("--neighbours", type=int, default=1)
    parser.add_argument("--show-errors", action="store_true", help="list what each setting gets wrong")
    args = parser.parse_args()

    from bot.nlp import quality
    from bot.nlp.domain_gate import DomainModel

    pipeline = Pipeline(args.model)
    sets = load_sets(args.datasets)
    kinds = quality.answer_kinds()
    started = time.perf_counter()
    raw = {s.key: pipeline.raw([t for t, _ in s.examples]) for s in sets}
    print(f"pipeline to the answer selector: {time.perf_counter() - started:.0f} s", file=sys.stderr)
    models: dict[str, Any] = {"trained": None}
    if args.method:
        vectors, labels = training_vectors(pipeline)
        models = {
            method: DomainModel.fit(vectors, labels, method, args.shrinkage, args.neighbours)
            for method in args.method.split(",")
        }
    axes = [(spec.split("=")[0], [_value(v) for v in spec.split("=")[1].split(",")]) for spec in args.grid]
    print(" ".join([f"{'method':11}"] + [f"{k:>12}" for k, _ in axes] + [f"{c:>10}" for _, c, _ in COLUMNS]))
    for method, domain_model in models.items():
        for values in itertools.product(*[v for _, v in axes]):
            settings: dict[str, dict[str, Any]] = {}
            for (key, _), value in zip(axes, values, strict=True):
                stage, option = key.split(".", 1)
                settings.setdefault(stage, {})[option] = value
            gates = pipeline.gated(settings, domain_model)
            result = score(sets, {s.key: run_gates(gates, raw[s.key]) for s in sets}, kinds)
            cells = [f"{method:11}"] + [f"{shown(v):>12}" for v in values]
            for key, _, fmt in COLUMNS:
                cells.append(f"{'-' if result[key] is None else fmt.format(result[key]):>10}")
            print(" ".join(cells), flush=True)
            if args.show_errors:
                for miss in result["misses"]:
                    print(f"    {miss}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
