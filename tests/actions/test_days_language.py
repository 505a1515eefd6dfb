"""The day a Spanish question is about, named in the Spanish reply: "mañana (dom 6 dic)", "el lun 7 dic",
"el jue 24 dic (Nochebuena)", in facility hours, collection days and alerts, on a fixed clock against the
demo agency.

The conversation's `language` slot is "es"; Rasa's own NLG (endpoints.yml's) renders each reply in that
conversation, so the sentence is the Spanish variation and the day phrase the actions fill in must be
Spanish inside it (the English one, "tomorrow (Sun 6 Dec)", is pinned by test_days_lookups.py).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from lookup_support import Reply, entity, sdk_tracker
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SlotSet
from rasa.shared.core.trackers import DialogueStateTracker
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.alerts import ActionCheckAlerts
from actions.asked_day import day_name, when_text
from actions.collection import ActionCheckCollectionDay
from actions.facilities import ActionCheckFacilityHours
from bot.days import DayRef
from bot.nlg import AgencyNaturalLanguageGenerator

HOURS, COLLECTION, ALERTS = ActionCheckFacilityHours(), ActionCheckCollectionDay(), ActionCheckAlerts()
SATURDAY = "2026-12-05 10:00"
ENGLISH_DAYS = ("tomorrow", "today", "Sun ", "Mon ", "Thu ", " Dec", "Christmas", "Thanksgiving")


def spanish(domain: Domain, text: str, intent: str, **kwargs: Any) -> Tracker:
    return sdk_tracker(domain, text, intent, slots={"language": "es", **kwargs.pop("slots", {})}, **kwargs)


async def run_spanish(action: Action, tracker: Tracker, domain: Domain) -> Reply:
    """The action's reply as a citizen in a Spanish conversation reads it; no {placeholder} may be left."""
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker, domain.as_dict())
    nlg = AgencyNaturalLanguageGenerator(domain=domain)
    conversation = DialogueStateTracker.from_events(
        "days-es", [SlotSet("language", "es")], slots=domain.slots
    )
    texts = []
    for message in dispatcher.messages:
        values = {k: v for k, v in message.items() if k not in ("response", "template")}
        generated = await nlg.generate(message["response"], conversation, "rest", **values)
        assert generated is not None, f"no response {message['response']} in the domain"
        texts.append(str(generated.get("text") or ""))
        assert "{" not in texts[-1], texts[-1]
    return Reply(texts, events, dispatcher.messages)


def hours_question(domain: Domain, text: str, facility: str, **slots: Any) -> Tracker:
    return spanish(
        domain, text, "ask_facility_hours", entities=[entity("facility", facility, text)], slots=slots
    )


def no_english_day(text: str) -> bool:
    return not any(word in text for word in ENGLISH_DAYS)


# --- facility hours ------------------------------------------------------------------------------------


async def test_is_the_library_open_tomorrow_says_manana_and_the_spanish_date(lookups, domain, clock):
    clock.set_local(SATURDAY)
    text = "¿está abierta la biblioteca mañana?"
    reply = await run_spanish(HOURS, hours_question(domain, text, "library"), domain)
    assert reply.responses == ["utter_facility_open_on"]
    assert "mañana (dom 6 dic)" in reply.text and "1 p. m.–5 p. m." in reply.text
    assert reply.text.startswith("Central Library") and no_english_day(reply.text)
    assert reply.slots()["day"] == "2026-12-06"


async def test_closed_tomorrow_and_the_next_opening_in_spanish(lookups, domain, clock):
    clock.set_local(SATURDAY)
    text = "¿abre el depósito de reciclaje mañana?"
    reply = await run_spanish(HOURS, hours_question(domain, text, "Eastside Recycling Depot"), domain)
    assert reply.responses == ["utter_facility_closed_weekday"]
    assert "no abre mañana (dom 6 dic)" in reply.text and "sáb 12 dic, 8 a. m." in reply.text
    assert no_english_day(reply.text)


async def test_a_holiday_is_named_in_spanish_after_the_date(lookups, domain, clock):
    clock.set_local("2026-12-06 12:00")
    text = "¿abre la biblioteca en Nochebuena?"
    reply = await run_spanish(HOURS, hours_question(domain, text, "library"), domain)
    assert "el jue 24 dic (Nochebuena)" in reply.text and no_english_day(reply.text)
    reply = await run_spanish(HOURS, hours_question(domain, "¿y el martes que viene?", "City Hall"), domain)
    assert "City Hall abre el mar 8 dic: 8:30 a. m.–4:30 p. m." in reply.text and no_english_day(reply.text)


async def test_a_spanish_follow_up_keeps_the_day_and_says_it_in_spanish(lookups, domain, clock):
    clock.set_local(SATURDAY)
    tracker = spanish(
        domain, "¿y la biblioteca?", "follow_up", slots={"facility": "City Hall", "day": "2026-12-06"}
    )
    reply = await run_spanish(HOURS, tracker, domain)
    assert "mañana (dom 6 dic)" in reply.text and no_english_day(reply.text)


# --- collection days and alerts -------------------------------------------------------------------------


async def test_a_pickup_on_a_day_and_after_a_holiday_in_spanish(lookups, domain, clock):
    clock.set_local(SATURDAY)
    at = {"address": "88 Main Street"}
    tracker = spanish(domain, "¿pasa la basura el lunes?", "ask_collection_day", slots=at)
    reply = await run_spanish(COLLECTION, tracker, domain)
    assert reply.responses == ["utter_collection_on_day"]
    assert "el lun 7 dic" in reply.text and "• Basura: sí, se recoge ese día." in reply.text
    assert no_english_day(reply.text)
    tracker = spanish(domain, "¿cuándo pasa la basura después de Navidad?", "ask_collection_day", slots=at)
    reply = await run_spanish(COLLECTION, tracker, domain)
    assert reply.responses == ["utter_collection_after_day"]
    assert "vie 25 dic (Día de Navidad)" in reply.text and no_english_day(reply.text)


async def test_alerts_on_a_day_are_said_for_manana(lookups, domain, clock):
    clock.set_local(SATURDAY)
    reply = await run_spanish(ALERTS, spanish(domain, "¿hay alertas para mañana?", "ask_alerts"), domain)
    assert "mañana (dom 6 dic)" in reply.text and no_english_day(reply.text.split("\n")[0])


# --- the phrase itself ------------------------------------------------------------------------------------


def test_every_kind_of_day_phrase_in_spanish_and_in_english(domain_dict):
    today = date(2026, 12, 5)
    tomorrow = DayRef(date(2026, 12, 6), "mañana", "relative")
    tonight = DayRef(today, "esta noche", "tonight")
    eve = DayRef(date(2026, 12, 24), "nochebuena", "holiday", holiday="Christmas Eve")
    monday = DayRef(date(2026, 12, 7), "lunes", "weekday")
    yesterday = DayRef(date(2026, 12, 4), "ayer", "relative")
    said = [when_text(domain_dict, ref, today, "es") for ref in (tomorrow, tonight, eve, monday, yesterday)]
    assert said == [
        "mañana (dom 6 dic)",
        "esta noche",
        "el jue 24 dic (Nochebuena)",
        "el lun 7 dic",
        "ayer (vie 4 dic)",
    ]
    assert [day_name(domain_dict, ref, "es") for ref in (eve, monday)] == [
        "jue 24 dic (Nochebuena)",
        "lun 7 dic",
    ]
    english = [when_text(domain_dict, ref, today) for ref in (tomorrow, tonight, eve, monday, yesterday)]
    assert english == ["tomorrow (Sun 6 Dec)", "tonight", "on Christmas Eve (Thu 24 Dec)", "on Mon 7 Dec",
                       "yesterday (Fri 4 Dec)"]  # fmt: skip
    assert [day_name(domain_dict, ref) for ref in (eve, monday)] == [
        "Christmas Eve (Thu 24 Dec)",
        "Mon 7 Dec",
    ]
    # a language without a translation of the lines or the holiday: English lines, as the NLG does
    assert when_text(domain_dict, eve, today, "xx") == "on Christmas Eve (Thu 24 Dec)"
