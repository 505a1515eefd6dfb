"""The other replies that read or write words in a Spanish conversation: a bare detail ("calle Elm 12"),
leaving or skipping the handoff's forms ("cancelar", "omitir"), and a reply to a broadcast ("¿me
afecta?"), each also in English as before.

Real Redis (DB 9 for the broadcasts, as test_broadcast_reply.py), a local alerts feed, the demo agency,
the real domain; trackers are built by Rasa's own DialogueStateTracker.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
import redis.asyncio as aioredis
from lookup_support import START, run_action, sdk_tracker
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActiveLoop
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.broadcast_reply import ActionReplyToBroadcast, areas_text
from actions.details import ActionUseDetail
from actions.handoff import (
    RATING_FORM,
    SKIPPED,
    ValidateHandoffRatingForm,
    ValidateHandoffTicketForm,
    exit_asked,
)
from actions.resources import Resources, close_resources, open_resources
from bot.agency_config import AgencyConfig
from bot.broadcasts.model import ALERT, SENDING, Broadcast, BroadcastStore
from bot.broadcasts.received import remember_received
from bot.settings import Settings
from bot.subscriptions.catalog import load_catalog

SPANISH = {"language": "es"}
NOW = START  # 10:00 in Harbor City; the alerts feed (conftest.py) has its flood warning
CITIZEN = "telegram-5f2a9c"
LINK = "https://harborcity.example/alerts/flood"


# --- a bare detail ----------------------------------------------------------------------------------------


async def test_a_spanish_address_is_read_and_the_lookups_are_offered_in_spanish(lookups, domain):
    tracker = sdk_tracker(domain, "calle Elm 12", slots=SPANISH)
    reply = await run_action(ActionUseDetail(), tracker, domain)
    assert reply.responses == ["utter_offer_address_lookups"] and reply.slots() == {"address": "calle Elm 12"}
    (offer,) = reply.messages
    titles = [button["title"] for button in offer["buttons"]]
    assert titles == ["Día de recolección", "Reportar un problema", "Alertas vigentes"]
    assert offer["buttons"][0]["payload"] == '/ask_collection_day{"address": "calle Elm 12"}'
    reply = await run_action(
        ActionUseDetail(), sdk_tracker(domain, "Oak Ave y 3rd St", slots=SPANISH), domain
    )
    assert reply.slots() == {"address": "Oak Ave y 3rd St"}


async def test_a_spanish_request_number_gets_its_status(lookups, domain):
    reply = await run_action(ActionUseDetail(), sdk_tracker(domain, "folio 512077", slots=SPANISH), domain)
    assert reply.responses[0].startswith("utter_request_status")


async def test_an_english_detail_as_before(lookups, domain):
    reply = await run_action(ActionUseDetail(), sdk_tracker(domain, "140 Elm Street"), domain)
    assert [b["title"] for b in reply.messages[0]["buttons"]] == [
        "Collection day",
        "Report a problem here",
        "Alerts in effect",
    ]


# --- the handoff's forms ---------------------------------------------------------------------------------


def rating_turn(domain: Domain, text: str, requested: str, slots: dict[str, Any] | None = None) -> Tracker:
    """A message while the rating form asks `requested`, in a conversation with `slots`."""
    asked = {"requested_slot": requested, **(slots or {})}
    return sdk_tracker(domain, text, "inform", slots=asked, history=[ActiveLoop(RATING_FORM)])


@pytest.mark.parametrize(
    ("text", "exit", "in_english"),
    [
        ("cancelar", "cancel", None),
        ("menú", "menu", "menu"),  # accents are optional: "menu" in English too
        ("volver al menú", "menu", None),
        ("empezar de nuevo", "restart", None),
    ],
)
def test_spanish_exits_leave_the_handoff(domain, text, exit, in_english):
    assert exit_asked(rating_turn(domain, text, "handoff_rating", SPANISH)) == exit
    assert exit_asked(rating_turn(domain, text, "handoff_rating")) == in_english


async def test_omitir_skips_the_rating_the_comment_and_the_contact(domain):
    rating, ticket = ValidateHandoffRatingForm(), ValidateHandoffTicketForm()
    for text in ("omitir", "No, gracias.", "cancelar"):
        extracted = await rating.extract_handoff_rating(
            CollectingDispatcher(), rating_turn(domain, text, "handoff_rating", SPANISH), {}
        )
        assert extracted == {"handoff_rating": SKIPPED, "handoff_comment": ""}, text
    assert await rating.extract_handoff_rating(
        CollectingDispatcher(), rating_turn(domain, "cuatro de cinco", "handoff_rating", SPANISH), {}
    ) == {"handoff_rating": "cuatro de cinco"}
    for text in ("nada", "nada, gracias", "skip"):
        extracted = await rating.extract_handoff_comment(
            CollectingDispatcher(), rating_turn(domain, text, "handoff_comment", SPANISH), {}
        )
        assert extracted == {"handoff_comment": ""}, text
    said = "la persona fue muy amable"
    assert await rating.extract_handoff_comment(
        CollectingDispatcher(), rating_turn(domain, said, "handoff_comment", SPANISH), {}
    ) == {"handoff_comment": said}
    contact = rating_turn(domain, "prefiero no", "ticket_contact", SPANISH)
    assert await ticket.extract_ticket_contact(CollectingDispatcher(), contact, {}) == {"ticket_contact": ""}


async def test_the_english_skip_words_as_before(domain):
    rating = ValidateHandoffRatingForm()
    for text, expected in (("skip", SKIPPED), ("no thanks", SKIPPED), ("omitir", None)):
        extracted = await rating.extract_handoff_rating(
            CollectingDispatcher(), rating_turn(domain, text, "handoff_rating"), {}
        )
        assert extracted.get("handoff_rating") == expected, text


# --- a reply to a broadcast ---------------------------------------------------------------------------------


@pytest.fixture
async def flood(db9: aioredis.Redis, db9_url: str, feed_url: str) -> AsyncIterator[Resources]:
    """The action server's resources, and a flood warning this citizen received an hour ago."""
    settings = Settings.from_env({"REDIS_URL": db9_url, "ALERTS_URL": feed_url})
    opened = await open_resources(AgencyConfig.from_settings(settings), settings=settings, clock=lambda: NOW)
    sent = (NOW - timedelta(hours=1)).timestamp()
    broadcast = Broadcast(
        id="b-0123456789ab", title="Flood Warning", text="Flood Warning for Riverside and Old Town",
        topic="emergencies", areas=("riverside", "old_town"), channels=("telegram",), author="alerts feed",
        link=LINK, status=SENDING, created=sent, sent_at=sent, kind=ALERT, alert_id="flood-9",
    )  # fmt: skip
    await remember_received(db9, CITIZEN, (await BroadcastStore(db9).add(broadcast)).id)
    yield opened
    await close_resources()


async def broadcast_reply(domain: Domain, text: str, slots: dict[str, Any] | None = None) -> str:
    tracker = sdk_tracker(domain, text, "ask_about_broadcast", slots=slots, sender_id=CITIZEN)
    dispatcher = CollectingDispatcher()
    await ActionReplyToBroadcast().run(dispatcher, tracker, domain.as_dict())
    return "\n".join(str(m.get("text") or "") for m in dispatcher.messages)


async def test_a_reply_to_a_broadcast_is_answered_in_spanish(flood, domain):
    said = await broadcast_reply(domain, "¿me afecta? vivo en el casco antiguo", SPANISH)
    assert "El mensaje que recibió el mié 25 nov, 9 a. m. era sobre Riverside y Old Town." in said
    assert "Sí: Old Town está incluido." in said and f"Detalles y novedades: {LINK}" in said
    said = await broadcast_reply(domain, "¿hasta cuándo va a durar?", SPANISH)
    assert "Está vigente hasta el mié 25 nov, 6 p. m." in said
    said = await broadcast_reply(domain, "how long will it last?")
    assert "It is in effect until Wed 25 Nov, 6 pm." in said


def test_areas_are_listed_as_each_language_lists():
    catalog = load_catalog()
    areas = ("downtown", "eastside", "westside")
    assert areas_text(catalog, areas, "the whole city") == "Downtown, Eastside and Westside"
    assert areas_text(catalog, areas, "toda la ciudad", "es") == "Downtown, Eastside y Westside"
    assert areas_text(catalog, ("all",), "toda la ciudad", "es") == "toda la ciudad"
