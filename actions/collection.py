"""Trash, recycling and yard-waste days by address: `collection_day_form` and `action_check_collection_day`.

The address comes from the `address` entity or the form's question, and is remembered in the
`address` slot (as the agency spells it) for the rest of the conversation, so "and recycling?"
later needs no address. An address the agency does not serve is forgotten again.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction

from actions import resources as shared
from actions.asked_day import asked_day, day_name, remember_day, when_text
from actions.collection_days import after_line, holiday_line, pickup_line, question_text, streams_asked
from actions.common import (
    COLLECTION,
    EventList,
    LookupAction,
    fragment,
    latest_intent,
    latest_text,
    lookup,
    reply_language,
    say_if_stale,
)
from actions.forms.not_answers import for_the_rules, is_exit
from actions.parsing import entity_values, looks_like_location, request_number
from bot.clients.collection import CollectionSchedule, Pickup
from bot.clients.errors import NotFound
from bot.content.agency import SOURCE_LANGUAGE
from bot.days import WEEKDAYS, DayRef, local_today
from bot.formatting import day_text, frequency_word, stream_name, weekday_name
from bot.language.conversation import conversation_language

SLOT = "address"
# Without an address entity, free text counts as the address only for these intents.
ANSWERS = frozenset({"inform", "ask_collection_day", "nlu_fallback"})


class ValidateCollectionDayForm(FormValidationAction):
    def name(self) -> str:
        return "validate_collection_day_form"

    async def extract_address(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        text, message = latest_text(tracker), tracker.latest_message
        language = conversation_language(tracker.slots)
        if is_exit(message, language):  # stop, start over, menu: the rules end the form
            return {}
        addresses = entity_values(message, "address")
        if addresses:
            return {SLOT: addresses[0]}
        asked = tracker.get_slot("requested_slot") == SLOT
        if (
            asked
            and latest_intent(tracker) in ANSWERS
            and text.strip()
            and not for_the_rules(message, language)
        ):
            return {SLOT: text}  # a question or "thanks" is left to the rules, and the form asks again
        return {}

    def validate_address(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        text = " ".join(str(value or "").split())
        if not text:
            return {SLOT: None}
        language = conversation_language(tracker.slots)
        if (
            not looks_like_location(text, language)
            or request_number(text, language)
            or not any(c.isdigit() for c in text)
        ):
            dispatcher.utter_message(response="utter_collection_address_invalid")
            return {SLOT: None}
        return {SLOT: text}


class ActionCheckCollectionDay(LookupAction):
    unavailable_response = "utter_collection_unavailable"

    def name(self) -> str:
        return "action_check_collection_day"

    async def answer(
        self,
        resources: shared.Resources,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> EventList:
        typed = entity_values(tracker.latest_message, "address")
        address = typed[0] if typed else tracker.get_slot(SLOT)
        if not address:
            dispatcher.utter_message(response="utter_ask_collection_day_form_address")
            return []
        client = resources.collection
        try:
            fetched = await lookup(
                resources, COLLECTION, lambda: client.schedule(address), address, kind=CollectionSchedule
            )
        except NotFound:
            dispatcher.utter_message(response="utter_collection_unknown_address", address=address)
            return [SlotSet(SLOT, None)]
        language = reply_language(tracker)
        say_if_stale(dispatcher, fetched, resources, language)
        schedule = fetched.value
        now, zone = resources.now(), resources.config.zone
        today = local_today(now, zone)
        ref = asked_day(tracker, now, zone, text=question_text(tracker))
        if ref is not None and ref.day is None:
            dispatcher.utter_message(response="utter_day_invalid", said=ref.said)
            return [SlotSet(SLOT, schedule.address)]
        if ref is not None:
            say_day(dispatcher, domain, schedule, ref, today, question_text(tracker), language)
            return [SlotSet(SLOT, schedule.address), *remember_day(ref, today)]
        lines = [pickup_summary(domain, p, language) for p in schedule.pickups]
        dispatcher.utter_message(
            response="utter_collection_day",
            address=schedule.address,
            district=schedule.district,
            pickups="\n".join(lines),
            note=schedule.note,
        )
        return [SlotSet(SLOT, schedule.address)]


def pickup_summary(domain: dict[str, Any], pickup: Pickup, language: str = SOURCE_LANGUAGE) -> str:
    """ "• Trash: Tuesday, weekly. Next: Tue 1 Dec." in `language`."""
    weekday = WEEKDAYS.index(pickup.day) if pickup.day in WEEKDAYS else None
    return fragment(
        domain, "utter_part_pickup", language=language, stream=stream_name(pickup.stream, language),
        day=weekday_name(weekday, language) if weekday is not None else pickup.day.capitalize(),
        frequency=frequency_word(pickup.frequency, language),
        next=day_text(pickup.next_pickup, language) if pickup.next_pickup else "", note=pickup.note,
    )  # fmt: skip


def say_day(
    dispatcher: CollectingDispatcher,
    domain: dict[str, Any],
    schedule: CollectionSchedule,
    ref: DayRef,
    today: date,
    question: str,
    language: str = SOURCE_LANGUAGE,
) -> None:
    """Pickups on the day asked about, or the first ones after it ("after Thanksgiving")."""
    assert ref.day is not None
    pickups = streams_asked(question, schedule.pickups, language)
    if ref.after:
        lines = [after_line(domain, p, ref.day, language) for p in pickups]
        response, when = "utter_collection_after_day", day_name(domain, ref, language)
    else:
        lines = [pickup_line(domain, p, ref.day, today, language) for p in pickups]
        lines.append(holiday_line(domain, ref.holiday, ref.day, pickups, language))
        response, when = "utter_collection_on_day", when_text(domain, ref, today, language)
    dispatcher.utter_message(
        response=response,
        address=schedule.address,
        when=when,
        day=when,
        pickups="\n".join(line for line in lines if line),
    )
