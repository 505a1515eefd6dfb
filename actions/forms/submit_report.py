"""Filing a 311 report, part 2: confirm, submit exactly once, or cancel.

Exactly once: `action_submit_report` takes a Redis `SET NX` guard named after the conversation
and the timestamp of the `action_confirm_report` event the "yes" answers. A retried action, a
Rasa restart replaying the turn, or a double-tapped "Yes" that gets the action predicted again
all find the guard taken and repeat the first outcome instead of POSTing again. The guard then
holds that outcome (the request number) for a day. Without Redis nothing is filed (the citizen
is told to call 311): a duplicate report is worse than asking once more.
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from redis.exceptions import RedisError

from actions import resources as shared
from actions.common import EventList, bounded, conversation_ref, latest_intent
from actions.forms.report_issue import NO_CONTACT, REQUIRED, end_form, reset_report
from actions.parsing import contact_details
from bot.clients.errors import AgencyUnavailable, NotFound, Rejected
from bot.clients.open311 import CreatedRequest
from bot.location import coordinates

log = logging.getLogger(__name__)

CONFIRM_ACTION = "action_confirm_report"
GUARD_PREFIX = "civic:report-submit:v1"
GUARD_SECONDS = 86400
PENDING = "pending"


def report(tracker: Tracker) -> dict[str, Any] | None:
    """The collected report, or None when a required field is missing (cancelled, never filled)."""
    values = {slot: tracker.get_slot(slot) for slot in (*REQUIRED, "service_name")}
    return values if all(values[slot] for slot in REQUIRED) else None


def confirmation_time(events: list[dict[str, Any]]) -> float | None:
    """Timestamp of the latest `action_confirm_report`: the question this "yes" answers."""
    for event in reversed(events):
        if event.get("event") == "action" and event.get("name") == CONFIRM_ACTION:
            return event.get("timestamp")
    return None


def guard_key(sender_id: str, confirmed_at: float | None) -> str:
    """Redis key of the guard; the conversation id is hashed (on SMS it is a phone number)."""
    digest = hashlib.sha256(f"{sender_id}\x1f{confirmed_at!r}".encode()).hexdigest()[:40]
    return f"{GUARD_PREFIX}:{digest}"


def report_media(events: list[dict[str, Any]]) -> str | None:
    """The photo the citizen sent while reporting (a channel puts its URL in `metadata.media_url`).

    Only messages since the report was asked for count, so an old photo never joins a new report.
    """
    for event in reversed(events):
        if event.get("event") != "user":
            continue
        url = (event.get("metadata") or {}).get("media_url")
        if isinstance(url, str) and url.startswith(("https://", "http://")):
            return url
        if ((event.get("parse_data") or {}).get("intent") or {}).get("name") == "report_problem":
            return None
    return None


def request_fields(values: dict[str, Any]) -> dict[str, Any]:
    """Open311 create_request arguments: a pin as lat/long, else the typed address; email or phone."""
    fields: dict[str, Any] = {"description": values["description"]}
    pin = coordinates(values["location"])
    fields.update({"lat": pin[0], "long": pin[1]} if pin else {"address_string": values["location"]})
    if values.get("media_url"):
        fields["media_url"] = values["media_url"]
    contact = values["contact"] if values["contact"] != NO_CONTACT else ""
    found = contact_details(contact) if contact else None
    if found:
        fields[found[0]] = found[1]
    return fields


def nothing_was_filed(exc: AgencyUnavailable) -> bool:
    """The agency refused, or was never reached: safe to say nothing was filed. Otherwise we can't know."""
    return isinstance(exc, (Rejected, NotFound)) or exc.reason == "could not connect"


def say_outcome(dispatcher: CollectingDispatcher, outcome: dict[str, Any]) -> None:
    state = outcome.get("state")
    if state == "filed" and outcome.get("request_id"):
        dispatcher.utter_message(
            response="utter_report_filed", request_id=outcome["request_id"], notice=outcome.get("notice", "")
        )
    elif state == "filed":
        dispatcher.utter_message(
            response="utter_report_received_token",
            token=outcome.get("token", ""),
            notice=outcome.get("notice", ""),
        )
    elif state == "not_filed":
        dispatcher.utter_message(response="utter_report_failed")
    elif state == "unknown":
        dispatcher.utter_message(response="utter_report_uncertain")
    else:
        dispatcher.utter_message(response="utter_report_pending")


class ActionConfirmReport(Action):
    """Shows the collected report with Yes/No buttons (the buttons are in the response)."""

    def name(self) -> str:
        return CONFIRM_ACTION

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> EventList:
        values = report(tracker)
        if values is None:  # the form ended without a report (the 311 system was down): nothing to confirm
            return []
        dispatcher.utter_message(
            response="utter_confirm_report",
            service_name=values["service_name"] or values["service_code"],
            location=values["location"],
            description=values["description"],
            contact=values["contact"],
        )
        return []


class ActionSubmitReport(Action):
    def name(self) -> str:
        return "action_submit_report"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> EventList:
        ref = conversation_ref(tracker)
        confirmed_at = confirmation_time(tracker.events)
        values = report(tracker) if confirmed_at is not None else None  # never file what wasn't confirmed
        key = guard_key(tracker.sender_id, confirmed_at)
        try:
            resources = await shared.current()
        except Exception:
            log.exception("report not filed: no action-server resources (conversation %s)", ref)
            dispatcher.utter_message(response="utter_report_failed")
            return reset_report()
        try:
            taken = values is not None and await resources.redis.set(key, PENDING, nx=True, ex=GUARD_SECONDS)
            if not taken:
                earlier = await resources.redis.get(key)
                if earlier is None:
                    dispatcher.utter_message(response="utter_report_nothing_to_file")
                else:
                    log.info("report already submitted for this confirmation (conversation %s)", ref)
                    say_outcome(dispatcher, json.loads(earlier) if earlier != PENDING.encode() else {})
                return reset_report()
        except (RedisError, OSError) as exc:
            log.error(
                "report not filed: the submission guard is unavailable (%s, conversation %s)",
                type(exc).__name__,
                ref,
            )
            dispatcher.utter_message(response="utter_report_failed")
            return reset_report()
        assert values is not None
        values["media_url"] = report_media(tracker.events)
        outcome = await self._file(resources, values, ref)
        try:
            await resources.redis.set(key, json.dumps(outcome), ex=GUARD_SECONDS)
        except (RedisError, OSError) as exc:
            log.warning("report outcome not kept (%s, conversation %s)", type(exc).__name__, ref)
        say_outcome(dispatcher, outcome)
        return reset_report()

    @staticmethod
    async def _file(resources: shared.Resources, values: dict[str, Any], ref: str) -> dict[str, Any]:
        # One attempt (the client never retries a POST that may have arrived), bounded like every lookup.
        create = bounded(
            lambda: resources.open311.create_request(values["service_code"], **request_fields(values)),
            resources.config.timeout_seconds,
            "open311",
        )
        try:
            created: CreatedRequest = await create()
        except AgencyUnavailable as exc:
            state = "not_filed" if nothing_was_filed(exc) else "unknown"
            log.warning("report %s (conversation %s): %s", state.replace("_", " "), ref, exc.reason)
            return {"state": state}
        except Exception:
            log.exception("report outcome unknown (conversation %s)", ref)
            return {"state": "unknown"}
        log.info("report filed (conversation %s)", ref)
        return {
            "state": "filed",
            "request_id": created.service_request_id,
            "token": created.token,
            "notice": created.service_notice,
        }


# Exits whose own reply follows the cancellation (the menu, goodbye): no "anything else?" before it.
EXITS_WITH_REPLY = frozenset({"ask_capabilities", "goodbye"})


class ActionCancelReport(Action):
    """ "cancel", "menu" or "bye" during the form or at the confirmation: forget everything, file nothing."""

    def name(self) -> str:
        return "action_cancel_report"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> EventList:
        quiet = latest_intent(tracker) in EXITS_WITH_REPLY
        dispatcher.utter_message(response="utter_report_dropped" if quiet else "utter_report_cancelled")
        return end_form()
