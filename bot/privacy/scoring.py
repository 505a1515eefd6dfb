"""Recall and precision of the redactor on a labelled set (tests/privacy/messages.yml).

A labelled datum is *caught* when every character of it (spaces aside) lies inside something the
redactor removed, whatever kind it gave it: half a phone number left in the text is a miss. A
redaction is *right* when it overlaps a labelled datum; one that overlaps none removed text that
was not personal data. Recall is caught / labelled, precision right / redacted; both per kind too
(recall by the label's kind, precision by the kind the redactor gave).

`python -m bot.privacy.scoring [file]` prints the figures and every miss and false alarm.
"""

from __future__ import annotations

import sys
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from bot.privacy.public import public_redactor
from bot.privacy.redact import KINDS, Found, Redactor

LABELLED_SET = Path("tests/privacy/messages.yml")  # written with the patterns: the tuning set
HELDOUT_SET = Path("tests/privacy/heldout.yml")  # written blind, frozen: the figures we report
AS_OF = date(2026, 12, 1)  # the date the labels were written for ("a date long ago")


@dataclass(frozen=True)
class Datum:
    start: int
    end: int
    kind: str


@dataclass(frozen=True)
class Labelled:
    text: str
    pii: tuple[Datum, ...] = ()
    known: tuple[str, ...] = ()


@dataclass
class Scores:
    labelled: Counter[str] = field(default_factory=Counter)
    caught: Counter[str] = field(default_factory=Counter)
    redacted: Counter[str] = field(default_factory=Counter)
    right: Counter[str] = field(default_factory=Counter)
    messages: int = 0
    misses: list[str] = field(default_factory=list)
    false_alarms: list[str] = field(default_factory=list)

    @property
    def recall(self) -> float:
        return sum(self.caught.values()) / max(1, sum(self.labelled.values()))

    @property
    def precision(self) -> float:
        return sum(self.right.values()) / max(1, sum(self.redacted.values()))

    def kind_recall(self, kind: str) -> float:
        return self.caught[kind] / max(1, self.labelled[kind])

    def kind_precision(self, kind: str) -> float:
        return self.right[kind] / max(1, self.redacted[kind])


def load(path: Path = LABELLED_SET) -> list[Labelled]:
    """The labelled messages; ValueError naming the message when a datum is not in its text."""
    raw: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    out = []
    for entry in raw["messages"]:
        text = str(entry["text"])
        data = []
        for item in entry.get("pii") or []:
            start = text.find(str(item["text"]))
            if start < 0 or item["kind"] not in KINDS:
                raise ValueError(f"{path}: {text!r}: {item} is not in the text or has an unknown kind")
            data.append(Datum(start, start + len(str(item["text"])), str(item["kind"])))
        out.append(Labelled(text, tuple(data), tuple(str(k) for k in entry.get("known") or ())))
    return out


def _covered(text: str, datum: Datum, found: list[Found]) -> bool:
    return all(
        text[i].isspace() or any(f.start <= i < f.end for f in found) for i in range(datum.start, datum.end)
    )


def score(redactor: Redactor, messages: list[Labelled]) -> Scores:
    scores = Scores(messages=len(messages))
    for message in messages:
        found = redactor.find(message.text, message.known)
        for datum in message.pii:
            scores.labelled[datum.kind] += 1
            if _covered(message.text, datum, found):
                scores.caught[datum.kind] += 1
            else:
                scores.misses.append(
                    f"{datum.kind}: {message.text[datum.start : datum.end]!r} in {message.text!r}"
                )
        for hit in found:
            scores.redacted[hit.kind] += 1
            if any(d.start < hit.end and hit.start < d.end for d in message.pii):
                scores.right[hit.kind] += 1
            else:
                scores.false_alarms.append(
                    f"{hit.kind}: {message.text[hit.start : hit.end]!r} in {message.text!r}"
                )
    return scores


def inbox_redactor() -> Redactor:
    """The redactor the inbox uses (the city's own numbers kept), judging dates as of `AS_OF`."""
    return replace(public_redactor(), today=AS_OF)


def report(scores: Scores) -> str:
    lines = [
        f"{scores.messages} messages, {sum(scores.labelled.values())} personal data labelled",
        f"recall {scores.recall:.3f}  precision {scores.precision:.3f}",
    ]
    for kind in KINDS:
        lines.append(
            f"  {kind:<8} labelled {scores.labelled[kind]:>3}  recall {scores.kind_recall(kind):.3f}"
            f"  redacted {scores.redacted[kind]:>3}  precision {scores.kind_precision(kind):.3f}"
        )
    lines += ["misses:", *(f"  {m}" for m in scores.misses), "false alarms:"]
    lines += [f"  {f}" for f in scores.false_alarms]
    return "\n".join(lines)


if __name__ == "__main__":
    print(report(score(inbox_redactor(), load(Path(sys.argv[1]) if len(sys.argv) > 1 else LABELLED_SET))))
