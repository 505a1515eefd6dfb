"""The carrier keywords, answered by the channels before Rasa: STOP, START, HELP, in every language.

The words are data (data/subscriptions/messages.yml `keywords:`, per language; `bot.subscriptions.
texts.Keywords`), so an agency adds a language's keywords by writing them. A keyword is the whole
message, trimmed, in any case, accents, ¡¿ and trailing punctuation ignored ("¡Alto!" is ALTO,
"please stop" is nothing). A stop word stops every alert (`SubscriberStore.stop`, recorded even for
a conversation that never subscribed, so no broadcast can reach it by mistake); a start word
restores them; a help word says the program, how often, how to stop and where to get help. The
reply is one short text of that file, and the message never reaches Rasa. Every language's words
work for everyone: a word of one language only ("ALTO") is answered in that language, the citizen
said it; English's (the carriers') and shared ones in the language the subscriber subscribed in
(English for anyone else). The subscriber's recorded language is left as it is.

Design decision (docs/subscriptions.md): on SMS (`twilio`) carriers require every keyword to work,
always, so there it is answered whatever the conversation is doing. On the other channels a
keyword is one only for a conversation with a subscriber record (it subscribed once), and a stop
word not while a form runs: otherwise they are ordinary chat ("stop" or "cancel" leaves a 311
report, "help" lists what the assistant can do), and a web chat, which no broadcast can reach, is
never told it was "unsubscribed". A Telegram subscriber who types "cancel" to leave a form must not
silently lose the next boil-water notice. The `stop_outside_forms` words ("cancelar", the word our
Spanish prompts give to leave a report; no carrier requires it) follow that form rule on SMS too.

A Redis error propagates: the webhook intake retries the entry, so a STOP is never lost. So does a
messages file that cannot be read before any was, while a broken edit keeps the words last read:
every message is matched against them, and a staff typo must not hold up the citizens' messages.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis

from bot.channels.store import ref
from bot.content.agency import SOURCE_LANGUAGE
from bot.content.model import ContentError
from bot.datafile import load_yaml_file
from bot.handoff.service import WAITING_SLOT
from bot.subscriptions.catalog import load_catalog
from bot.subscriptions.store import SubscriberStore
from bot.subscriptions.texts import START, STOP, Keyword, Keywords, TextsError, load_texts

log = logging.getLogger(__name__)

SMS = "twilio"
TRACKER_PREFIX = "civic:tracker:"  # Rasa's tracker store (endpoints.yml `key_prefix: civic`)
DOMAIN_FILE = Path("domain.yml")
SESSION_MINUTES = 60.0  # Rasa's default session_expiration_time, when domain.yml does not say


@dataclass
class _LastRead:
    keywords: Keywords | None = None
    error: str = ""


_last = _LastRead()


def keyword_of(text: str) -> Keyword | None:
    """The keyword the whole message is (its `word` as typed, in capitals), or None."""
    return _keywords().of(text)


def _keywords() -> Keywords:
    """Every language's keywords; after a broken edit of the file, the ones last read (logged once)."""
    try:
        keywords = load_texts().keywords
    except (TextsError, ContentError) as exc:
        if _last.keywords is None:
            raise
        if str(exc) != _last.error:
            log.error("subscriptions: %s; the keywords last read still apply", exc)
            _last.error = str(exc)
        return _last.keywords
    _last.keywords, _last.error = keywords, ""
    return keywords


async def keyword_reply(redis: aioredis.Redis, conversation_id: str, channel: str, text: str) -> str | None:
    """Act on a keyword and return the reply; None when the message is not one (it goes to Rasa)."""
    keyword = keyword_of(text)
    if keyword is None:
        return None
    store = SubscriberStore(redis)
    current = await store.get(conversation_id)
    if channel != SMS and current is None:
        return None
    if keyword.action == STOP and (channel != SMS or keyword.outside_forms):
        if await in_form_or_line(redis, conversation_id):
            return None
    language = keyword.language or (current.language if current is not None else SOURCE_LANGUAGE)
    catalog, texts = load_catalog(language=language), load_texts(language=language)
    if keyword.action == STOP:
        reply = texts.render("stopped", catalog)
        await store.stop(conversation_id, wording=reply, keyword=keyword.word)
        log.info("subscriptions: %s sent %s: stopped", ref(conversation_id), keyword.word)
        return reply
    if keyword.action == START:
        if current is None or not current.pairs:
            reply = texts.render("start_nothing", catalog)
        else:
            reply = texts.render("started", catalog, subscriptions=texts.subscriptions(catalog, current))
        if current is not None:
            await store.start(conversation_id, wording=reply, keyword=keyword.word)
        log.info("subscriptions: %s sent %s", ref(conversation_id), keyword.word)
        return reply
    return texts.render("help", catalog)


async def in_form_or_line(redis: aioredis.Redis, conversation_id: str) -> bool:
    """Whether the conversation is in a form (its last `active_loop` event names one) or in line for a
    person (its last `handoff_waiting` slot is true): then "stop" or "cancelar" is meant for the
    form or the line ("type cancel to leave the line"). Not once the citizen's last message is older
    than the session (domain.yml `session_expiration_time`): Rasa starts the next message in a new
    session, without the form, so a report abandoned yesterday never turns an opt-out into chat.
    Read only for stop words that may leave a form, so rarely."""
    raw = await redis.get(TRACKER_PREFIX + conversation_id)
    if not raw:
        return False
    try:
        events = [e for e in json.loads(raw).get("events") or [] if isinstance(e, dict)]
    except (ValueError, AttributeError, TypeError):
        return False
    loop = next((e for e in reversed(events) if e.get("event") == "active_loop"), None)
    waiting = next((e for e in reversed(events) if _sets(e, WAITING_SLOT)), None)
    if not (loop and loop.get("name")) and not (waiting and waiting.get("value") is True):
        return False
    said = next((e.get("timestamp") for e in reversed(events) if e.get("event") == "user"), None)
    minutes = session_minutes()
    return not (minutes and isinstance(said, (int, float)) and time.time() - said > minutes * 60)


def _sets(event: dict[str, Any], slot: str) -> bool:
    return event.get("event") == "slot" and event.get("name") == slot


def session_minutes() -> float:
    """How long a quiet conversation stays in its session, in minutes (0: for ever), as Rasa reads it."""
    try:
        return load_yaml_file(DOMAIN_FILE, _session_minutes, ValueError)
    except ValueError:
        return SESSION_MINUTES


def _session_minutes(raw: Any, _path: Path) -> float:
    config = raw.get("session_config") if isinstance(raw, dict) else None
    minutes = config.get("session_expiration_time") if isinstance(config, dict) else None
    return float(minutes) if isinstance(minutes, (int, float)) else SESSION_MINUTES
