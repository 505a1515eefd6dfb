"""A reply to a broadcast ("is my street affected?", "how long will it last?", "what should I do?")
continues the conversation, answered from the broadcast the citizen received.

The delivery worker remembers the last broadcast each conversation received (`bot.broadcasts.received`,
kept a week); a question asked within `RECENT_DAYS` of it is answered from it: its areas in words
(and whether the district the citizen names is one of them), how long it lasts (an alert's expiry,
read again from the feed, so an extension or a cancellation is what the citizen hears), what it says
to do, and its link. What the broadcast does not say is not guessed: the citizen is offered a person.

Three ways in: the intent `ask_about_broadcast` (data/nlu/broadcasts.yml; with no broadcast received
lately, the alerts in effect are looked up instead), `action_check_alerts` (the question sounds like
"alerts in my area") answers from the broadcast first, and `action_reply_to_broadcast` also runs where
the assistant would otherwise decline (the out-of-scope rule), declining as before
(`utter_out_of_scope`, as a follow-up action, so the decline is still recorded as one) when the
message is no reply to a broadcast.
Which question it is: the words listed in data/broadcasts/alerts.yml (`replies.questions`).

The answer is worded in the conversation's language: the file's translation of the replies, the
districts' names in it, its dates ("lun 30 nov, 6 p. m.") and its way of listing ("Riverside y Old
Town"); English, as always, where the file has no translation.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Any

from babel import localedata
from babel.lists import format_list
from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction
from rasa_sdk.executor import CollectingDispatcher
from redis.exceptions import RedisError

from actions import resources as shared
from actions.common import ALERTS, EventList, conversation_ref, latest_text, lookup, reply_language
from bot.broadcasts.model import ALERT, Broadcast, BroadcastStore
from bot.broadcasts.received import last_received
from bot.broadcasts.texts import BroadcastTexts, load_texts
from bot.clients.alerts import Alert
from bot.clients.errors import AgencyUnavailable
from bot.content.agency import SOURCE_LANGUAGE
from bot.formatting import moment_text
from bot.subscriptions.catalog import ALL, Catalog, load_catalog

log = logging.getLogger(__name__)
RECENT_DAYS = 3  # a question later than this is a new question, not a reply
ASKED_INTENT = "ask_about_broadcast"  # data/nlu/broadcasts.yml
HANDOFF_PAYLOAD = "/request_human"  # the existing handoff intent (rule: action_start_handoff)


async def received_broadcast(resources: shared.Resources, tracker: Tracker) -> Broadcast | None:
    """The broadcast this conversation received in the last `RECENT_DAYS`, if any."""
    broadcast_id = await last_received(resources.redis, str(tracker.sender_id))
    if not broadcast_id:
        return None
    broadcast = await BroadcastStore(resources.redis).get(broadcast_id)
    if broadcast is None:
        return None
    sent = broadcast.sent_at or broadcast.created
    return broadcast if resources.now().timestamp() - sent <= RECENT_DAYS * 86400 else None


def areas_text(
    catalog: Catalog, areas: tuple[str, ...], whole_city: str, language: str = SOURCE_LANGUAGE
) -> str:
    """ "Riverside and Old Town", "Downtown, Eastside and Westside", "the whole city"; in another
    language as CLDR lists ("Riverside y Old Town")."""
    if not areas or ALL in areas:
        return whole_city
    names = [catalog.area_name(a, whole_city) for a in areas]
    if language != SOURCE_LANGUAGE and localedata.exists(language):
        return format_list(names, locale=language)
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


async def answer_from_broadcast(
    resources: shared.Resources, dispatcher: CollectingDispatcher, tracker: Tracker, asked: bool = False
) -> bool:
    """Answer the message from the broadcast it replies to; False when it is no such reply.

    `asked`: the NLU took the message for a question about a broadcast (`ask_about_broadcast`), so one
    that names a district asks whether it is affected, and any other is answered with what it said.
    Never raises for Redis trouble: the caller then answers as it would have.
    """
    texts = load_texts(language=reply_language(tracker))  # English when the file has no translation
    message = latest_text(tracker)
    question = texts.question_kind(message)
    if question is None and asked:
        question = "where" if load_catalog(language=texts.language).areas_in(message) else "what_to_do"
    if question is None:
        return False
    try:
        broadcast = await received_broadcast(resources, tracker)
    except (RedisError, OSError) as exc:
        log.warning("broadcast reply: could not read what %s received: %s", conversation_ref(tracker), exc)
        return False
    if broadcast is None:
        return False
    zone = resources.config.zone
    sent = datetime.fromtimestamp(broadcast.sent_at or broadcast.created, timezone.utc)
    when = moment_text(sent, zone, texts.language)
    if question == "where":
        said, sure = where_answer(texts, broadcast, latest_text(tracker), when)
    elif question == "how_long":
        said, sure = await how_long_answer(resources, texts, broadcast, when)
    else:
        said, sure = texts.reply("what_to_do", when=when, text=broadcast.text), True
    if broadcast.link and broadcast.link not in said:
        said = f"{said}\n{texts.reply('link', link=broadcast.link)}"
    dispatcher.utter_message(text=said)
    if not sure:
        offer = [{"title": texts.reply("person_button"), "payload": HANDOFF_PAYLOAD}]
        dispatcher.utter_message(text=texts.reply("offer_person"), buttons=offer)
    log.info("broadcast reply: answered a %s question about %s", question, broadcast.id)
    return True


def where_answer(texts: BroadcastTexts, broadcast: Broadcast, message: str, when: str) -> tuple[str, bool]:
    """Its areas in words, and whether a district the citizen names is one of them."""
    catalog = load_catalog(language=texts.language)
    whole_city = texts.text("relay", "whole_city")
    areas = areas_text(catalog, broadcast.areas, whole_city, texts.language)
    lines = [texts.reply("areas", when=when, areas=areas)]
    if ALL in broadcast.areas or not broadcast.areas:
        return lines[0], True
    named = catalog.areas_in(message)
    if not named:  # a street the assistant cannot place: the link, and a person
        lines.append(texts.reply("area_unknown", link=broadcast.link))
        return "\n".join(lines), False
    for district in named:
        key = "area_in" if district in broadcast.areas else "area_not_in"
        lines.append(texts.reply(key, district=catalog.area_name(district)))
    return "\n".join(lines), True


async def how_long_answer(
    resources: shared.Resources, texts: BroadcastTexts, broadcast: Broadcast, when: str
) -> tuple[str, bool]:
    """An alert's expiry as the feed says it now; a staff broadcast says no end, so a person is offered."""
    alert = await current_alert(resources, broadcast) if broadcast.kind == ALERT else None
    if alert is None or alert.expires is None:
        return texts.reply("not_said", when=when), False
    if alert.message_type.lower() == "cancel":
        return texts.reply("cancelled"), True
    expires = moment_text(alert.expires, resources.config.zone, texts.language)
    over = alert.expires <= resources.now()
    return texts.reply("over" if over else "until", expires=expires), True


async def current_alert(resources: shared.Resources, broadcast: Broadcast) -> Alert | None:
    """The feed's latest word on the broadcast's alert (cached like the alerts answer), or None."""
    try:
        fetched = await lookup(resources, ALERTS, resources.alerts.fetch, kind=list[Alert])
    except AgencyUnavailable as exc:
        log.warning("broadcast reply: the alerts feed is unavailable: %s", exc.reason)
        return None
    same = [a for a in fetched.value if a.id == broadcast.alert_id]
    return max(same, key=_issued) if same else None


def _issued(alert: Alert) -> datetime:
    return alert.sent or alert.effective or datetime.min.replace(tzinfo=timezone.utc)


class ActionReplyToBroadcast(Action):
    """Where the assistant would decline: a reply to a broadcast is answered from it instead."""

    def name(self) -> str:
        return "action_reply_to_broadcast"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> EventList:
        asked = (tracker.latest_message.get("intent") or {}).get("name") == ASKED_INTENT
        try:
            if await answer_from_broadcast(await shared.current(), dispatcher, tracker, asked):
                return []
        except Exception:
            log.exception("broadcast reply failed (conversation %s)", conversation_ref(tracker))
        # No broadcast received lately: a question about one is about the alerts in effect now.
        return [FollowupAction("action_check_alerts" if asked else "utter_out_of_scope")]
