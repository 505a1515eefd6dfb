"""Events for the studio's tests: answers served and rated, as the analytics read them."""

from __future__ import annotations

from typing import Any


def rated_answers(
    entry: str, served: int, helpful: int, not_helpful: int, now: float
) -> list[dict[str, Any]]:
    """Bot events serving `entry`'s answer from `now` on, then feedback taps (`helpful` up, then
    `not_helpful` down), as Rasa publishes them."""
    events: list[dict[str, Any]] = []
    for n in range(served):
        cid, answer = f"stale-{n}", f"stale-answer-{n}"
        rating = {"answer": answer, "entry": entry, "variant": "", "kind": "faq", "topic": "streets"}
        events.append(
            {
                "event": "bot",
                "sender_id": cid,
                "timestamp": now + n,
                "text": "...",
                "data": {},
                "metadata": {"utter_action": f"utter_faq/{entry}", "rating": rating},
            }
        )
        value = "up" if n < helpful else "down" if n < helpful + not_helpful else ""
        if value:
            payload = f'/feedback{{"answer":"{answer}","value":"{value}"}}'
            entities = [{"entity": "answer", "value": answer}, {"entity": "value", "value": value}]
            parse = {"intent": {"name": "feedback", "confidence": 1.0}, "entities": entities, "text": payload}
            events.append(
                {
                    "event": "user",
                    "sender_id": cid,
                    "timestamp": now + n + 0.5,
                    "text": payload,
                    "parse_data": parse,
                    "input_channel": "socketio",
                }
            )
    return events
