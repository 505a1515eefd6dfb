"""Every failure is AgencyUnavailable (or NotFound/Rejected), with exactly one retry where safe."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from bot.clients.collection import CollectionClient
from bot.clients.errors import AgencyUnavailable, NotFound, Rejected
from bot.clients.open311 import Open311Client
from bot.clients.payload import parse_datetime
from bot.clients.service_status import ServiceStatusClient
from bot.stack import free_port

STATUS = "/status.json"
OK = {"fixture": "service_status/status.json"}


async def test_a_slow_agency_times_out_and_is_tried_exactly_twice(session, canned):
    canned.reply("GET", STATUS, delay=1.0, **OK)
    client = ServiceStatusClient(session, canned.base_url, timeout=0.2)
    started = time.monotonic()
    with pytest.raises(AgencyUnavailable, match=r"timed out after 0\.2s"):
        await client.statuses()
    assert len(canned.hits_on(STATUS)) == 2
    assert time.monotonic() - started < 1.0


async def test_the_default_timeout_is_three_seconds(session, canned):
    assert ServiceStatusClient(session, canned.base_url).timeout == 3.0
    assert Open311Client(session, canned.base_url).timeout == 3.0


async def test_a_500_is_retried_once_then_reported(session, canned):
    canned.reply("GET", STATUS, status=500, body="oops")
    with pytest.raises(AgencyUnavailable, match="HTTP 500") as caught:
        await ServiceStatusClient(session, canned.base_url).statuses()
    assert not isinstance(caught.value, NotFound)
    assert len(canned.hits_on(STATUS)) == 2


async def test_one_500_then_success_is_a_success(session, canned):
    canned.sequence("GET", STATUS, [{"status": 503}, OK])
    statuses = await ServiceStatusClient(session, canned.base_url).statuses()
    assert [s.id for s in statuses] == ["payments", "permits", "311-app"]
    assert len(canned.hits_on(STATUS)) == 2


async def test_one_timeout_then_success_is_a_success(session, canned):
    canned.sequence("GET", STATUS, [{"delay": 1.0, **OK}, OK])
    statuses = await ServiceStatusClient(session, canned.base_url, timeout=0.2).statuses()
    assert len(statuses) == 3
    assert len(canned.hits_on(STATUS)) == 2


async def test_a_4xx_is_not_retried(session, canned):
    canned.reply("GET", STATUS, status=403, body="{}")
    with pytest.raises(Rejected, match="HTTP 403"):
        await ServiceStatusClient(session, canned.base_url).statuses()
    assert len(canned.hits_on(STATUS)) == 1


async def test_a_404_on_a_list_is_unavailable_and_not_retried(session, canned):
    """Not NotFound: a wrong URL must not read as "no such service"."""
    with pytest.raises(AgencyUnavailable, match="HTTP 404") as caught:
        await ServiceStatusClient(session, canned.base_url).statuses()
    assert not isinstance(caught.value, NotFound)
    assert len(canned.hits_on(STATUS)) == 1


async def test_malformed_json_is_unavailable_and_not_retried(session, canned):
    canned.reply("GET", STATUS, body='{"services": [')
    with pytest.raises(AgencyUnavailable, match="invalid JSON"):
        await ServiceStatusClient(session, canned.base_url).statuses()
    assert len(canned.hits_on(STATUS)) == 1


async def test_an_html_error_page_with_200_is_invalid_json(session, canned):
    canned.reply("GET", STATUS, body="<html>Maintenance</html>", content_type="text/html")
    with pytest.raises(AgencyUnavailable, match="invalid JSON"):
        await ServiceStatusClient(session, canned.base_url).statuses()


async def test_connection_refused_is_unavailable(session):
    client = ServiceStatusClient(session, f"http://127.0.0.1:{free_port()}", timeout=1)
    with pytest.raises(AgencyUnavailable, match="could not connect"):
        await client.statuses()


async def test_a_post_that_timed_out_is_not_repeated(session, canned):
    """A repeated POST could file the same pothole twice."""
    canned.reply("POST", "/requests.json", delay=1.0, fixture="open311/post_created.json")
    client = Open311Client(session, canned.base_url, api_key="k", timeout=0.2)
    with pytest.raises(AgencyUnavailable, match="timed out"):
        await client.create_request("001", address_string="1 Main St", description="x")
    assert len(canned.hits_on("/requests.json")) == 1


async def test_a_post_that_got_a_500_is_not_repeated(session, canned):
    canned.reply("POST", "/requests.json", status=502, body="bad gateway")
    client = Open311Client(session, canned.base_url, api_key="k")
    with pytest.raises(AgencyUnavailable, match="HTTP 502"):
        await client.create_request("001", address_string="1 Main St", description="x")
    assert len(canned.hits_on("/requests.json")) == 1


async def test_reasons_carry_no_personal_data(session, canned):
    canned.reply("GET", "/collection.json", status=500)
    with pytest.raises(AgencyUnavailable) as caught:
        await CollectionClient(session, canned.base_url).schedule("12 Elm Street, Apt 4")
    assert "Elm" not in str(caught.value)
    assert "12" not in caught.value.reason
    assert canned.hits_on("/collection.json")[0].query == {"address": "12 Elm Street, Apt 4"}


@pytest.mark.parametrize(
    "text,expected",
    [
        ("2010-04-14T06:37:38-08:00", datetime(2010, 4, 14, 14, 37, 38, tzinfo=timezone.utc)),
        ("1994-11-05T13:15:30Z", datetime(1994, 11, 5, 13, 15, 30, tzinfo=timezone.utc)),
        ("2026-07-14T10:12:00+0000", datetime(2026, 7, 14, 10, 12, tzinfo=timezone.utc)),
        ("2010-04-19T06:37:38.1Z", datetime(2010, 4, 19, 6, 37, 38, 100000, tzinfo=timezone.utc)),
    ],
)
def test_w3c_datetimes_parse_in_python_310(text, expected):
    assert parse_datetime(text) == expected


def test_a_datetime_without_offset_is_read_in_the_agency_zone():
    parsed = parse_datetime("2026-01-15T09:00:00", ZoneInfo("America/New_York"))
    assert parsed.utcoffset() == timedelta(hours=-5)
