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
"""

from __future__ import annotations

import copy
import json
import logging
import re
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from bot.broadcasts.notice import NoticeStore
from bot.broadcasts.texts import notice_lead
from bot.content.agency import AGENCY_FILE, Agency, UnknownFactError, load_agency
from bot.settings import Settings

log = logging.getLogger(__name__)
Responses = dict[str, list[dict[str, Any]]]
NOTICE_LEADS = frozenset({"utter_greet"})  # responses a pinned notice comes before
NOTICE_REDIS_TIMEOUT = 0.5  # seconds: a slow Redis must not hold the greeting up
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

    Raises ``UnknownFactError`` naming the response when a placeholder is not a fact.
    """
    expanded: Responses = {}
    for name, variations in responses.items():
        try:
            expanded[name] = [
                {key: _expanded(key, value, agency) for key, value in variation.items()}
                for variation in variations
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
    ) -> None:
        configured = endpoint_config.kwargs.get("agency_file") if endpoint_config else None
        self.agency_file = agency_file or (Path(configured) if configured else AGENCY_FILE)
        self._responses: Responses = {}
        self._redis = redis  # else opened on the first greeting, in Rasa's event loop
        super().__init__(domain.responses if domain else {})

    async def generate(
        self, utter_action: str, tracker: DialogueStateTracker, output_channel: str, **kwargs: Any
    ) -> dict[str, Any] | None:
        response = await super().generate(utter_action, tracker, output_channel, **kwargs)
        if response is None or utter_action not in NOTICE_LEADS or not response.get("text"):
            return response
        lead = await self.notice_lead()
        return {**response, "text": f"{lead}\n\n{response['text']}"} if lead else response

    async def notice_lead(self) -> str:
        """The pinned notice as it leads a reply, or "" (none pinned, or Redis could not say)."""
        try:
            if self._redis is None:
                self._redis = aioredis.Redis.from_url(
                    Settings.from_env().redis.url,
                    socket_timeout=NOTICE_REDIS_TIMEOUT,
                    socket_connect_timeout=NOTICE_REDIS_TIMEOUT,
                )
            notice = await NoticeStore(self._redis).current()
            return notice_lead(notice) if notice else ""
        except Exception as exc:  # Redis down, a bad value, a bad texts file: greet without it
            log.warning("nlg: the pinned notice was left out (%s: %s)", type(exc).__name__, exc)
            return ""

    @property
    def responses(self) -> Responses:
        """The expanded responses; assigning raw responses expands a copy of them."""
        return self._responses

    @responses.setter
    def responses(self, responses: Responses) -> None:
        self._responses = expand_responses(responses or {}, load_agency(self.agency_file))
