"""What a rated answer carries, and the tap that rates it (contract: docs/feedback.md).

Every rated answer gets a fresh random id (`new_answer_id`): the rating's own key, one per answer
shown, so a second tap on the same answer replaces the first in the analytics instead of counting
twice, and nothing in it points at the citizen. The answer's bot message carries `rating` (entry,
variant, kind, topic), which Rasa copies into the bot event's metadata, and two buttons whose
payload (`/feedback{"answer":"<id>","value":"up"}`) comes back as the intent `feedback`.
"""

from __future__ import annotations

import json
import re
import secrets
from typing import Any

FEEDBACK_INTENT = "feedback"
RATING_KEY = "rating"  # the bot message's (and bot event metadata's) key for what was rated
FEEDBACK_FOR_KEY = "feedback_for"  # on "Sorry. What were you looking for?": the answer rated down
UP = "up"
DOWN = "down"
VALUES = (UP, DOWN)
KINDS = ("faq", "rumor", "referral", "lookup")
_PAYLOAD = re.compile(r"/feedback(\{.*\})", re.DOTALL)
_ANSWER_ID = re.compile(r"^[0-9a-f]{12}$")


def new_answer_id() -> str:
    """A fresh id for one answer shown: random, so it carries no identity."""
    return secrets.token_hex(6)


def feedback_payload(answer_id: str, value: str) -> str:
    """The button payload that rates `answer_id` `value` ("up" or "down")."""
    return "/" + FEEDBACK_INTENT + json.dumps({"answer": answer_id, "value": value}, separators=(",", ":"))


def parse_feedback_payload(payload: Any) -> tuple[str, str] | None:
    """(answer id, value) of a feedback payload as the buttons write it, else None."""
    found = _PAYLOAD.fullmatch(payload.strip()) if isinstance(payload, str) else None
    if found is None:
        return None
    try:
        entities = json.loads(found.group(1))
    except ValueError:
        return None
    if not isinstance(entities, dict):
        return None
    answer, value = entities.get("answer"), entities.get("value")
    if not isinstance(answer, str) or not _ANSWER_ID.match(answer) or value not in VALUES:
        return None
    return answer, str(value)


def is_feedback_payload(payload: str) -> bool:
    return parse_feedback_payload(payload) is not None


def rating(
    answer_id: str, entry: str, kind: str, variant: str = "", topic: str = "", language: str = "en"
) -> dict[str, str]:
    """The `rating` of a bot message: what the analytics tie a tap, an exposure, a click to, and the
    reader's language (the channels word the rating's question in it)."""
    return {
        "answer": answer_id,
        "entry": entry,
        "variant": variant,
        "kind": kind,
        "topic": topic,
        "language": language,
    }


def rating_language(given: object) -> str:
    """The reader's language of a bot message's `rating` (English for one sent before it said)."""
    language = given.get("language") if isinstance(given, dict) else None
    return language if isinstance(language, str) and language else "en"


def feedback_buttons(answer_id: str, titles: dict[str, str]) -> list[dict[str, str]]:
    """The two buttons under a rated answer, "up" first; `titles` by value (data/feedback/messages.yml)."""
    return [{"title": titles[value], "payload": feedback_payload(answer_id, value)} for value in VALUES]
