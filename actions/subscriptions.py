"""Alert subscriptions in the chat: `subscription_form` (how, which topics, which area, confirm),
"my subscriptions", "unsubscribe from water" and "stop alerts" (docs/subscriptions.md).

Topics and areas come from the catalog (data/subscriptions/catalog.yml), read in the citizen's own
words (`topics_in`, `areas_in`) or from the buttons (`/inform{"sub_choice": "<id>"}`); a street
address is matched to its district by the agency's collection API. Whatever the first message
already says ("text me about water notices in Downtown") is not asked again.

How alerts reach the citizen depends on the channel they write from
(`tracker.get_latest_input_channel()`): SMS, Telegram and WhatsApp subscribe this conversation.
Messenger and Instagram may only message within 24 hours of the citizen's last message: the
citizen is told, and offered SMS or Telegram, or to subscribe here anyway. The web chat and REST
have no push: SMS with a double opt-in code (`bot.subscriptions.optin`), or Telegram (a t.me link
when TELEGRAM_BOT_NAME is set). The confirmation the citizen agrees to is recorded word for
word with the subscription (`SubscriberStore.subscribe(wording=...)`).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict
from redis.exceptions import RedisError

from actions import resources as shared
from actions.common import EventList, conversation_ref, latest_intent
from actions.forms.not_answers import is_exit
from actions.parsing import street_address
from bot.broadcasts.delivery import send_direct
from bot.channels.store import ADDRESS_TTL
from bot.clients.errors import AgencyUnavailable
from bot.identity import IdentityKey
from bot.language.conversation import conversation_language
from bot.settings import Settings
from bot.subscriptions.catalog import ALL, Catalog, load_catalog
from bot.subscriptions.optin import (
    EXPIRED,
    FAILED,
    VERIFIED,
    WRONG,
    OptIn,
    TooManyCodes,
    normalise_phone,
    typed_code,
)
from bot.subscriptions.store import PREFIX, SubscriberStore
from bot.subscriptions.texts import SubscriptionTexts, load_texts

log = logging.getLogger(__name__)

FORM = "subscription_form"
SLOTS = ("sub_via", "sub_topics", "sub_area", "sub_confirm", "sub_phone", "sub_code")
CHOICE = "sub_choice"
HERE, SMS, TELEGRAM = "here", "sms", "telegram"
YES, NO = "yes", "no"
UNAVAILABLE = "unavailable"
PUSH = frozenset({"twilio", "telegram", "whatsapp"})  # this conversation can be reached later
META = frozenset({"facebook", "instagram"})  # only within 24 hours of the citizen's last message
SHOWN_TTL = 24 * 3600
STORE_ERRORS = (RedisError, OSError)


def in_citizen_language(tracker: Tracker) -> tuple[Catalog, SubscriptionTexts]:
    """The catalog and the texts in the conversation's language: what the citizen reads, and agrees to."""
    language = conversation_language(tracker.slots)
    return load_catalog(language=language), load_texts(language=language)


def inform(choice: str) -> str:
    return "/inform" + json.dumps({CHOICE: choice}, separators=(",", ":"))


def channel_of(tracker: Tracker) -> str:
    return str(tracker.get_latest_input_channel() or "")


def settings() -> Settings:
    return Settings.from_env()


def telegram_link() -> str:
    username = settings().broadcasts.telegram_bot_username
    return f"https://t.me/{username}" if username else ""


def shown_key(conversation_id: str) -> str:
    """The confirmation last shown to a conversation, recorded as its consent when it says yes."""
    return f"{PREFIX}shown:{conversation_id}"


def linked_key(conversation_id: str) -> str:
    """The SMS conversation a chat with no push subscribed by double opt-in (`validate_sub_code`)."""
    return f"{PREFIX}linked:{conversation_id}"


async def subscriber_of(store: SubscriberStore, redis: Any, conversation_id: str) -> str:
    """Whose subscriptions this conversation manages: its own, else the SMS number it confirmed from
    here (a web chat citizen saying "stop alerts" means the texts they get)."""
    if await store.get(conversation_id) is not None:
        return conversation_id
    linked = await redis.get(linked_key(conversation_id))
    if linked:
        return linked.decode() if isinstance(linked, bytes) else str(linked)
    return conversation_id


def first_via(channel: str) -> str | None:
    """How alerts reach a citizen on `channel` without asking, or None when they choose."""
    if channel in PUSH:
        return HERE
    if channel in META or telegram_link():
        return None
    return SMS


def required(via: Any) -> list[str]:
    if via == TELEGRAM:
        return ["sub_via"]
    if via == SMS:
        return ["sub_via", "sub_topics", "sub_area", "sub_phone", "sub_code"]
    return ["sub_via", "sub_topics", "sub_area", "sub_confirm"]


def area_ids(value: Any) -> list[str]:
    return [a for a in str(value or "").split(",") if a] or [ALL]


def confirmation(texts: SubscriptionTexts, catalog: Catalog, tracker: Tracker, sms: bool) -> str:
    """The exact text the citizen agrees to (SMS adds "Reply STOP to opt out")."""
    topics = list(tracker.get_slot("sub_topics") or [])
    return texts.render(
        "confirm",
        catalog,
        topics=texts.topics(catalog, topics),
        area=texts.areas(catalog, area_ids(tracker.get_slot("sub_area"))),
        opt_out=texts.texts["opt_out"] if sms else "",
    )


def chosen(tracker: Tracker) -> str:
    """A button's choice, or what was typed."""
    message = tracker.latest_message or {}
    for entity in message.get("entities") or []:
        if entity.get("entity") == CHOICE and entity.get("value"):
            return str(entity["value"])
    return str(message.get("text") or "").strip()


def reset() -> EventList:
    return [SlotSet(slot, None) for slot in SLOTS]


def opt_in(resources: shared.Resources) -> OptIn:
    config = settings()
    secret = config.security.identity_secret
    return OptIn(resources.redis, IdentityKey(secret), secret, config.broadcasts.sms_code_minutes)


class ValidateSubscriptionForm(FormValidationAction):
    def name(self) -> str:
        return "validate_subscription_form"

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[str]:
        return required(tracker.get_slot("sub_via"))

    async def get_extraction_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> EventList:
        message = tracker.latest_message or {}
        requested = tracker.get_slot("requested_slot")
        if requested not in SLOTS and latest_intent(tracker) == "subscribe_alerts":
            return self.first_message(tracker)
        intent = latest_intent(tracker)
        if requested == "sub_confirm" and intent in ("affirm", "deny"):
            return [SlotSet("sub_confirm", YES if intent == "affirm" else NO)]
        language = conversation_language(tracker.slots)
        if requested not in SLOTS or is_exit(message, language) or intent == "unsubscribe_alerts":
            return []  # the rules answer it (cancel, menu, bye, a person, a crisis)
        return [SlotSet(requested, chosen(tracker))]

    def first_message(self, tracker: Tracker) -> EventList:
        """A new subscription: forget any earlier one, and keep what the message already says."""
        catalog, texts = in_citizen_language(tracker)
        text = str((tracker.latest_message or {}).get("text") or "")
        typed = not text.startswith("/")
        topics = catalog.topics_in(text) if typed else []
        areas = catalog.areas_in(text) if typed else []
        if typed and not areas and any(texts.means_whole_city(w) for w in _phrases(text)):
            areas = [ALL]
        events: dict[str, Any] = {slot: None for slot in SLOTS if tracker.get_slot(slot) is not None}
        events["sub_via"] = first_via(channel_of(tracker))
        if topics:
            events["sub_topics"] = topics
        if areas:
            events["sub_area"] = ",".join(areas)
        return [SlotSet(slot, value) for slot, value in events.items()]

    async def validate_sub_via(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value is None:
            return {"sub_via": None}
        text = str(value).casefold()
        channel = channel_of(tracker)
        if text in (HERE, SMS, TELEGRAM):
            via = text
        elif "telegram" in text:
            via = TELEGRAM
        elif any(word in text for word in ("sms", "text", "phone", "mobile", "cell")):
            via = SMS
        elif "here" in text:
            via = HERE
        else:
            via = ""
        if (via == HERE and channel not in PUSH | META) or (via == TELEGRAM and not telegram_link()):
            via = ""
        return {"sub_via": via or None}

    async def validate_sub_topics(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value is None:
            return {"sub_topics": None}
        catalog = in_citizen_language(tracker)[0]
        if isinstance(value, list):
            topics = [t for t in value if catalog.topic(str(t))]
        elif value == ALL:
            topics = list(catalog.topic_ids)
        elif catalog.topic(str(value)):
            topics = [str(value)]
        else:
            topics = catalog.topics_in(str(value or ""))
        if not topics:
            dispatcher.utter_message(response="utter_sub_topic_unknown")
        return {"sub_topics": topics or None}

    async def validate_sub_area(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value is None:
            return {"sub_area": None}
        catalog, texts = in_citizen_language(tracker)
        text = str(value).strip()
        if text == ALL or texts.means_whole_city(text):
            return {"sub_area": ALL}
        if all(catalog.area(a) for a in text.split(",") if a) and text:
            return {"sub_area": text}
        if areas := catalog.areas_in(text):
            return {"sub_area": ",".join(areas)}
        if street_address(text, conversation_language(tracker.slots)):  # "calle Elm 12" too
            district = await self.district_of(text, tracker, catalog)
            if district:
                return {"sub_area": district}
            dispatcher.utter_message(response="utter_sub_address_unknown")
            return {"sub_area": None}
        dispatcher.utter_message(response="utter_sub_area_unknown")
        return {"sub_area": None}

    async def district_of(self, address: str, tracker: Tracker, catalog: Catalog) -> str | None:
        """The catalog district of a street address, as the agency's collection API places it."""
        resources = await shared.current()
        try:
            schedule = await resources.collection.schedule(address)
        except AgencyUnavailable as exc:  # NotFound is one
            log.info(
                "subscriptions: no district for an address (%s): %s", conversation_ref(tracker), exc.reason
            )
            return None
        return catalog.district_named(schedule.district) if schedule.district else None

    async def validate_sub_confirm(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = str(value or "").strip().casefold().rstrip(".!")
        if text in (YES, "y", "yes please", "ok", "sure", "subscribe"):
            return {"sub_confirm": YES}
        if text in (NO, "n", "no thanks", "nope"):
            return {"sub_confirm": NO}
        return {"sub_confirm": value if value in (YES, NO) else None}

    async def validate_sub_phone(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value is None or str(value).startswith("twilio-") or value == UNAVAILABLE:
            return {"sub_phone": value}
        phone = normalise_phone(str(value))
        if phone is None:
            dispatcher.utter_message(response="utter_sub_phone_invalid")
            return {"sub_phone": None}
        catalog, texts = in_citizen_language(tracker)
        resources = await shared.current()
        minutes = settings().broadcasts.sms_code_minutes
        try:
            pending = await opt_in(resources).send_code(
                tracker.sender_id,
                phone,
                list(tracker.get_slot("sub_topics") or []),
                area_ids(tracker.get_slot("sub_area")),
                confirmation(texts, catalog, tracker, sms=True),
                lambda code: texts.render("code", catalog, code=code, minutes=f"{minutes:g}"),
            )
        except STORE_ERRORS as exc:
            log.warning("subscriptions: cannot send an opt-in code (%s): %s", conversation_ref(tracker), exc)
            return {"sub_phone": UNAVAILABLE, "sub_code": UNAVAILABLE}
        except TooManyCodes:
            log.info("subscriptions: opt-in codes limited for %s", conversation_ref(tracker))
            dispatcher.utter_message(response="utter_sub_too_many_codes")
            return {"sub_phone": None}
        log.info("subscriptions: opt-in code queued for %s", conversation_ref(tracker))
        return {"sub_phone": pending.sms_conversation_id}

    async def validate_sub_code(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value is None or value in (VERIFIED, FAILED, EXPIRED, UNAVAILABLE):
            return {"sub_code": value}
        code = typed_code(str(value or ""))
        if code is None:
            return {"sub_code": None}  # not a code: asked again, no try counted
        resources = await shared.current()
        codes = opt_in(resources)
        outcome = await codes.check(tracker.sender_id, code)
        if outcome.status == WRONG:
            dispatcher.utter_message(response="utter_sub_code_wrong", tries_left=outcome.tries_left)
            return {"sub_code": None}
        if outcome.status == VERIFIED and outcome.pending is not None:
            pending = outcome.pending
            await SubscriberStore(resources.redis).subscribe(
                pending.sms_conversation_id,
                pending.topics,
                pending.areas,
                wording=pending.wording,
                language=conversation_language(tracker.slots),
                via=channel_of(tracker) or "socketio",
            )
            await resources.redis.set(
                linked_key(tracker.sender_id), pending.sms_conversation_id, ex=ADDRESS_TTL
            )
            log.info("subscriptions: %s verified an SMS number", conversation_ref(tracker))
        return {"sub_code": outcome.status}


def _phrases(text: str) -> list[str]:
    """Every run of words in `text`, for whole-city phrases inside a longer message."""
    words = text.casefold().replace("-", " ").split()
    return [" ".join(words[i:j]) for i in range(len(words)) for j in range(i + 1, min(len(words), i + 4) + 1)]


# --- the questions ---------------------------------------------------------------------------------


class AskSubVia(Action):
    def name(self) -> str:
        return "action_ask_sub_via"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> EventList:
        texts, link = in_citizen_language(tracker)[1], telegram_link()
        buttons = [{"title": texts.texts["via_sms"], "payload": inform(SMS)}]
        if link:
            buttons.append({"title": texts.texts["via_telegram"], "payload": inform(TELEGRAM)})
        if channel_of(tracker) in META:
            buttons.insert(0, {"title": texts.texts["via_here"], "payload": inform(HERE)})
            response = "utter_ask_sub_via_meta" if link else "utter_ask_sub_via_meta_no_telegram"
        else:
            response = "utter_ask_sub_via_web"
        dispatcher.utter_message(response=response, buttons=buttons)
        return []


class AskSubTopics(Action):
    def name(self) -> str:
        return "action_ask_sub_topics"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> EventList:
        catalog, texts = in_citizen_language(tracker)
        channel = channel_of(tracker)
        if (
            latest_intent(tracker) == "subscribe_alerts"
            and channel not in PUSH | META
            and not telegram_link()
        ):
            dispatcher.utter_message(response="utter_sub_via_sms_only")
        buttons = [{"title": t.name, "payload": inform(t.id)} for t in catalog.topics]
        buttons.append({"title": texts.texts["all_topics"], "payload": inform(ALL)})
        dispatcher.utter_message(response="utter_ask_sub_topics", buttons=buttons)
        return []


class AskSubArea(Action):
    def name(self) -> str:
        return "action_ask_sub_area"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> EventList:
        catalog, texts = in_citizen_language(tracker)
        buttons = [{"title": texts.texts["whole_city"].capitalize(), "payload": inform(ALL)}]
        buttons += [{"title": a.name, "payload": inform(a.id)} for a in catalog.areas]
        dispatcher.utter_message(response="utter_ask_sub_area", buttons=buttons)
        return []


class AskSubConfirm(Action):
    def name(self) -> str:
        return "action_ask_sub_confirm"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> EventList:
        catalog, texts = in_citizen_language(tracker)
        wording = confirmation(texts, catalog, tracker, sms=channel_of(tracker) == "twilio")
        resources = await shared.current()
        await resources.redis.set(shown_key(tracker.sender_id), wording, ex=SHOWN_TTL)
        buttons = [
            {"title": texts.texts["confirm_yes"], "payload": "/affirm"},
            {"title": texts.texts["confirm_no"], "payload": "/deny"},
        ]
        dispatcher.utter_message(text=wording, buttons=buttons)
        return []


class AskSubPhone(Action):
    def name(self) -> str:
        return "action_ask_sub_phone"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> EventList:
        catalog, texts = in_citizen_language(tracker)
        dispatcher.utter_message(text=confirmation(texts, catalog, tracker, sms=True))
        dispatcher.utter_message(response="utter_ask_sub_phone")
        return []


class AskSubCode(Action):
    def name(self) -> str:
        return "action_ask_sub_code"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> EventList:
        resources = await shared.current()
        pending = await opt_in(resources).pending(tracker.sender_id)
        minutes = settings().broadcasts.sms_code_minutes
        last = pending.last_digits if pending else ""
        dispatcher.utter_message(response="utter_ask_sub_code", last_digits=last, minutes=f"{minutes:g}")
        return []


# --- the outcome, the list, leaving ------------------------------------------------------------------


class SubscribeAlerts(Action):
    """The end of the form: subscribe this conversation, or say what happened instead."""

    def name(self) -> str:
        return "action_subscribe_alerts"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> EventList:
        catalog, texts = in_citizen_language(tracker)
        via, code = tracker.get_slot("sub_via"), tracker.get_slot("sub_code")
        topics = list(tracker.get_slot("sub_topics") or [])
        areas = area_ids(tracker.get_slot("sub_area"))
        if via == TELEGRAM:
            dispatcher.utter_message(response="utter_sub_telegram", link=telegram_link())
            return reset()
        if via == SMS:
            await self.sms_outcome(dispatcher, tracker, catalog, texts, code, topics, areas)
            return reset()
        if tracker.get_slot("sub_confirm") != YES:
            dispatcher.utter_message(response="utter_sub_declined")
            return reset()
        sms = channel_of(tracker) == "twilio"
        resources = await shared.current()
        try:
            shown = await resources.redis.get(shown_key(tracker.sender_id))
            wording = shown.decode() if isinstance(shown, bytes) else str(shown or "")
            await SubscriberStore(resources.redis).subscribe(
                tracker.sender_id,
                topics,
                areas,
                wording=wording or confirmation(texts, catalog, tracker, sms=sms),
                language=texts.language,
            )
        except STORE_ERRORS as exc:
            log.warning("subscriptions: cannot subscribe %s: %s", conversation_ref(tracker), exc)
            dispatcher.utter_message(response="utter_sub_unavailable")
            return reset()
        log.info("subscriptions: %s subscribed", conversation_ref(tracker))
        dispatcher.utter_message(text=subscribed(texts, catalog, topics, areas, sms))
        return reset()

    async def sms_outcome(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        catalog: Catalog,
        texts: SubscriptionTexts,
        code: Any,
        topics: list[str],
        areas: list[str],
    ) -> None:
        if code == VERIFIED:
            text = subscribed(texts, catalog, topics, areas, sms=True)
            dispatcher.utter_message(text=text)
            resources = await shared.current()
            sms_cid = str(tracker.get_slot("sub_phone") or "")
            if sms_cid.startswith("twilio-"):  # the carriers' opt-in confirmation, to the phone itself
                await send_direct(resources.redis, sms_cid, text, kind="sms_confirmation")
        elif code == FAILED:
            dispatcher.utter_message(response="utter_sub_code_failed")
        elif code == EXPIRED:
            dispatcher.utter_message(response="utter_sub_code_expired")
        else:
            dispatcher.utter_message(response="utter_sub_unavailable")


def subscribed(
    texts: SubscriptionTexts, catalog: Catalog, topics: list[str], areas: list[str], sms: bool
) -> str:
    return texts.render(
        "subscribed",
        catalog,
        topics=texts.topics(catalog, topics),
        area=texts.areas(catalog, areas),
        opt_out=texts.texts["opt_out"] if sms else "",
    )


class ListSubscriptions(Action):
    def name(self) -> str:
        return "action_list_subscriptions"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> EventList:
        catalog, texts = in_citizen_language(tracker)
        resources = await shared.current()
        store = SubscriberStore(resources.redis)
        subscriber = await store.get(await subscriber_of(store, resources.redis, tracker.sender_id))
        if subscriber is None or not subscriber.pairs:
            dispatcher.utter_message(response="utter_sub_none")
        elif not subscriber.active:
            dispatcher.utter_message(
                response="utter_sub_list_stopped", lines=texts.lines(catalog, subscriber)
            )
        else:
            dispatcher.utter_message(
                response="utter_sub_list", program=catalog.program, lines=texts.lines(catalog, subscriber)
            )
        return []


class UnsubscribeAlerts(Action):
    """ "unsubscribe from water" removes that topic; "stop alerts" stops them all (START restores)."""

    def name(self) -> str:
        return "action_unsubscribe_alerts"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> EventList:
        catalog, texts = in_citizen_language(tracker)
        text = str((tracker.latest_message or {}).get("text") or "")
        topics = catalog.topics_in(text)
        resources = await shared.current()
        store = SubscriberStore(resources.redis)
        whose = await subscriber_of(store, resources.redis, tracker.sender_id)
        if not topics:
            reply = texts.render("stopped", catalog)
            await store.stop(whose, wording=reply)
            log.info("subscriptions: %s stopped all alerts", conversation_ref(tracker))
            dispatcher.utter_message(text=reply)
            return reset()
        subscriber = await store.get(whose)
        held = [t for t in topics if subscriber and t in subscriber.topics()]
        if not held:
            dispatcher.utter_message(
                response="utter_sub_not_subscribed_to", topics=texts.topics(catalog, topics)
            )
            return reset()
        await store.unsubscribe(whose, held, wording=text)
        dispatcher.utter_message(response="utter_sub_removed", topics=texts.topics(catalog, held))
        return reset()
