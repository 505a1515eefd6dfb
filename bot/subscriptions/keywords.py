"""The carrier keywords, answered by the channels before Rasa: STOP, START, HELP and their synonyms.

A keyword is the whole message, trimmed, in any case, trailing punctuation ignored ("Stop!" is
STOP, "please stop" is not). STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT stop every alert
(`SubscriberStore.stop`, recorded even for a conversation that never subscribed, so no broadcast
can reach it by mistake); START and UNSTOP restore them; HELP says the program, how often, how to
stop and where to get help. The reply is one short text (data/subscriptions/messages.yml), in the
language the subscriber subscribed in (English for anyone else), and the message never reaches Rasa.

Design decision (docs/subscriptions.md): on SMS (`twilio`) carriers require every keyword to work,
always, so there it is answered whatever the conversation is doing. On the other channels a
keyword is one only for a conversation with a subscriber record (it subscribed once), and STOP,
CANCEL, END and QUIT not while a form runs: otherwise they are ordinary chat ("stop" or "cancel"
leaves a 311 report, "help" lists what the assistant can do), and a web chat, which no broadcast
can reach, is never told it was "unsubscribed". A Telegram subscriber who types "cancel" to leave
a form must not silently lose the next boil-water notice.

A Redis error propagates: the webhook intake retries the entry, so a STOP is never lost.
"""

from __future__ import annotations

import json
import logging

import redis.asyncio as aioredis

from bot.channels.store import ref
from bot.content.agency import SOURCE_LANGUAGE
from bot.subscriptions.catalog import load_catalog
from bot.subscriptions.store import SubscriberStore
from bot.subscriptions.texts import load_texts

log = logging.getLogger(__name__)

STOP_WORDS = frozenset({"stop", "stopall", "unsubscribe", "cancel", "end", "quit"})
START_WORDS = frozenset({"start", "unstop"})
HELP_WORDS = frozenset({"help"})
SMS = "twilio"
TRAILING = " \t\r\n.!?,;:"
TRACKER_PREFIX = "civic:tracker:"  # Rasa's tracker store (endpoints.yml `key_prefix: civic`)


def keyword_of(text: str) -> str | None:
    """The keyword the whole message is (lowercase), or None."""
    word = text.strip().rstrip(TRAILING).strip().casefold()
    return word if word in STOP_WORDS | START_WORDS | HELP_WORDS else None


async def keyword_reply(redis: aioredis.Redis, conversation_id: str, channel: str, text: str) -> str | None:
    """Act on a keyword and return the reply; None when the message is not one (it goes to Rasa)."""
    word = keyword_of(text)
    if word is None:
        return None
    store = SubscriberStore(redis)
    current = await store.get(conversation_id)
    if channel != SMS:
        if current is None or (word in STOP_WORDS and await form_running(redis, conversation_id)):
            return None
    language = current.language if current is not None else SOURCE_LANGUAGE  # the one they subscribed in
    catalog, texts = load_catalog(language=language), load_texts(language=language)
    if word in STOP_WORDS:
        reply = texts.render("stopped", catalog)
        await store.stop(conversation_id, wording=reply, keyword=word.upper())
        log.info("subscriptions: %s sent %s: stopped", ref(conversation_id), word.upper())
        return reply
    if word in START_WORDS:
        if current is None or not current.pairs:
            reply = texts.render("start_nothing", catalog)
        else:
            reply = texts.render("started", catalog, subscriptions=texts.subscriptions(catalog, current))
        if current is not None:
            await store.start(conversation_id, wording=reply, keyword=word.upper())
        log.info("subscriptions: %s sent %s", ref(conversation_id), word.upper())
        return reply
    return texts.render("help", catalog)


async def form_running(redis: aioredis.Redis, conversation_id: str) -> bool:
    """Whether the conversation is in a form (its last `active_loop` event names one): then "stop" or
    "cancel" is meant for the form. Read only for a subscriber's stop words off SMS, so rarely."""
    raw = await redis.get(TRACKER_PREFIX + conversation_id)
    if not raw:
        return False
    try:
        events = json.loads(raw).get("events") or []
    except (ValueError, AttributeError):
        return False
    for event in reversed(events):
        if isinstance(event, dict) and event.get("event") == "active_loop":
            return bool(event.get("name"))
    return False
