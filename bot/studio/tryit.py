"""Try it: what the running model makes of a question, and the reply a citizen would get.

The studio asks the running Rasa (`RasaClient.parse`, ``POST /model/parse``) and reads its answer
the way the assistant acts on it: the intent after every gate (``faq`` and ``faq_live`` are
answered by the answer selector's pick, ``sensitive_<id>`` by that crisis entry), the runner-up
(the answer selector's second choice for an FAQ, otherwise the next intent) and the next intent.
The reply is rendered from the content files exactly as they are trained and published
(`bot.content.generate.entry_variations`, then the agency's facts), once for web chat and once
for SMS, in the language the model found the question in (the parse's ``language``, set by
`bot.nlp.language_detector`), so an editor sees what a citizen gets without opening a chat.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from bot.channels.wording import sms_with_options
from bot.content.agency import SOURCE_LANGUAGE, Agency
from bot.content.generate import entry_variations
from bot.content.model import Entry, RenderSettings
from bot.language.conversation import variation_language
from bot.nlp.evaluate import LIVE_ROUTED, RETRIEVAL, selector_prediction
from bot.sms import sms_length

SENSITIVE_PREFIX = "sensitive_"
SMS_CHANNEL = "twilio"  # the channel name of the SMS variations (bot.content.generate)


@dataclass(frozen=True)
class Candidate:
    """One reading of the question: a content entry (``faq/<id>``, ``sensitive_<id>``) or another intent."""

    label: str
    confidence: float
    entry_id: str = ""

    @property
    def is_entry(self) -> bool:
        return bool(self.entry_id)


@dataclass(frozen=True)
class Reading:
    """The running model's reading of one question.

    ``pick``: what the citizen is answered with; ``runner_up``: what came closest (the answer
    selector's second choice when the pick is an FAQ answer, else the next intent);
    ``next_intent``: the intent classifier's second choice (shown when it differs).
    ``intent``: the intent after the model's gates, as Rasa reports it. ``language``: the
    question's, as the model's language detector reports it (English for a model without one).
    """

    text: str
    intent: Candidate
    pick: Candidate
    runner_up: Candidate | None
    next_intent: Candidate | None
    language: str = SOURCE_LANGUAGE


def _confidence(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def _intent_candidate(name: str, confidence: float, parse: Mapping[str, Any]) -> Candidate:
    """An intent of the ranking as a candidate; an FAQ intent stands for the selector's pick."""
    if name.startswith(SENSITIVE_PREFIX):
        return Candidate(name, confidence, name[len(SENSITIVE_PREFIX) :])
    if name in (*RETRIEVAL, LIVE_ROUTED):
        answers = _selector_ranking(parse)
        if answers:
            return answers[0]
    return Candidate(name, confidence)


def _selector_ranking(parse: Mapping[str, Any]) -> list[Candidate]:
    """The answer selector's ranking of FAQ, rumor and referral answers, best first."""
    ranking = selector_prediction(parse, RETRIEVAL[0]).get("ranking") or []
    found = []
    for item in ranking:
        key = str(item.get("intent_response_key") or "")
        retrieval, _, entry_id = key.partition("/")
        if retrieval == RETRIEVAL[0] and entry_id:
            found.append(Candidate(key, _confidence(item.get("confidence")), entry_id))
    return found


def read_parse(parse: Mapping[str, Any]) -> Reading:
    """The pick, runner-up, next intent and language of a ``POST /model/parse`` answer."""
    language = str(parse.get("language") or SOURCE_LANGUAGE)
    top = parse.get("intent") or {}
    name = str(top.get("name") or "")
    intent = Candidate(name, _confidence(top.get("confidence")))
    others = [r for r in parse.get("intent_ranking") or [] if str(r.get("name") or "") not in ("", name)]
    next_intent = (
        _intent_candidate(str(others[0]["name"]), _confidence(others[0].get("confidence")), parse)
        if others
        else None
    )
    if name in (*RETRIEVAL, LIVE_ROUTED):
        answers = _selector_ranking(parse)
        pick = answers[0] if answers else intent
        runner_up = answers[1] if len(answers) > 1 else next_intent
        # The next intent is worth its own line only when it is not an FAQ answer as well.
        shown_next = (
            next_intent if next_intent is not None and not next_intent.label.startswith("faq/") else None
        )
        return Reading(str(parse.get("text") or ""), intent, pick, runner_up, shown_next, language)
    pick = _intent_candidate(name, intent.confidence, {}) if name.startswith(SENSITIVE_PREFIX) else intent
    return Reading(str(parse.get("text") or ""), intent, pick, next_intent, None, language)


@dataclass(frozen=True)
class Reply:
    """What a citizen reads: one web chat text and one SMS text per wording, and the titles of the
    buttons after the answer (``answer_buttons`` in the settings: the same on every wording). On SMS
    the buttons are numbered lines in the text, as the SMS channel sends them.

    An entry under a message test has one wording per variant (each conversation gets one).
    ``unavailable`` says why the entry is not answered today (`unavailable`; "" when it is): the
    citizen then gets ``fallback`` instead, the polite "no current information" reply.
    ``valid_from`` / ``valid_until``: the entry's window, for saying so. ``language``: the language
    of the texts (English when the entry has no text in the language asked for: what such a citizen
    gets).
    """

    webchat: tuple[str, ...]
    sms: tuple[str, ...]
    unavailable: str = ""
    fallback: str = ""
    valid_from: str = ""
    valid_until: str = ""
    language: str = SOURCE_LANGUAGE
    buttons: tuple[str, ...] = ()

    @property
    def sms_segments(self) -> tuple[int, ...]:
        """How many text messages each SMS wording takes (GSM-7 or UCS-2, as the carriers count)."""
        return tuple(sms_length(text).segments for text in self.sms)


RETIRED = "retired"
OUTSIDE_WINDOW = "outside_window"


def unavailable(entry: Entry, today: date) -> str:
    """Why citizens are not answered with `entry` on `today`: RETIRED, OUTSIDE_WINDOW, or "" (they are)."""
    if entry.retired:
        return RETIRED
    return "" if entry.answerable_on(today) else OUTSIDE_WINDOW


def in_language(variations: list[dict[str, Any]], language: str) -> tuple[str, list[dict[str, Any]]]:
    """The variations written in `language` (those with its language condition; English ones carry
    none), or the English ones when there are none in it; and the language they are in."""
    own = [v for v in variations if (variation_language(v) or SOURCE_LANGUAGE) == language]
    if own:
        return language, own
    return SOURCE_LANGUAGE, [v for v in variations if variation_language(v) is None]


def reply(
    entry: Entry,
    settings: RenderSettings,
    agency: Agency,
    today: date,
    fallback: str = "",
    language: str = SOURCE_LANGUAGE,
) -> Reply:
    """The entry's reply as web chat and SMS texts in `language` (`in_language`), the agency's facts
    filled in as that language's readers get them (unknown ones left as written)."""
    said, variations = in_language(list(entry_variations(entry, settings)), language)
    facts = agency.in_language(said)
    web: list[tuple[str, list[str]]] = []
    sms: list[tuple[str, list[str]]] = []
    for variation in variations:
        text = facts.expand(str(variation["text"]), strict=False)
        titles = [str(button["title"]) for button in variation.get("buttons") or []]
        (sms if variation.get("channel") == SMS_CHANNEL else web).append((text, titles))
    why = unavailable(entry, today)
    texts = tuple(text for text, _ in web)
    by_sms = tuple(sms_with_options(text, titles, said) for text, titles in sms or web)
    buttons = tuple(web[0][1]) if web else ()
    return Reply(texts, by_sms, why, fallback, entry.valid_from, entry.valid_until, said, buttons)


def unavailable_text(
    responses_file: Path,
    agency: Agency,
    name: str = "utter_answer_unavailable",
    language: str = SOURCE_LANGUAGE,
) -> str:
    """The first text of response `name` in a responses file in `language` (else English), facts
    filled in; "" if it is not there."""
    try:
        raw = yaml.safe_load(responses_file.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return ""
    found = (raw.get("responses") or {}).get(name) or []
    said, variations = in_language([v for v in found if isinstance(v, dict) and v.get("text")], language)
    texts = [str(v.get("text")) for v in variations]
    return agency.in_language(said).expand(texts[0], strict=False) if texts else ""
