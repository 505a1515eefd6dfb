"""Pure helpers for clarifying a message the assistant did not understand."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

from bot.content.model import all_entries, load_content

FALLBACK_INTENT = "nlu_fallback"


def consecutive_misunderstandings(events: Iterable[Mapping[str, Any]]) -> int:
    """How many of the latest user messages in a row fell back, in this session."""
    count = 0
    for event in reversed(list(events)):
        if event.get("event") == "session_started":
            break
        if event.get("event") != "user":
            continue
        intent = (event.get("parse_data") or {}).get("intent") or {}
        if intent.get("name") != FALLBACK_INTENT:
            break
        count += 1
    return count


def leans_out_of_scope(parse_data: Mapping[str, Any]) -> bool:
    """The classifier's own best guess (under the fallback) was "not a city question"."""
    ranking = [r for r in parse_data.get("intent_ranking") or [] if r.get("name") != FALLBACK_INTENT]
    return bool(ranking) and ranking[0].get("name") == "out_of_scope"


@lru_cache(maxsize=1)
def content_titles() -> dict[str, str]:
    """``faq/<id>`` -> the entry's first question, the wording staff chose to show."""
    return {e.intent: e.questions[0] for e in all_entries(load_content()) if e.questions and not e.sensitive}


def suggestions(
    parse_data: Mapping[str, Any], titles: Mapping[str, str], limit: int = 2, floor: float = 0.2
) -> list[str]:
    """The most likely content entries for a message, as the questions to offer."""
    selector = parse_data.get("response_selector") or {}
    ranking: list[Mapping[str, Any]] = []
    for prediction in selector.values():
        if isinstance(prediction, Mapping):
            ranking += prediction.get("ranking") or []
    ranking.sort(key=lambda r: r.get("confidence", 0.0), reverse=True)
    picked: list[str] = []
    for item in ranking:
        title = titles.get(str(item.get("intent_response_key")))
        if title and title not in picked and item.get("confidence", 0.0) >= floor:
            picked.append(title)
        if len(picked) == limit:
            break
    return picked
