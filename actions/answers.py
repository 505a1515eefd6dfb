"""Answers that a live alert can override: `action_give_live_answer`.

Content entries name the alert events that contradict them (`overridden_by:` in data/content).
The NLU routes such an answer here (intent `faq_live`, bot/nlp/live_router.py) instead of to
`utter_faq`, so every other answer stays a plain response. While one of those events is in
effect the alert leads and the answer it contradicts is not said; when the alert feed cannot
be checked the answer is given with a pointer to the alerts page, never silence.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import resources as shared
from actions.alerts import MAX_SHOWN, alert_lines
from actions.common import ALERTS, EventList, conversation_ref, lookup, reply_language
from bot.clients.alerts import Alert, select
from bot.clients.errors import AgencyUnavailable
from bot.content.model import all_entries, load_content
from bot.nlp.evaluate import RETRIEVAL, selector_prediction

log = logging.getLogger(__name__)


@functools.cache
def overrides() -> dict[str, frozenset[str]]:
    """Response key (`faq/<id>`) -> the alert events (case-folded) that override that answer."""
    return {
        entry.intent: frozenset(event.casefold() for event in entry.overridden_by)
        for entry in all_entries(load_content())
        if entry.overridden_by
    }


def selected_answer(message: dict[str, Any]) -> str:
    """The response key the answer selector chose for this message ("" when none)."""
    selected = selector_prediction(message, RETRIEVAL[0])
    return str((selected.get("response") or {}).get("intent_response_key") or "")


def contradicting(alerts: list[Alert], events: frozenset[str]) -> list[Alert]:
    return [alert for alert in alerts if alert.event.casefold() in events]


class ActionGiveLiveAnswer(Action):
    def name(self) -> str:
        return "action_give_live_answer"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> EventList:
        key = selected_answer(tracker.latest_message)
        if not key:
            dispatcher.utter_message(response="utter_out_of_scope")
            return []
        try:
            resources = await shared.current()
            fetched = await lookup(resources, ALERTS, resources.alerts.fetch, kind=list[Alert])
            in_effect = contradicting(
                select(fetched.value, now=resources.now()), overrides().get(key, frozenset())
            )
        except AgencyUnavailable as exc:
            log.warning(
                "answer %s: alerts unavailable (conversation %s): %s",
                key,
                conversation_ref(tracker),
                exc.reason,
            )
            in_effect = None
        except Exception:
            log.exception("answer %s: alerts check failed (conversation %s)", key, conversation_ref(tracker))
            in_effect = None
        if in_effect is None:
            dispatcher.utter_message(response=f"utter_{key}")
            dispatcher.utter_message(response="utter_answer_alerts_unchecked")
            return []
        if not in_effect:
            dispatcher.utter_message(response=f"utter_{key}")
            return []
        language = reply_language(tracker)
        lines = alert_lines(domain, in_effect[:MAX_SHOWN], resources.config.zone, language=language)
        dispatcher.utter_message(response="utter_answer_overridden_by_alert", alerts="\n".join(lines))
        return []
