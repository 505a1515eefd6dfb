"""Evaluate a trained model on held-out NLU examples, FAQ answers included.

Rasa's own ``rasa test nlu`` scores the intent classifier (where every FAQ is
just ``faq``) and the response selector separately. What a citizen notices is the
pair, so this scores the *full* intent: ``faq/pothole``, ``greet``,
``sensitive_...``, exactly as the held-out files label them.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

_MARKUP = re.compile(r"\[([^\]]*)\](?:\([^)]*\)|\{[^}]*\})")
RETRIEVAL = ("faq",)
# An answer an alert may override, renamed by bot.nlp.live_router and answered by an action.
LIVE_ROUTED = "faq_live"
# The live lookups: answered from the agency's systems, not from content.
LOOKUP_INTENTS = frozenset(
    {
        "check_request_status",
        "report_problem",
        "ask_alerts",
        "ask_facility_hours",
        "ask_collection_day",
        "ask_service_status",
    }
)
# Every intent whose answer states something on the agency's behalf (what the gates may decline).
ANSWER_INTENTS = (*RETRIEVAL, LIVE_ROUTED, *sorted(LOOKUP_INTENTS))


def read_examples(paths: Iterable[Path]) -> list[tuple[str, str]]:
    """(text, intent) pairs from Rasa NLU YAML files, entity markup removed."""
    pairs = []
    for path in paths:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for block in data.get("nlu", []):
            if "intent" not in block:
                continue
            for line in str(block.get("examples", "")).splitlines():
                line = line.strip()
                if line.startswith("- "):
                    pairs.append((_MARKUP.sub(r"\1", line[2:]).strip(), block["intent"]))
    return pairs


def full_intent(parse: dict[str, Any]) -> str:
    """``faq/<id>`` for retrieval intents (and answers routed to the live check), the plain name otherwise."""
    name = str((parse.get("intent") or {}).get("name") or "")
    retrieval = RETRIEVAL[0] if name == LIVE_ROUTED else name
    if retrieval in RETRIEVAL:
        key = selector_prediction(parse, retrieval).get("response", {}).get("intent_response_key")
        return str(key or name)
    return name


def base_intent(name: str) -> str:
    """``faq/pothole`` -> ``faq``: the label Rasa's own intent report uses."""
    return name.split("/", 1)[0]


def selector_prediction(parsed: Any, retrieval_intent: str) -> dict[str, Any]:
    """The response selector's answer for ``retrieval_intent`` (or its shared "default" model).

    ``parsed`` is a parse result or a Rasa ``Message``: both answer ``.get``.
    """
    selector = parsed.get("response_selector") or {}
    return selector.get(retrieval_intent) or selector.get("default") or {}


def sure_enough(
    prediction: Mapping[str, Any], threshold: float, lead: Mapping[str, Any] | None = None
) -> bool:
    """Whether the answer selector's `prediction` (its "response" and "ranking") may be answered:
    its confidence reaches `threshold`, or it leads the runner-up by `lead` ({ratio, floor})."""
    confidence = float((prediction.get("response") or {}).get("confidence") or 0.0)
    if confidence >= threshold:
        return True
    if not lead or confidence < float(lead.get("floor", threshold)):
        return False
    ranking = prediction.get("ranking") or []
    runner_up = float(ranking[1].get("confidence") or 0.0) if len(ranking) > 1 else 0.0
    return confidence >= float(lead["ratio"]) * runner_up


@dataclass(frozen=True)
class Report:
    total: int
    correct: int
    f1_weighted: float
    f1_macro: float
    errors: list[tuple[str, str, str]]
    rows: list[tuple[str, str, str]]
    intents: list[str]

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0

    @property
    def intent_f1(self) -> float:
        """Weighted F1 of the predicted intent, as `rasa test nlu` reports it.

        Every FAQ and rumor counts as ``faq``; which answer the
        answer selector picks is scored by ``f1_weighted``.
        """
        truth = [base_intent(want) for _, want, _ in self.rows]
        return f1_scores(truth, self.intents)[0]


def f1_scores(truth: list[str], predicted: list[str]) -> tuple[float, float]:
    """Weighted and macro F1 over the labels that occur in ``truth``."""
    support = Counter(truth)
    tp = Counter(t for t, p in zip(truth, predicted, strict=True) if t == p)
    pred_count = Counter(predicted)
    f1s = {}
    for label in support:
        precision = tp[label] / pred_count[label] if pred_count[label] else 0.0
        recall = tp[label] / support[label]
        f1s[label] = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    total = sum(support.values())
    weighted = sum(f1s[label] * support[label] for label in support) / total if total else 0.0
    macro = sum(f1s.values()) / len(f1s) if f1s else 0.0
    return weighted, macro


class Parser:
    """A loaded model that turns texts into full intents (one load, many parses)."""

    BATCH = 64  # texts per run of the NLU graph: the sentence encoder encodes them together

    def __init__(self, model_path: str) -> None:
        from rasa.core.agent import Agent

        self.agent = Agent.load(model_path)
        self.loop = asyncio.new_event_loop()

    def parse(self, texts: list[str]) -> list[dict[str, Any]]:
        """What ``Agent.parse_message`` returns for each text, computed ``BATCH`` texts at a time.

        Every component of the pipeline processes a list of messages, each message on its own, so a
        batch gives the same intents and answers as one message at a time, with confidences equal to
        about 1e-6 (the encoder's batched arithmetic; tests/bot/nlp/test_quality.py checks it). The
        encoder is about four times faster on a batch.
        """
        batches = [texts[start : start + self.BATCH] for start in range(0, len(texts), self.BATCH)]
        return [parse for batch in batches for parse in self._batch(batch)]

    def _batch(self, texts: list[str]) -> list[dict[str, Any]]:
        from rasa.core.channels.channel import UserMessage
        from rasa.engine.constants import PLACEHOLDER_MESSAGE, PLACEHOLDER_TRACKER
        from rasa.shared.core.trackers import DialogueStateTracker

        processor = self.agent.processor
        if processor is None:
            raise RuntimeError("the model has no processor: was it loaded?")
        target = processor.model_metadata.nlu_target
        results = processor.graph_runner.run(
            inputs={
                PLACEHOLDER_MESSAGE: [UserMessage(text) for text in texts],
                PLACEHOLDER_TRACKER: DialogueStateTracker.from_events("parser", []),
            },
            targets=[target],
        )
        parses = []
        for message in results[target]:
            parse: dict[str, Any] = {"text": "", "intent": {"name": None, "confidence": 0.0}, "entities": []}
            parse.update(message.as_dict(only_output_properties=True))
            processor._update_full_retrieval_intent(parse)
            parses.append(parse)
        return parses

    def predict(self, texts: list[str]) -> list[tuple[str, str]]:
        """(intent, full intent) per text: ``faq`` and ``faq/pothole``."""
        return [(str(p["intent"]["name"]), full_intent(p)) for p in self.parse(texts)]

    def close(self) -> None:
        self.loop.close()


# What the citizen sees for an out-of-scope message is the same whether the model
# says so outright or falls back: a decline (or a clarification), never a fact.
EQUIVALENT = {("out_of_scope", "nlu_fallback")}


def _as_wanted(want: str, got: str) -> str:
    return want if (want, got) in EQUIVALENT else got


def evaluate(parser: Parser, examples: list[tuple[str, str]]) -> Report:
    pairs = parser.predict([text for text, _ in examples])
    predicted = [_as_wanted(want, full) for (_, want), (_, full) in zip(examples, pairs, strict=True)]
    intents = [
        _as_wanted(base_intent(want), intent) for (_, want), (intent, _) in zip(examples, pairs, strict=True)
    ]
    truth = [intent for _, intent in examples]
    weighted, macro = f1_scores(truth, predicted)
    rows = [(text, want, got) for (text, want), got in zip(examples, predicted, strict=True)]
    errors = [row for row in rows if row[1] != row[2]]
    return Report(len(examples), len(examples) - len(errors), weighted, macro, errors, rows, intents)
