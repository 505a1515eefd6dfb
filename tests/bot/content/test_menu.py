"""The "what can you do?" menu: the live services first, then the topics, within what each channel shows."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.channels.facebook import MessengerOutput
from bot.channels.instagram import InstagramOutput
from bot.channels.whatsapp import WhatsAppOutput
from bot.content import check
from bot.content.generate import (
    ALL_TOPICS,
    BUTTON_TITLE_LIMIT,
    MENU_LIMITS,
    RESPONSES_OUT,
    generated_files,
    menu_topics,
)
from bot.content.model import ContentError, MenuService, load_content, load_render_settings
from bot.language.conversation import in_language

ROOT = Path(__file__).resolve().parents[3]
FIXTURES = ROOT / "tests" / "fixtures" / "content"
SERVICES = [
    "/report_problem",
    "/check_request_status",
    "/ask_collection_day",
    "/ask_facility_hours",
    "/ask_alerts",
]


@pytest.fixture(scope="module")
def responses() -> dict[str, list[dict[str, Any]]]:
    """The generated responses as an English conversation meets them (tests/bot/language covers Spanish)."""
    files = {f.path: f.text for f in generated_files(load_content(), load_render_settings())}
    found = yaml.safe_load(files[RESPONSES_OUT])["responses"]
    return {name: in_language(variations, "en") for name, variations in found.items()}


def payloads(variation: dict[str, Any]) -> list[str]:
    return [b["payload"] for b in variation["buttons"]]


def test_the_menu_offers_the_live_services_first_then_every_topic(responses: dict[str, Any]) -> None:
    (everywhere,) = [v for v in responses["utter_capabilities"] if "channel" not in v]
    topics = [f'/explore_topic{{"topic":"{t.id}"}}' for t in menu_topics(load_content())]
    assert payloads(everywhere) == SERVICES + topics
    titles = [b["title"] for b in everywhere["buttons"]]
    first = ["Report a problem", "Check a request", "Collection day", "What's open now", "Alerts in effect"]
    assert titles[:5] == first
    assert "Trash and recycling" in titles and "Parking and towing" in titles


def test_each_service_button_starts_its_lookup_by_a_rule() -> None:
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    intents = {next(iter(i)) if isinstance(i, dict) else i for i in domain["intents"]}
    rules = yaml.safe_load((ROOT / "data" / "rules" / "lookups.yml").read_text(encoding="utf-8"))["rules"]
    first_steps = {r["steps"][0].get("intent") for r in rules if "condition" not in r}
    for service in load_render_settings().services:
        assert service.intent in intents and service.intent in first_steps, service
        assert len(service.title) <= BUTTON_TITLE_LIMIT, service


def test_channels_with_fewer_buttons_get_the_services_and_a_topics_button(responses: dict[str, Any]) -> None:
    # The limits are the connectors' own: what they would cut past.
    assert MENU_LIMITS == {
        "facebook": MessengerOutput.max_quick_replies,
        "instagram": InstagramOutput.max_quick_replies,
        "whatsapp": WhatsAppOutput.max_rows,
    }
    by_channel = {v["channel"]: v for v in responses["utter_capabilities"] if "channel" in v}
    assert set(by_channel) == set(MENU_LIMITS)
    for channel, variation in by_channel.items():
        assert payloads(variation) == [*SERVICES, f'/explore_topic{{"topic":"{ALL_TOPICS}"}}'], channel
        assert len(variation["buttons"]) <= MENU_LIMITS[channel]
        assert variation["buttons"][-1]["title"] == "Questions by topic"
    # That button's topic matches no condition of utter_topic: its plain variation lists the topics.
    plain = [v for v in responses["utter_topic"] if "condition" not in v]
    assert [v["text"] for v in plain] == ["Pick a topic, or just type your question:"]
    assert len(plain[0]["buttons"]) == len(menu_topics(load_content())) <= min(MENU_LIMITS.values())
    assert all(c["value"] != ALL_TOPICS for v in responses["utter_topic"] for c in v.get("condition", []))


def test_services_need_a_title_and_an_intent(tmp_path: Path) -> None:
    directory = tmp_path / "content"
    shutil.copytree(FIXTURES / "good", directory)
    settings = directory / "_settings.yml"
    shipped = settings.read_text(encoding="utf-8")
    one = 'services:\n  - title: "Report it"\n    intent: report_problem\n'
    settings.write_text(shipped + one, encoding="utf-8")
    assert load_render_settings(directory).services == (MenuService("Report it", "report_problem"),)
    settings.write_text(shipped + 'services:\n  - title: "Report it"\n    intent: "/report problem"\n')
    with pytest.raises(ContentError, match="services: each needs a title and an intent"):
        load_render_settings(directory)


def test_content_check_warns_about_a_menu_a_channel_would_cut(tmp_path: Path) -> None:
    directory = tmp_path / "content"
    shutil.copytree(FIXTURES / "good", directory)
    settings = directory / "_settings.yml"
    service = '  - title: "Service number {n} is long"\n    intent: report_problem\n'
    services = "".join(service.format(n=n) for n in range(10))
    settings.write_text(settings.read_text(encoding="utf-8") + "services:\n" + services, encoding="utf-8")
    messages = [p.message for p in check.content_problems(directory, date(2025, 1, 1)) if not p.error]
    assert "10 services and the topics button: whatsapp shows the first 10" in messages
    assert "services: 'Service number 0 is long' is cut to 20 characters on Messenger" in messages
