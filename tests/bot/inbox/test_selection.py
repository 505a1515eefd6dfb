"""The decline reason an editor reads, from a message's parse alone (`selection.decline_reason`)."""

from __future__ import annotations

from typing import Any

import pytest

from bot.inbox.selection import AMBIGUOUS, OUT_OF_DOMAIN, UNKNOWN, decline_reason


def parse(
    intent: str, ranking: list[tuple[str, float]], answer: float = 0.9, gate: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A parse as Rasa reports it: the final intent first, then the gates' and the classifier's entries."""
    found: dict[str, Any] = {
        "intent": {"name": intent, "confidence": ranking[0][1]},
        "intent_ranking": [{"name": n, "confidence": c} for n, c in ranking],
        "response_selector": {
            "default": {"response": {"intent_response_key": "faq/x", "confidence": answer}}
        },
    }
    if gate is not None:
        found["domain_gate"] = gate
    return found


FB = "nlu_fallback"
IN_DOMAIN = {"score": 12.0, "out_of_domain": False}
OUT = {"score": 30.0, "out_of_domain": True}
CLAIM = {**IN_DOMAIN, "not_about_claim": "faq/water_shutoff_friday"}
CLOSE = [(FB, 0.4), ("faq", 0.5), ("ask_alerts", 0.47)]  # the FallbackClassifier's 0.4 met, but too close
LOW = [(FB, 0.4), ("faq", 0.3), ("greet", 0.1)]  # below the FallbackClassifier's 0.4


@pytest.mark.parametrize(
    ("parsed", "reason"),
    [
        (parse("faq", [("faq", 0.9)]), ""),  # answered: no decline
        (parse("greet", [("greet", 0.2)]), ""),
        (parse("out_of_scope", [("out_of_scope", 0.97)]), OUT_OF_DOMAIN),  # the classifier's own class
        # the domain gate's decline, and its marker on a fallback
        (parse("out_of_scope", [("out_of_scope", 1.0), ("faq", 0.9)], gate=OUT), OUT_OF_DOMAIN),
        (parse(FB, LOW, gate=OUT), OUT_OF_DOMAIN),
        # a confident top intent too close to the second; a rumor's topic but not its claim
        (parse(FB, CLOSE), AMBIGUOUS),
        (parse(FB, CLOSE, gate=IN_DOMAIN), AMBIGUOUS),
        (parse(FB, [(FB, 1.0), ("faq", 0.9)], gate=CLAIM), AMBIGUOUS),
        # low confidence (in the intent, or in which answer): out of domain without a domain gate ...
        (parse(FB, LOW), OUT_OF_DOMAIN),
        (parse(FB, [(FB, 0.2), ("faq", 0.9)], answer=0.1), OUT_OF_DOMAIN),  # the RetrievalGate's 0.2
        # ... and unknown when the gate found the message in domain, or nothing tells why
        (parse(FB, LOW, gate=IN_DOMAIN), UNKNOWN),
        (parse(FB, [(FB, 0.31)]), UNKNOWN),
    ],
)
def test_each_decline_gets_its_reason(parsed: dict[str, Any], reason: str) -> None:
    assert decline_reason(parsed) == reason
