"""Held-out NLU scores of a model file, and the rule that refuses a worse model.

Scores come from ``bot.nlp.evaluate`` on ``tests/nlu/holdout_*.yml`` (never trained on):
intent F1 as ``rasa test nlu`` counts it, and the weighted F1 of the full answer
(which FAQ). Loading a model to score it takes a minute, so scores are cached in
``var/model_scores.json`` by the model file's SHA-256 and the held-out files' contents.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

HOLDOUT_GLOB = "tests/nlu/holdout_*.yml"


@dataclass(frozen=True)
class Scores:
    intent_f1: float
    answer_f1: float
    examples: int

    def __str__(self) -> str:
        scores = f"intent F1 {self.intent_f1:.3f}, answer F1 {self.answer_f1:.3f}"
        return f"{scores} on {self.examples} held-out messages"


@dataclass(frozen=True)
class Verdict:
    swap: bool
    reason: str


def compare(running: Scores | None, new: Scores, force: bool = False, tolerance: float = 0.0) -> Verdict:
    """Swap unless the new model scores lower (by more than ``tolerance``) on either score."""
    if running is None:
        return Verdict(True, f"new model: {new} (the running model could not be scored)")
    worse = [
        name
        for name, old, now in (
            ("intent F1", running.intent_f1, new.intent_f1),
            ("answer F1", running.answer_f1, new.answer_f1),
        )
        if now < old - tolerance
    ]
    summary = f"running model: {running}; new model: {new}"
    if not worse:
        return Verdict(True, summary)
    if force:
        return Verdict(True, f"{summary}; {' and '.join(worse)} lower, swapping anyway (--force)")
    return Verdict(False, f"{summary}; refusing: {' and '.join(worse)} lower (use --force to swap anyway)")


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _cache_key(model: Path, holdout: list[Path]) -> str:
    data = hashlib.sha256()
    for path in holdout:
        data.update(path.read_bytes())
    return f"{file_digest(model)}:{data.hexdigest()[:16]}"


def evaluate_model(model: Path, holdout: list[Path]) -> Scores:
    """Load ``model`` in this process and score it (slow: use `score`, which caches)."""
    from bot.nlp.evaluate import Parser, evaluate, read_examples

    parser = Parser(str(model))
    try:
        report = evaluate(parser, read_examples(holdout))
    finally:
        parser.close()
    return Scores(round(report.intent_f1, 4), round(report.f1_weighted, 4), report.total)


def score(model: Path, holdout: list[Path], cache_file: Path) -> Scores:
    """Scores of ``model``, from the cache when this exact file was scored on these held-out files."""
    key = _cache_key(model, holdout)
    cache = json.loads(cache_file.read_text(encoding="utf-8")) if cache_file.exists() else {}
    if key in cache:
        return Scores(**cache[key])
    scores = evaluate_model(model, holdout)
    cache[key] = asdict(scores)
    cache_file.parent.mkdir(parents=True, exist_ok=True)
    cache_file.write_text(json.dumps(cache, indent=1, sort_keys=True), encoding="utf-8")
    return scores
