"""Rasa NLU component: answers that a live alert may override go to an action, not a response.

Content entries name the alert events that contradict them (`overridden_by:` in data/content).
When the chosen answer is one of those, the intent becomes `faq_live`, whose rule runs
`action_give_live_answer` (it checks the alert feed first); every other answer stays
`faq` -> `utter_faq`, with no action server round trip. The entries are read from the content
files when the model is loaded, so a changed `overridden_by` needs a restart, not a retrain.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import INTENT
from rasa.shared.nlu.training_data.message import Message

from bot.content.model import ContentError, all_entries, load_content
from bot.nlp.evaluate import LIVE_ROUTED, RETRIEVAL, selector_prediction

log = logging.getLogger(__name__)


def overridable_answers(content_dir: Path) -> frozenset[str]:
    """Response keys (`faq/<id>`) of the entries that name an alert event overriding them."""
    try:
        return frozenset(e.intent for e in all_entries(load_content(content_dir)) if e.overridden_by)
    except (ContentError, OSError) as exc:
        log.warning(
            "live answers: could not read %s (%s); every answer is a plain response", content_dir, exc
        )
        return frozenset()


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class LiveAnswerRouter(GraphComponent, IntentClassifier):
    """Renames the intent `faq` to `faq_live` when the chosen answer can be overridden by an alert."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"content_dir": "data/content", "retrieval_intent": RETRIEVAL[0]}

    def __init__(self, config: dict[str, Any], answers: frozenset[str]) -> None:
        self.config = config
        self.answers = answers

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> LiveAnswerRouter:
        return cls(config, overridable_answers(Path(config["content_dir"])))

    def process(self, messages: list[Message]) -> list[Message]:
        retrieval = self.config["retrieval_intent"]
        for message in messages:
            intent = message.get(INTENT) or {}
            if intent.get("name") != retrieval:
                continue
            key = selector_prediction(message, retrieval).get("response", {}).get("intent_response_key")
            if key in self.answers:
                message.set(INTENT, {**intent, "name": LIVE_ROUTED}, add_to_output=True)
        return messages
