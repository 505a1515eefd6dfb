"""Live lookups in a Spanish conversation against the demo agency: Spanish lines, Spanish values.

The conversation's `language` slot is "es"; Rasa's own NLG (endpoints.yml's) renders every reply
in that conversation, so the sentence is the Spanish variation and the values the actions fill in
(dates, times, "hace 5 minutos", statuses, streams, weekdays) must read as Spanish inside it.
Nothing of ours is mocked: real Redis, the demo agency over HTTP, the real domain and content.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from lookup_support import Reply, entity, sdk_tracker, user_turn
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SlotSet
from rasa.shared.core.trackers import DialogueStateTracker
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.alerts import ActionCheckAlerts, alert_lines
from actions.clarify import ActionPrepareClarification
from actions.collection import ActionCheckCollectionDay
from actions.collection_days import after_line, holiday_line, pickup_line
from actions.common import fragment
from actions.facilities import ActionCheckFacilityHours, say_on, say_usual
from actions.follow_up import ActionFollowUp
from actions.request_status import ActionCheckRequestStatus
from actions.service_status import ActionCheckServiceStatus
from actions.suggestions import content_titles
from bot.clients.alerts import select
from bot.nlg import AgencyNaturalLanguageGenerator

ALERTS, HOURS, COLLECTION, STATUS, REQUEST = (
    ActionCheckAlerts(),
    ActionCheckFacilityHours(),
    ActionCheckCollectionDay(),
    ActionCheckServiceStatus(),
    ActionCheckRequestStatus(),
)
SPANISH = {"language": "es"}
ENGLISH_WORDS = (" am", " pm", " ago", "until ", "Mon ", "Tue ", "Wed ", "Thu ", "Fri ", "weekly", "Trash")


def spanish(domain: Domain, text: str, intent: str = "inform", **kwargs: Any) -> Tracker:
    """The tracker of a turn in a conversation whose language is Spanish."""
    return sdk_tracker(domain, text, intent, slots={**SPANISH, **kwargs.pop("slots", {})}, **kwargs)


async def render_spanish(domain: Domain, messages: list[dict[str, Any]]) -> list[str]:
    """What the citizen reads in a Spanish conversation; no {placeholder} may be left."""
    nlg = AgencyNaturalLanguageGenerator(domain=domain)
    tracker = DialogueStateTracker.from_events("render-es", [SlotSet("language", "es")], slots=domain.slots)
    texts = []
    for message in messages:
        values = {k: v for k, v in message.items() if k not in ("response", "template")}
        generated = await nlg.generate(message["response"], tracker, "rest", **values)
        assert generated is not None, f"no response {message['response']} in the domain"
        text = generated.get("text") or ""
        assert "{" not in text, f"unfilled placeholder in {message['response']}: {text}"
        texts.append(text)
    return texts


async def run_spanish(action: Action, tracker: Tracker, domain: Domain) -> Reply:
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker, domain.as_dict())
    return Reply(await render_spanish(domain, dispatcher.messages), events, dispatcher.messages)


def no_english_values(text: str) -> bool:
    return not any(word in text for word in ENGLISH_WORDS)


# --- the line builder -----------------------------------------------------------------------------------


def test_a_line_is_the_variation_in_the_language_asked(domain_dict):
    assert fragment(domain_dict, "utter_part_alerts_more", count=2) == "…and 2 more."
    assert fragment(domain_dict, "utter_part_alerts_more", language="en", count=2) == "…and 2 more."
    assert fragment(domain_dict, "utter_part_alerts_more", language="es", count=2) == "…y 2 más."
    # a language the responses are not written in yet gets the English line, never nothing
    assert fragment(domain_dict, "utter_part_alerts_more", language="vi", count=2) == "…and 2 more."


# --- alerts -----------------------------------------------------------------------------------------


async def test_alerts_now_in_spanish(lookups, domain):
    reply = await run_spanish(ALERTS, spanish(domain, "¿hay alertas?", "ask_alerts"), domain)
    assert reply.responses == ["utter_alerts"]
    assert reply.text.startswith("Alertas vigentes ahora:\n⚠️ ")
    assert "(hasta el vie 27 nov, 10 a. m.)" in reply.text
    assert "(until " not in reply.text and " am)" not in reply.text and "Flood Watch" not in reply.text
    assert "Detalles e inscripción: harborcity.example/alerts" in reply.text


async def test_alert_lines_of_a_live_answer_in_spanish(lookups, domain_dict):
    fetched = await lookups.alerts.fetch()
    lines = alert_lines(domain_dict, select(fetched, now=lookups.now()), lookups.config.zone, language="es")
    assert lines and all(line.startswith("⚠️ ") and "(hasta el " in line for line in lines)
    assert all(" a. m.)" in line or " p. m.)" in line for line in lines)


async def test_a_stale_copy_says_when_in_spanish(demo, lookups, domain, clock):
    tracker = spanish(domain, "alertas", "ask_alerts")
    await run_spanish(ALERTS, tracker, domain)
    await demo.stop()
    clock.advance(minutes=3)
    stale = await run_spanish(ALERTS, tracker, domain)
    assert stale.responses == ["utter_lookup_stale", "utter_alerts"]
    assert stale.texts[0] == (
        "No pude conectarme con el sistema de la ciudad en este momento, así que esto es lo último "
        "que indicaba (10 a. m.):"
    )


# --- facility hours ------------------------------------------------------------------------------------


def hours_question(domain: Domain, text: str, facility: str) -> Tracker:
    return spanish(domain, text, "ask_facility_hours", entities=[entity("facility", facility, text)])


async def test_open_now_in_spanish(lookups, domain):
    reply = await run_spanish(HOURS, hours_question(domain, "¿está abierta City Hall?", "City Hall"), domain)
    assert reply.responses == ["utter_facility_open_now"]
    assert (
        "City Hall atiende ahora (hora de cierre: 4:30 p. m.). Horario de hoy: 8:30 a. m.–4:30 p. m."
        in reply.text
    )
    assert "100 Main Street · 311 · https://www.harborcity.example/city-hall" in reply.text


async def test_closed_opens_later_and_holidays_in_spanish(lookups, domain, clock):
    clock.set_local("2026-11-25 16:30")
    reply = await run_spanish(HOURS, hours_question(domain, "¿abre City Hall?", "City Hall"), domain)
    assert reply.responses == ["utter_facility_closed_rest_of_day"]
    assert "el horario de hoy era 8:30 a. m.–4:30 p. m." in reply.text
    assert "Vuelve a abrir el lun 30 nov, 8:30 a. m." in reply.text
    clock.set_local("2026-11-26 09:00")
    reply = await run_spanish(HOURS, hours_question(domain, "¿abre hoy City Hall?", "City Hall"), domain)
    assert reply.responses == ["utter_facility_closed_for"]
    assert "City Hall no abre hoy. Motivo: Día de Acción de Gracias." in reply.text
    clock.set_local("2026-11-29 11:00")
    reply = await run_spanish(HOURS, hours_question(domain, "¿abre la biblioteca?", "library"), domain)
    assert reply.responses == ["utter_facility_opens_later"]
    assert (
        "Central Library no atiende en este momento. Hoy abre más tarde (hora de apertura: 1 p. m.;"
        in reply.text
    )
    assert no_english_values(reply.text)


async def test_special_hours_and_a_pool_out_of_season_in_spanish(lookups, domain, clock):
    clock.set_local("2026-12-24 10:00")
    reply = await run_spanish(HOURS, hours_question(domain, "¿abre City Hall?", "City Hall"), domain)
    assert reply.responses == ["utter_facility_open_now", "utter_facility_note"]
    assert "(hora de cierre: 12 p. m.)" in reply.text
    reply = await run_spanish(HOURS, hours_question(domain, "¿abre la piscina?", "pool"), domain)
    assert reply.responses == ["utter_facility_closed_today", "utter_facility_closed_today"]
    assert "Vuelve a abrir el mar 15 jun, 11 a. m." in reply.text


async def test_weekdays_and_next_openings_on_a_day_in_spanish(lookups, domain, clock):
    clock.set_local("2026-12-05 10:00")  # a Saturday
    facilities = {f.name: f for f in await lookups.facilities.facilities()}
    dispatcher = CollectingDispatcher()
    say_on(dispatcher, facilities["Eastside Recycling Depot"], date(2026, 12, 6), "mañana (dom 6 dic)", "es")
    say_usual(dispatcher, facilities["City Hall"], date(2026, 12, 5), lookups.now(), "es")
    texts = await render_spanish(domain, dispatcher.messages)
    assert texts[0].startswith(
        "Eastside Recycling Depot no abre los días domingo, así que no abre mañana (dom 6 dic). "
        "Después, vuelve a abrir el sáb 12 dic, 8 a. m."
    )
    assert texts[1].startswith("City Hall no abre los días sábado. Vuelve a abrir el lun 7 dic, 8:30 a. m.")


async def test_a_follow_up_is_answered_in_the_conversation_language(lookups, domain):
    text = "¿está abierta City Hall?"
    asked = user_turn(text, "ask_facility_hours", [entity("facility", "City Hall", text)])
    history = [*asked, ActionExecuted("action_check_facility_hours")]
    tracker = spanish(domain, "¿y ahora?", "follow_up", slots={"facility": "City Hall"}, history=history)
    reply = await run_spanish(ActionFollowUp(), tracker, domain)
    assert reply.responses == ["utter_facility_open_now"]
    assert "hora de cierre: 4:30 p. m." in reply.text


# --- collection days -------------------------------------------------------------------------------------


async def test_collection_by_address_in_spanish(lookups, domain):
    text = "¿qué día pasa la basura por 12 elm st?"
    tracker = spanish(domain, text, "ask_collection_day", entities=[entity("address", "12 elm st", text)])
    reply = await run_spanish(COLLECTION, tracker, domain)
    assert reply.responses == ["utter_collection_day"]
    assert "Recolección en 12 Elm Street (Downtown):" in reply.text
    assert "• Basura: martes, cada semana. Próxima: mar 1 dic." in reply.text
    assert "• Desechos de jardín: miércoles, cada semana. Próxima: mié 25 nov." in reply.text
    assert no_english_values(reply.text.split("Green bin")[0])  # the agency's own note stays as it wrote it


async def test_pickup_lines_on_a_day_in_spanish(lookups, domain_dict):
    schedule = await lookups.collection.schedule("88 Main Street")
    trash, recycling = schedule.pickup("trash"), schedule.pickup("recycling")
    assert trash is not None and recycling is not None
    today = date(2026, 11, 25)  # a Wednesday; trash is picked up on Mondays, recycling every other one
    assert trash.next_pickups[0] == date(2026, 11, 30)
    assert (
        pickup_line(domain_dict, trash, date(2026, 11, 30), today, "es") == "• Basura: sí, se recoge ese día."
    )
    assert pickup_line(domain_dict, trash, date(2026, 12, 1), today, "es") == (
        "• Basura: ese día no. La próxima recolección es el lun 7 dic."
    )
    beyond = trash.next_pickups[-1] + timedelta(days=1)  # a Tuesday after the listed dates
    assert pickup_line(domain_dict, trash, beyond, today, "es") == (
        "• Basura: ese día no; se recoge los días lunes (cada semana)."
    )
    off_week = recycling.next_pickups[-1] + timedelta(days=7)  # a Monday without recycling
    assert pickup_line(domain_dict, recycling, off_week, today, "es") == (
        "• Reciclaje: ese día no; se recoge los días lunes (cada dos semanas)."
    )
    assert after_line(domain_dict, trash, today, "es") == "• Basura: lun 30 nov"
    holiday = holiday_line(domain_dict, "Christmas Day", date(2027, 12, 25), [trash], "es")
    assert holiday == (
        "Los días de recolección pueden cambiar por esa fecha (Día de Navidad); consulte "
        "harborcity.example/trash esa semana."
    )


# --- request status --------------------------------------------------------------------------------------


async def test_request_status_in_spanish(lookups, domain):
    reply = await run_spanish(
        REQUEST, spanish(domain, "¿cómo va la 512077?", slots={"request_id": "512077"}), domain
    )
    assert reply.responses == ["utter_request_status"]
    assert reply.text.startswith("Estado de la solicitud 512077 (Pothole): abierta. ")
    assert "\nFecha prevista: vie 27 nov.\nÚltima actualización: hace 1 día.\n" in reply.text
    assert reply.text.endswith("\nPuede seguirla en harborcity.example/311")
    reply = await run_spanish(REQUEST, spanish(domain, "SR-512034", slots={"request_id": "512034"}), domain)
    assert "Estado de la solicitud 512034 (Streetlight out): cerrada." in reply.text
    assert "Última actualización: hace 5 días." in reply.text and "Fecha prevista" not in reply.text


# --- online services ---------------------------------------------------------------------------------------


async def test_service_status_in_spanish(lookups, domain):
    reply = await run_spanish(
        STATUS, spanish(domain, "¿funcionan los servicios en línea?", "ask_service_status"), domain
    )
    assert reply.responses == ["utter_online_services_problems_others_up"]
    assert "• Permit portal: tiene problemas. Uploading plans is slow." in reply.text
    assert "• Library catalog: fuera de servicio. Scheduled maintenance" in reply.text
    assert "Funcionan con normalidad: Payments portal, Harbor City 311 app." in reply.text
    assert "having problems" not in reply.text
    reply = await run_spanish(
        STATUS, spanish(domain, "¿funciona el payment portal?", "ask_service_status"), domain
    )
    assert reply.responses == ["utter_online_service_up"]
    assert "Payments portal funciona con normalidad (comprobado hace 3 horas)." in reply.text


# --- clarification ("¿Quiso decir ...?") -------------------------------------------------------------------


def fallback(language: str | None) -> Tracker:
    ranking = [{"intent_response_key": "faq/pothole", "confidence": 0.5}]
    ranking += [{"intent_response_key": "faq/graffiti", "confidence": 0.3}]
    latest = {"intent": {"name": "nlu_fallback"}, "response_selector": {"default": {"ranking": ranking}}}
    events = [{"event": "user", "parse_data": latest}]
    slots = {"language": language} if language else {}
    return Tracker("c1", slots, latest, events, False, None, {}, "action_listen")


async def test_clarification_offers_the_spanish_first_questions(domain_dict):
    events = await ActionPrepareClarification().run(CollectingDispatcher(), fallback("es"), domain_dict)
    options = {e["name"]: e["value"] for e in events}
    assert options["clarification"] == "two"
    assert options["option_1"] == "¿Cómo reporto un bache?"
    assert options["option_2"].startswith("¿") and options["option_2"] != content_titles()["faq/graffiti"]
    english = await ActionPrepareClarification().run(CollectingDispatcher(), fallback(None), domain_dict)
    values = {e["name"]: e["value"] for e in english}
    assert values["option_1"] == content_titles()["faq/pothole"] == "How do I report a pothole?"
