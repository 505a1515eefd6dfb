"""Rasa NLU component: sensitive messages always get their lifeline intent.

Runs last in the pipeline (after ``FallbackClassifier`` and the ``DomainGate``) so neither a
low classifier confidence, an ambiguity check nor the domain gate can hide a crisis message
the keyword net catches.

Two nets. The keyword net (data/safety/triggers.yml) is authoritative: whatever it matches
gets its lifeline. The classifier is the second net, for crises the patterns miss; it answers
a need, not a topic, so it stays silent for a general question about a topic ("how many
homeless people are there": `bot.nlp.safety.TopicQuestion`) and for a message that says nobody is
hurt or in danger ("who do i call, nobody's hurt, someone dinged my car"), and below ``confident_threshold``
it needs the message within ``max_domain_score`` of the training examples (the domain gate's
score): weak evidence far from anything the assistant knows is no crisis. When it stays silent
and the classifier's own pick was a lifeline, the message is declined (``out_of_scope``), unless
the answer selector is sure of an answer (``held_back_answer``) for a message in the domain: "who
do i call for police if nobody's hurt, someone dinged my car" gets the emergency-numbers answer.
A rumor's verdict is never given this way (it needs the DomainGate's claim check): its related
FAQ answers (the DomainGate's report names it), or the message is declined.

A lifeline the keyword net gave a message that names more than one need lists the others
(``safety: {net: keywords, also: [...]}``): the lifeline reply then ends with their resource lines.

A message that gets no lifeline but is about a crisis topic (the lifeline the classifier held back,
or the topic words it uses) has that topic in the parse (``safety: {topic: ...}``): its decline then
ends with where help is, calmly (bot/nlg.py, data/responses/safety.yml).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.constants import RESPONSE_SELECTOR_PROPERTY_NAME, TOKENS_NAMES
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, PREDICTED_CONFIDENCE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlp.domain_gate import OUTPUT as DOMAIN_GATE_OUTPUT
from bot.nlp.domain_gate import UNCHECKED_RUMOR, predict, select_answer
from bot.nlp.evaluate import RETRIEVAL, selector_prediction
from bot.nlp.safety import (
    TRIGGERS_FILE,
    TopicQuestion,
    Trigger,
    classifier_stays_silent,
    load_topic_question,
    load_triggers,
    scan,
)

SENSITIVE_PREFIX = "sensitive_"
DECLINED = "out_of_scope"
# The parse's report: which net gave the lifeline, {"net": "keywords" | "classifier"} (and the other
# needs the net found, "also": [...]); or, for a message about a crisis topic that got none, the topic's
# lifeline intent, {"topic": "sensitive_..."}.
SOURCE = "safety"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class SafetyGuard(GraphComponent, IntentClassifier):
    """Overrides the predicted intent when trigger patterns or the classifier flag a crisis."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        # confident_threshold / max_domain_score None: the classifier net ignores the domain gate's score
        return {
            "triggers_file": str(TRIGGERS_FILE),
            "classifier_threshold": 0.3,
            "confident_threshold": None,
            "max_domain_score": None,
            # a held-back lifeline whose FAQ pick reaches this is answered (None: declined)
            "held_back_answer": None,
        }

    def __init__(
        self, config: dict[str, Any], triggers: list[Trigger], topic_question: TopicQuestion | None = None
    ) -> None:
        self.config = config
        self.triggers = triggers
        self.topic_question = topic_question or TopicQuestion()

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SafetyGuard:
        path = Path(config["triggers_file"])
        return cls(config, load_triggers(path), load_topic_question(path))

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            keywords = scan(self.triggers, message.get(TEXT) or "", lemmas(message))
            intent, net = self._sensitive_intent(message, keywords.intent)
            picked = str((message.get(INTENT) or {}).get("name") or "")
            if intent:
                predict(message, intent)
                also = {"also": list(keywords.also)} if net == "keywords" and keywords.also else {}
                message.set(SOURCE, {"net": net, **also}, add_to_output=True)
                continue
            if picked.startswith(SENSITIVE_PREFIX) and not self._answered(message):
                predict(message, DECLINED)  # the classifier's lifeline, which its net held back
            # the crisis topic of a message without a lifeline: the classifier's held-back lifeline,
            # else the topic words it uses; declined or answered, the reply adds where help is
            topic = picked if picked.startswith(SENSITIVE_PREFIX) else keywords.topic
            if topic:
                message.set(SOURCE, {"topic": topic}, add_to_output=True)
        return messages

    def _sensitive_intent(self, message: Message, keyword_intent: str | None) -> tuple[str | None, str]:
        """The lifeline: the keyword net's (``keyword_intent``), else the classifier's when it is sure."""
        if keyword_intent:
            return keyword_intent, "keywords"
        text = message.get(TEXT) or ""
        if text and classifier_stays_silent(self.topic_question, text):
            return None, ""
        score = (message.get(DOMAIN_GATE_OUTPUT) or {}).get("score")
        for candidate in message.get(INTENT_RANKING_KEY) or []:
            name = str(candidate.get("name", ""))
            if name.startswith(SENSITIVE_PREFIX) and self._classifier_sure(
                float(candidate.get("confidence", 0)), score
            ):
                return name, "classifier"
        return None, ""

    def _answered(self, message: Message) -> bool:
        """Give a held-back lifeline's message the answer the selector is sure of, if the DomainGate
        found it in the domain (``held_back_answer``); a rumor gets its related FAQ, never a verdict."""
        floor, report = self.config["held_back_answer"], message.get(DOMAIN_GATE_OUTPUT)
        if floor is None or not report or report.get("out_of_domain"):
            return False  # without the DomainGate's report, no claim check stands behind an answer
        prediction = selector_prediction(message, RETRIEVAL[0])
        response = prediction.get("response") or {}
        if float(response.get(PREDICTED_CONFIDENCE_KEY) or 0.0) < floor:
            return False
        related = report.get(UNCHECKED_RUMOR)
        if related == "":
            return False
        if related:
            select_answer(prediction, related)
            # the selector's output is a dict inside the message's; set it again for the output list
            selector = message.get(RESPONSE_SELECTOR_PROPERTY_NAME)
            message.set(RESPONSE_SELECTOR_PROPERTY_NAME, selector, add_to_output=True)
        predict(message, RETRIEVAL[0])
        return True

    def _classifier_sure(self, confidence: float, score: float | None) -> bool:
        """Sure enough of a lifeline: ``confident_threshold``, or ``classifier_threshold`` in the domain.

        Below ``confident_threshold`` the message must lie within ``max_domain_score`` of the
        training examples (the domain gate's score); without those two settings,
        ``classifier_threshold`` alone decides.
        """
        if confidence < self.config["classifier_threshold"]:
            return False
        confident, bound = self.config["confident_threshold"], self.config["max_domain_score"]
        if confident is None or bound is None or confidence >= confident:
            return True
        return score is None or score <= bound


def lemmas(message: Message) -> str:
    """The message's lemmatised form ("killing" -> "kill"): the keyword net tries it too."""
    return " ".join(token.lemma or token.text for token in message.get(TOKENS_NAMES[TEXT]) or [])
