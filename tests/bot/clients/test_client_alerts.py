"""Alerts from an NWS-shaped GeoJSON feed and a CAP 1.2 ATOM feed holding the same eight alerts.

At NOW: the flood watch has expired, a tornado warning expires exactly now, and
one message is a test; none of them may ever reach a citizen.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from bot.clients.alerts import Alert, AlertsClient, select
from bot.clients.errors import AgencyUnavailable, NotFound

NOW = datetime(2026, 7, 14, 16, 0, tzinfo=ZoneInfo("America/New_York"))
FEEDS = {
    "geojson": ("/alerts.geojson", "alerts/nws_alerts.geojson"),
    "cap-atom": ("/alerts.atom", "alerts/cap_alerts.atom"),
}
ACTIVE = [
    ("Severe Thunderstorm Warning", "Severe", "Immediate"),
    ("Heat Advisory", "Moderate", "Expected"),  # Westside, effective 13:00: newer first
    ("Heat Advisory", "Moderate", "Expected"),  # Eastside; Harbor District, effective 10:12
    ("Special Weather Statement", "Minor", "Expected"),
    ("Air Quality Alert", "Unknown", "Unknown"),
]


@pytest.fixture(params=list(FEEDS))
def client(request, session, canned):
    path, fixture = FEEDS[request.param]
    content_type = "application/geo+json" if request.param == "geojson" else "application/atom+xml"
    canned.reply("GET", path, fixture=fixture, content_type=content_type)
    return AlertsClient(session, canned.base_url + path, format=request.param)


async def test_the_feed_holds_every_alert_as_sent(client):
    alerts = await client.fetch()
    assert len(alerts) == 8
    heat = alerts[0]
    assert heat.event == "Heat Advisory" and heat.area == "Eastside; Harbor District"
    assert heat.headline.startswith("Heat Advisory issued July 14")
    assert heat.description.startswith("* WHAT...Heat index values up to 104")
    assert heat.effective == datetime(2026, 7, 14, 14, 12, tzinfo=timezone.utc)
    assert heat.expires == datetime(2026, 7, 16, 0, 0, tzinfo=timezone.utc)


async def test_active_alerts_are_unexpired_real_and_most_severe_first(client):
    alerts = await client.active(now=NOW)
    assert [(a.event, a.severity, a.urgency) for a in alerts] == ACTIVE
    assert [a.area for a in alerts][1:3] == ["Westside", "Eastside; Harbor District"]
    assert all(a.expires > NOW for a in alerts)


async def test_expired_alerts_are_never_returned_at_any_instant(client):
    alerts = await client.fetch()
    for hours in range(-60, 60, 3):
        now = NOW + timedelta(hours=hours)
        assert all(a.expires > now for a in select(alerts, now=now))
    assert await client.active(now=NOW + timedelta(days=3)) == []


async def test_an_alert_expiring_exactly_now_is_gone(client):
    assert "Tornado Warning" not in {a.event for a in await client.active(now=NOW)}
    tornado = next(a.event for a in await client.active(now=NOW - timedelta(seconds=1)))
    assert tornado == "Tornado Warning"  # Extreme comes first while it lasts


async def test_area_filter_is_case_insensitive_and_whole_word(client):
    assert [a.event for a in await client.active(now=NOW, area="eastside")] == [
        "Heat Advisory",
        "Special Weather Statement",
    ]
    assert [a.event for a in await client.active(now=NOW, area="HARBOR DISTRICT")] == ["Heat Advisory"]
    assert await client.active(now=NOW, area="East") == []
    assert await client.active(now=NOW, area="Riverside") == []  # only the expired flood watch


async def test_the_instruction_is_read_when_the_feed_has_one(client):
    alerts = await client.active(now=NOW, area="Downtown")
    assert alerts[0].event == "Severe Thunderstorm Warning"
    if client.format == "geojson":
        assert alerts[0].instruction.startswith("For your protection")


async def test_a_user_agent_is_sent(client, canned):
    await client.fetch()
    assert canned.hits[0].headers["User-Agent"].startswith("CivicAssistant")


def alert(severity: str, urgency: str, effective_hour: int, **extra: str) -> Alert:
    effective = datetime(2026, 1, 1, effective_hour, tzinfo=timezone.utc)
    return Alert(
        id=f"{severity}-{urgency}-{effective_hour}",
        event="E",
        headline="H",
        description="",
        instruction="",
        severity=severity,
        urgency=urgency,
        area=extra.get("area", "Downtown"),
        effective=effective,
        expires=effective + timedelta(days=1),
        status=extra.get("status", "Actual"),
        message_type=extra.get("message_type", "Alert"),
    )


def test_select_orders_by_severity_then_urgency_then_newest():
    alerts = [
        alert("Minor", "Immediate", 1),
        alert("Unknown", "Immediate", 2),
        alert("Moderate", "Future", 3),
        alert("Moderate", "Immediate", 4),
        alert("Moderate", "Immediate", 5),
        alert("Extreme", "Past", 6),
        alert("Severe", "Unknown", 7),
    ]
    ordered = select(alerts, now=datetime(2026, 1, 1, 12, tzinfo=timezone.utc))
    assert [a.id for a in ordered] == [
        "Extreme-Past-6",
        "Severe-Unknown-7",
        "Moderate-Immediate-5",
        "Moderate-Immediate-4",
        "Moderate-Future-3",
        "Minor-Immediate-1",
        "Unknown-Immediate-2",
    ]


def test_tests_exercises_and_cancellations_are_never_shown():
    alerts = [
        alert("Severe", "Immediate", 1, status="Exercise"),
        alert("Severe", "Immediate", 2, message_type="Cancel"),
        alert("Severe", "Immediate", 3, status="Test"),
        alert("Minor", "Expected", 4),
    ]
    assert [a.id for a in select(alerts, now=datetime(2026, 1, 1, 12, tzinfo=timezone.utc))] == [
        "Minor-Expected-4"
    ]


def test_a_naive_now_is_a_programming_error():
    with pytest.raises(ValueError, match="timezone-aware"):
        select([], now=datetime(2026, 1, 1))


def test_an_unknown_format_is_refused(session):
    with pytest.raises(ValueError, match="geojson, cap-atom"):
        AlertsClient(session, "http://x", format="rss")


@pytest.mark.parametrize(
    "fmt,body,reason",
    [
        ("geojson", '{"type": "FeatureCollection"}', "features is not a list"),
        ("geojson", '{"features": [{"properties": {"headline": "no event"}}]}', "event"),
        ("geojson", '{"features": [{"properties": {"event": "E", "expires": "soon"}}]}', "expires"),
        ("cap-atom", "<feed", "invalid XML"),
        ("cap-atom", "<rss><channel/></rss>", "not an ATOM feed"),
        (
            "cap-atom",
            '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">]><feed xmlns="http://www.w3.org/2005/Atom"/>',
            "DOCTYPE",
        ),
    ],
)
async def test_a_feed_in_the_wrong_shape_is_unavailable(session, canned, fmt, body, reason):
    canned.reply("GET", "/feed", body=body)
    with pytest.raises(AgencyUnavailable, match=reason):
        await AlertsClient(session, canned.base_url + "/feed", format=fmt).active(now=NOW)


async def test_a_missing_feed_is_unavailable_not_an_empty_answer(session, canned):
    with pytest.raises(AgencyUnavailable, match="HTTP 404") as caught:
        await AlertsClient(session, canned.base_url + "/nothing").active(now=NOW)
    assert not isinstance(caught.value, NotFound)
