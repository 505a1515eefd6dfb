"""Alerts in effect now or on a day asked about, optionally for one area: `action_check_alerts`.

The feed is cached as sent (expired alerts included) and filtered at the moment of answering,
so an alert that expired a second ago is never shown, not even from a stale copy. "Any alerts
tomorrow?" keeps the alerts whose effective and expiry times overlap that local day (from now
on: never one that has already expired), "tonight" the hours until the next morning.

A notice staff pinned (`bot.broadcasts.notice`) leads the answer, whatever follows; a citizen who
received a broadcast and asks about it ("is my street affected?") is answered from that broadcast
(`actions.broadcast_reply`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from redis.exceptions import RedisError

from actions import resources as shared
from actions.asked_day import asked_day, remember_day, when_text
from actions.broadcast_reply import answer_from_broadcast
from actions.common import (
    ALERTS,
    EventList,
    LookupAction,
    conversation_ref,
    fragment,
    latest_text,
    lookup,
    reply_language,
    say_if_stale,
)
from actions.parsing import alert_areas, entity_values, find_area
from bot.broadcasts.notice import NoticeStore
from bot.broadcasts.texts import alert_text, notice_lead
from bot.clients.alerts import Alert, select
from bot.content.agency import SOURCE_LANGUAGE
from bot.days import DayRef, day_bounds, local_today
from bot.formatting import moment_text

log = logging.getLogger(__name__)
MAX_SHOWN = 3
EVENING, MORNING = time(18), time(6)  # "tonight" runs from the evening (or now) to the next morning


def window(ref: DayRef, now: datetime, zone: ZoneInfo) -> tuple[datetime, datetime] | None:
    """The span a day question covers, from now at the earliest; None when it is over (yesterday)."""
    assert ref.day is not None
    start, end = day_bounds(ref.day, zone)
    if ref.kind == "tonight":
        start = datetime.combine(ref.day, EVENING, tzinfo=zone)
        end = datetime.combine(ref.day + timedelta(days=1), MORNING, tzinfo=zone)
    start = max(start, now)
    return (start, end) if start < end else None


def in_window(alerts: Iterable[Alert], start: datetime, end: datetime, area: str | None) -> list[Alert]:
    """Alerts a citizen may see that are in effect at some time from `start` to `end`, most severe first."""
    return [a for a in select(alerts, now=start, area=area) if a.effective is None or a.effective < end]


def alert_lines(
    domain: dict[str, Any],
    alerts: list[Alert],
    zone: ZoneInfo,
    now: datetime | None = None,
    language: str = SOURCE_LANGUAGE,
) -> list[str]:
    """One `utter_part_alert` line per alert, its end time in the agency's zone, in `language`; an
    alert that starts after `now` (asked about a later day) says from when. The alert's text is the
    feed's in `language`; an alert the feed has only in another language says so on a line of its own
    (`only_in`, data/broadcasts/alerts.yml)."""
    read = [(a, *alert_text(a, language)) for a in alerts]
    return [
        fragment(
            domain, "utter_part_alert_from" if now and a.effective and a.effective > now else "utter_part_alert",  # noqa: E501
            language=language,
            severity=a.severity, event=text.event or a.event, area=a.area, instruction=text.instruction,
            headline=text.headline or text.event or a.headline,
            expires=moment_text(a.expires, zone, language) if a.expires else "",
            effective=moment_text(a.effective, zone, language) if a.effective else "",
        ) + (f"\n{note}" if note else "")
        for a, text, note in read
    ]  # fmt: skip


def more_line(domain: dict[str, Any], shown: list[Alert], language: str) -> list[str]:
    """ "…and 2 more." when there are more alerts than a reply lists."""
    if len(shown) <= MAX_SHOWN:
        return []
    return [fragment(domain, "utter_part_alerts_more", language=language, count=len(shown) - MAX_SHOWN)]


async def say_notice(resources: shared.Resources, dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
    """The pinned notice first; Redis trouble leaves it out (the alerts still follow)."""
    try:
        notice = await NoticeStore(resources.redis).current()
    except (RedisError, OSError, ValueError, TypeError) as exc:
        log.warning("alerts: the pinned notice was left out for %s: %s", conversation_ref(tracker), exc)
        return
    if notice is not None:
        dispatcher.utter_message(text=notice_lead(notice, reply_language(tracker)))


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
        await say_notice(resources, dispatcher, tracker)
        if await answer_from_broadcast(resources, dispatcher, tracker):
            return []
        fetched = await lookup(resources, ALERTS, resources.alerts.fetch, kind=list[Alert])
        places = entity_values(tracker.latest_message, "place")
        area = (
            places[0]
            if places
            else find_area(latest_text(tracker), alert_areas(a.area for a in fetched.value))
        )
        now, zone, language = resources.now(), resources.config.zone, reply_language(tracker)
        ref = asked_day(tracker, now, zone)
        span = window(ref, now, zone) if ref and ref.day and ref.kind != "today" else None
        if ref is not None and ref.day is None:
            say_if_stale(dispatcher, fetched, resources, language)
            dispatcher.utter_message(response="utter_day_invalid", said=ref.said)
            return []
        if ref is not None and span is not None:
            say_if_stale(dispatcher, fetched, resources, language)
            shown = in_window(fetched.value, *span, area)
            self.say_on_day(dispatcher, domain, shown, ref, area, now, zone, language)
            return remember_day(ref, local_today(now, zone))
        shown = select(fetched.value, now=now, area=area)
        say_if_stale(dispatcher, fetched, resources, language)
        if not shown:
            dispatcher.utter_message(
                response="utter_alerts_none_in_area" if area else "utter_alerts_none", area=area
            )
            return remember_day(ref, local_today(now, zone))
        lines = alert_lines(domain, shown[:MAX_SHOWN], zone, now, language)  # a later one says from when
        lines += more_line(domain, shown, language)
        dispatcher.utter_message(
            response="utter_alerts_in_area" if area else "utter_alerts",
            area=area,
            count=len(shown),
            alerts="\n".join(lines),
        )
        return remember_day(ref, local_today(now, zone))

    @staticmethod
    def say_on_day(
        dispatcher: CollectingDispatcher,
        domain: dict[str, Any],
        shown: list[Alert],
        ref: DayRef,
        area: str | None,
        now: datetime,
        zone: ZoneInfo,
        language: str = SOURCE_LANGUAGE,
    ) -> None:
        when = when_text(domain, ref, local_today(now, zone), language)
        if not shown:
            dispatcher.utter_message(
                response="utter_alerts_none_on_day_in_area" if area else "utter_alerts_none_on_day",
                area=area,
                when=when,
            )
            return
        lines = alert_lines(domain, shown[:MAX_SHOWN], zone, now, language)
        lines += more_line(domain, shown, language)
        dispatcher.utter_message(
            response="utter_alerts_on_day_in_area" if area else "utter_alerts_on_day",
            area=area,
            when=when,
            alerts="\n".join(lines),
        )
