"""Pure helpers: request numbers, cancel, corrections, pins, service matching, facility state, formatting."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

import pytest
from lookup_support import FIXTURES

from actions.parsing import (
    alert_areas,
    contact_details,
    describes,
    find_area,
    find_by_name,
    is_cancel,
    is_menu,
    is_place,
    is_question,
    is_restart,
    is_skip,
    is_small_talk,
    looks_like_location,
    match_services,
    names_a_problem,
    never_an_answer,
    parse_correction,
    problem_details,
    request_number,
)
from bot.clients.facilities import parse_facilities
from bot.clients.open311 import Service, parse_service
from bot.clients.payload import Reader
from bot.clients.service_status import parse_statuses
from bot.demo_agency import DATA_DIR
from bot.formatting import ago_text, as_of_text, clock_time, day_text, hours_text
from bot.location import coordinates, location_pin
from bot.opening_hours import facility_now, next_opening

NY = ZoneInfo("America/New_York")


def services(path) -> list[Service]:
    return [parse_service(Reader("open311", s, "service")) for s in json.loads(path.read_text())]


@pytest.fixture(scope="module")
def harbor_services() -> list[Service]:
    return services(DATA_DIR / "services.json")


@pytest.fixture(scope="module")
def facilities():
    return {f.id: f for f in parse_facilities(json.loads((DATA_DIR / "facilities.json").read_text()))}


@pytest.mark.parametrize(
    "text",
    ["request 512077", "#512077", "# 512077", "SR-512077", "sr512077", "my pothole report 512077",
     "512077", "whats up with 512077??", "case no. 512077", "Request #512077 status pls"],
)  # fmt: skip
def test_request_numbers_in_the_agencys_formats(text):
    assert request_number(text) == "512077"


@pytest.mark.parametrize(
    "text",
    ["what's the status of my request", "call me at 555-010-3110", "12 Elm St 06510 and 06511", "1234"],
)
def test_no_request_number_is_guessed(text):
    assert request_number(text) is None


@pytest.mark.parametrize(
    "text",
    ["cancel", "Cancel!", "stop", "never mind", "nevermind", "nvm", "forget it", "ok cancel that",
     "no stop", "please cancel the report", "i changed my mind", "don't file it", "STOP 🙏", "quit"],
)  # fmt: skip
def test_cancel(text):
    assert is_cancel(text)


@pytest.mark.parametrize(
    "text",
    ["the stop sign is down", "cancel my water service", "a streetlight that never stops flickering", ""],
)
def test_not_cancel(text):
    assert not is_cancel(text)


@pytest.mark.parametrize("text", ["skip", "Skip", "no thanks", "rather not", "none", "no", "nope", "n/a"])
def test_skip(text):
    assert is_skip(text)


@pytest.mark.parametrize(
    "text", ["start over", "Let's start over!", "can we start again please", "restart", "reset"]
)
def test_restart(text):
    assert is_restart(text) and never_an_answer(text)


@pytest.mark.parametrize("text", ["menu", "Menu", "main menu", "show me the menu", "back to the main menu"])
def test_menu(text):
    assert is_menu(text) and never_an_answer(text)


@pytest.mark.parametrize(
    "text", ["ok", "OK!", "yes", "thanks", "thank you so much", "ok thanks", "hello", "idk"]
)
def test_small_talk(text):
    assert is_small_talk(text) and never_an_answer(text)


@pytest.mark.parametrize(
    "text", ["there's glass everywhere", "ok so it's the second pole", "start of the bike lane", "12 Elm St"]
)
def test_answers_are_no_small_talk_exit_or_question(text):
    assert not never_an_answer(text) and not is_question(text)


@pytest.mark.parametrize(
    "text",
    ["wait, is city hall open today?", "is City Hall open today", "hmm what?",
     "how do I pay a parking ticket", "and when's trash day", "why do you need my email?"],
)  # fmt: skip
def test_questions(text):
    assert is_question(text) and not describes(text)


@pytest.mark.parametrize(
    ("text", "landmarks"),
    [
        ("12 Elm St", []),
        ("52 Quarry Lane", []),
        ("in front of 140 Elm Street", []),
        ("hydrant at Oak Ave and 3rd St", []),
        ("8th Ave and Judah St", []),
        ("corner of oak and 3rd", []),
        ("near the corner of pine and 5th", []),
        ("in front of City Hall", ["City Hall"]),
    ],
)
def test_places_a_crew_can_find(text, landmarks):
    assert is_place(text, landmarks)


@pytest.mark.parametrize(
    ("text", "landmarks"),
    [
        ("wait, is city hall open today?", ["city hall"]),
        ("my cat is sad", []),
        ("it's in the bike lane and really deep", []),
        ("start over", []),
        ("thanks", []),
        ("yes", []),
        ("555 010 3110", []),
        ("bread and butter", []),
        ("near my house", []),
    ],
)
def test_not_places(text, landmarks):
    assert not is_place(text, landmarks)


@pytest.mark.parametrize(
    "text", ["deep", "big hole", "pole 1142 is dark", "it's in the bike lane and really deep"]
)
def test_descriptions(text):
    assert describes(text)


@pytest.mark.parametrize(
    "text", ["start over", "thanks", "yes", "ok", "??", "wait, is city hall open today?"]
)
def test_not_descriptions(text):
    assert not describes(text)


@pytest.mark.parametrize(
    ("text", "details"),
    [
        (
            "please report a pothole at 88 Main Street, it's in the bike lane and really deep, "
            "my email is someone@example.com",
            "it's in the bike lane and really deep",
        ),
        (
            "there's an abandoned car on my street for 2 weeks, can u file a report",
            "there's an abandoned car on my street for 2 weeks",
        ),
        ("file it: big pothole in front of the school", "big pothole in front of the school"),
        ("report a broken streetlight at 8 River Street", None),
        ("graffiti on the school wall", None),
        ("pothole at 88 Main St", None),
        ("report a pothole on Elm St. is that ok?", None),
    ],
)
def test_the_details_of_a_first_message(text, details):
    assert problem_details(text) == details


@pytest.mark.parametrize(
    "text",
    [
        "report a dead raccoon in the road",
        "there's an abandoned car on my street",
        "my neighbour plays loud music",
    ],
)
def test_a_named_problem(text):
    assert names_a_problem(text)


@pytest.mark.parametrize(
    "text",
    ["I want to report something", "report an issue in my neighborhood", "submit a service request",
     "can you file a report for me", "open a new 311 case for me", "report a problem at 88 Main St",
     "how do i file a report here? i want to do it now"],
)  # fmt: skip
def test_no_named_problem(text):
    assert not names_a_problem(text)


def test_contact_details():
    assert contact_details("jo.smith+311@example.org") == ("email", "jo.smith+311@example.org")
    assert contact_details("my email is Jo@Example.org.") == ("email", "Jo@Example.org")
    assert contact_details("(555) 010-3110") == ("phone", "5550103110")
    assert contact_details("+1 555 010 3110") == ("phone", "+15550103110")
    assert contact_details("call me maybe") is None
    assert contact_details("12345") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("change the address to 12 Elm St", ("location", "12 Elm St")),
        ("Change address to 140 Elm Street!", ("location", "140 Elm Street")),
        ("no, the address is 88 Main St", ("location", "88 Main St")),
        ("actually it's at 9 Church Street", ("location", "9 Church Street")),
        ("wrong address, it's 27 Harbor Rd", ("location", "27 Harbor Rd")),
        (
            "change the description to a deep hole in the bike lane",
            ("description", "a deep hole in the bike lane"),
        ),
        ("update my email to jo@example.org", ("contact", "jo@example.org")),
        ("change the type to graffiti", ("service_code", "graffiti")),
        ("the location should be Oak Ave and 3rd", ("location", "Oak Ave and 3rd")),
    ],
)
def test_corrections(text, expected):
    assert parse_correction(text) == expected


@pytest.mark.parametrize("text", ["12 Elm St", "there's a big hole", "change", "the hole is deep"])
def test_not_corrections(text):
    assert parse_correction(text) is None


def test_location_pin_convention():
    assert location_pin({"location": {"lat": 41.30412, "long": -72.92471}}) == (41.30412, -72.92471)
    assert location_pin({"location": {"latitude": "41.3", "longitude": "-72.9"}}) == (41.3, -72.9)
    assert location_pin({"location": {"lat": 41.3, "lng": -72.9}}) == (41.3, -72.9)
    entities = [{"entity": "latitude", "value": 41.3}, {"entity": "longitude", "value": -72.9}]
    assert location_pin({}, entities) == (41.3, -72.9)
    assert location_pin({"location": {"lat": 141.3, "long": -72.9}}) is None
    assert location_pin({"location": {"lat": True, "long": -72.9}}) is None
    assert location_pin({"location": "41.3,-72.9"}) is None
    assert location_pin(None) is None
    assert coordinates("41.30412, -72.92471") == (41.30412, -72.92471)
    assert coordinates("12, 5") is None
    assert looks_like_location("12 Elm St") and looks_like_location("corner of Oak and 3rd")
    assert not looks_like_location("no") and not looks_like_location("??")


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("pothole", "PW-POT"),
        ("Pothole", "PW-POT"),
        ("there's a huge hole in the road", "PW-POT"),
        ("the street light is out on my block", "PW-SLO"),
        ("lamps are dark on Oak Ave", "PW-SLO"),
        ("my trash wasn't picked up", "SAN-MC"),
        ("someone dumped a mattress in the alley", "SAN-ILD"),
        ("water gushing from a hydrant", "WTR-LEAK"),
        ("abandoned car with no plates", "TR-ABV"),
        ("spray paint on the bridge", "PW-GRF"),
        ("PW-GRF", "PW-GRF"),
    ],
)
def test_services_are_matched_on_the_agencys_own_words(harbor_services, text, code):
    assert [s.service_code for s in match_services(text, harbor_services)] == [code]


@pytest.mark.parametrize(
    "text", ["a dead raccoon in the road", "abandoned car on my street", "broken sidewalk on my block"]
)
def test_where_a_problem_is_never_picks_its_type(harbor_services, text):
    without_vehicles = [s for s in harbor_services if s.service_code != "TR-ABV"]
    assert match_services(text, without_vehicles) == []  # "road", "street" are Pothole keywords


def test_unclear_or_unknown_service(harbor_services):
    tie = match_services("garbage dumped", harbor_services)
    assert sorted(s.service_code for s in tie) == ["SAN-ILD", "SAN-MC"]
    assert match_services("my neighbour's dog keeps barking", harbor_services) == []


def test_another_citys_services_match_too():
    other = services(FIXTURES / "open311" / "services.json")
    assert [s.service_code for s in match_services("street light out", other)] == ["DPW-SL"]
    assert [s.service_code for s in match_services("the curb ramp is cracked", other)] == ["003"]


def test_find_by_name(facilities):
    listed = list(facilities.values())
    assert [f.id for f in find_by_name("library", listed)] == ["central-library"]
    assert [f.id for f in find_by_name("is the main library open today", listed)] == ["central-library"]
    assert {f.id for f in find_by_name("pool", listed)} == {"westside-pool", "north-end-pool"}
    assert [f.id for f in find_by_name("when does town hall close", listed)] == ["city-hall"]
    assert find_by_name("is the zoo open", listed) == []
    statuses = parse_statuses(json.loads((FIXTURES / "service_status" / "status.json").read_text()))
    assert [s.id for s in find_by_name("can i pay online right now", statuses)] == ["payments"]


def test_areas():
    areas = alert_areas(["Riverside; Old Town", "Downtown"])
    assert areas == ["Riverside", "Old Town", "Downtown"]
    assert find_area("anything happening in old town?", areas) == "Old Town"
    assert find_area("any alerts", areas) is None


def test_formatting():
    assert clock_time(time(8, 30)) == "8:30 am"
    assert clock_time(time(16, 0)) == "4 pm"
    assert clock_time(time(12, 0)) == "12 pm"
    assert clock_time(time(0, 0)) == "12 am"
    assert day_text(date(2026, 11, 30)) == "Mon 30 Nov"
    now = datetime(2026, 11, 25, 15, 0, tzinfo=timezone.utc)
    assert ago_text(now, now) == "just now"
    assert ago_text(datetime(2026, 11, 25, 14, 59, tzinfo=timezone.utc), now) == "1 minute ago"
    assert ago_text(datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc), now) == "3 hours ago"
    assert ago_text(datetime(2026, 11, 23, 14, 0, tzinfo=timezone.utc), now) == "2 days ago"
    assert as_of_text(datetime(2026, 11, 25, 15, 42, tzinfo=timezone.utc), NY, now) == "10:42 am"
    assert as_of_text(datetime(2026, 11, 24, 15, 42, tzinfo=timezone.utc), NY, now) == "Tue 24 Nov, 10:42 am"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=NY)


def test_facility_state_at_the_edges(facilities):
    city_hall = facilities["city-hall"]
    before_close = facility_now(city_hall, at("2026-11-25 16:29"))
    assert (before_close.state, before_close.closes) == ("open", "4:30 pm")
    after_close = facility_now(city_hall, at("2026-11-25 16:30"))
    assert after_close.state == "closed_rest_of_day"
    assert after_close.next_open == "Mon 30 Nov, 8:30 am"  # Thanksgiving and the day after are holidays
    holiday = facility_now(city_hall, at("2026-11-26 10:00"))
    assert (holiday.state, holiday.reason) == ("closed_for", "Thanksgiving Day")
    early = facility_now(city_hall, at("2026-11-25 07:00"))
    assert (early.state, early.opens) == ("opens_later", "8:30 am")
    eve = facility_now(city_hall, at("2026-12-24 11:59"))
    assert (eve.state, eve.closes, eve.note) == ("open", "12 pm", "Closes at noon on Christmas Eve")
    assert facility_now(facilities["impound-lot"], at("2026-11-26 03:00")).state == "open_all_day"
    pool = facility_now(facilities["westside-pool"], at("2026-11-25 12:00"))
    assert (pool.state, pool.next_open) == ("closed_today", "Tue 15 Jun, 11 am")
    saturday = facility_now(city_hall, at("2026-11-28 12:00"))
    assert (saturday.state, saturday.next_open) == ("closed_today", "Mon 30 Nov, 8:30 am")


def test_overnight_hours_and_daylight_saving():
    feed = {
        "timezone": "America/New_York",
        "facilities": [{"id": "shelter", "name": "Night Shelter", "hours": {"friday": ["22:00-02:00"]}}],
    }
    (shelter,) = parse_facilities(feed)
    late = facility_now(shelter, at("2026-11-28 01:30"))  # Saturday 1:30, opened Friday
    assert (late.state, late.closes) == ("open", "2 am")
    assert facility_now(shelter, at("2026-11-28 02:00")).state == "closed_today"
    assert next_opening(shelter, at("2026-11-28 02:00")) == at("2026-12-04 22:00")
    # 1 November 2026: clocks go back at 2 am; hours are wall-clock times in Harbor City.
    (library,) = parse_facilities(
        {"facilities": [{"id": "lib", "name": "Library", "hours": {"sunday": ["13:00-17:00"]}}]}
    )
    sunday = datetime(2026, 11, 1, 17, 59, tzinfo=timezone.utc)  # 12:59 EST
    assert facility_now(library, sunday).state == "opens_later"
    assert facility_now(library, sunday).hours_today == hours_text(library.week[6]) == "1 pm–5 pm"
    assert facility_now(library, datetime(2026, 11, 1, 18, 0, tzinfo=timezone.utc)).state == "open"
