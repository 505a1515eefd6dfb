"""Rasa NLU component: an agency answer only for a message like the ones the assistant knows.

The classifiers always pick *some* intent and answer, and a question about bank accounts can
score high on "pay my water bill". This gate measures how far the message's MiniLM embedding
lies from the training examples: the Mahalanobis distance to the nearest class mean under one
shared covariance (Podolskiy et al., AAAI 2021), fitted on the training examples of every
full intent (``faq/pothole``, ``greet``, ...; not ``out_of_scope``). A FAQ or lookup answer
whose message lies farther than ``threshold`` becomes ``out_of_scope``: the bot declines.
The score is also reported (``domain_gate`` in the parse), and the SafetyGuard, which runs
after this gate, gives a lifeline the classifier alone suggests only for a message within its
own bound; a lifeline from the keyword net is never touched (bot/nlp/safety_guard.py).

Rumors get a second check: the verdict only for a message about the rumor's claim. The
similarity of the message to the claim and to the rumor's own training questions must reach
``claim_threshold``; otherwise the answer becomes the rumor's ``related`` FAQ (written into the
response selector's output, which ``utter_faq`` reads) or, for a rumor without one, a
clarification (``nlu_fallback``). A question about the price of bottled water is not the tap-water rumor.

The thresholds in config.yml were chosen with bench/tune_ood.py (docs/measurements.md).
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.constants import (
    RESPONSE_SELECTOR_PREDICTION_KEY,
    RESPONSE_SELECTOR_PROPERTY_NAME,
    RESPONSE_SELECTOR_RANKING_KEY,
    RESPONSE_SELECTOR_UTTER_ACTION_KEY,
)
from rasa.shared.constants import DEFAULT_NLU_FALLBACK_INTENT_NAME as FALLBACK
from rasa.shared.nlu.constants import (
    INTENT,
    INTENT_RANKING_KEY,
    INTENT_RESPONSE_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from rasa.shared.nlu.training_data.util import intent_response_key_to_template_key

from bot.content.model import ContentError, all_entries, load_content
from bot.nlp import minilm
from bot.nlp.evaluate import ANSWER_INTENTS, LIVE_ROUTED, RETRIEVAL, selector_prediction
from bot.nlp.linear_text import FittedComponent, sentence_embeddings
from bot.nlp.message_language import language_label, message_language, unlabelled

log = logging.getLogger(__name__)
OUTPUT = "domain_gate"  # the parse's report: {"score", "out_of_domain", "claim_similarity", ...}
# In the report of a message the claim check did not see (its intent is not an answer) whose answer
# pick is a rumor: the rumor's related FAQ ("" for none), so that a later component that answers it
# (the SafetyGuard, for a lifeline it holds back) never gives the verdict unchecked.
UNCHECKED_RUMOR = "unchecked_rumor_related"
OUT_OF_SCOPE = "out_of_scope"


@dataclass
class DomainModel:
    """Distances from the training examples' embeddings, larger meaning farther out.

    ``mahalanobis``: distance to the nearest class mean under the shared covariance (shrunk
    towards its average variance, ``shrinkage``), kept whitened so that scoring is one
    384 x 384 product. ``nearest``: one minus the cosine similarity of the ``neighbours``
    closest training examples (their mean).
    """

    method: str
    centres: np.ndarray  # (classes, width): whitened class means, or the examples themselves
    whiten: np.ndarray | None
    neighbours: int = 1

    @classmethod
    def fit(
        cls, vectors: np.ndarray, labels: list[str], method: str, shrinkage: float, neighbours: int
    ) -> DomainModel:
        vectors = np.asarray(vectors, dtype=np.float64)
        if method == "nearest":
            return cls(method, vectors.astype(np.float32), None, neighbours)
        if method != "mahalanobis":
            raise ValueError(f"DomainGate: unknown method {method!r} (mahalanobis or nearest)")
        names = sorted(set(labels))
        index = np.array([names.index(label) for label in labels])
        means = np.stack([vectors[index == i].mean(axis=0) for i in range(len(names))])
        residuals = vectors - means[index]
        covariance = residuals.T @ residuals / len(vectors)
        width = covariance.shape[0]
        covariance = (1 - shrinkage) * covariance + shrinkage * np.trace(covariance) / width * np.eye(width)
        whiten = np.linalg.cholesky(np.linalg.inv(covariance))  # precision = whiten @ whiten.T
        return cls(method, (means @ whiten).astype(np.float32), whiten.astype(np.float32))

    def score(self, vector: np.ndarray) -> float:
        """How far out one message's embedding lies."""
        if self.whiten is None:
            similarities = self.centres @ vector
            k = min(self.neighbours, len(similarities))
            return float(1.0 - np.partition(similarities, -k)[-k:].mean())
        distances = ((vector @ self.whiten - self.centres) ** 2).sum(axis=1)
        return float(np.sqrt(distances.min()))


@dataclass
class RumorClaim:
    """What a rumor's verdict is about, and what answers its topic without a verdict."""

    claim: np.ndarray  # (width,) the claim's embedding
    questions: np.ndarray  # (n, width) the rumor's training questions
    related: str  # response key of the related FAQ ("" for none)

    def similarity(self, vector: np.ndarray) -> float:
        """The message's cosine similarity with the claim or the closest of the rumor's questions."""
        best = float(self.claim @ vector)
        if len(self.questions):
            best = max(best, float((self.questions @ vector).max()))
        return best


def response_key(retrieval_intent: str, entry_id: str) -> str:
    return entry_id if "/" in entry_id else f"{retrieval_intent}/{entry_id}"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class DomainGate(FittedComponent, IntentClassifier):
    """Declines answers to messages far from every training example; rumor verdicts only on the claim."""

    fitted_file = "domain_gate.joblib"

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            "method": "mahalanobis",
            "shrinkage": 0.1,
            "neighbours": 1,
            # answers the gate may decline; None: no gate (the score is still reported)
            "threshold": None,
            "gated_intents": list(ANSWER_INTENTS),
            # the training class of known outside questions: not part of the domain
            "outside_intents": [OUT_OF_SCOPE],
            "retrieval_intents": [*RETRIEVAL, LIVE_ROUTED],
            # farther out than unsure_threshold, an answer picked with less than unsure_confidence
            # is declined too (None: no such rule)
            "unsure_threshold": None,
            "unsure_confidence": 0.5,
            # an out_of_scope below rescue_below whose FAQ pick reaches rescue_selector is answered
            "rescue_below": None,
            "rescue_selector": 0.8,
            # the same for a clarification (nlu_fallback) between out_of_scope and the FAQs, or with
            # the FAQs among its two candidates, whose FAQ pick reaches rescue_fallback (None: none)
            "rescue_fallback": None,
            # tasks and lookups that share their words with the FAQs ("how do i report a broken
            # streetlight"): one below rescue_below whose FAQ pick reaches rescue_task_selector is
            # answered, and a clarification between one of them and the FAQs counts as one between
            # the FAQs (None or []: no such rescue)
            "rescue_intents": [],
            "rescue_task_selector": None,
            # a rumor's verdict needs claim similarity >= claim_threshold and the selector's
            # confidence >= rumor_confidence (None: no such check)
            "claim_threshold": None,
            "rumor_confidence": None,
            "content_dir": "data/content",
        }

    def _use(self, state: dict[str, Any]) -> None:
        self._model: DomainModel | None = state.get("model")
        self._rumors: dict[str, RumorClaim] = state.get("rumors", {})
        if self._rumors:
            minilm.load()  # the claims' encoder loads with the model, not on the first rumor

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str | None:
        """The rumors' claims and related FAQs: a changed claim retrains the gate (they are not NLU data)."""
        try:
            entries = all_entries(load_content(Path(config.get("content_dir", "data/content"))))
        except (ContentError, OSError):
            return None
        rumors = sorted(
            (e.id, e.claim, getattr(e, "related", "") or "") for e in entries if e.kind == "rumor"
        )
        return hashlib.sha256(json.dumps(rumors).encode()).hexdigest()

    def train(self, training_data: TrainingData) -> Resource:
        outside = set(self.config["outside_intents"])
        examples = [e for e in training_data.intent_examples if e.get(TEXT) and e.get(INTENT) not in outside]
        # One class per intent and language: a Spanish question is measured against Spanish examples.
        labels = [
            language_label(str(e.get(INTENT_RESPONSE_KEY) or e.get(INTENT)), message_language(e))
            for e in examples
        ]
        state: dict[str, Any] = {}
        if len(set(labels)) < 2:
            log.warning("DomainGate: fewer than two intents to measure distances from; not trained")
        else:
            vectors = sentence_embeddings(examples)
            state["model"] = DomainModel.fit(
                vectors, labels, self.config["method"], self.config["shrinkage"], self.config["neighbours"]
            )
            state["rumors"] = self._rumor_claims(examples, labels)
        return self.keep(state)

    def _rumor_claims(self, examples: list[Message], labels: list[str]) -> dict[str, RumorClaim]:
        """Each rumor's claim (content files) and training questions, by its response key.

        In the pretrained encoder's space, not the featurizer's: a tuned encoder gathers every
        question the selector gives a rumor around it, whether it states the claim or not.
        """
        try:
            entries = all_entries(load_content(Path(self.config["content_dir"])))
        except (ContentError, OSError) as exc:
            log.warning("DomainGate: could not read the content (%s); rumors keep their verdicts", exc)
            return {}
        retrieval = self.config["retrieval_intents"][0]
        known = {unlabelled(label) for label in labels}
        rumors = [e for e in entries if e.kind == "rumor" and response_key(retrieval, e.id) in known]
        encoder = minilm.load()
        claims = encoder.encode([e.claim or (e.questions[0] if e.questions else e.id) for e in rumors])
        found = {}
        for entry, claim in zip(rumors, claims, strict=True):
            key = response_key(retrieval, entry.id)
            related = getattr(entry, "related", "") or ""
            related_key = response_key(retrieval, related) if related else ""
            if related_key and related_key not in known:
                log.warning("DomainGate: %s names related %r, which is not an answer; ignored", key, related)
                related_key = ""
            own = [m.get(TEXT) for m, label in zip(examples, labels, strict=True) if unlabelled(label) == key]
            found[key] = RumorClaim(
                claim=np.asarray(claim, dtype=np.float32),
                questions=encoder.encode(own),
                related=related_key,
            )
        return found

    def process(self, messages: list[Message]) -> list[Message]:
        targets = [m for m in messages if (m.get(TEXT) or "").strip()]
        if self._model is None or not targets:
            return messages
        for message, vector in zip(targets, sentence_embeddings(targets), strict=True):
            self._judge(message, np.asarray(vector, dtype=np.float32))
        return messages

    def _judge(self, message: Message, vector: np.ndarray) -> None:
        assert self._model is not None
        score = self._model.score(vector)
        threshold = self.config["threshold"]
        report: dict[str, Any] = {
            "score": round(score, 4),
            "out_of_domain": threshold is not None and score > threshold,
        }
        self._rescue(message, report)
        intent = str((message.get(INTENT) or {}).get("name") or "")
        if intent in self.config["gated_intents"] and report["out_of_domain"]:
            predict(message, OUT_OF_SCOPE)
        elif intent in self.config["gated_intents"] and self._unsure_far_out(message, intent, score):
            report["unsure_far_out"] = True
            predict(message, OUT_OF_SCOPE)
        elif intent in self.config["retrieval_intents"]:
            self._check_rumor(message, intent, report)
        else:
            self._name_unchecked_rumor(message, report)
        message.set(OUTPUT, report, add_to_output=True)

    def _name_unchecked_rumor(self, message: Message, report: dict[str, Any]) -> None:
        """`UNCHECKED_RUMOR` for a message whose answer pick is a rumor the claim check did not see."""
        response = selector_prediction(message, self.config["retrieval_intents"][0]).get("response") or {}
        rumor = self._rumors.get(str(response.get(INTENT_RESPONSE_KEY) or ""))
        if rumor is not None:
            report[UNCHECKED_RUMOR] = rumor.related

    def _rescue(self, message: Message, report: dict[str, Any]) -> None:
        """An unsure "out of scope" (or task) whose message the answer selector places with
        confidence: the FAQ (`_rescue_floor` says how sure).

        The intent classifier learnt "how do i get rid of aphids" as out of scope, and then
        hesitates over "how do i get rid of leftover paint thinner"; the selector, which only
        knows the FAQs, is sure it is hazardous waste. Both must agree, and the message must be
        in the domain.
        """
        below = self.config["rescue_below"]
        if below is None or report["out_of_domain"]:
            return
        selector_floor = self._rescue_floor(message, below)
        if selector_floor is None:
            return
        retrieval = self.config["retrieval_intents"][0]
        response = selector_prediction(message, retrieval).get("response") or {}
        if float(response.get(PREDICTED_CONFIDENCE_KEY) or 0.0) < selector_floor:
            return
        ranking = message.get(INTENT_RANKING_KEY) or []
        confidence = next((r.get("confidence", 0.0) for r in ranking if r.get("name") == retrieval), 0.0)
        prediction = {"name": retrieval, "confidence": confidence}
        message.set(INTENT, prediction, add_to_output=True)
        message.set(
            INTENT_RANKING_KEY,
            [prediction, *[r for r in ranking if r.get("name") not in (retrieval, FALLBACK)]],
            add_to_output=True,
        )
        report["rescued"] = response.get(INTENT_RESPONSE_KEY)

    def _rescue_floor(self, message: Message, below: float) -> float | None:
        """The FAQ pick's confidence that rescues this message, or None when nothing may.

        An out_of_scope below ``below`` needs ``rescue_selector``; one of ``rescue_intents`` below it
        needs ``rescue_task_selector`` ("how do i report a broken streetlight" is the streetlight
        FAQ, whose answer offers the report). A clarification needs ``rescue_fallback`` when its
        first candidate is such an out_of_scope or the FAQs, or when the FAQs are its second and
        the first is one of ``rescue_intents``: "benefits for vets", half out of scope and half FAQ,
        would otherwise get a "did you mean" with one sure answer.
        """
        intent = message.get(INTENT) or {}
        tasks = tuple(self.config["rescue_intents"] or ())
        if intent.get("name") == FALLBACK:
            candidates = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get("name") != FALLBACK]
            names = [r.get("name") for r in candidates[:2]]
            faqs = self.config["retrieval_intents"][0]
            between_faqs = names[:1] == [faqs] or (names[:1] and names[0] in tasks and names[1:] == [faqs])
            outside = bool(candidates) and self._unsure(candidates[0], OUT_OF_SCOPE, below)
            return self.config["rescue_fallback"] if between_faqs or outside else None
        if self._unsure(intent, OUT_OF_SCOPE, below):
            return self.config["rescue_selector"]
        if any(self._unsure(intent, task, below) for task in tasks):
            return self.config["rescue_task_selector"]
        return None

    @staticmethod
    def _unsure(intent: dict[str, Any], name: str, below: float) -> bool:
        return intent.get("name") == name and float(intent.get("confidence") or 0.0) < below

    def _unsure_far_out(self, message: Message, intent: str, score: float) -> bool:
        """Farther out than ``unsure_threshold``, an answer needs a surer pick (``unsure_confidence``).

        For a FAQ the answer selector's confidence counts, for a lookup the intent classifier's.
        """
        bound, floor = self.config["unsure_threshold"], self.config["unsure_confidence"]
        if bound is None or score <= bound:
            return False
        if intent in self.config["retrieval_intents"]:
            response = selector_prediction(message, intent).get("response") or {}
            confidence = float(response.get(PREDICTED_CONFIDENCE_KEY) or 0.0)
        else:
            confidence = float((message.get(INTENT) or {}).get("confidence") or 0.0)
        return confidence < floor

    def _check_rumor(self, message: Message, intent: str, report: dict[str, Any]) -> None:
        """A verdict only for a message about the claim, picked with confidence; else the related FAQ."""
        prediction = selector_prediction(message, intent)
        response = prediction.get("response") or {}
        rumor = self._rumors.get(str(response.get(INTENT_RESPONSE_KEY)))
        if rumor is None:
            return
        similarity = rumor.similarity(minilm.load().encode([message.get(TEXT)])[0])
        report["claim_similarity"] = round(similarity, 4)
        threshold, floor = self.config["claim_threshold"], self.config["rumor_confidence"]
        about = threshold is None or similarity >= threshold
        sure = floor is None or float(response.get(PREDICTED_CONFIDENCE_KEY) or 0.0) >= floor
        if about and sure:
            return
        report["not_about_claim"] = response.get(INTENT_RESPONSE_KEY)
        if not rumor.related:
            predict(message, FALLBACK)
            return
        select_answer(prediction, rumor.related)
        # the selector's output is a dict inside the message's; set it again for the output list
        selector = message.get(RESPONSE_SELECTOR_PROPERTY_NAME)
        message.set(RESPONSE_SELECTOR_PROPERTY_NAME, selector, add_to_output=True)


def predict(message: Message, name: str) -> None:
    """Set the intent to ``name`` (confidence 1), first in the ranking."""
    prediction = {"name": name, "confidence": 1.0}
    ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get("name") != name]
    message.set(INTENT, prediction, add_to_output=True)
    message.set(INTENT_RANKING_KEY, [prediction, *ranking], add_to_output=True)


def select_answer(prediction: dict[str, Any], key: str) -> None:
    """Make ``key`` the answer selector's pick, in place, with the confidence the rumor had.

    ``prediction`` is the selector's output for the retrieval intent (`selector_prediction`),
    the same dict the message holds under ``response_selector``.
    """
    response = prediction.get("response") or {}
    confidence = float(response.get(PREDICTED_CONFIDENCE_KEY, 0.0))
    prediction[RESPONSE_SELECTOR_PREDICTION_KEY] = {
        PREDICTED_CONFIDENCE_KEY: confidence,
        INTENT_RESPONSE_KEY: key,
        RESPONSE_SELECTOR_UTTER_ACTION_KEY: intent_response_key_to_template_key(key),
    }
    ranking = [
        r for r in prediction.get(RESPONSE_SELECTOR_RANKING_KEY) or [] if r.get(INTENT_RESPONSE_KEY) != key
    ]
    prediction[RESPONSE_SELECTOR_RANKING_KEY] = [
        {PREDICTED_CONFIDENCE_KEY: confidence, INTENT_RESPONSE_KEY: key},
        *ranking,
    ]
