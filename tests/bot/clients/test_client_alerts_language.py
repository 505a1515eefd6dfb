"""Alerts in the citizen's language, from the feed: a CAP message's <info> blocks per <language>, and
GeoJSON `parameters` by our convention (`headline_es`, ...), through the real client on a local server.

An alert the feed has only in another language is read in that one, with the one-line note from
data/broadcasts/alerts.yml in the reader's language.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from bot.broadcasts.texts import alert_text
from bot.cache import from_jsonable, to_jsonable
from bot.clients.alerts import Alert, AlertsClient, AlertText, language_code

ROOT = Path(__file__).resolve().parents[3]
NOW = datetime(2026, 7, 14, 16, 0, tzinfo=timezone.utc)
SENT = (NOW - timedelta(hours=2)).isoformat()
EXPIRES = (NOW + timedelta(days=1)).isoformat()
ONLY_IN_ENGLISH = "Esta alerta solo está disponible en inglés."


@pytest.fixture(autouse=True)
def at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # the note is read from data/broadcasts/alerts.yml


def info(language: str | None, event: str, headline: str, description: str, instruction: str = "") -> str:
    tag = f"<language>{language}</language>" if language else ""
    said = f"<instruction>{instruction}</instruction>" if instruction else ""
    return f"""
      <info>
        {tag}<category>Health</category><event>{event}</event>
        <urgency>Immediate</urgency><severity>Severe</severity><certainty>Observed</certainty>
        <effective>{SENT}</effective><expires>{EXPIRES}</expires>
        <headline>{headline}</headline><description>{description}</description>{said}
        <area><areaDesc>Downtown</areaDesc></area><area><areaDesc>Old Town</areaDesc></area>
      </info>"""


def entry(ident: str, *infos: str) -> str:
    """An ATOM entry carrying the whole CAP 1.2 message in its content, as many CAP feeds do."""
    return f"""
  <entry>
    <id>https://alerts.example/{ident}</id>
    <updated>{SENT}</updated>
    <title>Atom title of {ident}</title>
    <content type="text/xml">
      <alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
        <identifier>{ident}</identifier><sender>oem@harborcity.example</sender><sent>{SENT}</sent>
        <status>Actual</status><msgType>Alert</msgType><scope>Public</scope>{"".join(infos)}
      </alert>
    </content>
  </entry>"""


BOIL_EN = info(
    "en-US",
    "Boil Water Notice",
    "Boil Water Notice for Downtown",
    "A water main broke.",
    "Boil tap water for one minute.",
)
BOIL_ES = info(
    "es-US",
    "Aviso de hervir el agua",
    "Aviso de hervir el agua para Downtown",
    "Se rompió una tubería principal de agua.",
    "Hierva el agua de la llave durante un minuto.",
)
CAP_FEED = f"""<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <id>https://alerts.example/feed</id><title>Harbor City alerts</title><updated>{SENT}</updated>
  {entry("boil", BOIL_EN, BOIL_ES)}
  {entry("heat", info(None, "Heat Advisory", "Heat Advisory for the Eastside", "Hot."))}
  {entry("marea", info("es-PR", "Aviso de marea", "Marea alta en Downtown", "Marea alta esta noche."))}
  {entry("wind", info("es-MX", "Viento", "Viento fuerte en Downtown", "Ráfagas."), info("en-GB", "Wind", "Strong wind", "Gusts."))}
</feed>"""  # noqa: E501


def feature(ident: str, **properties: object) -> dict[str, object]:
    return {
        "id": f"https://alerts.example/{ident}",
        "type": "Feature",
        "geometry": None,
        "properties": {
            "id": ident,
            "areaDesc": "Downtown",
            "sent": SENT,
            "effective": SENT,
            "expires": EXPIRES,
            "status": "Actual",
            "messageType": "Alert",
            "severity": "Severe",
            "urgency": "Immediate",
            **properties,
        },
    }


GEOJSON_FEED = {
    "type": "FeatureCollection",
    "features": [
        feature(
            "boil",
            event="Boil Water Notice",
            headline="Boil Water Notice for Downtown",
            description="A water main broke.",
            instruction="Boil tap water for one minute.",
            parameters={
                "NWSheadline": ["BOIL WATER NOTICE FOR DOWNTOWN"],
                "headline_es": ["Aviso de hervir el agua para Downtown"],
                "description_es": ["Se rompió una tubería principal de agua."],
                "instruction_es": "Hierva el agua de la llave durante un minuto.",
                "event_es": ["Aviso de hervir el agua"],
            },
        ),
        feature("heat", event="Heat Advisory", headline="Heat Advisory for the Eastside", parameters={}),
        # a translation without its headline is not one: the citizen gets the English and the note
        feature("fog", event="Dense Fog", headline="Dense fog", parameters={"description_es": ["Niebla."]}),
    ],
}


@pytest.fixture
async def cap(session, canned) -> dict[str, Alert]:
    canned.reply("GET", "/alerts.atom", body=CAP_FEED, content_type="application/atom+xml")
    alerts = await AlertsClient(session, canned.base_url + "/alerts.atom", format="cap-atom").fetch()
    return {a.id.rsplit("/", 1)[-1]: a for a in alerts}


@pytest.fixture
async def geojson(session, canned) -> dict[str, Alert]:
    canned.reply("GET", "/alerts.geojson", body=json.dumps(GEOJSON_FEED), content_type="application/geo+json")
    alerts = await AlertsClient(session, canned.base_url + "/alerts.geojson").fetch()
    return {a.id: a for a in alerts}


async def test_a_spanish_reader_gets_the_spanish_info_block_of_a_cap_message(cap):
    boil = cap["boil"]
    assert boil.headline == "Boil Water Notice for Downtown" and boil.language == "en"  # as today
    assert boil.event == "Boil Water Notice" and boil.instruction == "Boil tap water for one minute."
    assert boil.area == "Downtown; Old Town" and boil.severity == "Severe" and boil.urgency == "Immediate"
    text, in_spanish = boil.in_language("es")
    assert in_spanish
    assert text == AlertText(
        "Aviso de hervir el agua",
        "Aviso de hervir el agua para Downtown",
        "Se rompió una tubería principal de agua.",
        "Hierva el agua de la llave durante un minuto.",
    )
    assert alert_text(boil, "es") == (text, "")  # no note: it is in Spanish
    assert boil.in_language("en") == (boil.text, True)
    assert boil.languages() == ["en", "es"]


async def test_an_english_only_alert_reads_in_english_with_a_spanish_note(cap):
    heat = cap["heat"]  # an <info> without <language> is en-US (CAP 1.2)
    assert heat.language == "en" and dict(heat.texts) == {}
    text, in_spanish = heat.in_language("es")
    assert not in_spanish and text.headline == "Heat Advisory for the Eastside"
    assert alert_text(heat, "es") == (text, ONLY_IN_ENGLISH)
    assert alert_text(heat, "en") == (text, "")  # an English reader is told nothing new


async def test_a_spanish_only_alert_is_read_in_spanish_with_an_english_note(cap):
    tide = cap["marea"]  # es-PR: the only block, so the alert's own text is Spanish
    assert tide.language == "es" and tide.headline == "Marea alta en Downtown"
    assert alert_text(tide, "es") == (tide.text, "")
    assert alert_text(tide, "en") == (tide.text, "This alert is only available in Spanish.")


async def test_the_english_block_gives_the_alert_s_own_fields_whatever_the_order(cap):
    wind = cap["wind"]  # es-MX first, en-GB second
    assert wind.language == "en" and wind.headline == "Strong wind" and wind.event == "Wind"
    assert wind.in_language("es-US")[0].headline == "Viento fuerte en Downtown"  # any Spanish region


async def test_geojson_parameters_carry_the_translation_by_our_convention(geojson):
    boil = geojson["boil"]
    assert boil.headline == "Boil Water Notice for Downtown"  # the English properties, as today
    text, in_spanish = boil.in_language("es")
    assert in_spanish and text.headline == "Aviso de hervir el agua para Downtown"
    assert text.event == "Aviso de hervir el agua"
    assert text.instruction == "Hierva el agua de la llave durante un minuto."  # a plain text works too
    assert alert_text(geojson["heat"], "es")[1] == ONLY_IN_ENGLISH
    assert alert_text(geojson["fog"], "es") == (geojson["fog"].text, ONLY_IN_ENGLISH)


async def test_an_alert_with_its_translations_survives_the_lookup_cache(geojson):
    boil = geojson["boil"]
    assert from_jsonable(list[Alert], json.loads(json.dumps(to_jsonable([boil])))) == [boil]


def test_language_tags_are_read_as_their_language():
    assert [language_code(t) for t in ("es-US", "ES_mx", "en", "", "zh-Hant-TW")] == [
        "es",
        "es",
        "en",
        "en",
        "zh",
    ]
