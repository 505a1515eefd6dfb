"""Fine-tuning the sentence encoder's top layers: real weights, a real (small) training run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader

from bot.nlp import minilm
from bot.nlp.minilm_tuning import Tuning, fine_tune
from bot.nlp.sentence_featurizer import SentenceEmbeddingFeaturizer

# Two answers the pretrained encoder keeps close (both are about water), and a third topic.
QUESTIONS = {
    "faq/water_bill": [
        "how do i pay my water bill",
        "where can i pay for water",
        "water bill payment online",
        "can i pay the water bill by phone",
        "my water bill is due, how do i pay it",
        "pay water charges",
    ],
    "faq/water_quality": [
        "is the tap water safe to drink",
        "can i drink water from the faucet",
        "is our water clean",
        "water quality report",
        "is it ok to give my kids tap water",
        "does the city test the drinking water",
    ],
    "faq/library": [
        "when is the library open",
        "library hours",
        "is the library open on sunday",
        "can i get a library card",
        "where is the nearest library",
        "does the library have wifi",
    ],
}
HELD_OUT = {
    "faq/water_bill": ["settle what i owe for water", "water invoice, where do i send money"],
    "faq/water_quality": ["is it safe to drink from the sink", "anything bad in the drinking water"],
}
FAST = Tuning(layers=1, epochs=15, learning_rate=2e-4, batch_size=8)


@pytest.fixture(scope="module")
def tuned() -> dict[str, np.ndarray]:
    texts = [t for texts in QUESTIONS.values() for t in texts]
    labels = [label for label, texts in QUESTIONS.items() for _ in texts]
    return fine_tune(minilm.load(), texts, labels, FAST)


def margin(encoder: minilm.MiniLM) -> float:
    """How much closer the held-out questions sit to their own answer's questions than to the other's."""
    gaps = []
    for label, asked in HELD_OUT.items():
        other = next(k for k in HELD_OUT if k != label)
        own, theirs = encoder.encode(QUESTIONS[label]), encoder.encode(QUESTIONS[other])
        for vector in encoder.encode(asked):
            gaps.append(float((own @ vector).mean() - (theirs @ vector).mean()))
    return float(np.mean(gaps))


def test_only_the_top_layers_change(tuned: dict[str, np.ndarray]) -> None:
    assert tuned and all(name.startswith("encoder.layer.5.") for name in tuned)
    assert set(tuned) == set(minilm.layer_names(5, minilm.load().weights))
    assert any(not np.allclose(t, minilm.load().weights[n].numpy()) for n, t in tuned.items())


def test_tuning_pulls_unseen_questions_towards_their_answer(tuned: dict[str, np.ndarray]) -> None:
    """Two water questions the pretrained encoder keeps close move apart, questions not trained on too."""
    before, after = margin(minilm.load()), margin(minilm.load().with_layers(tuned))
    assert after > before + 0.05


def test_the_tuned_encoder_shares_weights_and_spares_the_pretrained(tuned: dict[str, np.ndarray]) -> None:
    text = ["is the tap water safe to drink"]
    pretrained = minilm.load().encode(text)
    encoder = minilm.load().with_layers(tuned)
    assert (
        encoder.weights["embeddings.word_embeddings.weight"]
        is minilm.load().weights["embeddings.word_embeddings.weight"]
    )
    assert np.allclose(np.linalg.norm(encoder.encode(text), axis=1), 1.0, atol=1e-5)
    assert not np.allclose(encoder.encode(text), pretrained, atol=1e-3)
    assert np.allclose(minilm.load().encode(text), pretrained)


DATA = """
version: "3.1"
nlu:
- intent: faq/water_bill
  examples: |
    - how do i pay my water bill
    - water bill payment online
    - pay water charges
- intent: faq/library
  examples: |
    - when is the library open
    - library hours
    - does the library have wifi
- intent: faq/library
  metadata:
    language: es
  examples: |
    - a que hora abre la biblioteca
"""


def featurizer(tmp_path: Path, layers: int, load: bool = False) -> SentenceEmbeddingFeaturizer:
    config = {
        **SentenceEmbeddingFeaturizer.get_default_config(),
        **{"tune_layers": layers, "tune_epochs": 20, "tune_learning_rate": 2e-4},
    }
    storage, resource = LocalModelStorage(tmp_path), Resource("minilm")
    context = ExecutionContext(GraphSchema({}), "test")
    if load:
        return SentenceEmbeddingFeaturizer.load(config, storage, resource, context)
    return SentenceEmbeddingFeaturizer.create(config, storage, resource, context)


def vectors(component: SentenceEmbeddingFeaturizer) -> np.ndarray:
    data = RasaYAMLReader().reads(DATA)
    component.process(data.training_examples)
    return np.vstack([m.get_dense_features("text")[1].features for m in data.training_examples])


def test_a_trained_featurizer_saves_its_layers_and_loads_them_back(tmp_path: Path) -> None:
    trained = featurizer(tmp_path, layers=1)
    trained.train(RasaYAMLReader().reads(DATA))
    loaded = featurizer(tmp_path, layers=1, load=True)
    assert np.allclose(vectors(trained), vectors(loaded), atol=1e-5)
    assert not np.allclose(vectors(loaded), vectors(featurizer(tmp_path / "none", layers=0)), atol=1e-3)


def test_without_tune_layers_the_featurizer_gives_the_pretrained_vectors(tmp_path: Path) -> None:
    untuned = featurizer(tmp_path, layers=0)
    untuned.train(RasaYAMLReader().reads(DATA))
    loaded = featurizer(tmp_path, layers=0, load=True)
    texts = [m.get("text") for m in RasaYAMLReader().reads(DATA).training_examples]
    assert np.allclose(vectors(loaded), minilm.load().encode(texts), atol=1e-5)


def test_tune_layers_is_checked() -> None:
    with pytest.raises(ValueError, match="tune_layers must be 0 to 6"):
        SentenceEmbeddingFeaturizer.validate_config({"tune_layers": 7})
