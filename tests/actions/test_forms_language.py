"""The forms in a Spanish conversation: the 311 report run by Rasa's own FormAction over HTTP against the
demo agency, and the request-number and address forms' validators.

The conversation's `language` slot is "es" (or only `language_guess`, for a short message): the words that
end a form, skip a field or correct one are read from data/language/es.yml, and Rasa's NLG says the
form's questions in Spanish. The NLU's intent here is deliberately the least helpful one ("inform",
"nlu_fallback"): the words alone must hand the message to the rules, exactly as "cancel", "menu",
"skip" and an English question are in an English conversation, which read as before.
"""

from __future__ import annotations

from typing import Any

import pytest
from lookup_support import Conversation, run_action, sdk_tracker
from rasa.shared.core.events import SlotSet

from actions.collection import ValidateCollectionDayForm
from actions.request_status import ValidateRequestStatusForm

FORM = "report_issue_form"
POSTS = ("POST", "/open311/v2/requests.json")
ASK_TYPE = "¿Qué tipo de problema es?"
ASK_PLACE = "¿Dónde está?"
ASK_DETAILS = "Cuénteme un poco sobre el problema"
ASK_CONTACT = "Si desea recibir novedades"
CANCELLED = "De acuerdo, cancelé el reporte y no se envió nada."
# A Spanish question that neither ends with "?" nor holds "¿": only the Spanish words say it is one.
QUESTION = "oiga, cuándo abre la biblioteca"


def in_language(chat: Conversation, slot: str = "language", code: str = "es") -> Conversation:
    chat.tracker.update(SlotSet(slot, code), chat.domain)
    return chat


async def answer(chat: Conversation, text: str, intent: str = "inform") -> list[str] | None:
    chat.user(text, intent)
    return await chat.run(FORM)


async def at_the_place(chat: Conversation) -> list[str]:
    """A Spanish report whose type is picked from the buttons: the form asks where it is."""
    chat.user("quiero reportar un problema", "report_problem")
    asked = await chat.run(FORM)
    assert asked and asked[0].startswith(ASK_TYPE)
    asked = await answer(chat, "Pothole")  # the button's payload is the agency's name for the type
    assert chat.slot("service_code") == "PW-POT" and asked and asked[0].startswith(ASK_PLACE)
    return asked


# --- ending the form ------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["cancelar", "Cancelar.", "ok, olvídelo", "ya no, gracias"])
async def test_cancelar_is_never_an_answer_and_the_report_is_dropped(conversation, demo, text):
    chat = in_language(conversation)
    await at_the_place(chat)
    assert await answer(chat, text) is None  # rejected: the rules run action_cancel_report
    assert chat.slot("location") is None and chat.slot("requested_slot") == "location"
    (said,) = await chat.run("action_cancel_report")
    assert said.startswith(CANCELLED)
    assert chat.active_loop is None and chat.slot("service_code") is None
    assert demo.hits_on(*POSTS) == 0


@pytest.mark.parametrize("intent", ["ask_capabilities", "nlu_fallback"])
async def test_menu_is_left_to_the_rules_which_show_the_menu(conversation, demo, intent):
    chat = in_language(conversation)
    await at_the_place(chat)
    await answer(chat, "12 Elm St")
    assert chat.slot("requested_slot") == "description"
    assert await answer(chat, "menú", intent) is None
    assert await answer(chat, "volver al menú principal", intent) is None
    assert chat.slot("description") is None
    if intent == "ask_capabilities":  # the rule: drop the report quietly, then the menu
        assert await chat.run("action_cancel_report") == [CANCELLED]
        (menu,) = await chat.run("utter_capabilities")
        assert menu.startswith("Soy el asistente") and "Harbor City" in menu
        assert chat.active_loop is None
    assert demo.hits_on(*POSTS) == 0


async def test_empezar_de_nuevo_is_never_an_answer(conversation):
    chat = in_language(conversation)
    await at_the_place(chat)
    assert await answer(chat, "mejor empezar de nuevo", "nlu_fallback") is None
    assert chat.slot("location") is None


# --- skipping, questions, corrections ---------------------------------------------------------------------


@pytest.mark.parametrize("text", ["omitir", "Omitir, por favor", "no, gracias", "prefiero no"])
async def test_omitir_skips_the_contact_and_the_report_is_filed(conversation, demo, text):
    chat = in_language(conversation)
    await at_the_place(chat)
    asked = await answer(chat, "12 Elm St")
    assert asked and asked[0].startswith(ASK_DETAILS)
    asked = await answer(chat, "un hoyo muy hondo en el carril de bicis")
    assert asked and asked[0].startswith(ASK_CONTACT)
    assert [b["title"] for b in chat.buttons()] == ["Omitir"]
    assert await answer(chat, text) == []
    assert chat.active_loop is None and chat.slot("contact") == "none"
    (summary,) = await chat.run("action_confirm_report")
    assert "12 Elm St" in summary and "un hoyo muy hondo en el carril de bicis" in summary
    chat.user("sí", "affirm")
    await chat.run("action_submit_report")
    (stored,) = await demo.get("/open311/v2/requests/512089.json")
    assert stored["address"] == "12 Elm St" and "email" not in stored and "phone" not in stored


async def test_a_short_message_read_as_spanish_skips_too(conversation):
    """Only `language_guess` is set (a one-word message): the conversation is Spanish all the same."""
    chat = in_language(conversation, "language_guess")
    await at_the_place(chat)
    await answer(chat, "12 Elm St")
    await answer(chat, "un hoyo muy hondo")
    assert await answer(chat, "omitir") == [] and chat.slot("contact") == "none"


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        (QUESTION, "nlu_fallback"),
        ("espere, ¿está abierto el ayuntamiento hoy", "ask_facility_hours"),
        ("¿cómo pago una multa de estacionamiento?", "faq"),
        ("sí", "affirm"),
        ("gracias", "thank"),
        ("ok, muchas gracias", "inform"),
        ("cancelar", "inform"),
        ("menú", "inform"),
    ],
)
async def test_no_field_ever_stores_a_spanish_question_thanks_or_an_exit(conversation, text, intent):
    chat = in_language(conversation)
    chat.user("quiero reportar un problema", "report_problem")
    await chat.run(FORM)
    fill = {
        "service_code": "Pothole",
        "location": "12 Elm St",
        "description": "muy hondo",
        "contact": "omitir",
    }
    for requested in ("service_code", "location", "description", "contact"):
        assert chat.slot("requested_slot") == requested
        assert await answer(chat, text, intent) is None  # rejected: the rules answer it
        assert chat.slot(requested) is None
        await chat.run("utter_ask_what_else")  # the rules' answer stands in here
        asked = await chat.run(FORM)  # and the form asks its question again, in Spanish
        assert asked and chat.slot("requested_slot") == requested
        await answer(chat, fill[requested])
    assert chat.active_loop is None and chat.slot("description") == "muy hondo"


async def test_cambie_la_direccion_corrects_the_place_whatever_is_asked(conversation):
    chat = in_language(conversation)
    await at_the_place(chat)
    await answer(chat, "88 Main St")
    assert chat.slot("requested_slot") == "description"
    asked = await answer(chat, "cambie la dirección a 12 Elm St")
    assert chat.slot("location") == "12 Elm St" and chat.slot("description") is None
    assert asked and asked[0].startswith(ASK_DETAILS)  # and the form asks its question again
    asked = await answer(chat, "perdón, mejor en 5 Oak Ave")
    assert chat.slot("location") == "5 Oak Ave" and asked and asked[0].startswith(ASK_DETAILS)
    await answer(chat, "un hoyo grande")
    await answer(chat, "omitir")
    chat.user("¿puede cambiar la descripción a un hoyo enorme junto a la parada?", "inform")
    assert await chat.run(FORM) == []  # every field still filled: the form ends at once
    (summary,) = await chat.run("action_confirm_report")
    assert "un hoyo enorme junto a la parada" in summary and "5 Oak Ave" in summary


# --- English, as before ---------------------------------------------------------------------------------


async def test_an_english_conversation_reads_the_english_words_as_before(conversation):
    chat = conversation
    chat.user("I want to report a problem", "report_problem")
    await chat.run(FORM)
    await answer(chat, "Pothole")
    assert await answer(chat, "wait, when does the library open", "nlu_fallback") is None
    assert await answer(chat, "back to the main menu", "nlu_fallback") is None
    await answer(chat, "88 Main St")
    asked = await answer(chat, "change the address to 12 Elm St")
    assert chat.slot("location") == "12 Elm St" and asked and asked[0].startswith("Tell me a bit about it")
    await answer(chat, "deep hole")
    assert await answer(chat, "skip") == [] and chat.slot("contact") == "none"
    chat.user("no, the description should be a deep hole by the bus stop", "inform")
    assert await chat.run(FORM) == []
    (summary,) = await chat.run("action_confirm_report")
    assert "Details: a deep hole by the bus stop" in summary and "Where: 12 Elm St" in summary


# --- the request-number and address forms ------------------------------------------------------------


def spanish(domain: Any, text: str, intent: str, slot: str) -> Any:
    return sdk_tracker(domain, text, intent, slots={"language": "es", "requested_slot": slot})


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        (QUESTION, "inform"),
        ("espere, dónde lo encuentro", "nlu_fallback"),
        ("ok, gracias", "inform"),
        ("menú", "inform"),
        ("empezar de nuevo", "nlu_fallback"),
        ("cancelar", "inform"),
    ],
)
async def test_the_number_and_address_forms_leave_spanish_questions_and_exits_to_the_rules(
    lookups, domain, text, intent
):
    for form, slot in ((ValidateRequestStatusForm(), "request_id"), (ValidateCollectionDayForm(), "address")):
        reply = await run_action(form, spanish(domain, text, intent, slot), domain)
        assert reply.slots() == {} and reply.messages == []  # nothing extracted: Rasa's form rejects the turn


async def test_the_number_and_address_forms_still_take_spanish_answers(lookups, domain):
    reply = await run_action(ValidateRequestStatusForm(), spanish(domain, "es la solicitud 512077", "inform",
                             "request_id"), domain)  # fmt: skip
    assert reply.slots()["request_id"] == "512077"
    reply = await run_action(
        ValidateCollectionDayForm(), spanish(domain, "calle Elm 12", "inform", "address"), domain
    )
    assert reply.slots() == {"address": "calle Elm 12"}
    english = sdk_tracker(domain, QUESTION, "inform", slots={"requested_slot": "address"})
    reply = await run_action(ValidateCollectionDayForm(), english, domain)  # read as English: an answer
    assert reply.responses == ["utter_collection_address_invalid"]
