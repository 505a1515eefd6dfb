"""Find example questions that are the same, or nearly, under two different entries.

Two entries trained on the same question teach the classifier a contradiction, so
``content check`` reports them. Comparing every pair with difflib is too slow for a
few thousand questions, so pairs are first shortlisted by shared character
trigrams (one sparse matrix product) and only the shortlist is scored.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse

THRESHOLD = 0.9
# Trigram overlap (Dice) below which two texts cannot reach THRESHOLD in practice:
# one edit breaks at most three trigrams, so 0.9 similar texts keep well over half.
SHORTLIST_DICE = 0.5
_WORD = re.compile(r"[a-z0-9]+")


def fold_for_similarity(text: str) -> str:
    """Case, accents, punctuation and word order removed: "Is tap water OK?" == "ok tap water is"."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in folded if not unicodedata.combining(c))
    return " ".join(sorted(set(_WORD.findall(plain))))


def similarity(a: str, b: str) -> float:
    """Token-set similarity in [0, 1]: difflib's ratio of the texts folded by `fold_for_similarity`."""
    left, right = fold_for_similarity(a), fold_for_similarity(b)
    if left == right:
        return 1.0
    return difflib.SequenceMatcher(None, left, right, autojunk=False).ratio()


@dataclass(frozen=True)
class Question:
    """One example question and the entry (any hashable owner) it belongs to."""

    text: str
    owner: object


@dataclass(frozen=True)
class SimilarPair:
    first: Question
    second: Question
    score: float


def _trigrams(text: str) -> set[str]:
    padded = f" {text} "
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


def _shortlist(texts: list[str]) -> list[tuple[int, int]]:
    """Index pairs (i < j) whose trigram sets overlap enough to be worth scoring."""
    vocab: dict[str, int] = {}
    rows, cols = [], []
    for row, text in enumerate(texts):
        for gram in _trigrams(text):
            rows.append(row)
            cols.append(vocab.setdefault(gram, len(vocab)))
    if not rows:
        return []
    shape = (len(texts), len(vocab))
    grams = sparse.csr_matrix((np.ones(len(rows), dtype=np.int32), (rows, cols)), shape=shape)
    shared = sparse.triu(grams @ grams.T, k=1).tocoo()
    sizes = np.asarray(grams.sum(axis=1)).ravel()
    dice = 2 * shared.data / (sizes[shared.row] + sizes[shared.col])
    keep = dice >= SHORTLIST_DICE
    return list(zip(shared.row[keep].tolist(), shared.col[keep].tolist(), strict=True))


def similar_pairs(questions: Sequence[Question], threshold: float = THRESHOLD) -> list[SimilarPair]:
    """Pairs of questions of *different* owners with similarity >= threshold, most similar first."""
    texts = [fold_for_similarity(q.text) for q in questions]
    found = []
    for i, j in _shortlist(texts):
        first, second = questions[i], questions[j]
        if first.owner == second.owner or not texts[i]:
            continue
        if texts[i] == texts[j]:
            score = 1.0
        else:
            score = difflib.SequenceMatcher(None, texts[i], texts[j], autojunk=False).ratio()
        if score >= threshold:
            found.append(SimilarPair(first, second, score))
    return sorted(found, key=lambda p: -p.score)
