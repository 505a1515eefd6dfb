"""Alerts, facility hours, collection days and online-service status against the demo agency."""

from __future__ import annotations

from lookup_support import agency_env, entity, run_action, sdk_tracker

from actions.alerts import ActionCheckAlerts
from actions.collection import ActionCheckCollectionDay, ValidateCollectionDayForm
from actions.facilities import ActionCheckFacilityHours
from actions.resources import close_resources, open_resources
from actions.service_status import ActionCheckServiceStatus
from bot.agency_config import AgencyConfig
from bot.settings import Settings

ALERTS, HOURS, COLLECTION, STATUS = (
    ActionCheckAlerts(),
    ActionCheckFacilityHours(),
    ActionCheckCollectionDay(),
    ActionCheckServiceStatus(),
)

# --- alerts -----------------------------------------------------------------------------------------


async def test_alerts_most_severe_first_and_never_the_expired_one(lookups, domain):
    reply = await run_action(ALERTS, sdk_tracker(domain, "any alerts right now?", "ask_alerts"), domain)
    assert reply.responses == ["utter_alerts"]
    text = reply.text
    assert text.index("Boil Water Notice for Downtown") < text.index("Heat Advisory for the Eastside")
    assert "Flood Watch" not in text  # expired two days ago, still in the feed on purpose
    assert "(until Fri 27 Nov, 10 am)" in text and "harborcity.example/alerts" in text


async def test_area_from_the_place_entity_or_the_text(lookups, domain):
    text = "alerts for eastside?"
    tracker = sdk_tracker(domain, text, "ask_alerts", entities=[entity("place", "Eastside", text)])
    reply = await run_action(ALERTS, tracker, domain)
    assert reply.responses == ["utter_alerts_in_area"]
    assert "Heat Advisory" in reply.text and "Boil Water" not in reply.text
    reply = await run_action(
        ALERTS, sdk_tracker(domain, "is anything going on downtown", "ask_alerts"), domain
    )
    assert "for Downtown" in reply.text and "Heat Advisory" not in reply.text


async def test_an_area_with_only_an_expired_alert_has_none(lookups, domain):
    text = "any warnings in riverside"
    tracker = sdk_tracker(domain, text, "ask_alerts", entities=[entity("place", "Riverside", text)])
    reply = await run_action(ALERTS, tracker, domain)
    assert reply.responses == ["utter_alerts_none_in_area"]
    assert "no city alerts in effect for Riverside" in reply.text


async def test_a_stale_copy_still_never_shows_an_alert_that_has_since_expired(demo, lookups, domain, clock):
    await demo.admin(
        "alerts", {"event": "Road Closure", "area": "Westside", "severity": "Minor", "expires": "now+2m"}
    )
    tracker = sdk_tracker(domain, "alerts", "ask_alerts")
    assert "Road Closure" in (await run_action(ALERTS, tracker, domain)).text
    await demo.stop()
    clock.advance(minutes=3)
    stale = await run_action(ALERTS, tracker, domain)
    assert stale.responses == ["utter_lookup_stale", "utter_alerts"]
    assert "at 10 am" in stale.text and "Boil Water" in stale.text and "Road Closure" not in stale.text


async def test_alerts_down_with_nothing_cached(demo, lookups, domain):
    await demo.stop()
    reply = await run_action(ALERTS, sdk_tracker(domain, "alerts", "ask_alerts"), domain)
    assert reply.responses == ["utter_alerts_unavailable"]
    assert "911" in reply.text and "555-010-3110" in reply.text


# --- facility hours ------------------------------------------------------------------------------------


def hours_question(domain, text, facility):
    return sdk_tracker(domain, text, "ask_facility_hours", entities=[entity("facility", facility, text)])


async def test_open_now_until_closing(lookups, domain):
    reply = await run_action(HOURS, hours_question(domain, "is city hall open", "city hall"), domain)
    assert reply.responses == ["utter_facility_open_now"]
    assert "City Hall is open now, until 4:30 pm. Today's hours: 8:30 am–4:30 pm." in reply.text
    assert "100 Main Street · 311 · https://www.harborcity.example/city-hall" in reply.text


async def test_open_now_edges(lookups, domain, clock):
    clock.set_local("2026-11-25 16:29")
    reply = await run_action(HOURS, hours_question(domain, "city hall open?", "city hall"), domain)
    assert "open now, until 4:30 pm" in reply.text
    clock.set_local("2026-11-25 16:30")
    reply = await run_action(HOURS, hours_question(domain, "city hall open?", "city hall"), domain)
    assert reply.responses == ["utter_facility_closed_rest_of_day"]
    assert "It next opens Mon 30 Nov, 8:30 am" in reply.text
    clock.set_local("2026-11-26 09:00")
    reply = await run_action(HOURS, hours_question(domain, "city hall open today?", "city hall"), domain)
    assert reply.responses == ["utter_facility_closed_for"]
    assert "closed today for Thanksgiving Day" in reply.text
    clock.set_local("2026-11-29 11:00")
    reply = await run_action(HOURS, hours_question(domain, "library open?", "library"), domain)
    assert "Central Library is closed right now and opens today at 1 pm" in reply.text


async def test_special_hours_note_and_twenty_four_seven(lookups, domain, clock):
    clock.set_local("2026-12-24 10:00")
    reply = await run_action(
        HOURS, hours_question(domain, "is city hall open on xmas eve", "city hall"), domain
    )
    assert reply.responses == ["utter_facility_open_now", "utter_facility_note"]
    assert "until 12 pm" in reply.text and "Closes at noon on Christmas Eve" in reply.text
    reply = await run_action(HOURS, hours_question(domain, "impound lot hours", "impound lot"), domain)
    assert reply.responses == ["utter_facility_open_all_day"]


async def test_several_pools_or_none_named(lookups, domain):
    reply = await run_action(HOURS, hours_question(domain, "is the pool open", "pool"), domain)
    assert reply.responses == ["utter_facility_closed_today", "utter_facility_closed_today"]
    assert "Westside Outdoor Pool" in reply.text and "North End Outdoor Pool" in reply.text
    assert "It next opens Tue 15 Jun, 11 am" in reply.text
    reply = await run_action(HOURS, sdk_tracker(domain, "when are you open", "ask_facility_hours"), domain)
    assert reply.responses == ["utter_facility_which"]
    reply = await run_action(
        HOURS, hours_question(domain, "council chambers hours", "Council Chambers"), domain
    )
    assert reply.responses == ["utter_facility_unknown"] and '"Council Chambers"' in reply.text


async def test_facility_found_from_the_text_alone(lookups, domain):
    reply = await run_action(
        HOURS, sdk_tracker(domain, "is the food pantry open today", "ask_facility_hours"), domain
    )
    assert "Food Bank" in reply.text


# --- collection days ---------------------------------------------------------------------------------


async def test_collection_by_address_and_the_address_is_remembered(demo, lookups, domain):
    text = "when is trash day at 12 elm st"
    tracker = sdk_tracker(domain, text, "ask_collection_day", entities=[entity("address", "12 elm st", text)])
    reply = await run_action(COLLECTION, tracker, domain)
    assert reply.responses == ["utter_collection_day"]
    assert "Collection at 12 Elm Street (Downtown):" in reply.text
    assert "• Trash: Tuesday, weekly. Next: Tue 1 Dec." in reply.text
    assert "• Yard waste: Wednesday, weekly. Next: Wed 25 Nov. Green bin: weekly from April" in reply.text
    assert reply.slots() == {"address": "12 Elm Street"}
    later = sdk_tracker(domain, "and recycling?", "ask_collection_day", slots={"address": "12 Elm Street"})
    again = await run_action(COLLECTION, later, domain)
    assert "Collection at 12 Elm Street" in again.text
    assert demo.hits_on("GET", "/collection.json") == 2  # typed and canonical spellings are separate keys
    await run_action(COLLECTION, later, domain)
    assert demo.hits_on("GET", "/collection.json") == 2  # cached for a day


async def test_an_address_the_city_does_not_serve_is_forgotten(lookups, domain):
    text = "collection day for 1 Nowhere Lane"
    tracker = sdk_tracker(
        domain, text, "ask_collection_day", entities=[entity("address", "1 Nowhere Lane", text)]
    )
    reply = await run_action(COLLECTION, tracker, domain)
    assert reply.responses == ["utter_collection_unknown_address"]
    assert reply.slots() == {"address": None}


async def test_collection_schedule_down_keeps_the_address(demo, lookups, domain):
    await demo.stop()
    tracker = sdk_tracker(domain, "trash day?", "ask_collection_day", slots={"address": "12 Elm Street"})
    reply = await run_action(COLLECTION, tracker, domain)
    assert reply.responses == ["utter_collection_unavailable"] and reply.events == []


async def test_collection_form_takes_an_address_and_refuses_other_text(lookups, domain):
    form = ValidateCollectionDayForm()
    asked = {"requested_slot": "address"}
    reply = await run_action(form, sdk_tracker(domain, "64 maple lane", slots=asked), domain)
    assert reply.slots()["address"] == "64 maple lane"
    reply = await run_action(form, sdk_tracker(domain, "my house", slots=asked), domain)
    assert reply.responses == ["utter_collection_address_invalid"]
    reply = await run_action(form, sdk_tracker(domain, "stop", "cancel", slots=asked), domain)
    assert reply.slots() == {}


# --- online services -------------------------------------------------------------------------------------


async def test_which_online_services_have_problems(lookups, domain):
    reply = await run_action(
        STATUS, sdk_tracker(domain, "are your online services working", "ask_service_status"), domain
    )
    assert reply.responses == ["utter_online_services_problems_others_up"]
    assert "• Permit portal: having problems. Uploading plans is slow." in reply.text
    assert "• Library catalog: down. Scheduled maintenance until 6 am." in reply.text
    assert "Working normally: Payments portal, Harbor City 311 app." in reply.text


async def test_one_named_online_service(demo, lookups, domain, clock):
    reply = await run_action(
        STATUS, sdk_tracker(domain, "can i pay online right now", "ask_service_status"), domain
    )
    assert reply.responses == ["utter_online_service_up"]
    assert "Payments portal is working normally (checked 3 hours ago)" in reply.text
    await demo.admin("status/payments", {"status": "down", "note": "Card payments fail."})
    clock.advance(seconds=61)
    reply = await run_action(
        STATUS, sdk_tracker(domain, "is the payment portal down", "ask_service_status"), domain
    )
    assert "Payments portal is down right now: Card payments fail." in reply.text


async def test_status_page_down(demo, lookups, domain):
    await demo.stop()
    reply = await run_action(
        STATUS, sdk_tracker(domain, "is the permit portal up", "ask_service_status"), domain
    )
    assert reply.responses == ["utter_service_status_unavailable"]


async def test_a_cap_atom_feed_gives_the_same_answer(demo, redis_url, clock, domain):
    env = agency_env(demo, redis_url, ALERTS_URL=f"{demo.base_url}/alerts.atom", ALERTS_FORMAT="cap-atom")
    await open_resources(AgencyConfig.from_settings(Settings.from_env(env)), clock=clock)
    try:
        reply = await run_action(ALERTS, sdk_tracker(domain, "any alerts?", "ask_alerts"), domain)
    finally:
        await close_resources()
    assert "Boil Water Notice for Downtown" in reply.text and "Flood Watch" not in reply.text
