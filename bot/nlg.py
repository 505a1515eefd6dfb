"""Rasa's response generator with the agency's facts filled in (``endpoints.yml``: ``nlg:``).

Rasa's own interpolation gives up on a whole text when one ``{...}`` has no value, so
``{agency.<key>}`` placeholders are expanded first, once, whenever Rasa hands over the
responses: at start and again at every model load (``Agent.load_model`` assigns
``nlg.responses``). What is left (``{position}``, slots) Rasa fills per message as usual.

A button's intent payload with entities (``/rate{"rating":"1"}``) looks like a placeholder to
Rasa's interpolation, which then logs an error with a traceback every time the button is sent
(and sends it unchanged). Its braces are doubled here, which the interpolation turns back into
single ones without a word.

While staff have a notice pinned (``bot.broadcasts.notice``), the greeting leads with it, worded by
``notice`` in data/broadcasts/alerts.yml: read from Redis (REDIS_HOST/PORT/DB/PASSWORD, as for the
tracker store) at every greeting, so it shows from the next message on, on every channel, without
retraining. Redis trouble leaves the notice out (logged); it never costs the citizen the greeting.

Rated answers (docs/feedback.md): every FAQ, rumor and referral answer (``utter_faq/<id>``; never a
crisis lifeline) and the lookup answers of data/feedback/rated.yml leave here with two feedback
buttons and a ``rating`` (a fresh answer id, the entry or lookup, its variant, kind and topic),
which Rasa copies into the bot event's metadata for the analytics. An answer an action sends with
its own choice buttons is not rated: thumbs next to choices would read as one more choice. While an
entry is under test (its variations carry ``metadata.variant``) the conversation's variant is said,
not a random variation, and its source link becomes the click-counting redirect. The content index
and the rated lookups are read with the responses, at every model load, not per message.

Live answers (docs/content-studio.md, "Live answers"): what the content studio publishes
(``bot.studio.live``) is said instead of the model's own wording of that entry from the next look
at Redis on, at most a second later, with no retraining: one cached version check a second per
process, the answers read only when it moved. A live answer replaces the model's wording only while
that wording is one the studio published or replaced (its digest is in ``known``); a hand-edit
retrained from the files wins. An entry that is retired or outside its ``valid_from`` /
``valid_until`` dates (today in the agency's time zone, AGENCY_TIMEZONE), whether the live answer or
the content files read at model load say so, gets ``utter_answer_unavailable`` (not rated), or
``utter_out_of_scope`` while the running model does not have that response yet. Redis trouble keeps
the live answers last read (none: the model's own), logged once a minute.
"""

from __future__ import annotations

import copy
import json
import logging
import random
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import redis.asyncio as aioredis
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.core.nlg.generator import ResponseVariationFilter
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from bot import action_fallback
from bot.broadcasts.notice import NoticeStore
from bot.broadcasts.texts import notice_lead
from bot.content.agency import AGENCY_FILE, SOURCE_LANGUAGE, Agency, UnknownFactError, load_agency
from bot.content.model import CONTENT_DIR, ContentError, Entry, all_entries, load_content
from bot.days import local_today
from bot.feedback.answers import RATING_KEY, feedback_buttons, new_answer_id, rating
from bot.feedback.links import tracked_link, with_tracked_source
from bot.feedback.texts import FeedbackFileError, load_rated, load_texts
from bot.feedback.variants import VARIANT_KEY, WEIGHT_KEY, assign, variant_of, weights_of
from bot.language.conversation import (
    REPLY_LANGUAGE_KEY,
    conversation_language,
    in_language,
    other_conditions,
    variation_language,
)
from bot.settings import Settings
from bot.studio.live import LiveAnswer, LiveReader, is_content_response, variations_digest

log = logging.getLogger(__name__)
Responses = dict[str, list[dict[str, Any]]]
NOTICE_LEADS = frozenset({"utter_greet"})  # responses a pinned notice comes before
REDIS_TIMEOUT = 0.5  # seconds: a slow Redis must not hold a greeting or an answer up
CONTENT_ANSWER_PREFIX = "utter_faq/"  # FAQ, rumor and referral answers; lifelines are utter_sensitive_*
UNAVAILABLE = "utter_answer_unavailable"  # for an entry retired or outside its dates (not rated)
DECLINE = "utter_out_of_scope"
UNAVAILABLE_UNTIL_RETRAINED = DECLINE  # said instead by a model trained before it existed
# A decline of a question about a crisis topic adds the topic's resource line (data/responses/safety.yml),
# and a lifeline reply those of the other needs the message names, as the SafetyGuard's report in the
# parse has them (bot.nlp.safety_guard.SOURCE; not imported: it loads Rasa).
RESOURCES_PREFIX = "utter_resources_"
LIFELINE_PREFIX = "utter_sensitive_"
SAFETY_REPORT = "safety"
_ENTITY_PAYLOAD = re.compile(r"(/[^{}\s]+)(\{.*\})", re.DOTALL)


def expand_value(value: Any, agency: Agency) -> Any:
    """``value`` (a text, or lists and mappings of texts) with the agency's facts filled in."""
    if isinstance(value, str):
        return agency.expand(value)
    if isinstance(value, list):
        return [expand_value(item, agency) for item in value]
    if isinstance(value, dict):
        return {key: expand_value(item, agency) for key, item in value.items()}
    return value


def protect_payload(payload: Any) -> Any:
    """An intent payload's JSON entities with their braces doubled (Rasa's interpolation undoes it)."""
    found = _ENTITY_PAYLOAD.fullmatch(payload) if isinstance(payload, str) else None
    if found is None:
        return payload
    try:
        json.loads(found.group(2))
    except ValueError:  # "{option_1}" and the like: a placeholder Rasa fills
        return payload
    return found.group(1) + found.group(2).replace("{", "{{").replace("}", "}}")


def protect_buttons(buttons: Any) -> Any:
    if not isinstance(buttons, list):
        return buttons
    return [
        {**button, "payload": protect_payload(button["payload"])}
        if isinstance(button, dict) and "payload" in button
        else button
        for button in buttons
    ]


def expand_responses(responses: Responses, agency: Agency) -> Responses:
    """A copy of ``responses`` with every text, button and payload expanded (conditions untouched).

    A variation in another language gets the agency's facts in that language (``translations:`` in
    data/agency.yml: "de lunes a sábado" for the 311 hours). Raises ``UnknownFactError`` naming the
    response when a placeholder is not a fact.
    """
    expanded: Responses = {}
    for name, variations in responses.items():
        try:
            expanded[name] = [
                {key: _expanded(key, value, agency.in_language(language)) for key, value in variation.items()}
                for variation in variations
                for language in [variation_language(variation) or SOURCE_LANGUAGE]
            ]
        except UnknownFactError as exc:
            raise UnknownFactError(exc.keys, exc.path, f"response {name}") from None
    return expanded


def _expanded(key: str, value: Any, agency: Agency) -> Any:
    if key == "condition":
        return copy.deepcopy(value)
    if key == "buttons":
        return protect_buttons(expand_value(value, agency))
    return expand_value(value, agency)


@dataclass(frozen=True)
class Served:
    """The replies in effect: the model's (facts filled in) with the live answers over theirs, and the
    content entries they answer for (kind, topic and source for ratings; retired and dates)."""

    responses: Responses
    entries: Mapping[str, Entry]


class AgencyNaturalLanguageGenerator(TemplatedNaturalLanguageGenerator):
    """``TemplatedNaturalLanguageGenerator`` whose responses carry the agency's facts.

    Rasa builds it as ``cls(endpoint_config=..., domain=...)``; ``agency_file`` (argument,
    else ``nlg: agency_file:`` in endpoints.yml, else ``data/agency.yml``) is read at every
    assignment of ``responses``, so a model reload also picks up edited facts.
    """

    def __init__(
        self,
        endpoint_config: EndpointConfig | None = None,
        domain: Domain | None = None,
        agency_file: Path | None = None,
        redis: aioredis.Redis | None = None,
        content_dir: Path | None = None,
        public_url: str | None = None,
    ) -> None:
        configured = endpoint_config.kwargs.get("agency_file") if endpoint_config else None
        self.agency_file = agency_file or (Path(configured) if configured else AGENCY_FILE)
        content = endpoint_config.kwargs.get("content_dir") if endpoint_config else None
        self.content_dir = content_dir or (Path(content) if content else CONTENT_DIR)
        self._responses: Responses = {}
        self._digests: dict[str, str] = {}  # content answer response -> digest of the model's raw wording
        self._entries: dict[str, Entry] = {}  # content answer response -> its entry, per the content files
        self._rated: dict[str, str] = {}  # rated lookup response -> the lookup it counts as
        self._public_url = public_url  # else RASA_PUBLIC_URL (bot.settings), on the first tested answer
        self._redis = redis  # else opened on first use, in Rasa's event loop
        self._zone: ZoneInfo | None = None  # the agency's (AGENCY_TIMEZONE), read on first use
        self._live = LiveReader(self.redis_client)
        self._told: set[tuple[str, str]] = set()  # (response, model digest) a hand-edit won for, logged
        self._served = Served({}, {})
        super().__init__(domain.responses if domain else {})
        action_fallback.install()  # an action that fails is answered with its apology, said here

    async def generate(
        self, utter_action: str, tracker: DialogueStateTracker, output_channel: str, **kwargs: Any
    ) -> dict[str, Any] | None:
        """The reply, stamped with the conversation's language: the messaging connectors' own words
        around it (privacy notice, option prompts) follow it (bot/channels/base.py)."""
        response = await self._reply(utter_action, tracker, output_channel, **kwargs)
        if response is None:
            return None
        return {**response, REPLY_LANGUAGE_KEY: conversation_language(tracker.current_slot_values())}

    async def _reply(
        self, utter_action: str, tracker: DialogueStateTracker, output_channel: str, **kwargs: Any
    ) -> dict[str, Any] | None:
        served = await self.served(utter_action)
        entry = served.entries.get(utter_action)
        if entry is not None and not entry.answerable_on(self.today()):
            unavailable = self.unavailable(utter_action, tracker, output_channel, **kwargs)
            if unavailable is not None:
                return unavailable
        response, variant = self._generate(utter_action, served, tracker, output_channel, **kwargs)
        if response is None:
            return None
        language = conversation_language(tracker.current_slot_values())
        if not kwargs.get("buttons"):  # an action's own choice buttons: not an answer to rate
            response = self.rated(utter_action, response, variant, served, language)
        if utter_action == DECLINE and response.get("text"):
            return self.with_resource_lines(response, tracker, output_channel, "topic")
        if utter_action.startswith(LIFELINE_PREFIX) and response.get("text"):
            return self.with_resource_lines(response, tracker, output_channel, "also")
        if utter_action not in NOTICE_LEADS or not response.get("text"):
            return response
        lead = await self.notice_lead(language)
        return {**response, "text": f"{lead}\n\n{response['text']}"} if lead else response

    def _generate(
        self,
        utter_action: str,
        served: Served,
        tracker: DialogueStateTracker,
        output_channel: str,
        **kwargs: Any,
    ) -> tuple[dict[str, Any] | None, str]:
        """The filled response and the variant said ("" unless the response is under test)."""
        filled = tracker.current_slot_values()
        weights = weights_of(served.responses.get(utter_action) or [])
        if weights:
            variant = assign(tracker.sender_id, self.entry_id(utter_action, served), weights)
            variation = self.variation(served.responses, utter_action, output_channel, filled, variant)
            if variation is not None:
                response = self._fill_response(copy.deepcopy(variation), filled, **kwargs)
                return without_variant_metadata(response), variant
        return self.say(served.responses, utter_action, output_channel, filled, **kwargs), ""

    def say(
        self,
        responses: Responses,
        utter_action: str,
        output_channel: str,
        filled: dict[str, Any],
        **kwargs: Any,
    ) -> dict[str, Any] | None:
        """Rasa's own pick (``generate_from_slots``), among `responses` instead of the model's only."""
        if utter_action not in responses:
            return None
        suitable = suitable_variations(responses, utter_action, output_channel, filled)
        if not suitable:
            return None
        return self._fill_response(copy.deepcopy(random.choice(suitable)), filled, **kwargs)

    def variation(
        self,
        responses: Responses,
        utter_action: str,
        output_channel: str,
        filled: dict[str, Any],
        variant: str,
    ) -> dict[str, Any] | None:
        """The variation of `variant` Rasa would consider for this channel, else its plain one."""
        suitable = suitable_variations(responses, utter_action, output_channel, filled)
        own = in_language(responses[utter_action], conversation_language(filled))
        plain = [v for v in own if not v.get("channel") and not other_conditions(v)]
        for variation in [*suitable, *plain]:
            if variant_of(variation) == variant:
                return variation
        return None

    def unavailable(
        self, utter_action: str, tracker: DialogueStateTracker, output_channel: str, **kwargs: Any
    ) -> dict[str, Any] | None:
        """The "no current information" reply (never rated) for an entry retired or outside its dates."""
        name = UNAVAILABLE if UNAVAILABLE in self._responses else UNAVAILABLE_UNTIL_RETRAINED
        if name != UNAVAILABLE:
            self._live.warn.warning(
                "unavailable", "nlg: the model has no %s yet (retrain it): said %s instead", UNAVAILABLE, name
            )
        log.info("nlg: %s is retired or outside its dates: said %s", utter_action, name)
        return self.say(self._responses, name, output_channel, tracker.current_slot_values(), **kwargs)

    def with_resource_lines(
        self, response: dict[str, Any], tracker: DialogueStateTracker, output_channel: str, key: str
    ) -> dict[str, Any]:
        """The reply ends with where help is for the crisis topics the SafetyGuard reported under
        ``key`` (``utter_resources_<lifeline intent>``): the topic of a declined question about it
        ("how many people are homeless in the US": calmly, not the emergency reply, which is for a
        person in need), or the other needs of a message given a lifeline ("he hit me and threw me
        out, nowhere to sleep tonight": the outreach line, then where to turn about the violence)."""
        parse: dict[str, Any] = dict(tracker.latest_message.parse_data) if tracker.latest_message else {}
        reported = (parse.get(SAFETY_REPORT) or {}).get(key) or []
        filled = tracker.current_slot_values()
        lines = [
            line["text"]
            for topic in ([reported] if isinstance(reported, str) else reported)
            if (line := self.say(self._responses, f"{RESOURCES_PREFIX}{topic}", output_channel, filled))
            and line.get("text")
        ]
        return {**response, "text": "\n\n".join([response["text"], *lines])} if lines else response

    def today(self) -> date:
        """Today in the agency's time zone: the day an entry's ``valid_from`` / ``valid_until`` mean."""
        if self._zone is None:
            self._zone = ZoneInfo(Settings.from_env().agency.timezone)
        return local_today(datetime.now(timezone.utc), self._zone)

    def entry_id(self, utter_action: str, served: Served | None = None) -> str:
        """The content entry a response answers with (its response name when it is not a content answer)."""
        entry = (served or self._served).entries.get(utter_action)
        if entry is not None:
            return entry.id
        return utter_action.removeprefix(CONTENT_ANSWER_PREFIX)

    def rated_as(self, utter_action: str, served: Served | None = None) -> tuple[str, str, str] | None:
        """(entry or lookup, kind, topic) when `utter_action` is a rated answer, else None."""
        if utter_action.startswith(CONTENT_ANSWER_PREFIX):
            entry = (served or self._served).entries.get(utter_action)
            return (entry.id, entry.kind, entry.topic) if entry else (self.entry_id(utter_action), "faq", "")
        if utter_action in self._rated:
            return self._rated[utter_action], "lookup", ""
        return None

    def rated(
        self,
        utter_action: str,
        response: dict[str, Any],
        variant: str,
        served: Served | None = None,
        language: str = SOURCE_LANGUAGE,
    ) -> dict[str, Any]:
        """`response` with its `rating` and the feedback buttons (in `language`) when it is a rated answer."""
        served = served or self._served
        rated_as = self.rated_as(utter_action, served)
        if rated_as is None:
            return response
        try:
            titles = load_texts(language=language).buttons
        except FeedbackFileError as exc:  # a broken wording file costs the rating, never the answer
            log.warning("nlg: answer sent without rating buttons (%s)", exc)
            return response
        entry_id, kind, topic = rated_as
        answer_id = new_answer_id()
        rated = {**response, RATING_KEY: rating(answer_id, entry_id, kind, variant, topic, language)}
        rated["buttons"] = [*(response.get("buttons") or []), *feedback_buttons(answer_id, titles)]
        entry = served.entries.get(utter_action)
        if variant and entry is not None and entry.source and isinstance(rated.get("text"), str):
            link = tracked_link(self.public_url, entry.id, variant)
            rated["text"] = with_tracked_source(rated["text"], entry.source, link)
        return rated

    @property
    def public_url(self) -> str:
        """Where a citizen's browser reaches Rasa (RASA_PUBLIC_URL, else this machine's Rasa port)."""
        if self._public_url is None:
            self._public_url = Settings.from_env().rasa.browser_url
        return self._public_url

    def redis_client(self) -> aioredis.Redis:
        """Rasa's Redis (REDIS_HOST/PORT/DB/PASSWORD), opened on first use in Rasa's event loop."""
        if self._redis is None:
            self._redis = aioredis.Redis.from_url(
                Settings.from_env().redis.url,
                socket_timeout=REDIS_TIMEOUT,
                socket_connect_timeout=REDIS_TIMEOUT,
            )
        return self._redis

    async def notice_lead(self, language: str = SOURCE_LANGUAGE) -> str:
        """The pinned notice as it leads a reply, or "" (none pinned, or Redis could not say)."""
        try:
            notice = await NoticeStore(self.redis_client()).current()
            return notice_lead(notice, language) if notice else ""
        except Exception as exc:  # Redis down, a bad value, a bad texts file: greet without it
            log.warning("nlg: the pinned notice was left out (%s: %s)", type(exc).__name__, exc)
            return ""

    async def served(self, utter_action: str) -> Served:
        """The replies in effect; for a content answer, after a look at the live answers (cached)."""
        if is_content_response(utter_action) and await self._live.refresh():
            self._served = self.overlay()
        return self._served

    def overlay(self) -> Served:
        """The model's replies and entries with every live answer that may replace the model's over them."""
        answers = self._live.answers
        if not answers:
            return Served(self._responses, self._entries)
        try:
            agency = load_agency(self.agency_file)
        except ContentError as exc:
            self._live.warn.warning("agency", "nlg: live answers left out, agency file unreadable (%s)", exc)
            return Served(self._responses, self._entries)
        responses, entries = dict(self._responses), dict(self._entries)
        for name, answer in answers.items():
            if not self.replaceable(name, answer):
                continue
            try:
                responses[name] = expand_responses({name: answer.variations}, agency)[name]
            except UnknownFactError as exc:
                self._live.warn.warning(f"facts:{name}", "nlg: live answer left out: %s", exc)
                continue
            entries[name] = live_entry(answer, entries.get(name))
        return Served(responses, entries)

    def replaceable(self, name: str, answer: LiveAnswer) -> bool:
        """Whether `answer` may be said for `name`: the model's own wording is one the studio knows."""
        digest = self._digests.get(name)
        if digest is None:  # the model cannot pick it yet: a new entry waits for its retrain
            return False
        if digest in answer.known:
            return True
        if (name, digest) not in self._told:
            self._told.add((name, digest))
            log.warning(
                "nlg: %s: the model's wording was edited outside the studio and retrained; "
                "it is said instead of live version %s",
                name,
                answer.version,
            )
        return False

    @property
    def responses(self) -> Responses:
        """The expanded responses; assigning raw responses expands a copy of them."""
        return self._responses

    @responses.setter
    def responses(self, responses: Responses) -> None:
        raw = responses or {}
        self._responses = expand_responses(raw, load_agency(self.agency_file))
        self._digests = {name: variations_digest(v) for name, v in raw.items() if is_content_response(name)}
        self._entries, self._rated = rated_answers(self.content_dir)
        self._served = self.overlay()


def suitable_variations(
    responses: Responses, utter_action: str, output_channel: str, filled: dict[str, Any]
) -> list[dict[str, Any]]:
    """Rasa's choice of variations for the channel and slots, among those in the conversation's language."""
    own = {utter_action: in_language(responses[utter_action], conversation_language(filled))}
    return ResponseVariationFilter(own).responses_for_utter_action(utter_action, output_channel, filled)


def live_entry(answer: LiveAnswer, entry: Entry | None) -> Entry:
    """The content index's record of `entry` as `answer` published it."""
    if entry is None:
        entry = Entry(
            id=answer.entry_id,
            kind=answer.kind,
            questions=(),
            answer="",
            source="",
            department="",
            last_reviewed="",
        )
    return replace(
        entry,
        kind=answer.kind,
        topic=answer.topic,
        source=answer.source,
        sensitive=answer.sensitive,
        retired=answer.retired,
        valid_from=answer.valid_from,
        valid_until=answer.valid_until,
    )


def rated_answers(content_dir: Path) -> tuple[dict[str, Entry], dict[str, str]]:
    """Content entries by response name and rated lookup responses, read once per model load.

    Lifelines are in the index for their dates, never rated (their responses are ``utter_sensitive_*``).
    A file that cannot be read costs the rating details and dates, never the assistant.
    """
    try:
        entries = {e.response: e for e in all_entries(load_content(content_dir))}
    except (ContentError, OSError) as exc:
        log.warning("nlg: content unreadable, answers rated without kind and topic (%s)", exc)
        entries = {}
    try:
        rated = load_rated()
    except FeedbackFileError as exc:
        log.warning("nlg: lookup answers are not rated (%s)", exc)
        rated = {}
    return entries, rated


def without_variant_metadata(response: dict[str, Any]) -> dict[str, Any]:
    """The response without the test's bookkeeping (the variant goes out in its `rating`)."""
    metadata = response.get("metadata")
    if not isinstance(metadata, dict):
        return response
    rest = {k: v for k, v in metadata.items() if k not in (VARIANT_KEY, WEIGHT_KEY)}
    cleaned = {k: v for k, v in response.items() if k != "metadata"}
    return {**cleaned, "metadata": rest} if rest else cleaned
