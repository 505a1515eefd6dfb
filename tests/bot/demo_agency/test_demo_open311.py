"""The demo agency's Open311 API, through the real client and raw HTTP where the client cannot go."""

from __future__ import annotations

import json
import os
from datetime import timedelta

import pytest

from bot.clients.errors import NotFound, Rejected
from bot.clients.open311 import Open311Client

API_KEY = "demo-key"
SERVICES = {
    "PW-POT": "Pothole",
    "PW-SLO": "Streetlight out",
    "SAN-MC": "Missed collection",
    "PW-GRF": "Graffiti",
    "SAN-ILD": "Illegal dumping",
    "WTR-LEAK": "Water leak",
    "TR-ABV": "Abandoned vehicle",
}


@pytest.fixture
def client(session, demo):
    return Open311Client(session, demo.open311, api_key=API_KEY, jurisdiction_id="harborcity.example")


async def test_the_seven_harbor_city_services(client):
    services = await client.services()
    assert {s.service_code: s.service_name for s in services} == SERVICES
    assert all(s.type == "realtime" and s.metadata is False and s.keywords for s in services)


async def test_demo_settings_are_not_served(session, demo):
    async with session.get(f"{demo.open311}/services.json") as response:
        services = await response.json()
    assert not [k for s in services for k in s if k.startswith("x_")]


async def test_request_512077_is_a_pothole_on_elm_street_in_progress(client, demo):
    request = await client.request("512077")
    assert request.service_name == "Pothole" and request.service_code == "PW-POT"
    assert "Elm Street" in request.address
    assert request.status == "open" and request.status_notes.startswith("In progress")
    assert request.agency_responsible == "Harbor City Public Works"
    assert request.expected_datetime > demo.clock.now > request.updated_datetime > request.requested_datetime
    assert str(request.expected_datetime.tzinfo) == "UTC-05:00"  # Harbor City local time


async def test_an_unknown_request_number_is_not_found(client):
    with pytest.raises(NotFound, match="999999 not found"):
        await client.request("999999")


async def test_a_new_request_is_stored_and_survives_a_restart(session, demo):
    client = Open311Client(session, demo.open311, api_key=API_KEY)
    created = await client.create_request(
        "PW-GRF",
        address_string="12 Elm St",
        description="Tag on the library wall",
        email="resident@example.org",
        phone="555-010-9999",
        first_name="Ana",
    )
    assert created.service_request_id and created.token is None
    assert created.service_notice == "Graffiti on public property is removed within 3 business days."
    stored = await client.request(created.service_request_id)
    assert (stored.status, stored.address, stored.description) == (
        "open",
        "12 Elm St",
        "Tag on the library wall",
    )
    assert stored.expected_datetime - stored.requested_datetime == timedelta(days=3)

    await demo.restart()
    client = Open311Client(session, demo.open311, api_key=API_KEY)
    assert (await client.request(created.service_request_id)).address == "12 Elm St"
    log = (demo.state_dir / "events.jsonl").read_text()
    assert "resident@example.org" not in log and "555-010-9999" not in log and "Ana" not in log


async def test_new_numbers_follow_the_agency_numbering(client):
    first = await client.create_request("PW-POT", lat=41.3, long=-72.9, description="a")
    second = await client.create_request("PW-POT", lat=41.3, long=-72.9, description="b")
    assert int(first.service_request_id) > 512077
    assert int(second.service_request_id) == int(first.service_request_id) + 1


async def test_a_wrong_api_key_is_refused_in_open311_format(session, demo):
    client = Open311Client(session, demo.open311, api_key="wrong")
    with pytest.raises(Rejected, match="Invalid api_key") as caught:
        await client.create_request("PW-POT", address_string="12 Elm St", description="x")
    assert caught.value.status == 403


async def test_an_unknown_service_code_is_not_found(client):
    with pytest.raises(NotFound, match="service_code NOPE not found"):
        await client.create_request("NOPE", address_string="12 Elm St", description="x")


async def test_another_jurisdiction_is_not_found(session, demo):
    client = Open311Client(session, demo.open311, api_key=API_KEY, jurisdiction_id="elsewhere.example")
    with pytest.raises(NotFound, match="jurisdiction_id not found"):
        await client.request("512077")


@pytest.mark.parametrize(
    "form,description",
    [
        ({"description": "x", "address_string": "1 Main St"}, "service_code was not provided"),
        ({"service_code": "PW-POT", "description": "x"}, "a location is required"),
        ({"service_code": "PW-POT", "lat": "north", "long": "-72.9"}, "must both be numbers"),
        ({"service_code": "PW-POT", "lat": "141.3", "long": "-72.9"}, "out of range"),
        (
            {"service_code": "PW-POT", "lat": "41.3", "long": "-72.9", "description": "x" * 4001},
            "longer than 4000",
        ),
    ],
)
async def test_bad_input_gets_an_open311_error(session, demo, form, description):
    async with session.post(f"{demo.open311}/requests.json", data={"api_key": API_KEY, **form}) as response:
        body = await response.json()
    assert response.status == 400
    assert body[0]["code"] == 400 and description in body[0]["description"]


async def test_get_requests_filters_like_the_spec(session, demo):
    async def ids(**query: str) -> list[str]:
        async with session.get(f"{demo.open311}/requests.json", params=query) as response:
            assert response.status == 200
            return [r["service_request_id"] for r in await response.json()]

    every = await ids()
    assert "512077" in every and len(every) == 7
    assert await ids(service_request_id="512077,512034") == ["512077", "512034"]
    assert await ids(service_code="PW-POT") == ["512077"]
    assert set(await ids(status="closed")) == {"512034", "512052", "512040"}
    assert await ids(start_date="2026-11-24T12:00:00Z") == ["512088", "512081"]
    async with session.get(f"{demo.open311}/requests.json", params={"start_date": "last week"}) as response:
        assert response.status == 400


async def test_an_edited_data_file_is_served_without_a_restart(client, demo):
    path = demo.data_dir / "requests.json"
    requests = json.loads(path.read_text())
    requests[0]["status_notes"] = "Crew on site now."
    path.write_text(json.dumps(requests))
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    assert (await client.request("512077")).status_notes == "Crew on site now."


async def test_a_broken_edit_keeps_the_last_good_data(client, demo):
    assert (await client.request("512077")).status == "open"
    path = demo.data_dir / "requests.json"
    path.write_text("[{ half saved")
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    assert (await client.request("512077")).status == "open"
