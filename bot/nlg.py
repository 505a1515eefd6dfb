"""Rasa's response generator with the agency's facts filled in (``endpoints.yml``: ``nlg:``).

Rasa's own interpolation gives up on a whole text when one ``{...}`` has no value, so
``{agency.<key>}`` placeholders are expanded first, once, whenever Rasa hands over the
responses: at start and again at every model load (``Agent.load_model`` assigns
``nlg.responses``). What is left (``{position}``, slots) Rasa fills per message as usual.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.utils.endpoints import EndpointConfig

from bot.content.agency import AGENCY_FILE, Agency, UnknownFactError, load_agency

Responses = dict[str, list[dict[str, Any]]]


def expand_value(value: Any, agency: Agency) -> Any:
    """``value`` (a text, or lists and mappings of texts) with the agency's facts filled in."""
    if isinstance(value, str):
        return agency.expand(value)
    if isinstance(value, list):
        return [expand_value(item, agency) for item in value]
    if isinstance(value, dict):
        return {key: expand_value(item, agency) for key, item in value.items()}
    return value


def expand_responses(responses: Responses, agency: Agency) -> Responses:
    """A copy of ``responses`` with every text, button and payload expanded (conditions untouched).

    Raises ``UnknownFactError`` naming the response when a placeholder is not a fact.
    """
    expanded: Responses = {}
    for name, variations in responses.items():
        try:
            expanded[name] = [
                {
                    key: copy.deepcopy(value) if key == "condition" else expand_value(value, agency)
                    for key, value in variation.items()
                }
                for variation in variations
            ]
        except UnknownFactError as exc:
            raise UnknownFactError(exc.keys, exc.path, f"response {name}") from None
    return expanded


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
    ) -> None:
        configured = endpoint_config.kwargs.get("agency_file") if endpoint_config else None
        self.agency_file = agency_file or (Path(configured) if configured else AGENCY_FILE)
        self._responses: Responses = {}
        super().__init__(domain.responses if domain else {})

    @property
    def responses(self) -> Responses:
        """The expanded responses; assigning raw responses expands a copy of them."""
        return self._responses

    @responses.setter
    def responses(self, responses: Responses) -> None:
        self._responses = expand_responses(responses or {}, load_agency(self.agency_file))
