"""The alerts lookup in the citizen's language, against the demo agency (whose feed carries the boil
water notice in Spanish and the heat advisory only in English), rendered by Rasa's own NLG.

A Spanish citizen reads the Spanish headline and instruction of the one, the English of the other with
the note that it is only in English, and the pinned notice's lead in Spanish; an English citizen reads
exactly what they always did.
"""

from __future__ import annotations

import time
from typing import Any

from lookup_support import agency_env, run_action, sdk_tracker
from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SlotSet
from rasa.shared.core.trackers import DialogueStateTracker
from rasa_sdk.executor import CollectingDispatcher

from actions.alerts import ActionCheckAlerts
from actions.resources import Resources, close_resources, open_resources
from bot.agency_config import AgencyConfig
from bot.broadcasts.notice import NoticeStore
from bot.nlg import AgencyNaturalLanguageGenerator
from bot.settings import Settings

ALERTS = ActionCheckAlerts()
ONLY_IN_ENGLISH = "Esta alerta solo está disponible en inglés."
SPANISH = {"language": "es"}


async def spoken(domain: Domain, slots: dict[str, Any], text: str = "¿hay alertas?") -> tuple[str, list[Any]]:
    """What a citizen with `slots` reads after asking for the alerts, and the action's messages."""
    dispatcher = CollectingDispatcher()
    await ALERTS.run(dispatcher, sdk_tracker(domain, text, "ask_alerts", slots=slots), domain.as_dict())
    nlg: TemplatedNaturalLanguageGenerator = AgencyNaturalLanguageGenerator(domain=domain)
    events = [SlotSet(name, value) for name, value in slots.items()]
    tracker = DialogueStateTracker.from_events("render", events, slots=domain.slots)
    texts = []
    for message in dispatcher.messages:
        if message.get("response"):
            values = {k: v for k, v in message.items() if k not in ("response", "template")}
            generated = await nlg.generate(message["response"], tracker, "rest", **values)
            assert generated is not None
            texts.append(str(generated.get("text") or ""))
        else:
            texts.append(str(message.get("text") or ""))
    return "\n".join(texts), dispatcher.messages


async def test_a_spanish_citizen_reads_the_feed_s_spanish_and_a_note_for_the_english_only_alert(
    lookups: Resources, domain: Domain
) -> None:
    text, messages = await spoken(domain, SPANISH)
    assert messages[-1]["response"] == "utter_alerts"
    assert "Aviso de hervir el agua para Downtown" in text
    assert "Hierva el agua de la llave a borbotones" in text
    assert "Boil Water Notice for Downtown" not in text
    heat = text.index("Heat Advisory for the Eastside")  # the feed has it only in English
    assert text.index(ONLY_IN_ENGLISH) > heat and text.count(ONLY_IN_ENGLISH) == 1
    lines = messages[-1]["alerts"].split("\n")
    assert lines[lines.index(ONLY_IN_ENGLISH) - 1].startswith("⚠️ Heat Advisory for the Eastside")


async def test_an_english_citizen_reads_the_english_with_no_note(lookups: Resources, domain: Domain) -> None:
    reply = await run_action(ALERTS, sdk_tracker(domain, "any alerts right now?", "ask_alerts"), domain)
    assert "Boil Water Notice for Downtown" in reply.text and "Heat Advisory for the Eastside" in reply.text
    assert "Aviso" not in reply.text and "inglés" not in reply.text


async def test_the_pinned_notice_leads_with_the_spanish_lead(lookups: Resources, domain: Domain) -> None:
    await NoticeStore(lookups.redis).pin(  # the store's own clock: the real time
        "Cooling centers open today.", "https://harborcity.example/heat", time.time() + 3600, "erin"
    )
    _, messages = await spoken(domain, SPANISH)
    assert messages[0]["text"] == "Aviso: Cooling centers open today. https://harborcity.example/heat"
    english, _ = await spoken(domain, {}, "any alerts?")
    assert english.startswith("Notice: Cooling centers open today.")


async def test_the_cap_atom_feed_gives_the_same_spanish_answer(demo, redis_url, clock, domain) -> None:
    env = agency_env(demo, redis_url, ALERTS_URL=f"{demo.base_url}/alerts.atom", ALERTS_FORMAT="cap-atom")
    await open_resources(AgencyConfig.from_settings(Settings.from_env(env)), clock=clock)
    try:
        text, _ = await spoken(domain, SPANISH)
    finally:
        await close_resources()
    assert "Aviso de hervir el agua para Downtown" in text and ONLY_IN_ENGLISH in text
