"""The demo agency's feed carries the boil water notice in Spanish, in both shapes, and the heat
advisory only in English: the running demo shows a Spanish citizen both cases."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from bot.clients.alerts import AlertsClient

FEEDS = {"geojson": "/alerts.geojson", "cap-atom": "/alerts.atom"}
CAP = "{urn:oasis:names:tc:emergency:cap:1.2}"


@pytest.fixture(params=list(FEEDS))
def alerts(request, session, demo):
    return AlertsClient(session, demo.base_url + FEEDS[request.param], format=request.param)


async def test_the_boil_water_notice_is_in_spanish_and_the_heat_advisory_only_in_english(alerts, demo):
    boil, heat = await alerts.active(now=demo.clock.now)
    assert boil.headline == "Boil Water Notice for Downtown"  # the English reads as it always has
    text, in_spanish = boil.in_language("es")
    assert in_spanish and text.headline == "Aviso de hervir el agua para Downtown"
    assert text.event == "Aviso de hervir el agua" and "a borbotones" in text.instruction
    assert heat.event == "Heat Advisory" and heat.in_language("es") == (heat.text, False)


async def test_geojson_carries_the_spanish_as_parameters(session, demo):
    async with session.get(demo.base_url + "/alerts.geojson") as response:
        feed = await response.json(content_type=None)
    boil = next(f["properties"] for f in feed["features"] if f["properties"]["id"] == "HC-OEM-0143")
    assert boil["parameters"]["headline_es"] == ["Aviso de hervir el agua para Downtown"]
    assert set(boil["parameters"]) == {"event_es", "headline_es", "description_es", "instruction_es"}


async def test_each_atom_entry_carries_its_cap_message_with_one_info_block_per_language(session, demo):
    async with session.get(demo.base_url + "/alerts.atom") as response:
        root = ET.fromstring(await response.read())  # noqa: S314 (our own demo feed)
    languages = {}
    for message in root.iter(f"{CAP}alert"):
        ident = message.findtext(f"{CAP}identifier")
        languages[ident] = [i.findtext(f"{CAP}language") for i in message.iter(f"{CAP}info")]
    assert languages["HC-OEM-0143"] == ["en-US", "es-US"]
    assert languages["HC-OEM-0142"] == ["en-US"]
