"""The wording of relayed alerts, of the pinned notice's lead and of replies to a broadcast
(data/broadcasts/alerts.yml), so staff reword them without touching code.

Read by the alerts poller (`bot.broadcasts.poller`), Rasa's response generator (`bot.nlg`) and the
actions (`actions.alerts`, `actions.broadcast_reply`); re-read when the file changes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.broadcasts.notice import Notice
from bot.datafile import load_yaml_file

TEXTS_FILE = Path("data/broadcasts/alerts.yml")
QUESTION_KINDS = ("what_to_do", "how_long", "where")  # checked in this order ("should i" before "last")
_PLACEHOLDER = re.compile(r"{(\w+)}")
_PUNCTUATION = re.compile(r"[^\w\s]")


class TextsError(ValueError):
    """The file cannot be used; the message names it and what is wrong."""


@dataclass(frozen=True)
class BroadcastTexts:
    raw: dict[str, Any]
    path: Path

    def text(self, *keys: str) -> str:
        value: Any = self.raw
        for key in keys:
            value = value.get(key) if isinstance(value, dict) else None
        if not isinstance(value, str):
            raise TextsError(f"{self.path}: {'.'.join(keys)} must be a text")
        return value

    def prefix(self, message_type: str) -> str:
        prefixes = (self.raw.get("relay") or {}).get("prefix") or {}
        return str(prefixes.get(message_type, prefixes.get("Alert", "")))

    def reply(self, key: str, **values: Any) -> str:
        return fill(self.text("replies", key), values)

    def question_kind(self, message: str) -> str | None:
        """Which reply question `message` asks ("where", "how_long", "what_to_do"), or None."""
        folded = _fold(message)
        words = (self.raw.get("replies") or {}).get("questions") or {}
        for kind in QUESTION_KINDS:
            if any(_fold(str(w)) in folded for w in words.get(kind) or [] if str(w).strip()):
                return kind
        return None


def _fold(text: str) -> str:
    """Lower case, punctuation as spaces, padded: whole-word matching with `in`."""
    return f" {' '.join(_PUNCTUATION.sub(' ', text.casefold()).split())} "


def fill(template: str, values: dict[str, Any]) -> str:
    """`template` with its {placeholders} filled; a line whose placeholder is empty is left out."""
    kept = []
    for line in template.splitlines():
        names = _PLACEHOLDER.findall(line)
        if any(not str(values.get(n) or "").strip() for n in names if n != "prefix"):
            continue
        kept.append(_PLACEHOLDER.sub(lambda m: str(values.get(m.group(1)) or ""), line))
    return "\n".join(kept).strip()


def parse_texts(raw: Any, path: Path) -> BroadcastTexts:
    if not isinstance(raw, dict):
        raise TextsError(f"{path}: expected a mapping with relay, notice and replies")
    texts = BroadcastTexts(raw, path)
    for keys in (("relay", "title"), ("relay", "text"), ("relay", "sms"), ("notice",)):
        texts.text(*keys)
    return texts


def load_texts(path: Path = TEXTS_FILE) -> BroadcastTexts:
    """The texts, re-read when the file changes (staff edits apply without a restart)."""
    return load_yaml_file(path, parse_texts, TextsError)


def notice_lead(notice: Notice) -> str:
    """The pinned notice as it leads a greeting or the alerts answer (`notice` in the texts file)."""
    try:
        return fill(load_texts().text("notice"), {"notice": notice.as_text()}) or notice.as_text()
    except TextsError:
        return notice.as_text()
