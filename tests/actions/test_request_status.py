"""311 request status against the demo agency and another city's Open311 server, over real HTTP and Redis.

Also what the request-number and address forms leave to the rules (questions, "ok", exits).
"""

from __future__ import annotations

import time

import pytest
from aiohttp import web
from lookup_support import agency_env, entity, run_action, sdk_tracker
from server_support import serving

from actions.collection import ValidateCollectionDayForm
from actions.request_status import ActionCheckRequestStatus, ValidateRequestStatusForm
from actions.resources import close_resources, open_resources
from bot.agency_config import AgencyConfig
from bot.demo_agency import DATA_DIR
from bot.settings import Settings

CHECK = ActionCheckRequestStatus()


async def test_found_with_status_notes_expected_date_and_last_update(lookups, domain):
    text = "whats happening with my pothole report 512077"
    tracker = sdk_tracker(
        domain, text, "check_request_status", entities=[entity("request_id", "report 512077", text)]
    )
    reply = await run_action(CHECK, tracker, domain)
    assert reply.responses == ["utter_request_status"]
    assert (
        "Request 512077 (Pothole) is open. In progress: a repair crew is scheduled for this week."
        in reply.text
    )
    assert "\nExpected by Fri 27 Nov.\nLast update: 1 day ago.\n" in reply.text
    assert "harborcity.example/311" in reply.text
    assert reply.slots() == {"request_id": None}


async def test_a_closed_request_has_no_expected_date(lookups, domain):
    reply = await run_action(CHECK, sdk_tracker(domain, "SR-512034", slots={"request_id": "512034"}), domain)
    assert reply.responses == ["utter_request_status"]
    assert "Request 512034 (Streetlight out) is closed. Repaired: the lamp was replaced." in reply.text
    assert "Last update: 5 days ago" in reply.text


async def test_unknown_number_is_a_clear_answer(lookups, domain):
    reply = await run_action(CHECK, sdk_tracker(domain, "#999999", "check_request_status"), domain)
    assert reply.responses == ["utter_request_status_unknown"]
    assert "I can't find request 999999" in reply.text


async def test_the_form_takes_the_number_in_any_format_and_rejects_other_text(lookups, domain):
    form = ValidateRequestStatusForm()
    asked = {"requested_slot": "request_id"}
    reply = await run_action(form, sdk_tracker(domain, "it's SR-512077", slots=asked), domain)
    assert reply.slots()["request_id"] == "512077"
    reply = await run_action(form, sdk_tracker(domain, "i dont have it", slots=asked), domain)
    assert reply.responses == ["utter_request_id_invalid"] and reply.slots()["request_id"] is None
    reply = await run_action(form, sdk_tracker(domain, "never mind", "cancel", slots=asked), domain)
    assert reply.slots() == {} and reply.messages == []


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("wait, is city hall open today?", "ask_facility_hours"),
        ("where do I find it?", "faq"),
        ("ok", "affirm"),
        ("thanks", "thank"),
        ("menu", "ask_capabilities"),
        ("start over", "restart"),
        ("start over", "nlu_fallback"),
        ("stop", "cancel"),
    ],
)
async def test_the_number_and_address_forms_leave_questions_thanks_and_exits_to_the_rules(
    lookups, domain, text, intent
):
    for form, slot in ((ValidateRequestStatusForm(), "request_id"), (ValidateCollectionDayForm(), "address")):
        tracker = sdk_tracker(domain, text, intent, slots={"requested_slot": slot})
        reply = await run_action(form, tracker, domain)
        assert reply.slots() == {} and reply.messages == []  # nothing extracted: Rasa's form rejects the turn


async def test_the_address_form_still_takes_an_address_and_says_when_it_is_none(lookups, domain):
    form, asked = ValidateCollectionDayForm(), {"requested_slot": "address"}
    reply = await run_action(form, sdk_tracker(domain, "it's 12 Elm St", slots=asked), domain)
    assert reply.slots() == {"address": "it's 12 Elm St"}
    reply = await run_action(form, sdk_tracker(domain, "the blue house", slots=asked), domain)
    assert reply.responses == ["utter_collection_address_invalid"] and reply.slots() == {"address": None}


async def test_an_expected_date_that_has_passed_is_overdue(demo, lookups, domain):
    await demo.admin("requests/512077", {"expected_datetime": "now-2d"})
    reply = await run_action(CHECK, sdk_tracker(domain, "request 512077", "check_request_status"), domain)
    assert "Request 512077 (Pothole) is open." in reply.text
    assert "It was expected by Mon 23 Nov, so it is overdue." in reply.text
    assert "Expected by" not in reply.text


@pytest.fixture
async def bare_city(demo, redis_url, clock):
    """An Open311 server whose request has no service name and no dates: only a code and a status."""
    request = {"service_request_id": "700001", "status": "open", "service_code": "PW-POT"}
    unnamed_unknown = {"service_request_id": "700002", "status": "open", "service_code": "XX-9"}

    async def services(_: web.Request) -> web.Response:
        return web.Response(body=(DATA_DIR / "services.json").read_bytes(), content_type="application/json")

    async def one(request_: web.Request) -> web.Response:
        found = {"700001": request, "700002": unnamed_unknown}.get(request_.match_info["id"])
        return web.json_response([found] if found else [{"code": 404, "description": "not found"}],
                                 status=200 if found else 404)  # fmt: skip

    app = web.Application()
    app.router.add_get("/open311/v2/services.json", services)
    app.router.add_get("/open311/v2/requests/{id}.json", one)
    async with serving(app) as root:
        env = agency_env(demo, redis_url, OPEN311_BASE_URL=f"{root}/open311/v2")
        config = AgencyConfig.from_settings(Settings.from_env(env))
        yield await open_resources(config, clock=clock)
        await close_resources()


async def test_the_service_name_never_its_code_and_no_empty_last_update(bare_city, domain):
    reply = await run_action(CHECK, sdk_tracker(domain, "request 700001", "check_request_status"), domain)
    assert reply.text.startswith("Request 700001 (Pothole) is open.")  # the name from services.json
    assert "PW-POT" not in reply.text and "Last update" not in reply.text and "Expected" not in reply.text
    unknown = await run_action(CHECK, sdk_tracker(domain, "request 700002", "check_request_status"), domain)
    assert unknown.responses == ["utter_request_status_unnamed"]
    assert unknown.text.startswith("Request 700002 is open.") and "XX-9" not in unknown.text


@pytest.fixture
async def other_city_lookups(other_city, demo, redis_url, clock):
    config = AgencyConfig.from_settings(
        Settings.from_env(agency_env(demo, redis_url, OPEN311_BASE_URL=other_city.open311))
    )
    yield await open_resources(config, clock=clock)
    await close_resources()


async def test_another_citys_numeric_ids(other_city, other_city_lookups, domain):
    reply = await run_action(CHECK, sdk_tracker(domain, "request 638344", "check_request_status"), domain)
    assert "Request 638344 (Sidewalk and Curb Issues) is closed. Duplicate request." in reply.text


@pytest.mark.parametrize("mode", ["500", "malformed"])
async def test_upstream_failures_give_the_311_phone_and_web_page(
    other_city, other_city_lookups, domain, mode
):
    other_city.mode = mode
    reply = await run_action(CHECK, sdk_tracker(domain, "request 638344", "check_request_status"), domain)
    assert reply.responses == ["utter_request_status_unavailable"]
    assert "555-010-3110" in reply.text and "harborcity.example/311" in reply.text
    assert reply.slots() == {"request_id": None}


async def test_a_hanging_agency_gets_an_answer_within_4_seconds(other_city, other_city_lookups, domain):
    other_city.mode = "slow"
    started = time.monotonic()
    reply = await run_action(CHECK, sdk_tracker(domain, "request 638344", "check_request_status"), domain)
    assert time.monotonic() - started < 4
    assert reply.responses == ["utter_request_status_unavailable"]


async def test_cached_answer_when_the_agency_goes_down_is_labelled_stale(demo, lookups, domain, clock):
    tracker = sdk_tracker(domain, "request 512077", "check_request_status")
    fresh = await run_action(CHECK, tracker, domain)
    assert "In progress" in fresh.text and "utter_lookup_stale" not in fresh.responses
    await demo.stop()
    clock.advance(minutes=5)
    stale = await run_action(CHECK, tracker, domain)
    assert stale.responses == ["utter_lookup_stale", "utter_request_status"]
    assert "this is what it said at 10 am" in stale.text and "In progress" in stale.text
    clock.advance(hours=2)  # beyond what a stale status may be
    gone = await run_action(CHECK, tracker, domain)
    assert gone.responses == ["utter_request_status_unavailable"]


async def test_fresh_answers_come_from_the_cache_for_a_minute(demo, lookups, domain, clock):
    tracker = sdk_tracker(domain, "request 512077", "check_request_status")
    await run_action(CHECK, tracker, domain)
    await demo.admin("requests/512077", {"status": "closed", "status_notes": "Repaired."})
    cached = await run_action(CHECK, tracker, domain)
    assert "In progress" in cached.text
    clock.advance(seconds=61)
    updated = await run_action(CHECK, tracker, domain)
    assert "is closed. Repaired." in updated.text
    assert demo.hits_on("GET", "/open311/v2/requests/512077.json") == 2
