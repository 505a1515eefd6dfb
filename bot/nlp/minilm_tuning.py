"""Fine-tune MiniLM's top layers on the agency's questions, so that its embedding separates the answers.

The pretrained encoder knows what a question is about, not which of the agency's answers it
needs: "is parking free on sundays" and "how much do the parking meters cost" sit close, both
being about meters, though the city answers them with two entries. Training the top layers
(with a cosine-softmax head over the labels: each FAQ, rumor and referral answer, each other
intent) pulls each answer's questions together and the answers apart, which helps the linear
classifiers and the domain gate's distances alike (Podolskiy et al., AAAI 2021: fine-tuned
features made Mahalanobis distance near perfect for out of domain detection on CLINC150). The
lower layers stay frozen, so their output is computed once for every question, and the training
takes about two and a half minutes on two cores (docs/measurements.md).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from bot.nlp import minilm

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Tuning:
    """How to fine-tune: the top `layers`, `epochs` over the questions, Adam's `learning_rate` for
    the layers (the head's is `head_learning_rate`), the cosine logits' `scale`."""

    layers: int = 2
    epochs: float = 3.0
    learning_rate: float = 5e-5
    head_learning_rate: float = 1e-3
    scale: float = 16.0
    batch_size: int = 32
    seed: int = 0


def fine_tune(
    encoder: minilm.MiniLM, texts: list[str], labels: list[str], tuning: Tuning
) -> dict[str, np.ndarray]:
    """The top `tuning.layers` layers' tensors (graph layout) after training on the labelled texts."""
    import tensorflow as tf

    tf.random.set_seed(tuning.seed)
    classes = sorted(set(labels))
    y = np.array([classes.index(label) for label in labels], dtype=np.int64)
    first = minilm.LAYERS - tuning.layers
    ids = [encoder.tokenizer.encode(text) for text in texts]
    started = time.monotonic()
    hidden = _frozen_output(encoder, ids, first)
    names = [n for layer in range(first, minilm.LAYERS) for n in minilm.layer_names(layer, encoder.weights)]
    trained = {name: tf.Variable(encoder.weights[name]) for name in names}
    weights = {**encoder.weights, **trained}

    def top(x: tf.Tensor, mask: tf.Tensor) -> tf.Tensor:
        x = tf.reshape(x, [-1, minilm.WIDTH])
        for layer in range(first, minilm.LAYERS):
            x = minilm.encoder_layer(x, mask, weights, layer)
        return minilm.pool(x, mask)

    spec = [tf.TensorSpec([None, None, minilm.WIDTH], tf.float32), tf.TensorSpec([None, None], tf.float32)]
    start = _in_chunks(tf.function(top, input_signature=spec), hidden)
    centres = np.stack([start[y == k].mean(axis=0) for k in range(len(classes))])
    head = tf.Variable((centres / np.linalg.norm(centres, axis=1, keepdims=True)).T)
    layers_opt = tf.keras.optimizers.Adam(tuning.learning_rate)
    head_opt = tf.keras.optimizers.Adam(tuning.head_learning_rate)
    variables = list(trained.values())

    @tf.function(input_signature=[*spec, tf.TensorSpec([None], tf.int64)])
    def step(x: tf.Tensor, mask: tf.Tensor, target: tf.Tensor) -> tf.Tensor:
        with tf.GradientTape() as tape:
            logits = tuning.scale * tf.matmul(top(x, mask), tf.math.l2_normalize(head, axis=0))
            loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(target, logits))
        grads = tape.gradient(loss, [*variables, head])
        layers_opt.apply_gradients(zip(grads[:-1], variables))  # noqa: B905 (autograph's zip has no strict)
        head_opt.apply_gradients([(grads[-1], head)])
        return loss

    rng = np.random.default_rng(tuning.seed)
    steps = max(1, int(tuning.epochs * len(ids) / tuning.batch_size))
    order: list[int] = []
    for _ in range(steps):
        if len(order) < tuning.batch_size:
            order.extend(rng.permutation(len(ids)).tolist())
        chunk, order = order[: tuning.batch_size], order[tuning.batch_size :]
        loss = step(*_batch(hidden, chunk), tf.constant(y[chunk]))
    log.info(
        "MiniLM: top %d layers tuned on %d questions, %d labels: %d steps, last loss %.3f, %.0f s",
        tuning.layers,
        len(ids),
        len(classes),
        steps,
        float(loss),
        time.monotonic() - started,
    )
    return {name: variable.numpy() for name, variable in trained.items()}


def _frozen_output(encoder: minilm.MiniLM, ids: list[list[int]], layers: int) -> list[np.ndarray]:
    """Each text's token rows after the embedding and the first `layers` layers, which stay frozen."""
    import tensorflow as tf

    w = encoder.weights
    spec = [tf.TensorSpec([None, None], tf.int32), tf.TensorSpec([None, None], tf.float32)]

    @tf.function(input_signature=spec)
    def lower(tokens: tf.Tensor, mask: tf.Tensor) -> tf.Tensor:
        x = minilm.embed(tokens, w)
        for layer in range(layers):
            x = minilm.encoder_layer(x, mask, w, layer)
        return tf.reshape(x, [tf.shape(mask)[0], tf.shape(mask)[1], minilm.WIDTH])

    out: list[np.ndarray] = [np.zeros(0)] * len(ids)
    order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
    for begin in range(0, len(order), 128):
        chunk = order[begin : begin + 128]
        rows = lower(*minilm.pad([ids[i] for i in chunk])).numpy()
        for row, i in zip(rows, chunk, strict=True):
            out[i] = row[: len(ids[i])]
    return out


def _in_chunks(top: Any, hidden: list[np.ndarray], size: int = 256) -> np.ndarray:
    """The untrained top layers' embedding of every text, a chunk of similar lengths at a time."""
    out = np.zeros((len(hidden), minilm.WIDTH), dtype=np.float32)
    order = sorted(range(len(hidden)), key=lambda i: len(hidden[i]))
    for begin in range(0, len(order), size):
        chunk = order[begin : begin + size]
        out[chunk] = top(*_batch(hidden, chunk)).numpy()
    return out


def _batch(hidden: list[np.ndarray], chunk: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """The cached rows of the texts in `chunk`, padded, and their mask."""
    length = max(len(hidden[i]) for i in chunk)
    x = np.zeros((len(chunk), length, minilm.WIDTH), dtype=np.float32)
    mask = np.zeros((len(chunk), length), dtype=np.float32)
    for row, i in enumerate(chunk):
        x[row, : len(hidden[i])] = hidden[i]
        mask[row, : len(hidden[i])] = 1.0
    return x, mask
