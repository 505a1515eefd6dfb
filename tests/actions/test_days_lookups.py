"""Days and dates in facility hours, collection days and alerts, on a fixed clock against the demo agency.

The clock is set to a Saturday (5 Dec 2026), a Sunday, and holidays (Thanksgiving, Christmas);
"tomorrow" is always the next day in Harbor City, whatever the UTC date.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from lookup_support import agency_env, entity, run_action, sdk_tracker, user_turn
from rasa.shared.core.events import ActionExecuted
from server_support import serving

from actions.alerts import ActionCheckAlerts
from actions.collection import ActionCheckCollectionDay
from actions.facilities import ActionCheckFacilityHours
from actions.resources import close_resources, open_resources
from bot.agency_config import AgencyConfig
from bot.settings import Settings

HOURS, COLLECTION, ALERTS = ActionCheckFacilityHours(), ActionCheckCollectionDay(), ActionCheckAlerts()
SATURDAY = "2026-12-05 10:00"


def hours(domain: Any, text: str, **slots: Any) -> Any:
    return sdk_tracker(domain, text, "ask_facility_hours", slots=slots)


# --- facility hours ----------------------------------------------------------------------------------


async def test_the_depot_tomorrow_on_a_saturday_is_closed_and_says_when_it_opens(lookups, domain, clock):
    clock.set_local(SATURDAY)
    reply = await run_action(HOURS, hours(domain, "is the depot open tomorrow?"), domain)
    assert reply.responses == ["utter_facility_closed_weekday"]
    assert (
        "Eastside Recycling Depot is closed on Sundays, so it's closed tomorrow (Sun 6 Dec). "
        "After that, it next opens Sat 12 Dec, 8 am." in reply.text
    )
    assert reply.slots() == {"facility": "Eastside Recycling Depot", "day": "2026-12-06"}
    reply = await run_action(HOURS, hours(domain, "is the public works yard open tomorrow"), domain)
    assert "closed tomorrow (Sun 6 Dec). After that, it next opens Mon 7 Dec, 7 am." in reply.text


async def test_what_about_tomorrow_answers_for_the_remembered_facility(lookups, domain, clock):
    clock.set_local(SATURDAY)
    reply = await run_action(HOURS, hours(domain, "what about tomorrow?", facility="City Hall"), domain)
    assert "City Hall is closed on Sundays, so it's closed tomorrow (Sun 6 Dec)" in reply.text
    assert "next opens Mon 7 Dec, 8:30 am" in reply.text
    reply = await run_action(HOURS, hours(domain, "and on saturdays?", facility="City Hall"), domain)
    assert reply.responses == ["utter_facility_usually_closed"]
    assert "City Hall is closed on Saturdays. It next opens Mon 7 Dec, 8:30 am." in reply.text
    reply = await run_action(HOURS, hours(domain, "is it open now?", facility="Central Library"), domain)
    assert reply.responses == ["utter_facility_open_now"] and reply.slots()["day"] is None


async def test_on_a_sunday_christmas_eve_and_christmas_from_the_facilities_own_holidays(
    lookups, domain, clock
):
    clock.set_local("2026-12-06 12:00")
    text = "is the library open on christmas eve"
    reply = await run_action(HOURS, hours(domain, text), domain)
    assert "Central Library is open on Christmas Eve (Thu 24 Dec): 9 am–8 pm." in reply.text
    reply = await run_action(HOURS, hours(domain, "city hall on christmas eve?"), domain)
    assert reply.responses == ["utter_facility_open_on", "utter_facility_note"]
    assert "8:30 am–12 pm" in reply.text and "Closes at noon on Christmas Eve" in reply.text
    reply = await run_action(HOURS, hours(domain, "is city hall open on christmas day"), domain)
    assert reply.responses == ["utter_facility_closed_for_on"]
    assert "City Hall is closed on Christmas Day (Fri 25 Dec) for Christmas Day." in reply.text
    assert "After that, it next opens Mon 28 Dec, 8:30 am." in reply.text
    follow_up = hours(domain, "and the library?", facility="City Hall", day="2026-12-25")
    reply = await run_action(HOURS, follow_up, domain)
    assert "Central Library is closed on Fri 25 Dec for Christmas Day" in reply.text
    said = sdk_tracker(
        domain, "the library?", "follow_up", slots={"facility": "City Hall", "day": "2026-12-25"}
    )
    assert "Central Library is closed on Fri 25 Dec" in (await run_action(HOURS, said, domain)).text
    fresh = hours(domain, "is the library open", facility="City Hall", day="2026-12-25")
    assert (await run_action(HOURS, fresh, domain)).responses == ["utter_facility_opens_later"]
    reply = await run_action(HOURS, hours(domain, "is the library open on sundays"), domain)
    assert "Central Library is usually open on Sundays, 1 pm–5 pm." in reply.text
    reply = await run_action(HOURS, hours(domain, "impound lot on 12/25"), domain)
    assert "City Impound Lot is open 24 hours on Fri 25 Dec." in reply.text


async def test_on_a_holiday_tomorrow_and_another_holiday(lookups, domain, clock):
    clock.set_local("2026-11-26 09:00")  # Thanksgiving
    reply = await run_action(HOURS, hours(domain, "is city hall open tomorrow"), domain)
    assert "City Hall is closed tomorrow (Fri 27 Nov) for Day after Thanksgiving." in reply.text
    assert "next opens Mon 30 Nov, 8:30 am" in reply.text
    reply = await run_action(HOURS, hours(domain, "aquatic center tomorrow?"), domain)
    assert "Aquatic Center is open tomorrow (Fri 27 Nov): 6 am–9 pm." in reply.text
    reply = await run_action(HOURS, hours(domain, "is the pool open next monday"), domain)
    assert reply.responses.count("utter_facility_closed_on") == 2
    assert (
        "Westside Outdoor Pool is closed on Mon 30 Nov. After that, it next opens Tue 15 Jun, 11 am."
        in reply.text
    )


async def test_late_saturday_evening_is_still_saturday_in_harbor_city(lookups, domain, clock):
    clock.set_local("2026-12-05 23:30")  # 04:30 on Sunday in UTC
    reply = await run_action(HOURS, hours(domain, "city hall open tomorrow?"), domain)
    assert "closed tomorrow (Sun 6 Dec)" in reply.text


async def test_a_date_that_does_not_exist_is_said_so_and_the_facility_kept(lookups, domain, clock):
    text = "is city hall open on feb 30"
    tracker = sdk_tracker(
        domain, text, "ask_facility_hours", entities=[entity("facility", "city hall", text)]
    )
    reply = await run_action(HOURS, tracker, domain)
    assert reply.responses == ["utter_day_invalid"] and '"feb 30"' in reply.text
    assert reply.slots() == {"facility": "city hall"}


# --- collection days ------------------------------------------------------------------------------------


def collection(domain: Any, text: str, **kwargs: Any) -> Any:
    return sdk_tracker(domain, text, "ask_collection_day", **kwargs)


async def test_is_trash_picked_up_on_monday(lookups, domain, clock):
    clock.set_local(SATURDAY)
    at = {"address": "88 Main Street"}
    reply = await run_action(
        COLLECTION, collection(domain, "is trash picked up on Monday?", slots=at), domain
    )
    assert reply.responses == ["utter_collection_on_day"]
    assert "Collection at 88 Main Street on Mon 7 Dec:\n• Trash: yes, it's collected that day." in reply.text
    assert "Recycling" not in reply.text
    assert reply.slots() == {"address": "88 Main Street", "day": "2026-12-07"}
    reply = await run_action(COLLECTION, collection(domain, "recycling tomorrow?", slots=at), domain)
    assert "• Recycling: not that day. The next pickup is Mon 7 Dec." in reply.text
    reply = await run_action(
        COLLECTION, collection(domain, "is the garbage collected on christmas", slots=at), domain
    )
    assert "• Trash: not that day; it's collected on Mondays (weekly)." in reply.text


async def test_the_day_asked_before_the_form_asked_for_the_address(lookups, domain, clock):
    clock.set_local(SATURDAY)
    asked = user_turn("is trash picked up on monday?", "ask_collection_day")
    text = "88 Main St"
    history = [*asked, ActionExecuted("collection_day_form")]
    tracker = sdk_tracker(domain, text, history=history, entities=[entity("address", text, text)])
    reply = await run_action(COLLECTION, tracker, domain)
    assert "Collection at 88 Main Street on Mon 7 Dec:\n• Trash: yes" in reply.text


async def test_next_pickup_after_thanksgiving(lookups, domain, clock):
    clock.set_local("2026-11-20 12:00")
    text = "when is my next pickup after thanksgiving"
    reply = await run_action(
        COLLECTION, collection(domain, text, slots={"address": "500 Oak Avenue"}), domain
    )
    assert reply.responses == ["utter_collection_after_day"]
    assert "The next pickups at 500 Oak Avenue after Thanksgiving Day (Thu 26 Nov):" in reply.text
    assert "• Trash: Thu 3 Dec" in reply.text and "• Yard waste: Fri 27 Nov" in reply.text


async def test_beyond_the_listed_dates_only_the_weekday_is_known_and_a_holiday_is_flagged(
    lookups, domain, clock
):
    clock.set_local(SATURDAY)
    text = "is trash picked up on new year's day"
    reply = await run_action(COLLECTION, collection(domain, text, slots={"address": "64 Maple Lane"}), domain)
    assert "on New Year's Day (Fri 1 Jan)" in reply.text
    assert (
        "• Trash: usually yes, it's collected on Fridays (weekly). The city's schedule lists dates up to"
        in reply.text
    )
    assert "New Year's Day can move pickups" in reply.text


@pytest.fixture
async def shifted_schedule() -> AsyncIterator[str]:
    """An agency whose schedule moves Thanksgiving's pickup to the Friday, as many cities do."""

    async def schedule(request: web.Request) -> web.Response:
        return web.json_response({
            "address": "500 Oak Avenue", "district": "Eastside",
            "pickups": [{"stream": "trash", "day": "thursday", "frequency": "weekly",
                         "next_pickups": ["2026-11-27", "2026-12-03", "2026-12-10"]}],
        })  # fmt: skip

    app = web.Application()
    app.router.add_get("/collection.json", schedule)
    async with serving(app) as base:
        yield base


async def test_a_holiday_shift_in_the_agencys_schedule_is_what_the_citizen_hears(
    demo, redis_url, domain, clock, shifted_schedule
):
    clock.set_local("2026-11-23 12:00")
    env = agency_env(demo, redis_url, COLLECTION_URL=shifted_schedule)
    await open_resources(AgencyConfig.from_settings(Settings.from_env(env)), clock=clock)
    try:
        at = {"address": "500 Oak Avenue"}
        text = "is trash picked up on thanksgiving"
        reply = await run_action(COLLECTION, collection(domain, text, slots=at), domain)
        assert "• Trash: not that day. The next pickup is Fri 27 Nov." in reply.text
        reply = await run_action(COLLECTION, collection(domain, "trash on friday?", slots=at), domain)
        assert "• Trash: yes, it's collected that day." in reply.text
    finally:
        await close_resources()


# --- alerts ---------------------------------------------------------------------------------------


async def test_alerts_tomorrow_use_effective_and_expiry_times(demo, lookups, domain, clock):
    # Wednesday 25 Nov 10:00: the heat advisory ends Thu 10 am, the boil-water notice Fri 10 am.
    reply = await run_action(ALERTS, sdk_tracker(domain, "any alerts tomorrow", "ask_alerts"), domain)
    assert reply.responses == ["utter_alerts_on_day"]
    assert "Alerts in effect tomorrow (Thu 26 Nov):" in reply.text
    assert "Boil Water" in reply.text and "Heat Advisory" in reply.text and "Flood Watch" not in reply.text
    reply = await run_action(ALERTS, sdk_tracker(domain, "alerts on saturday?", "ask_alerts"), domain)
    assert reply.responses == ["utter_alerts_none_on_day"]
    assert "No city alerts are in effect on Sat 28 Nov so far" in reply.text
    await demo.admin(
        "alerts",
        {"event": "Road Closure", "headline": "Harbor Road closed for the parade", "area": "Harbor District",
         "severity": "Minor", "effective": "now+3d", "expires": "now+4d"},
    )  # fmt: skip
    clock.advance(seconds=61)
    text = "any alerts for harbor district on saturday"
    tracker = sdk_tracker(domain, text, "ask_alerts", entities=[entity("place", "Harbor District", text)])
    reply = await run_action(ALERTS, tracker, domain)
    assert reply.responses == ["utter_alerts_on_day_in_area"]
    assert "Harbor Road closed for the parade (from Sat 28 Nov, 10 am until Sun 29 Nov, 10 am)" in reply.text
    now = await run_action(ALERTS, sdk_tracker(domain, "any alerts right now?", "ask_alerts"), domain)
    assert (
        "Harbor Road closed for the parade (from Sat 28 Nov, 10 am" in now.text
    )  # announced, not yet in effect


async def test_alerts_tonight_and_a_day_in_the_past(lookups, domain, clock):
    reply = await run_action(ALERTS, sdk_tracker(domain, "anything tonight?", "ask_alerts"), domain)
    assert "Alerts in effect tonight:" in reply.text and "Heat Advisory" in reply.text
    reply = await run_action(ALERTS, sdk_tracker(domain, "alerts yesterday", "ask_alerts"), domain)
    assert reply.responses == ["utter_alerts"]  # a day that is over: what is in effect now
