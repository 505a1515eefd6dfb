"""Decide, from the Rasa events of one conversation, which citizen messages the assistant was unsure about.

Pure functions over the event dicts Rasa publishes (``sender_id`` plus ``Event.as_dict()``), so the
rules are unit-tested without Redis. A message's reasons can come from its own parse (low confidence,
fallback, out of scope) or from what the bot did next (clarify, decline, hand off), or later (a low
rating or thumbs-down about the conversation).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from bot.content.agency import SOURCE_LANGUAGE
from bot.nlp.evaluate import LIVE_ROUTED, RETRIEVAL, selector_prediction
from bot.privacy.redact import Redactor

LOW_CONFIDENCE = "low_confidence"
FALLBACK = "fallback"
CLARIFICATION = "clarification"
DECLINED = "declined"
HANDOFF = "handoff"
LOW_RATING = "low_rating"
THUMBS_DOWN = "thumbs_down"
NOT_HELPFUL = "not_helpful"  # the citizen's reply to "What were you looking for?" after a thumbs-down
REASONS = (LOW_CONFIDENCE, FALLBACK, CLARIFICATION, DECLINED, HANDOFF, LOW_RATING, THUMBS_DOWN, NOT_HELPFUL)
# Reasons that say the assistant missed or declined a question (what `bot.inbox.emerging` watches).
MISSED = frozenset({LOW_CONFIDENCE, FALLBACK, CLARIFICATION, DECLINED, NOT_HELPFUL})

# Why the assistant declined (or fell back on) a message: `decline_reason`.
OUT_OF_DOMAIN = "out_of_domain"
AMBIGUOUS = "ambiguous"
UNKNOWN = "unknown"
DECLINE_REASONS = {
    OUT_OF_DOMAIN: "out of domain",
    AMBIGUOUS: "unsure between two answers",
    UNKNOWN: "unknown",
}
# The DomainGate's report in the parse (bot.nlp.domain_gate.OUTPUT; not imported: that module loads Rasa).
DOMAIN_GATE = "domain_gate"

ACTION_REASONS = {
    "action_prepare_clarification": CLARIFICATION,
    "utter_out_of_scope": DECLINED,
}
# Messages that rate the conversation rather than ask something: never inbox material themselves.
FEEDBACK_INTENTS = frozenset({"feedback", "rate"})
HANDOFF_FORMS = frozenset({"handoff_ticket_form"})
RATING_SLOT = "handoff_rating"
# Slots a form fills with where the citizen lives or what they reported: redacted wherever they appear.
ADDRESS_SLOTS = frozenset({"address", "location"})
LOW_RATING_MAX = 2
# The message's language as the NLU reports it in the parse (bot/nlp/language_detector.py).
LANGUAGE = "language"
# What the NLG puts in a rated answer's response (contract of issue #18, bot/feedback/answers.py).
RATING_KEY = "rating"
ASK_DETAIL = "utter_feedback_ask_detail"


@dataclass(frozen=True)
class Message:
    """A citizen message as the inbox keeps it: redacted, with what the model thought of it.

    ``language``: the message's, as the NLU reported it (English for a message recorded before the
    assistant spoke another language, or parsed by a model without the language detector)."""

    id: str
    conversation: str
    channel: str
    intent: str
    confidence: float
    text: str
    time: float
    decline: str = ""  # why the assistant declined it (a DECLINE_REASONS key); "" if it did not
    answer: str = ""  # the content entry of the answer the citizen said did not help; "" if none
    language: str = SOURCE_LANGUAGE

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "conversation": self.conversation,
            "channel": self.channel,
            "intent": self.intent,
            "confidence": self.confidence,
            "text": self.text,
            "time": self.time,
            "decline": self.decline,
            "answer": self.answer,
            "language": self.language,
        }

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Message:
        return cls(
            id=str(raw["id"]),
            conversation=str(raw["conversation"]),
            channel=str(raw.get("channel") or ""),
            intent=str(raw.get("intent") or ""),
            confidence=float(raw.get("confidence") or 0.0),
            text=str(raw.get("text") or ""),
            time=float(raw.get("time") or 0.0),
            decline=str(raw.get("decline") or ""),
            answer=str(raw.get("answer") or ""),
            language=str(raw.get("language") or SOURCE_LANGUAGE),
        )


def message_id(conversation: str, timestamp: float, text: str) -> str:
    """Stable per message, so an event read twice (after a crash) is recorded once."""
    return hashlib.sha256(f"{conversation}\x00{timestamp!r}\x00{text}".encode()).hexdigest()[:20]


def intent_and_confidence(parse: dict[str, Any]) -> tuple[str, float]:
    """The full intent (``faq/<id>`` for FAQs) and the confidence that decided it.

    For a retrieval intent the selector's confidence counts: the classifier can be sure it is
    "some FAQ" while the selector is not sure which one.
    """
    intent = parse.get("intent") or {}
    name = str(intent.get("name") or "")
    confidence = float(intent.get("confidence") or 0.0)
    if name in RETRIEVAL or name == LIVE_ROUTED:
        response = selector_prediction(parse, RETRIEVAL[0]).get("response") or {}
        key = response.get("intent_response_key")
        if key:
            return str(key), min(confidence, float(response.get("confidence") or 0.0))
    return name, confidence


def decline_reason(parse: dict[str, Any]) -> str:
    """Why the parse declines the message (``out_of_scope``) or falls back (``nlu_fallback``); "" if neither.

    The one mapping from a parse to the reason an editor reads:

    - out of domain: the DomainGate marked the message out of domain, or the intent is
      ``out_of_scope`` (the classifier's own out-of-scope class, or a gate's decline);
    - unsure between two answers: the rumor check found a rumor's topic but not its claim, or the
      FallbackClassifier fell back although the top intent was confident enough (so the top two
      were too close);
    - a fallback for low confidence (the top intent, or for a FAQ the answer selector, below the
      fallback's confidence): out of domain when the model has no DomainGate (no report in the
      parse), else unknown, since the gate found the message in domain;
    - unknown otherwise.
    """
    intent = str((parse.get("intent") or {}).get("name") or "")
    gate = parse.get(DOMAIN_GATE)
    if intent not in ("out_of_scope", "nlu_fallback"):
        return ""
    if intent == "out_of_scope" or (isinstance(gate, dict) and gate.get("out_of_domain")):
        return OUT_OF_DOMAIN
    if isinstance(gate, dict) and gate.get("not_about_claim"):
        return AMBIGUOUS
    ranking = parse.get("intent_ranking") or []
    # A fallback's own entry has its component's threshold as its confidence (the claim check's: 1).
    bars = [float(r.get("confidence") or 0.0) for r in ranking if r.get("name") == "nlu_fallback"]
    bars = [bar for bar in bars if bar < 1.0]
    ranked = [r for r in ranking if r.get("name") != "nlu_fallback"]
    if not bars or not ranked:
        return UNKNOWN
    top = ranked[0]
    name, confidence = str(top.get("name") or ""), float(top.get("confidence") or 0.0)
    answer = float((selector_prediction(parse, name).get("response") or {}).get("confidence") or 0.0)
    unsure_answer = name in RETRIEVAL and answer < min(bars)
    if confidence >= max(bars) and not unsure_answer:
        return AMBIGUOUS
    return UNKNOWN if isinstance(gate, dict) else OUT_OF_DOMAIN


def parse_language(parse: dict[str, Any]) -> str:
    """The message's language as the NLU reported it (the parse's ``language``), else English."""
    return str(parse.get(LANGUAGE) or SOURCE_LANGUAGE)


def user_message(event: dict[str, Any], redactor: Redactor, known: Iterable[str] = ()) -> Message | None:
    """The redacted message of a ``user`` event; None for empty texts.

    ``known``: what the citizen gave a form as their address or location, redacted wherever it appears.
    """
    text = str(event.get("text") or "").strip()
    if not text:
        return None
    conversation = str(event.get("sender_id") or "")
    timestamp = float(event.get("timestamp") or 0.0)
    intent, confidence = intent_and_confidence(event.get("parse_data") or {})
    return Message(
        id=message_id(conversation, timestamp, text),
        conversation=conversation,
        channel=str(event.get("input_channel") or ""),
        intent=intent,
        confidence=round(confidence, 4),
        text=redactor.redact(text, known),
        time=timestamp,
        decline=decline_reason(event.get("parse_data") or {}),
        language=parse_language(event.get("parse_data") or {}),
    )


def parse_reasons(message: Message, threshold: float) -> list[str]:
    """Reasons visible in the message's own parse."""
    if message.intent == "nlu_fallback":
        return [FALLBACK]
    if message.intent == "out_of_scope":
        return [DECLINED]
    if message.intent and message.confidence < threshold:
        return [LOW_CONFIDENCE]
    return []


def is_feedback(event: dict[str, Any]) -> bool:
    intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
    return intent in FEEDBACK_INTENTS


def thumbs_down(event: dict[str, Any]) -> bool:
    """``/feedback{"value":"down"}`` from the web chat's thumbs, however the entity is named."""
    parse = event.get("parse_data") or {}
    if (parse.get("intent") or {}).get("name") != "feedback":
        return False
    return any(
        str(e.get("value", "")).lower() in {"down", "negative", "bad"} for e in parse.get("entities") or []
    )


def low_rating(event: dict[str, Any]) -> bool:
    if event.get("event") != "slot" or event.get("name") != RATING_SLOT:
        return False
    try:
        return float(str(event.get("value"))) <= LOW_RATING_MAX
    except ValueError:
        return False


def handoff_started(event: dict[str, Any]) -> bool:
    """The conversation went to a person (paused) or, out of hours, to the ticket form."""
    kind = event.get("event")
    return kind == "pause" or (kind == "active_loop" and event.get("name") in HANDOFF_FORMS)


def feedback_answer(event: dict[str, Any]) -> str:
    """The rated answer's id in a ``/feedback{"answer": ..., "value": ...}`` tap; "" if none."""
    for entity in (event.get("parse_data") or {}).get("entities") or []:
        if entity.get("entity") == "answer":
            return str(entity.get("value") or "")
    return ""


def rated_answer(event: dict[str, Any]) -> tuple[str, str] | None:
    """(answer id, content entry) of a bot message that offered the feedback buttons."""
    if event.get("event") != "bot":
        return None
    rating = (event.get("metadata") or {}).get(RATING_KEY)
    if not isinstance(rating, dict) or not rating.get("answer"):
        return None
    return str(rating["answer"]), str(rating.get("entry") or "")


def asked_for_detail(event: dict[str, Any]) -> str | None:
    """The entry whose answer did not help, when the bot just asked "What were you looking for?"."""
    metadata = event.get("metadata") or {}
    if event.get("event") != "bot" or metadata.get("utter_action") != ASK_DETAIL:
        return None
    rated = metadata.get("feedback_for")
    return str(rated.get("entry") or "") if isinstance(rated, dict) else ""
