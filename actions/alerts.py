"""Alerts in effect now, optionally for one area: `action_check_alerts`.

The feed is cached as sent (expired alerts included) and filtered at the moment of answering,
so an alert that expired a second ago is never shown, not even from a stale copy.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import resources as shared
from actions.common import ALERTS, EventList, LookupAction, fragment, latest_text, lookup, say_if_stale
from actions.parsing import alert_areas, entity_values, find_area
from bot.clients.alerts import Alert, select
from bot.formatting import moment_text

MAX_SHOWN = 3


def alert_lines(domain: dict[str, Any], alerts: list[Alert], zone: ZoneInfo) -> list[str]:
    """One `utter_part_alert` line per alert, its end time in the agency's zone."""
    return [
        fragment(
            domain, "utter_part_alert", severity=a.severity, event=a.event, headline=a.headline,
            area=a.area, instruction=a.instruction, expires=moment_text(a.expires, zone) if a.expires else "",
        )
        for a in alerts
    ]  # fmt: skip


class ActionCheckAlerts(LookupAction):
    unavailable_response = "utter_alerts_unavailable"

    def name(self) -> str:
        return "action_check_alerts"

    async def answer(
        self,
        resources: shared.Resources,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> EventList:
        fetched = await lookup(resources, ALERTS, resources.alerts.fetch, kind=list[Alert])
        places = entity_values(tracker.latest_message, "place")
        area = (
            places[0]
            if places
            else find_area(latest_text(tracker), alert_areas(a.area for a in fetched.value))
        )
        shown = select(fetched.value, now=resources.now(), area=area)
        say_if_stale(dispatcher, fetched, resources)
        if not shown:
            dispatcher.utter_message(
                response="utter_alerts_none_in_area" if area else "utter_alerts_none", area=area
            )
            return []
        lines = alert_lines(domain, shown[:MAX_SHOWN], resources.config.zone)
        if len(shown) > MAX_SHOWN:
            lines.append(fragment(domain, "utter_part_alerts_more", count=len(shown) - MAX_SHOWN))
        dispatcher.utter_message(
            response="utter_alerts_in_area" if area else "utter_alerts",
            area=area,
            count=len(shown),
            alerts="\n".join(lines),
        )
        return []
