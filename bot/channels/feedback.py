"""The two rating buttons of a rated answer, as each connector shapes them (contract of issue #18).

The NLG (`bot/nlg.py`) sends every FAQ, rumor, referral and lookup answer with a `rating` and two
feedback buttons appended last (payloads `/feedback{"answer":"<aid>","value":"up|down"}`,
`bot/feedback/answers.py`). The connectors show them the platform's way, so they first tell them
apart from the answer's own buttons (`split_feedback`). SMS has no buttons: its feedback question is
"Reply Y or N" (`yes_no` reads the reply). The accessible names the web chat gives the buttons and
the SMS question are staff's words in data/feedback/messages.yml (`bot.feedback.texts`).

Pure helpers: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.channels.text import button_payload
from bot.feedback.answers import DOWN, RATING_KEY, UP, parse_feedback_payload
from bot.feedback.texts import FeedbackTexts

_YES = frozenset({"y", "yes", "yeah", "yep"})
_NO = frozenset({"n", "no", "nope"})
_NOT_LETTERS = re.compile(r"[^a-z]+")


@dataclass(frozen=True)
class FeedbackButton:
    value: str  # UP or DOWN
    title: str
    payload: str

    def as_button(self) -> dict[str, Any]:
        return {"title": self.title, "payload": self.payload}


def split_feedback(buttons: Sequence[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[FeedbackButton]]:
    """The answer's own buttons, and its feedback buttons (up first), told apart by their payloads."""
    own: list[dict[str, Any]] = []
    rating: list[FeedbackButton] = []
    for button in buttons:
        payload = button_payload(button) if isinstance(button, dict) else ""
        parsed = parse_feedback_payload(payload) if payload else None
        if parsed is None:
            own.append(button)
        else:
            rating.append(FeedbackButton(parsed[1], str(button.get("title") or ""), payload))
    rating.sort(key=lambda b: b.value != UP)
    return own, rating


def is_rated(message: dict[str, Any]) -> bool:
    """A bot message the NLG made rateable (it carries `rating` and the two feedback buttons)."""
    return isinstance(message.get(RATING_KEY), dict) and bool(split_feedback(message.get("buttons") or [])[1])


def without_feedback(message: dict[str, Any]) -> dict[str, Any]:
    """The message as if it had never been rated: its own buttons only (SMS with FEEDBACK_SMS off)."""
    own, rating = split_feedback(message.get("buttons") or [])
    if not rating:
        return message
    plain = dict(message)
    if own:
        plain["buttons"] = own
    else:
        plain.pop("buttons", None)
    return plain


def yes_no(text: str) -> str | None:
    """UP for a reply "Y", "yes!", " Yes. "; DOWN for "n", "No"; None for anything else."""
    word = _NOT_LETTERS.sub("", text.lower())
    if word in _YES:
        return UP
    if word in _NO:
        return DOWN
    return None


def web_feedback(
    rating: dict[str, Any], buttons: Sequence[FeedbackButton], texts: FeedbackTexts, question: str
) -> dict[str, Any]:
    """What the web chat draws under a rated answer: the question and the two buttons, each with its
    accessible name ("This answered my question"), its visible title and the payload a tap sends."""
    return {
        "answer": str(rating.get("answer") or ""),
        "question": question,
        "options": [
            {"value": b.value, "title": b.title, "label": texts.accessible[b.value], "payload": b.payload}
            for b in buttons
        ],
    }
