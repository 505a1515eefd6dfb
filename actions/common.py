"""What every live-lookup action shares: cache policies, the deadline, the stale label, failure replies.

A lookup action subclasses `LookupAction` and writes `answer()`; `run()` turns every agency
failure into the action's `unavailable_response` (phone and web page of 311), so no exception
ever reaches the citizen as silence. Logs carry the API, the failure reason (never personal
data, see bot/clients/errors.py) and a hash of the conversation id, never the id itself: on an
SMS channel it is the citizen's phone number.
"""

from __future__ import annotations

import abc
import asyncio
import hashlib
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction
from rasa_sdk.executor import CollectingDispatcher

from actions import resources as shared
from bot.cache import Fetched, cache_key
from bot.clients.errors import AgencyUnavailable
from bot.content.agency import SOURCE_LANGUAGE, load_agency
from bot.formatting import as_of_text
from bot.handoff.reasons import lookup_failures
from bot.language.conversation import conversation_language, in_language

log = logging.getLogger(__name__)
T = TypeVar("T")
EventList = list[dict[str, Any]]

# Messages a slot-filling form must never take as an answer: the rules answer them instead.
NOT_AN_ANSWER = frozenset(
    {
        "cancel",
        "bot_challenge",
        "request_human",
        "feedback",
        "sensitive_mental_health_crisis",
        "sensitive_immediate_danger",
        "sensitive_abuse_help",
        "sensitive_homelessness_help",
    }
)


@dataclass(frozen=True)
class CachePolicy:
    """How long one kind of lookup is fresh (`ttl`) and then still usable when the agency is down."""

    name: str
    ttl: float
    stale_ttl: float


MINUTE, HOUR, DAY = 60, 3600, 86400
ALERTS = CachePolicy("alerts", MINUTE, HOUR)
SERVICES = CachePolicy("services", HOUR, DAY)
FACILITIES = CachePolicy("facilities", 15 * MINUTE, DAY)
COLLECTION = CachePolicy("collection", DAY, 7 * DAY)
SERVICE_STATUS = CachePolicy("service_status", MINUTE, 30 * MINUTE)
REQUEST_STATUS = CachePolicy("request_status", MINUTE, HOUR)


def bounded(fetch: Callable[[], Awaitable[T]], seconds: float, api: str) -> Callable[[], Awaitable[T]]:
    """`fetch` with one overall deadline: the clients retry a GET once, which could double the wait."""

    async def run() -> T:
        try:
            return await asyncio.wait_for(fetch(), seconds)
        except asyncio.TimeoutError:
            raise AgencyUnavailable(api, f"no answer within {seconds:g}s") from None

    return run


async def lookup(
    resources: shared.Resources,
    policy: CachePolicy,
    fetch: Callable[[], Awaitable[T]],
    *key_parts: str,
    kind: Any,
) -> Fetched[T]:
    """One cached, deadline-bound agency call; `key_parts` (an address, a number) are hashed into the key."""
    return await resources.cache.get_or_fetch(
        cache_key(policy.name, *key_parts),
        bounded(fetch, resources.config.timeout_seconds, policy.name),
        policy.ttl,
        policy.stale_ttl,
        kind=kind,
    )


def say_if_stale(
    dispatcher: CollectingDispatcher,
    fetched: Fetched[Any],
    resources: shared.Resources,
    language: str = SOURCE_LANGUAGE,
) -> None:
    """ "I couldn't reach the city's system just now; this is what it said at 10:42 am." """
    if fetched.stale:
        when = as_of_text(fetched.fetched_at, resources.config.zone, resources.now(), language)
        dispatcher.utter_message(response="utter_lookup_stale", as_of=when)


def conversation_ref(tracker: Tracker) -> str:
    """A short, stable stand-in for the conversation id in logs."""
    return hashlib.sha256(str(tracker.sender_id).encode()).hexdigest()[:10]


def reply_language(tracker: Tracker) -> str:
    """The language the values and lines an action writes are in: the conversation's."""
    return conversation_language(tracker.slots)


def latest_intent(tracker: Tracker) -> str:
    return str(((tracker.latest_message or {}).get("intent") or {}).get("name") or "")


def latest_text(tracker: Tracker) -> str:
    return str((tracker.latest_message or {}).get("text") or "")


_PLACEHOLDER = re.compile(r"{([^\n{}]+?)}")


def fragment(
    domain: Mapping[str, Any], response: str, /, *, language: str = SOURCE_LANGUAGE, **values: Any
) -> str:
    """One line of a longer reply, from the domain `response`: its first plain-text variation in
    `language` (the conversation's; English when the response has none in it).

    Lists (alerts, pickups, online services) are sent as one message, which matters on SMS;
    each line's wording is a response staff edit like any other (`utter_part_...`). Rasa's NLG
    never sees these lines, so the language is chosen here, as bot/nlg.py chooses it for responses.
    """
    variations = in_language((domain.get("responses") or {}).get(response) or [], language)
    text = next((v["text"] for v in variations if v.get("text") and not v.get("condition")), None)
    if text is None:
        raise KeyError(f"the domain has no text response {response!r}")
    text = load_agency().expand(text)  # the domain Rasa sends still has {agency.<key>} placeholders
    return _PLACEHOLDER.sub(lambda m: str(values.get(m.group(1), "")), text).strip()


def joined(*parts: str, separator: str = " · ") -> str:
    """Non-empty data values side by side ("100 Main Street · https://...")."""
    return separator.join(p for p in parts if p)


class LookupAction(Action, abc.ABC):
    """A custom action that answers from an agency API and always says something."""

    unavailable_response = "utter_lookup_unavailable"

    @abc.abstractmethod
    def name(self) -> str: ...

    @abc.abstractmethod
    async def answer(
        self,
        resources: shared.Resources,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> EventList: ...

    def after_failure(self, tracker: Tracker) -> EventList:
        """Events to return when the agency could not answer (e.g. forget a slot)."""
        return []

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> EventList:
        try:
            resources = await shared.current()
            return await self.answer(resources, dispatcher, tracker, domain)
        except AgencyUnavailable as exc:
            log.warning(
                "%s: %s unavailable (conversation %s): %s",
                self.name(),
                exc.api,
                conversation_ref(tracker),
                exc.reason,
            )
        except Exception:
            log.exception("%s failed (conversation %s)", self.name(), conversation_ref(tracker))
        dispatcher.utter_message(response=self.unavailable_response)
        if lookup_failures(tracker.events) >= 1:  # this is the second in the session: offer a person
            return [*self.after_failure(tracker), FollowupAction("action_start_handoff")]
        return self.after_failure(tracker)
