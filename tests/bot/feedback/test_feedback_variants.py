"""A message test: each conversation sees one wording of an entry for its whole life, as weighted."""

from __future__ import annotations

from collections import Counter

import pytest

from bot.feedback.variants import assign, variant_of, weights_of

CONVERSATIONS = [f"conversation-{n}" for n in range(2000)]


def shares(weights: list[tuple[str, int]], entry: str = "pothole") -> dict[str, float]:
    seen = Counter(assign(conversation, entry, weights) for conversation in CONVERSATIONS)
    return {variant: seen[variant] / len(CONVERSATIONS) for variant, _ in weights}


def test_a_conversation_sees_the_same_variant_every_time() -> None:
    weights = [("plain", 1), ("friendly", 1)]
    first = [assign(c, "pothole", weights) for c in CONVERSATIONS[:200]]
    assert [assign(c, "pothole", weights) for c in CONVERSATIONS[:200]] == first
    assert set(first) == {"plain", "friendly"}


@pytest.mark.parametrize(
    "weights", [[("a", 70), ("b", 30)], [("a", 50), ("b", 50)], [("a", 1), ("b", 1), ("c", 2)]]
)
def test_over_2000_conversations_each_variant_gets_its_weight_within_5_points(
    weights: list[tuple[str, int]],
) -> None:
    total = sum(weight for _, weight in weights)
    for variant, share in shares(weights).items():
        expected = dict(weights)[variant] / total
        assert abs(share - expected) <= 0.05, (variant, share, expected)


def test_entries_split_conversations_independently() -> None:
    """Seeing wording "a" of one test says nothing about which wording of another test one sees."""
    weights = [("a", 1), ("b", 1)]
    together = Counter((assign(c, "pothole", weights), assign(c, "graffiti", weights)) for c in CONVERSATIONS)
    assert all(abs(n / len(CONVERSATIONS) - 0.25) <= 0.05 for n in together.values()), together


def test_variations_tell_their_variant_and_weight() -> None:
    variations = [
        {"text": "A", "metadata": {"variant": "plain", "weight": 3}},
        {"text": "A short", "channel": "twilio", "metadata": {"variant": "plain", "weight": 3}},
        {"text": "B", "metadata": {"variant": "friendly", "weight": 1}},
        {"text": "no test"},
    ]
    assert weights_of(variations) == [("plain", 3), ("friendly", 1)]
    assert variant_of(variations[3]) == "" and weights_of([{"text": "x"}]) == []
