"""The subscription texts and catalog in Spanish (data/subscriptions/*.yml `translations:`), and the
carrier keyword replies in the language a subscriber subscribed in, on a real Redis (DB 6)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis
import yaml

from bot.subscriptions.catalog import CatalogError, load_catalog, parse_catalog
from bot.subscriptions.keywords import keyword_reply
from bot.subscriptions.store import STOPPED, SubscriberStore
from bot.subscriptions.texts import TEXTS, TextsError, load_texts, parse_texts

ROOT = Path(__file__).resolve().parents[3]
SPANISH_SMS = "twilio-" + "5" * 32
ENGLISH_SMS = "twilio-" + "6" * 32


@pytest.fixture(autouse=True)
def at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def raw(name: str) -> dict[str, Any]:
    return dict(yaml.safe_load((ROOT / "data" / "subscriptions" / name).read_text(encoding="utf-8")))


def test_every_text_is_translated_and_the_english_reads_as_before() -> None:
    spanish, english = load_texts(language="es"), load_texts()
    assert set(spanish.texts) == set(TEXTS) and all(spanish.texts[k] != english.texts[k] for k in TEXTS)
    assert english.texts["opt_out"] == " Reply STOP to opt out." and english.language == "en"
    assert load_texts(language="vi") is english  # a language the file does not have: English


def test_the_spanish_catalog_names_topics_in_spanish_and_reads_both_languages_without_accents() -> None:
    catalog = load_catalog(language="es")
    assert [t.name for t in catalog.topics][:3] == ["Emergencias", "Agua", "Calles y nieve"]
    assert catalog.program == "Harbor City Alerts"  # the program's name is a name
    assert catalog.topics_in("avisos de inundacion y del agua de la llave") == ["emergencies", "water"]
    assert catalog.topics_in("water and trash") == ["water", "trash_recycling"]  # English still works
    assert catalog.areas_in("en el centro y la zona este") == ["downtown", "eastside"]
    assert catalog.area_name("old_town") == "Old Town"  # districts keep their names
    assert load_catalog().topics_in("agua") == []  # the English catalog is as it was


def test_whole_city_in_spanish_or_english_for_a_spanish_reader() -> None:
    spanish = load_texts(language="es")
    assert spanish.means_whole_city("¡Toda la ciudad!") and spanish.means_whole_city("whole city")
    assert not load_texts().means_whole_city("toda la ciudad")


def test_a_translation_is_checked_as_the_english_is() -> None:
    bad = raw("messages.yml")
    bad["translations"]["es"]["help"] = "Ayuda: {phone}"
    with pytest.raises(TextsError, match=r"'translations\.es\.help' uses \{phone\}"):
        parse_texts(bad, Path("messages.yml"))
    bad = raw("messages.yml")
    bad["translations"]["es"]["stoped"] = "typo"
    with pytest.raises(TextsError, match=r"unknown key\(s\) stoped in translations\.es"):
        parse_texts(bad, Path("messages.yml"))
    catalog = raw("catalog.yml")
    catalog["translations"]["es"]["topics"]["parking"] = {"name": "Estacionamiento"}
    with pytest.raises(CatalogError, match=r"translations\.es\.topics names parking"):
        parse_catalog(catalog, Path("catalog.yml"))
    catalog = raw("catalog.yml")
    catalog["translations"]["es"]["topics"]["roads_snow"]["words"].append("agua")
    with pytest.raises(CatalogError, match="'agua' names both topic 'water' and 'roads_snow'"):
        parse_catalog(catalog, Path("catalog.yml"))


async def test_keywords_are_answered_in_the_language_the_subscriber_subscribed_in(db: aioredis.Redis) -> None:
    store = SubscriberStore(db)
    await store.subscribe(SPANISH_SMS, ["water"], ["downtown"], "Confirme, por favor: ...", language="es")
    await store.subscribe(ENGLISH_SMS, ["water"], ["downtown"], "Please confirm: ...")
    help_es = await keyword_reply(db, SPANISH_SMS, "twilio", "HELP")
    assert help_es is not None and help_es.startswith(
        "Harbor City Alerts: Mensajes solo cuando haya novedades"
    )
    assert "llame al 311" in help_es
    stopped = await keyword_reply(db, SPANISH_SMS, "twilio", "stop")
    assert stopped is not None and stopped.startswith("Se canceló su suscripción a Harbor City Alerts")
    assert (await store.consent_log(SPANISH_SMS))[-1]["wording"] == stopped  # what they read, recorded
    started = await keyword_reply(db, SPANISH_SMS, "twilio", "START")
    assert started == (
        "Le damos la bienvenida de nuevo a Harbor City Alerts: volverá a recibir alertas sobre "
        "Agua (Downtown). Responda ALTO (o STOP) para darse de baja."
    )
    assert (await keyword_reply(db, ENGLISH_SMS, "twilio", "help") or "").startswith(
        "Harbor City Alerts: Messages"
    )
    never = await keyword_reply(db, "twilio-" + "7" * 32, "twilio", "STOP")  # no record: English
    assert never is not None and never.startswith("You're unsubscribed")
    subscriber = await store.get(SPANISH_SMS)
    assert subscriber is not None and subscriber.language == "es" and subscriber.status != STOPPED
