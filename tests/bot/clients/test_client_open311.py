"""Open311 client against payloads shaped exactly like the GeoReport v2 spec's examples."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from bot.clients.errors import AgencyUnavailable, NotFound, Rejected
from bot.clients.open311 import Open311Client

BASE = "/open311/v2"


@pytest.fixture
def client(session, canned):
    return Open311Client(
        session, canned.base_url + BASE, api_key="secret-key", jurisdiction_id="city.example"
    )


async def test_services_are_read_with_keywords_flags_and_groups(client, canned):
    canned.reply("GET", f"{BASE}/services.json", fixture="open311/services.json")
    services = await client.services()
    assert [s.service_code for s in services] == ["001", "002", "003", "DPW-SL"]
    first, last = services[0], services[-1]
    assert first.service_name == "Cans left out 24x7"
    assert first.metadata is True and first.type == "realtime" and first.group == "sanitation"
    assert first.keywords == ("lorem", "ipsum", "dolor")
    assert last.metadata is False and last.keywords == () and last.group == "" and last.description == ""
    assert canned.hits_on(f"{BASE}/services.json")[0].query == {"jurisdiction_id": "city.example"}


async def test_no_jurisdiction_id_is_sent_when_none_is_configured(session, canned):
    canned.reply("GET", f"{BASE}/services.json", fixture="open311/services.json")
    await Open311Client(session, canned.base_url + BASE).services()
    assert canned.hits[0].query == {}


async def test_a_request_is_the_first_element_of_the_list(client, canned):
    canned.reply("GET", f"{BASE}/requests/638344.json", fixture="open311/request_638344.json")
    request = await client.request("638344")
    assert request.service_request_id == "638344"  # a number in the JSON
    assert request.status == "closed" and request.status_notes == "Duplicate request."
    assert request.service_name == "Sidewalk and Curb Issues" and request.service_code == "006"
    assert request.description == "" and request.agency_responsible == "" and request.service_notice == ""
    assert request.requested_datetime == datetime(
        2010, 4, 14, 6, 37, 38, tzinfo=timezone(timedelta(hours=-8))
    )
    assert request.expected_datetime == datetime(2010, 4, 15, 14, 37, 38, tzinfo=timezone.utc)
    assert request.address == "8TH AVE and JUDAH ST"
    assert request.lat == pytest.approx(37.762221815) and request.long == pytest.approx(-122.4651145)
    assert request.media_url == "http://city.gov.s3.amazonaws.com/requests/media/638344.jpg"


async def test_string_coordinates_nulls_and_zulu_times_are_accepted(client, canned):
    canned.reply("GET", f"{BASE}/requests/638349.json", fixture="open311/request_638349_open.json")
    request = await client.request("638349")
    assert request.status == "open" and request.status_notes == "" and request.expected_datetime is None
    assert request.updated_datetime == datetime(2010, 4, 19, 6, 37, 38, 123000, tzinfo=timezone.utc)
    assert request.lat == pytest.approx(37.762221815)


async def test_an_unknown_request_number_is_not_found_with_the_agency_description(client, canned):
    canned.reply("GET", f"{BASE}/requests/999999.json", status=404, fixture="open311/error_404_request.json")
    with pytest.raises(NotFound, match="Service request 999999 not found"):
        await client.request("999999")
    assert len(canned.hits) == 1


async def test_an_empty_list_is_not_found(client, canned):
    canned.reply("GET", f"{BASE}/requests/5.json", body="[]")
    with pytest.raises(NotFound):
        await client.request("5")


@pytest.mark.parametrize("bad", ["../services", "5/../../admin", "", "a b", "x" * 65, "5%2F..", "7?x=1"])
async def test_a_number_that_is_not_an_id_never_reaches_the_agency(client, canned, bad):
    with pytest.raises(NotFound):
        await client.request(bad)
    assert canned.hits == []


async def test_a_request_in_the_wrong_shape_is_unavailable(client, canned):
    canned.reply("GET", f"{BASE}/requests/7.json", body='{"service_request_id": "7"}')
    with pytest.raises(AgencyUnavailable, match="not a list"):
        await client.request("7")
    canned.reply("GET", f"{BASE}/requests/8.json", body='[{"service_request_id": "8"}]')
    with pytest.raises(AgencyUnavailable, match="status"):
        await client.request("8")


async def test_services_in_the_wrong_shape_are_unavailable(client, canned):
    canned.reply("GET", f"{BASE}/services.json", body='[{"service_name": "no code"}]')
    with pytest.raises(AgencyUnavailable, match="service_code"):
        await client.services()


async def test_create_posts_a_form_with_api_key_and_jurisdiction(client, canned):
    canned.reply("POST", f"{BASE}/requests.json", fixture="open311/post_created.json", status=201)
    created = await client.create_request(
        "001", lat=37.76, long=-122.46, description="Cans left out", email="a@example.org", first_name="Ana"
    )
    assert created.service_request_id == "293944" and created.token is None and created.account_id is None
    assert created.service_notice.startswith("The City will inspect")
    hit = canned.hits_on(f"{BASE}/requests.json")[0]
    assert hit.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert hit.form == {
        "jurisdiction_id": "city.example",
        "service_code": "001",
        "description": "Cans left out",
        "api_key": "secret-key",
        "lat": "37.76",
        "long": "-122.46",
        "email": "a@example.org",
        "first_name": "Ana",
    }


async def test_create_accepts_the_token_shape(client, canned):
    canned.reply("POST", f"{BASE}/requests.json", fixture="open311/post_token.json")
    canned.reply("GET", f"{BASE}/tokens/12345.json", fixture="open311/token_12345.json")
    created = await client.create_request("001", address_string="8TH AVE and JUDAH ST", description="x")
    assert created.service_request_id is None and created.token == "12345"
    assert await client.request_id_for_token(created.token) == "638344"


async def test_a_token_not_processed_yet_has_no_id(client, canned):
    canned.reply("GET", f"{BASE}/tokens/777.json", body="[]")
    assert await client.request_id_for_token("777") is None
    with pytest.raises(NotFound):
        await client.request_id_for_token("777\n")
    assert len(canned.hits) == 1


async def test_a_refused_post_surfaces_the_agency_description(client, canned):
    canned.reply("POST", f"{BASE}/requests.json", status=403, fixture="open311/error_403_api_key.json")
    with pytest.raises(Rejected) as caught:
        await client.create_request("001", address_string="x", description="y")
    assert caught.value.status == 403
    assert caught.value.description == "Invalid api_key received -- can't proceed with create_request."
    assert "Invalid api_key received" in str(caught.value)


async def test_several_errors_are_all_surfaced(client, canned):
    canned.reply("POST", f"{BASE}/requests.json", status=400, fixture="open311/error_400_multiple.json")
    with pytest.raises(Rejected, match="service_code was not provided; A location"):
        await client.create_request("001", address_string="x", description="y")


async def test_an_error_list_sent_with_200_is_still_an_error(client, canned):
    canned.reply("POST", f"{BASE}/requests.json", fixture="open311/error_403_api_key.json")
    with pytest.raises(Rejected, match="Invalid api_key"):
        await client.create_request("001", address_string="x", description="y")


async def test_an_answer_without_id_or_token_is_unavailable(client, canned):
    canned.reply("POST", f"{BASE}/requests.json", body='[{"service_notice": "thanks"}]')
    with pytest.raises(AgencyUnavailable, match="neither service_request_id nor token"):
        await client.create_request("001", address_string="x", description="y")


async def test_a_request_without_location_is_refused_before_any_call(client, canned):
    with pytest.raises(ValueError, match="address_string or both lat and long"):
        await client.create_request("001", lat=1.0, description="y")
    assert canned.hits == []
