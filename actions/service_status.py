"""Which online services (payments, permits, 311 app, library catalog) are up: `action_check_service_status`.

A named service ("is the payment portal down?") gets its own answer; otherwise the ones with a
problem are listed and the rest named as working.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import resources as shared
from actions.common import (
    SERVICE_STATUS,
    EventList,
    LookupAction,
    fragment,
    latest_text,
    lookup,
    reply_language,
    say_if_stale,
)
from actions.parsing import find_by_name
from bot.clients.service_status import ServiceStatus
from bot.formatting import ago_text


class ActionCheckServiceStatus(LookupAction):
    unavailable_response = "utter_service_status_unavailable"

    def name(self) -> str:
        return "action_check_service_status"

    async def answer(
        self,
        resources: shared.Resources,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> EventList:
        fetched = await lookup(
            resources, SERVICE_STATUS, resources.service_status.statuses, kind=list[ServiceStatus]
        )
        statuses, now, language = fetched.value, resources.now(), reply_language(tracker)
        say_if_stale(dispatcher, fetched, resources, language)
        named = find_by_name(latest_text(tracker), statuses)
        for service in named:
            dispatcher.utter_message(
                response=f"utter_online_service_{service.status}",
                name=service.name,
                note=service.note,
                url=service.url,
                updated_ago=ago_text(service.updated, now, language) if service.updated else "",
            )
        if named:
            return []
        problems = [s for s in statuses if s.status != "up"]
        working = ", ".join(s.name for s in statuses if s.status == "up")
        if not problems:
            dispatcher.utter_message(response="utter_online_services_all_up", working=working)
            return []
        lines = [
            fragment(
                domain,
                f"utter_part_online_service_{s.status}",
                language=language,
                name=s.name,
                note=s.note,
                url=s.url,
            )
            for s in problems
        ]
        response = "utter_online_services_problems_others_up" if working else "utter_online_services_problems"
        dispatcher.utter_message(response=response, problems="\n".join(lines), working=working)
        return []
