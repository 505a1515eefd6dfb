"""Admin endpoints change live data without a restart, only with the token, and survive a restart."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.clients.alerts import AlertsClient
from bot.clients.open311 import Open311Client
from bot.clients.service_status import ServiceStatusClient
from bot.demo_agency import DemoConfig

AUTH = {"Authorization": "Bearer demo-admin"}


async def post(session, url, body=None, headers=AUTH):
    async with session.post(url, json=body, headers=headers) as response:
        return response.status, await response.json()


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "demo-admin"}])
async def test_admin_needs_the_token(session, demo, headers):
    status, body = await post(session, demo.base_url + "/admin/reset", headers=headers)
    assert status == 401 and body["error"] == "unauthorized"


async def test_admin_is_off_without_a_configured_token(session, demo):
    demo.config = DemoConfig(state_dir=demo.state_dir, api_key="k", admin_token="", clock=demo.clock)
    await demo.restart()
    status, _ = await post(session, demo.base_url + "/admin/reset", headers={"Authorization": "Bearer "})
    assert status == 401


async def test_an_added_alert_is_live_and_survives_a_restart(session, demo):
    status, alert = await post(
        session,
        demo.base_url + "/admin/alerts",
        {"event": "Road Closure", "area": "Westside", "severity": "minor", "expires": "now+6h"},
    )
    assert status == 201 and alert["severity"] == "Minor"
    feed = AlertsClient(session, demo.base_url + "/alerts.geojson")
    assert [a.event for a in await feed.active(now=demo.clock.now, area="Westside")] == ["Road Closure"]
    await demo.restart()
    feed = AlertsClient(session, demo.base_url + "/alerts.atom", format="cap-atom")
    assert [a.event for a in await feed.active(now=demo.clock.now, area="westside")] == ["Road Closure"]
    # its expiry was fixed when it was added: it does not move with the clock
    assert await feed.active(now=demo.clock.now + timedelta(hours=7), area="Westside") == []


async def test_a_cancelled_alert_disappears(session, demo):
    status, _ = await post(session, demo.base_url + "/admin/alerts/HC-OEM-0143/cancel")
    assert status == 200
    feed = AlertsClient(session, demo.base_url + "/alerts.geojson")
    assert [a.event for a in await feed.active(now=demo.clock.now)] == ["Heat Advisory"]


async def test_setting_a_request_status(session, demo):
    status, body = await post(
        session,
        demo.base_url + "/admin/requests/512077",
        {"status": "closed", "status_notes": "Repaired."},
    )
    assert status == 200 and body[0]["status"] == "closed"
    request = await Open311Client(session, demo.base_url + "/open311/v2").request("512077")
    assert (request.status, request.status_notes) == ("closed", "Repaired.")
    assert request.updated_datetime == demo.clock.now


async def test_setting_a_created_request_status(session, demo):
    client = Open311Client(session, demo.base_url + "/open311/v2", api_key="demo-key")
    created = await client.create_request("PW-SLO", address_string="20 Elm Street", description="Dark")
    url = f"{demo.base_url}/admin/requests/{created.service_request_id}"
    assert (await post(session, url, {"status_notes": "Crew assigned"}))[0] == 200
    assert (await client.request(created.service_request_id)).status_notes == "Crew assigned"


async def test_setting_an_online_service_status(session, demo):
    status, body = await post(
        session, demo.base_url + "/admin/status/payments", {"status": "down", "note": "Card payments fail."}
    )
    assert status == 200 and body["status"] == "down"
    payments = await ServiceStatusClient(session, demo.base_url).status("payments")
    assert (payments.status, payments.note, payments.updated) == (
        "down",
        "Card payments fail.",
        demo.clock.now,
    )


@pytest.mark.parametrize(
    "path,body,status,message",
    [
        ("/admin/alerts", {"area": "Downtown", "severity": "Severe"}, 400, "event is required"),
        ("/admin/alerts", {"event": "X", "area": "Downtown", "severity": "Bad"}, 400, "severity must be"),
        (
            "/admin/alerts",
            {"event": "X", "area": "D", "severity": "Minor", "expires": "soon"},
            400,
            "datetime",
        ),
        ("/admin/alerts", ["not", "an", "object"], 400, "JSON object"),
        ("/admin/requests/512077", {"status": "in progress"}, 400, "status must be one of open, closed"),
        ("/admin/requests/512077", {}, 400, "give status"),
        ("/admin/requests/999999", {"status": "closed"}, 404, "no request 999999"),
        ("/admin/status/payments", {"status": "maintenance"}, 400, "up, degraded, down"),
        ("/admin/status/nope", {"status": "up"}, 404, "no online service"),
    ],
)
async def test_bad_admin_calls_say_what_is_wrong(session, demo, path, body, status, message):
    got, answer = await post(session, demo.base_url + path, body)
    assert got == status and message in answer["message"]


async def test_reset_forgets_every_change(session, demo):
    client = Open311Client(session, demo.base_url + "/open311/v2", api_key="demo-key")
    created = await client.create_request("PW-POT", address_string="12 Elm St", description="x")
    await post(session, demo.base_url + "/admin/status/payments", {"status": "down"})
    assert (await post(session, demo.base_url + "/admin/reset"))[0] == 200
    await demo.restart()
    client = Open311Client(session, demo.base_url + "/open311/v2")
    async with session.get(
        f"{demo.base_url}/open311/v2/requests/{created.service_request_id}.json"
    ) as response:
        assert response.status == 404
    assert (await ServiceStatusClient(session, demo.base_url).status("payments")).status == "up"
