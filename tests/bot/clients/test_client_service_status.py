"""Online-service status: up, degraded or down, and nothing else."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from bot.clients.errors import AgencyUnavailable, NotFound
from bot.clients.service_status import ServiceStatusClient

PATH = "/status.json"
EST = timezone(timedelta(hours=-5))


@pytest.fixture
def client(session, canned):
    canned.reply("GET", PATH, fixture="service_status/status.json")
    return ServiceStatusClient(session, canned.base_url)


async def test_statuses_are_read(client):
    payments, permits, app = await client.statuses()
    assert (payments.id, payments.name, payments.status, payments.note) == (
        "payments",
        "Payments portal",
        "up",
        "",
    )
    assert payments.updated == datetime(2026, 11, 26, 7, 0, tzinfo=EST)
    assert payments.url == "https://pay.example"
    assert permits.status == "degraded" and permits.note == "Uploads are slow."
    assert app.status == "down" and app.note.startswith("Outage since 9 am")
    assert app.updated == datetime(2026, 11, 26, 9, 50, tzinfo=EST)  # the feed's own time


async def test_one_service_by_id_name_or_alias(client):
    assert (await client.status("Pay online")).id == "payments"
    assert (await client.status("311 APP")).status == "down"
    with pytest.raises(NotFound):
        await client.status("parking meters")


@pytest.mark.parametrize(
    "body,reason",
    [
        ('{"services": [{"id": "a", "name": "A", "status": "maintenance"}]}', "not up, degraded or down"),
        ('{"services": [{"id": "a", "name": "A"}]}', "status"),
        ('{"services": {"a": "up"}}', "services is not a list"),
        ('{"services": [{"id": "a", "name": "A", "status": "up", "updated": "yesterday"}]}', "updated"),
    ],
)
async def test_a_status_in_the_wrong_shape_is_unavailable(session, canned, body, reason):
    canned.reply("GET", PATH, body=body)
    with pytest.raises(AgencyUnavailable, match=reason):
        await ServiceStatusClient(session, canned.base_url).statuses()
