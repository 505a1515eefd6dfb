"""Scores of a model file on messages it never trained on, and the gate that refuses a worse model.

The gate (`compare`) is the same for ``python -m bot model reload`` and the content studio's
retrains (``bot.studio.train``). A new model is refused when, against the running model:

- intent F1 on ``tests/nlu/holdout_*.yml`` drops (as ``rasa test nlu`` counts it), or the F1 of the
  full answer (which FAQ: ``bot.nlp.evaluate``) drops, by more than the tolerance;
- any crisis message of the safety sets (``tests/nlu/sensitive_*.yml``) that the running model gave
  its lifeline loses it (no tolerance: a lifeline is never traded for anything), counted as
  ``bench/eval.py`` counts crisis recall (``bot.nlp.quality``);
- more of our own out-of-scope held-out messages (``bot.nlp.quality``'s ``own_oos`` set) get an
  agency answer (the false-accept rate), by more than the tolerance.

Loading a model to score it takes a minute, so scores are cached in ``var/model_scores.json`` by
the model file's SHA-256 and the contents of every file it is scored on.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bot.content.writer import write_text_atomic
from bot.nlp import quality

HOLDOUT_GLOB = "tests/nlu/holdout_*.yml"
SAFETY_GLOB = "tests/nlu/sensitive_*.yml"
OWN_OUT_OF_SCOPE = "own_oos"  # bot.nlp.quality's key for our own out-of-scope held-out set
CACHE_VERSION = "gate2"  # scores cached by an older gate lack measures: never read them back


@dataclass(frozen=True)
class GateSets:
    """The files a model is scored on, and the content that says which answers are referrals."""

    holdout: tuple[Path, ...]
    safety: tuple[Path, ...] = ()
    out_of_scope: tuple[Path, ...] = ()
    content_dir: Path | None = None

    @classmethod
    def of_project(cls, root: Path) -> GateSets:
        """The project's own sets: held-out answers, the safety sets and our out-of-scope set."""
        own = [
            path
            for key, _, _, paths in quality.project_set_files(root / "tests" / "nlu")
            if key == OWN_OUT_OF_SCOPE
            for path in paths
        ]
        return cls(
            holdout=tuple(sorted(root.glob(HOLDOUT_GLOB))),
            safety=tuple(sorted(root.glob(SAFETY_GLOB))),
            out_of_scope=tuple(path for path in own if path.exists()),
            content_dir=root / "data" / "content",
        )

    def files(self) -> list[Path]:
        return [*self.holdout, *self.safety, *self.out_of_scope]

    def missing(self) -> list[str]:
        """The sets not found: a gate without them would pass any model."""
        wanted = (
            (self.holdout, f"held-out questions ({HOLDOUT_GLOB})"),
            (self.safety, f"crisis messages ({SAFETY_GLOB})"),
            (self.out_of_scope, "the project's own out-of-scope messages (tests/nlu/blind/out_of_scope.yml)"),
        )
        return [words for found, words in wanted if not found]

    def kinds(self) -> dict[str, str]:
        """``faq/<id>`` -> kind: a referral is a decline, not an answer, for the out-of-scope rate."""
        if self.content_dir is None or not self.content_dir.is_dir():
            return {}
        return quality.answer_kinds(self.content_dir)

    def eval_sets(self) -> list[quality.EvalSet]:
        found = [quality.nlu_set(path.stem, path.name, quality.CRISIS, [path]) for path in self.safety] + [
            quality.nlu_set(OWN_OUT_OF_SCOPE, "own out-of-scope", quality.OWN_OUT_OF_SCOPE, self.out_of_scope)
        ]
        return [s for s in found if s is not None]


@dataclass(frozen=True)
class Scores:
    """A model's scores; the crisis and out-of-scope ones are None when it was not scored on them."""

    intent_f1: float
    answer_f1: float
    examples: int
    crisis_recall: float | None = None  # share of crisis messages given their lifeline
    crisis_examples: int = 0
    crisis_missed: tuple[str, ...] = field(default=(), repr=False)  # crisis messages without it
    out_of_scope_answered: float | None = None  # share of our out-of-scope messages given an answer
    out_of_scope_examples: int = 0

    def __str__(self) -> str:
        text = f"intent F1 {self.intent_f1:.3f}, answer F1 {self.answer_f1:.3f}"
        text += f" on {self.examples} held-out messages"
        if self.crisis_recall is not None:
            text += f", crisis recall {self.crisis_recall:.1%} of {self.crisis_examples}"
        if self.out_of_scope_answered is not None:
            text += (
                f", {self.out_of_scope_answered:.1%} of {self.out_of_scope_examples} out-of-scope answered"
            )
        return text

    def as_dict(self) -> dict[str, Any]:
        found = asdict(self)
        found["crisis_missed"] = list(self.crisis_missed)
        return found

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Scores:
        return cls(**{**data, "crisis_missed": tuple(data.get("crisis_missed") or ())})


@dataclass(frozen=True)
class Verdict:
    """Swap or not; ``reason`` is the one line the command prints, ``reasons`` each drop in plain words."""

    swap: bool
    reason: str
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class Drop:
    name: str  # short, for the command's line: "answer F1 lower"
    words: str  # for staff: what got worse, with both figures


def _newly_missed(running: Scores, new: Scores) -> list[str]:
    before = set(running.crisis_missed)
    return [text for text in new.crisis_missed if text not in before]


def drops(running: Scores, new: Scores, tolerance: float = 0.0) -> list[Drop]:
    """What the new model does worse than the running one; crisis messages have no tolerance."""
    found = []
    held_out = f"of {new.examples} test questions it never trained on"
    if new.intent_f1 < running.intent_f1 - tolerance:
        found.append(
            Drop(
                "intent F1 lower",
                "It recognises what people ask less reliably "
                f"(intent score {running.intent_f1:.3f} -> {new.intent_f1:.3f}, {held_out}).",
            )
        )
    if new.answer_f1 < running.answer_f1 - tolerance:
        found.append(
            Drop(
                "answer F1 lower",
                "It picks the right answer for fewer questions "
                f"(answer score {running.answer_f1:.3f} -> {new.answer_f1:.3f}, {held_out}).",
            )
        )
    if running.crisis_recall is not None and new.crisis_recall is not None:
        missed = _newly_missed(running, new)
        if missed or new.crisis_recall < running.crisis_recall:
            shown = "; ".join(f'"{text}"' for text in missed[:3]) + ("; ..." if len(missed) > 3 else "")
            found.append(
                Drop(
                    "crisis recall lower",
                    f"{len(missed)} crisis message(s) would no longer get their lifeline reply "
                    f"(crisis recall {running.crisis_recall:.1%} -> {new.crisis_recall:.1%}): {shown}.",
                )
            )
    if running.out_of_scope_answered is not None and new.out_of_scope_answered is not None:
        if new.out_of_scope_answered > running.out_of_scope_answered + tolerance:
            found.append(
                Drop(
                    "out-of-scope answers higher",
                    "It would answer more questions the city should decline "
                    f"({running.out_of_scope_answered:.1%} -> {new.out_of_scope_answered:.1%} of "
                    f"{new.out_of_scope_examples} out-of-scope test messages).",
                )
            )
    return found


def compare(running: Scores | None, new: Scores, force: bool = False, tolerance: float = 0.0) -> Verdict:
    """Swap unless the new model does worse on any score (see the module docstring)."""
    if running is None:
        return Verdict(True, f"new model: {new} (the running model could not be scored)")
    worse = drops(running, new, tolerance)
    summary = f"running model: {running}; new model: {new}"
    if not worse:
        return Verdict(True, summary)
    names = " and ".join(drop.name for drop in worse)
    reasons = tuple(drop.words for drop in worse)
    if force:
        return Verdict(True, f"{summary}; {names}, swapping anyway (--force)", reasons)
    return Verdict(False, f"{summary}; refusing: {names} (use --force to swap anyway)", reasons)


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _cache_key(model: Path, sets: GateSets, kinds: dict[str, str]) -> str:
    data = hashlib.sha256(CACHE_VERSION.encode())
    for group in (sets.holdout, sets.safety, sets.out_of_scope):
        data.update(b"\0group")
        for path in group:
            data.update(path.read_bytes())
    data.update(json.dumps(kinds, sort_keys=True).encode())
    return f"{file_digest(model)}:{data.hexdigest()[:16]}"


def crisis_recall(parsed: Sequence[quality.Parsed]) -> tuple[float | None, int, tuple[str, ...]]:
    """Crisis recall over every safety set, as bench/eval.py counts it, and the messages missed."""
    recall = [m for p in parsed for m in quality.measures(p) if m.name == "recall"]
    if not recall:
        return None, 0, ()
    hits, n = sum(m.hits for m in recall), sum(m.n for m in recall)
    missed = tuple(
        row.text for p in parsed for row in p.rows if quality.miss_kind(row, p.set.role) == "missed lifeline"
    )
    return hits / n, n, missed


def out_of_scope_answered(parsed: Iterable[quality.Parsed]) -> tuple[float | None, int]:
    """The share of our own out-of-scope messages given an agency answer (quality's "answered")."""
    answered = [m for p in parsed for m in quality.measures(p) if m.key == f"answered/{OWN_OUT_OF_SCOPE}"]
    if not answered:
        return None, 0
    return answered[0].value, answered[0].n


def evaluate_model(model: Path, sets: GateSets, kinds: dict[str, str] | None = None) -> Scores:
    """Load ``model`` in this process and score it (slow: use `score`, which caches)."""
    from bot.nlp.evaluate import Parser, evaluate, read_examples

    parser = Parser(str(model))
    try:
        report = evaluate(parser, read_examples(sets.holdout))
        parsed = quality.parse_sets(parser, sets.eval_sets(), sets.kinds() if kinds is None else kinds)
    finally:
        parser.close()
    crisis = [p for p in parsed if p.set.role == quality.CRISIS]
    recall, crisis_n, missed = crisis_recall(crisis)
    answered, oos_n = out_of_scope_answered(p for p in parsed if p.set.role == quality.OWN_OUT_OF_SCOPE)
    return Scores(
        round(report.intent_f1, 4),
        round(report.f1_weighted, 4),
        report.total,
        crisis_recall=None if recall is None else round(recall, 4),
        crisis_examples=crisis_n,
        crisis_missed=missed,
        out_of_scope_answered=None if answered is None else round(answered, 4),
        out_of_scope_examples=oos_n,
    )


def score(model: Path, sets: GateSets, cache_file: Path) -> Scores:
    """Scores of ``model``, from the cache when this exact file was scored on these exact files."""
    kinds = sets.kinds()
    key = _cache_key(model, sets, kinds)
    cache = json.loads(cache_file.read_text(encoding="utf-8")) if cache_file.exists() else {}
    if key in cache:
        return Scores.from_dict(cache[key])
    scores = evaluate_model(model, sets, kinds)
    cache[key] = scores.as_dict()
    cache_file.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(cache_file, json.dumps(cache, indent=1, sort_keys=True))
    return scores
