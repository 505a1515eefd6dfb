"""The 311 report form, run by Rasa's own FormAction calling our actions over HTTP, filing with the demo.

The test plays the dialogue policy (which action runs next, as the staged rules say); everything
else is real: slot extraction and validation, the form's questions, rejection of "cancel".
"""

from __future__ import annotations

import pytest
from lookup_support import Conversation, agency_env, entity
from rasa.shared.core.events import SlotSet
from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader
from rasa.shared.nlu.training_data.message import Message

from actions.resources import close_resources, open_resources
from bot.agency_config import AgencyConfig
from bot.settings import Settings

FORM = "report_issue_form"


async def start(chat: Conversation, text: str, **kwargs) -> list[str]:
    chat.user(text, "report_problem", **kwargs)
    texts = await chat.run(FORM)
    assert texts is not None
    return texts


async def answer(chat: Conversation, text: str, intent: str = "inform", **kwargs) -> list[str] | None:
    chat.user(text, intent, **kwargs)
    return await chat.run(FORM)


async def test_a_whole_report_is_filed_once_with_the_number(conversation, demo):
    text = "I want to report a pothole on 12 Elm St"
    asked = await start(conversation, text, entities=[entity("address", "12 Elm St", text)])
    assert conversation.slot("service_code") == "PW-POT" and conversation.slot("location") == "12 Elm St"
    assert asked == ["Tell me a bit about it (for example: how big, which lane, any danger)."]
    asked = await answer(conversation, "Deep hole in the northbound lane, bikes swerve into traffic")
    assert conversation.slot("requested_slot") == "contact" and "email or phone" in asked[0]
    assert await answer(conversation, "skip") == []
    assert conversation.active_loop is None and conversation.slot("contact") == "none"
    (summary,) = await conversation.run("action_confirm_report")
    assert "Type: Pothole\nWhere: 12 Elm St\nDetails: Deep hole in the northbound lane" in summary
    assert [b["payload"] for b in conversation.buttons()] == ["/affirm", "/deny"]
    conversation.user("/affirm", "affirm")
    (filed,) = await conversation.run("action_submit_report")
    assert (
        "Your report is filed as request 512089. Most potholes are repaired within 5 business days." in filed
    )
    assert demo.hits_on("POST", "/open311/v2/requests.json") == 1
    stored = await demo.get("/open311/v2/requests/512089.json")
    assert stored[0]["address"] == "12 Elm St" and stored[0]["service_code"] == "PW-POT"
    assert conversation.slot("description") is None and conversation.slot("location") is None


async def test_unclear_type_offers_the_agencys_services_as_buttons(conversation):
    asked = await start(conversation, "I need to report something")
    assert len(asked) == 1 and asked[0].startswith("What kind of problem is it? Pick one, or describe it")
    titles = [b["title"] for b in conversation.buttons()]
    assert titles == ["Pothole", "Streetlight out", "Missed collection", "Graffiti", "Illegal dumping",
                      "Water leak", "Abandoned vehicle"]  # fmt: skip
    asked = await answer(conversation, "garbage dumped out back")
    assert asked == ["Which of these is it?"]
    assert [b["title"] for b in conversation.buttons()] == ["Missed collection", "Illegal dumping"]
    asked = await answer(conversation, "Illegal dumping")
    assert conversation.slot("service_code") == "SAN-ILD" and asked[0].startswith("Where is it?")
    asked = await answer(conversation, "my cat is sad")
    assert asked[0].startswith("I need a place") and conversation.slot("location") is None
    asked = await answer(conversation, "in front of City Hall", entities=[entity("facility", "city_hall")])
    assert conversation.slot("location") == "in front of City Hall"  # a landmark the agency knows


async def test_a_problem_not_taken_online_is_said_so_with_the_phone_and_every_service_offered(conversation):
    await start(conversation, "report something")
    asked = await answer(conversation, "my neighbour plays loud music")
    assert asked[0].startswith("Harbor City's 311 doesn't take that kind of problem online")
    assert "call 311 (555-010-3110 from outside the city)" in asked[0]
    assert len(conversation.buttons()) == 7 and conversation.slot("service_code") is None
    asked = await answer(conversation, "it's a problem")
    assert asked[0] == "Sorry, I couldn't match that to a type of 311 request."


async def test_a_problem_named_in_the_first_message_is_never_filed_under_another_type(conversation):
    asked = await start(conversation, "report a dead raccoon in the road")  # "road" is a Pothole keyword
    assert conversation.slot("service_code") is None
    assert asked[0].startswith("Harbor City's 311 doesn't take that kind of problem online")
    assert asked[1].startswith("What kind of problem is it?")


async def test_another_city_without_abandoned_vehicles_says_so(other_city_conversation):
    chat = other_city_conversation
    asked = await start(chat, "there's an abandoned car on my street, can u file a report")
    assert chat.slot("service_code") is None
    assert "doesn't take that kind of problem online" in asked[0] and "555-010-3110" in asked[0]
    assert "Street light out" in [b["title"] for b in chat.buttons()]


async def test_every_detail_of_the_first_message_is_kept(conversation):
    text = (
        "please report a pothole at 88 Main Street, it's in the bike lane and really deep, "
        "my email is someone@example.com"
    )
    asked = await start(conversation, text, entities=[entity("address", "88 Main Street", text)])
    assert asked == [] and conversation.active_loop is None  # straight to the confirmation
    (summary,) = await conversation.run("action_confirm_report")
    assert (
        "Type: Pothole\nWhere: 88 Main Street\nDetails: it's in the bike lane and really deep\n"
        "Contact: someone@example.com" in summary
    )


async def test_a_correction_while_another_field_is_asked(conversation):
    await start(
        conversation, "pothole at 88 Main St", entities=[entity("address", "88 Main St", "at 88 Main St")]
    )
    text = "actually the address is 52 Quarry Lane"
    asked = await answer(conversation, text, entities=[entity("address", "52 Quarry Lane", text)])
    assert conversation.slot("location") == "52 Quarry Lane" and conversation.slot("description") is None
    assert asked[0].startswith("Tell me a bit about it")


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("wait, is city hall open today?", "ask_facility_hours"),
        ("how do I pay a parking ticket?", "faq"),
        ("hmm what?", "nlu_fallback"),
        ("thanks", "thank"),
        ("yes", "affirm"),
        ("ok", "affirm"),
        ("start over", "restart"),
        ("start over", "goodbye"),  # whatever the NLU makes of it
        ("menu", "ask_capabilities"),
        ("bye", "goodbye"),
    ],
)
async def test_no_field_ever_stores_a_question_thanks_or_an_exit(conversation, text, intent):
    await start(conversation, "report something")
    for requested in ("service_code", "location", "description", "contact"):
        assert conversation.slot("requested_slot") == requested
        assert await answer(conversation, text, intent) is None  # rejected: the rules answer it
        assert conversation.slot(requested) is None
        # the rules answered (a response stands in for the answer); the form asks its question again
        await conversation.run("utter_ask_what_else")
        asked = await conversation.run(FORM)
        assert asked and conversation.slot("requested_slot") == requested
        fill = {"service_code": "Pothole", "location": "12 Elm St", "description": "deep", "contact": "skip"}
        await answer(conversation, fill[requested])
    assert conversation.active_loop is None and conversation.slot("description") == "deep"


async def test_menu_and_goodbye_drop_the_report_without_an_extra_question(conversation, demo):
    await start(conversation, "pothole", entities=[])
    assert await answer(conversation, "menu", "ask_capabilities") is None
    (said,) = await conversation.run("action_cancel_report")
    assert said == "OK, I've cancelled the report and nothing was sent."
    assert conversation.active_loop is None and conversation.slot("service_code") is None
    assert demo.hits_on("POST", "/open311/v2/requests.json") == 0


async def test_a_location_pin_from_the_channel_is_sent_as_lat_long(conversation, demo):
    await start(conversation, "streetlight out")
    assert conversation.slot("service_code") == "PW-SLO"
    pin = {"location": {"lat": 41.30412, "long": -72.92471}}
    asked = await answer(conversation, "📍", metadata=pin)
    assert conversation.slot("location") == "41.30412, -72.92471" and asked[0].startswith("Tell me")
    await answer(conversation, "pole 1142 is dark")
    await answer(conversation, "jo@example.org")
    assert conversation.slot("contact") == "jo@example.org"
    (summary,) = await conversation.run("action_confirm_report")
    assert "Where: 41.30412, -72.92471" in summary and "Contact: jo@example.org" in summary
    conversation.user("/affirm", "affirm")
    await conversation.run("action_submit_report")
    (stored,) = await demo.get("/open311/v2/requests/512089.json")
    assert (stored["lat"], stored["long"], stored["address"]) == (41.30412, -72.92471, "")


async def test_a_photo_sent_during_the_report_is_filed_as_media_url(conversation, demo):
    photo = {"media_url": "https://cdn.example.org/photos/pothole.jpg"}
    await start(conversation, "report a pothole on 12 Elm St", metadata=photo)
    await answer(conversation, "12 Elm St")
    await answer(conversation, "this one, about a meter wide")
    await answer(conversation, "skip")
    await conversation.run("action_confirm_report")
    conversation.user("/affirm", "affirm")
    await conversation.run("action_submit_report")
    (stored,) = await demo.get("/open311/v2/requests/512089.json")
    assert stored["media_url"] == photo["media_url"]


async def tap(chat: Conversation, title: str) -> None:
    """The citizen taps the button titled `title` of the last reply: Rasa reads its payload (intent and
    entities) as its RegexMessageHandler does, and the turn is that."""
    (payload,) = [b["payload"] for b in chat.buttons() if b["title"] == title]
    tapped = YAMLStoryReader.unpack_regex_message(Message(data={"text": payload}), chat.domain)
    chat.user(payload, tapped.get("intent")["name"], entities=tapped.get("entities") or [])


@pytest.mark.parametrize(
    ("answer", "code", "language", "title"),
    [
        ("pothole", "PW-POT", "en", "Report it here"),
        ("streetlight", "PW-SLO", "en", "Report it here"),
        ("graffiti", "PW-GRF", "en", "Report it here"),
        ("water_leak", "WTR-LEAK", "en", "Report it here"),
        ("missed_collection", "SAN-MC", "en", "Report it here"),
        ("water_leak", "WTR-LEAK", "es", "Reportarlo aquí"),
    ],
)
async def test_the_report_button_after_an_answer_starts_the_report_with_its_type_known(
    conversation, answer, code, language, title
):
    """`answer_buttons` in data/content/_settings.yml: the tap on the answer's button fills the type from
    the payload's `service`, so the form asks where it is, never what kind of problem."""
    conversation.tracker.update(SlotSet("language", language), conversation.domain)
    conversation.user("how do i report it", "faq")
    await conversation.run(f"utter_faq/{answer}")
    await tap(conversation, title)
    asked = await conversation.run(FORM)
    assert conversation.slot("service_code") == code
    assert asked and asked[0].startswith("Where is it?" if language == "en" else "¿Dónde está?"), asked


async def test_a_pin_as_entities_from_a_button_payload(conversation):
    await start(conversation, "graffiti on the bridge")
    entities = [entity("latitude", 41.3), entity("longitude", -72.9)]
    await answer(conversation, '/inform{"latitude": 41.3, "longitude": -72.9}', entities=entities)
    assert conversation.slot("location") == "41.30000, -72.90000"


async def test_corrections_during_the_form_and_at_the_confirmation(conversation):
    await start(
        conversation,
        "pothole at 88 Main St",
        entities=[entity("address", "88 Main St", "pothole at 88 Main St")],
    )
    asked = await answer(conversation, "change the address to 140 Elm Street")
    assert conversation.slot("location") == "140 Elm Street"
    assert asked[0].startswith("Tell me a bit about it")  # and the form asks its question again
    await answer(conversation, "big hole")
    await answer(conversation, "555 010 3110")
    assert conversation.slot("contact") == "5550103110"
    await conversation.run("action_confirm_report")
    conversation.user("no, the description should be a deep hole by the bus stop", "inform")
    assert await conversation.run(FORM) == []  # every slot still filled: the form ends at once
    (summary,) = await conversation.run("action_confirm_report")
    assert "Details: a deep hole by the bus stop" in summary and "Where: 140 Elm Street" in summary
    conversation.user("change the type to graffiti", "inform")
    await conversation.run(FORM)
    (summary,) = await conversation.run("action_confirm_report")
    assert "Type: Graffiti" in summary


async def test_invalid_answers_are_asked_again(conversation):
    await start(conversation, "water leak", entities=[])
    asked = await answer(conversation, "the big one")
    assert asked[0].startswith("I need a place") and conversation.slot("requested_slot") == "location"
    assert await answer(conversation, "??") is None  # a question: the rules answer, nothing is stored
    await answer(conversation, "hydrant at Oak Ave and 3rd St")
    asked = await answer(conversation, "x" * 4001)
    assert "at most 4000 characters" in asked[0]
    await answer(conversation, "water everywhere")
    asked = await answer(conversation, "call me maybe")
    assert asked[0].startswith("That doesn't look like an email")
    assert conversation.active_loop == FORM


@pytest.mark.parametrize(
    ("text", "intent"),
    [("cancel", "cancel"), ("never mind", "deny"), ("stop", "inform"), ("no", "deny")],
)
async def test_cancel_is_never_taken_as_an_answer(conversation, demo, text, intent):
    await start(
        conversation,
        "pothole on 12 Elm St",
        entities=[entity("address", "12 Elm St", "pothole on 12 Elm St")],
    )
    assert await answer(conversation, text, intent) is None  # rejected: the rules run action_cancel_report
    (said,) = await conversation.run("action_cancel_report")
    assert said.startswith("OK, I've cancelled the report and nothing was sent.")
    assert conversation.active_loop is None
    assert conversation.slot("service_code") is None and conversation.slot("location") is None
    assert demo.hits_on("POST", "/open311/v2/requests.json") == 0


async def test_a_crisis_message_is_never_taken_as_a_description(conversation):
    await start(conversation, "graffiti on the school wall")
    await answer(conversation, "9 Church Street")
    assert await answer(conversation, "i want to end my life", "sensitive_mental_health_crisis") is None


async def test_a_new_report_forgets_the_last_unfinished_one(conversation):
    await start(conversation, "pothole", entities=[])
    await answer(conversation, "12 Elm St")
    await answer(conversation, "deep")
    await conversation.run("action_deactivate_loop")
    asked = await start(conversation, "report graffiti")
    assert conversation.slot("service_code") == "PW-GRF"
    assert conversation.slot("location") is None and conversation.slot("description") is None
    assert asked[0].startswith("Where is it?")


@pytest.fixture
async def other_city_conversation(other_city, demo, redis_url, clock, domain, action_endpoint):
    config = AgencyConfig.from_settings(
        Settings.from_env(agency_env(demo, redis_url, OPEN311_BASE_URL=other_city.open311))
    )
    await open_resources(config, clock=clock)
    yield Conversation(domain, action_endpoint)
    await close_resources()


async def test_another_city_answers_with_a_token(other_city, other_city_conversation):
    chat = other_city_conversation
    await start(chat, "street light out")
    assert chat.slot("service_code") == "DPW-SL"
    await answer(chat, "8th Ave and Judah St")
    await answer(chat, "dark for a week")
    await answer(chat, "no thanks")
    await chat.run("action_confirm_report")
    chat.user("/affirm", "affirm")
    (said,) = await chat.run("action_submit_report")
    assert "311 has received your report (reference 12345)" in said


async def test_the_311_system_down_ends_the_form_politely(conversation, demo):
    await demo.stop()
    asked = await start(conversation, "I want to report a problem")
    assert asked[0].startswith("Sorry, I can't reach the 311 system right now")
    assert conversation.active_loop is None
    assert await conversation.run("action_confirm_report") == []  # nothing to confirm
