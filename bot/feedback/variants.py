"""Which wording of an entry under test a conversation sees (a message test, docs/feedback.md).

The choice is a hash of the conversation and entry ids, never a random draw nor a stored value:
the same conversation sees the same variant for its whole life, on every Rasa replica, after a
restart, with nothing to keep; and different entries split conversations independently. The hash
is mapped onto the variants' cumulative weights, so a 70/30 test shows the first to 70% of them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

VARIANT_KEY = "variant"  # in a response variation's `metadata` (written by `content generate`)
WEIGHT_KEY = "weight"
_SCALE = 2**64


def assign(conversation_id: str, entry_id: str, weights: Sequence[tuple[str, int]]) -> str:
    """The variant id `conversation_id` sees of `entry_id`; `weights` are (variant id, positive weight)."""
    if not weights:
        raise ValueError(f"{entry_id}: no variants to choose from")
    total = sum(max(int(weight), 0) for _, weight in weights)
    if total <= 0:
        return weights[0][0]
    digest = hashlib.sha256(f"{conversation_id}\x00{entry_id}".encode()).digest()
    point = int.from_bytes(digest[:8], "big") * total // _SCALE  # in [0, total)
    for variant, weight in weights:
        point -= max(int(weight), 0)
        if point < 0:
            return variant
    return weights[-1][0]


def variant_of(variation: Mapping[str, Any]) -> str:
    """The variant id a response variation is the wording of, "" for a plain one."""
    metadata = variation.get("metadata")
    value = metadata.get(VARIANT_KEY) if isinstance(metadata, Mapping) else None
    return str(value) if value else ""


def weights_of(variations: Sequence[Mapping[str, Any]]) -> list[tuple[str, int]]:
    """(variant id, weight) of every variant among `variations`, each once, in order of appearance."""
    seen: dict[str, int] = {}
    for variation in variations:
        variant = variant_of(variation)
        if variant and variant not in seen:
            try:
                seen[variant] = max(int(variation["metadata"].get(WEIGHT_KEY, 1)), 0)
            except (TypeError, ValueError):
                seen[variant] = 1
    return list(seen.items())
