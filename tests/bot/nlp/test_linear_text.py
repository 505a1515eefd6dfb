"""The FAQ answer selector and its model: trained, saved and loaded through Rasa's own storage.

The selector must report its pick exactly where Rasa's ResponseSelector does, since `utter_faq`,
the RetrievalGate, the clarification buttons and the review inbox all read it from there.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlp.embedding_classifier import EmbeddingIntentClassifier
from bot.nlp.embedding_selector import EmbeddingResponseSelector
from bot.nlp.evaluate import selector_prediction
from bot.nlp.linear_text import LinearTextModel, balanced_weights

DATA = """
version: "3.1"
nlu:
- intent: faq/water_bill
  examples: |
    - how do i pay my water bill
    - pay water bill online
    - where do i send money for water
    - water bill payment options
- intent: faq/pothole
  examples: |
    - there is a pothole on my street
    - report a pothole
    - big hole in the road
    - who fixes potholes
- intent: faq/library_card
  examples: |
    - how do i get a library card
    - library card for kids
    - sign up at the library
    - replace lost library card
- intent: greet
  examples: |
    - hi
    - hello there
responses:
  utter_faq/water_bill:
  - text: Pay online at harborcity.gov/water.
  utter_faq/pothole:
  - text: Report potholes to 311.
  utter_faq/library_card:
  - text: Cards are free at any branch.
"""


@pytest.fixture(scope="module")
def training_data() -> TrainingData:
    return RasaYAMLReader().reads(DATA)


def selector(storage: LocalModelStorage, resource: Resource, load: bool = False) -> EmbeddingResponseSelector:
    config = EmbeddingResponseSelector.get_default_config()
    context = ExecutionContext(GraphSchema({}), "test")
    if load:
        return EmbeddingResponseSelector.load(config, storage, resource, context)
    return EmbeddingResponseSelector.create(config, storage, resource, context)


def test_selector_reports_its_pick_as_rasa_does_after_a_save_and_load(
    training_data: TrainingData, tmp_path: Path
) -> None:
    storage, resource = LocalModelStorage(tmp_path), Resource("selector")
    selector(storage, resource).train(training_data)
    loaded = selector(storage, resource, load=True)
    [message] = loaded.process([Message({"text": "the road outside has a huge hole"})])

    parsed = message.as_dict(only_output_properties=True)
    output = parsed["response_selector"]
    assert output["all_retrieval_intents"] == ["faq"]
    picked = selector_prediction(parsed, "faq")["response"]
    assert picked["intent_response_key"] == "faq/pothole"
    assert picked["utter_action"] == "utter_faq/pothole"
    assert "responses" not in picked  # the texts come from the domain: not copied into each message
    ranking = output["default"]["ranking"]
    assert ranking[0]["intent_response_key"] == "faq/pothole" and len(ranking) == 3
    assert picked["confidence"] == ranking[0]["confidence"] > 0.5
    assert sum(r["confidence"] for r in ranking) == pytest.approx(1.0)


def test_untrained_selector_and_empty_messages_change_nothing(
    training_data: TrainingData, tmp_path: Path
) -> None:
    storage = LocalModelStorage(tmp_path)
    [blank] = selector(storage, Resource("never-trained"), load=True).process([Message({"text": "pothole"})])
    assert "response_selector" not in blank.data
    trained = selector(storage, Resource("trained"))
    trained.train(training_data)
    [empty] = trained.process([Message({"text": "   "})])
    assert "response_selector" not in empty.data


@pytest.mark.parametrize("labels", [["a", "b", "c"], ["a", "b"]])
def test_probabilities_are_scikit_learns(labels: list[str]) -> None:
    texts = [
        "pay water bill",
        "water payment",
        "pothole on elm",
        "hole in road",
        "library card",
        "card for kids",
    ]
    messages = [Message({"text": t}) for t in texts]
    targets = [labels[i * len(labels) // len(texts)] for i in range(len(texts))]
    model = LinearTextModel.fit(messages, targets, {"C": 16, "max_iter": 1000, "embedding_weight": 1.0})
    asked = [Message({"text": t}) for t in ["my water bill", "a pothole", "zzz"]]
    expected = model.classifier.predict_proba(model.features(asked))
    assert np.allclose(model.probabilities(asked), expected, atol=1e-12)


def test_answers_learnt_as_classes_give_faq_their_sum_and_the_selector_their_share(
    training_data: TrainingData, tmp_path: Path
) -> None:
    """`answer_labels`: each answer is a class beside the intents; `faq` is reported with the sum of its
    answers, and the selector (`from_intent_classifier`) ranks them by their share of that sum."""
    storage, context = LocalModelStorage(tmp_path), ExecutionContext(GraphSchema({}), "test")
    config = {**EmbeddingIntentClassifier.get_default_config(), "answer_labels": True, "C": 16.0}
    classifier = EmbeddingIntentClassifier.create(config, storage, Resource("classifier"), context)
    classifier.train(training_data)
    loaded = EmbeddingIntentClassifier.load(config, storage, Resource("classifier"), context)
    picks = {**EmbeddingResponseSelector.get_default_config(), "from_intent_classifier": True}
    answers = EmbeddingResponseSelector.create(picks, storage, Resource("selector"), context)
    answers.train(training_data)
    road, hello = loaded.process(
        [Message({"text": "the road outside has a huge hole"}), Message({"text": "hi"})]
    )
    answers.process([road, hello])

    parsed = road.as_dict(only_output_properties=True)
    assert [r["name"] for r in parsed["intent_ranking"]] == ["faq", "greet"]
    assert parsed["intent"]["name"] == "faq"
    assert sum(r["confidence"] for r in parsed["intent_ranking"]) == pytest.approx(1.0)
    assert "answer_probabilities" not in parsed  # kept on the message, not in the parse result
    picked = selector_prediction(parsed, "faq")
    assert picked["response"]["intent_response_key"] == "faq/pothole"
    assert sum(r["confidence"] for r in picked["ranking"]) == pytest.approx(1.0)
    assert hello.get("intent")["name"] == "greet"
    assert selector_prediction(hello.as_dict(only_output_properties=True), "faq")["ranking"]  # ranked anyway


def test_balanced_weights_give_each_label_the_same_total_times_its_boost() -> None:
    labels = ["faq/a"] * 6 + ["faq/b"] * 2 + ["out_of_scope"] * 12
    weights = balanced_weights(labels, {"out_of_scope": 4})
    totals: dict[str, float] = {}
    for label, weight in zip(labels, weights, strict=True):
        totals[label] = totals.get(label, 0.0) + float(weight)
    assert totals["faq/a"] == pytest.approx(totals["faq/b"]) == pytest.approx(len(labels) / 3)
    assert totals["out_of_scope"] == pytest.approx(4 * totals["faq/a"])
    greeted = ["faq/a"] * 2 + ["greet"] * 2 + ["out_of_scope"] * 4
    weights = balanced_weights(greeted, {"out_of_scope": 12}, intent_weight=3)
    assert [float(weights[i]) for i in (0, 2, 4)] == pytest.approx([4 / 3, 4.0, 8.0])  # 8/(3 count) x w
