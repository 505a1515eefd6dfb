"""Carrier keywords in every language (data/subscriptions/messages.yml `keywords:`), on real Redis (DB 6):
Spanish words over SMS, Telegram and REST, answered in Spanish whoever sends them; "cancelar" leaving a
form even on SMS (but not a form whose session is over); a third language added with text only; and
the checks of the lists (`make validate`)."""

from __future__ import annotations

import json
import logging
import shutil
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import redis.asyncio as aioredis
import yaml
from channel_support import FakePlatform, conversation, mounted
from test_keywords import CHANNELS, post, said
from web_channel_support import served

from bot.channels.rest import CivicRestInput
from bot.content.agency import load_agency
from bot.content.translations import texts_findings
from bot.subscriptions import keywords
from bot.subscriptions.catalog import ALL
from bot.subscriptions.keywords import keyword_of, keyword_reply
from bot.subscriptions.store import ACTIVE, STOPPED, SubscriberStore
from bot.subscriptions.texts import Keyword, TextsError, parse_texts, texts_problems

ROOT = Path(__file__).resolve().parents[3]
MESSAGES = ROOT / "data" / "subscriptions" / "messages.yml"
STOPPED_ES = "Se canceló su suscripción a Harbor City Alerts"
STOPPED_EN = "You're unsubscribed from Harbor City Alerts"
HELP_ES = "Harbor City Alerts: Mensajes solo cuando haya novedades"
REPORT_FORM = "report_issue_form"
TOKEN = "rest-token-for-the-tests-0123456789"


@pytest.fixture(autouse=True)
def at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    for name in ("TRUSTED_PROXIES", "CHAT_MAX_MESSAGE_CHARS", "REST_CHANNEL_TOKEN"):
        monkeypatch.delenv(name, raising=False)


def raw() -> dict[str, Any]:
    return dict(yaml.safe_load(MESSAGES.read_text(encoding="utf-8")))


async def in_form(db: aioredis.Redis, cid: str, minutes_ago: float = 1) -> None:
    """The conversation is in the 311 report form; the citizen last wrote `minutes_ago`."""
    at = time.time() - minutes_ago * 60
    events = [
        {"event": "user", "text": "report a pothole", "timestamp": at},
        {"event": "active_loop", "name": REPORT_FORM, "timestamp": at},
    ]
    await db.set(f"civic:tracker:{cid}", json.dumps({"events": events}))


def test_spanish_words_are_keywords_with_marks_accents_and_any_case() -> None:
    assert keyword_of("¡Parar!") == Keyword("PARAR", "stop", outside_forms=True, language="es")
    assert keyword_of(" ¿AYUDA? ") == Keyword("AYUDA", "help", language="es")
    assert keyword_of("Álto.") == Keyword("ÁLTO", "stop", language="es")
    assert keyword_of("darme  de baja") == Keyword("DARME DE BAJA", "stop", language="es")
    assert keyword_of("cancelar suscripcion") == Keyword("CANCELAR SUSCRIPCION", "stop", language="es")
    assert keyword_of("Reanudar") == Keyword("REANUDAR", "start", language="es")
    assert keyword_of("Stop") == Keyword("STOP", "stop")  # the carriers': no language of its own
    for chat in ("para", "no más", "ayuda con la renta", "auxilio", "socorro", "comenzar", "inicio", "info"):
        assert keyword_of(chat) is None, chat


async def test_spanish_stop_start_and_help_over_sms(
    platform: FakePlatform, redis_creds: dict[str, str], db: aioredis.Redis
) -> None:
    sms = CHANNELS["twilio"]
    cid = conversation("twilio", sms.user)
    store = SubscriberStore(db)
    await store.subscribe(cid, ["water"], ["downtown"], "Confirme, por favor: ...", language="es")
    async with mounted(sms.connector(platform, redis_creds)) as harness:
        await post(sms, harness, "ALTO")
        assert (await store.audience("water", [ALL], ["downtown"])) == set()
        await post(sms, harness, "reanudar")
        await post(sms, harness, "¡Ayuda!")
        assert harness.received == []  # none reached Rasa
    stopped, started, helped = said(sms.sent(platform))
    assert stopped.startswith(STOPPED_ES) and "Responda START" in stopped
    assert "Agua (Downtown)" in started and started.endswith("Responda ALTO (o STOP) para darse de baja.")
    assert helped.startswith(HELP_ES) and "Responda ALTO (o STOP)" in helped and "llame al 311" in helped
    consent = await store.consent_log(cid)
    assert [(c["action"], c.get("keyword")) for c in consent][1:] == [("stop", "ALTO"), ("start", "REANUDAR")]
    assert consent[1]["wording"] == stopped


async def test_a_spanish_opening_mark_reaches_us_over_sms_and_a_corrupted_at_is_mended(
    platform: FakePlatform, redis_creds: dict[str, str]
) -> None:
    """Some carriers turn "@" into "¡" (GSM 03.38): mended inside a word only, so "¡Hola!" stays."""
    sms = CHANNELS["twilio"]
    async with mounted(sms.connector(platform, redis_creds)) as harness:
        await post(sms, harness, "¡Hola! mi correo es ana¡example.com")
        assert [m.text for m in harness.received] == ["¡Hola! mi correo es ana@example.com"]


async def test_a_spanish_word_from_an_english_subscriber_is_answered_in_spanish_on_telegram(
    platform: FakePlatform, redis_creds: dict[str, str], db: aioredis.Redis
) -> None:
    """ "¡Parar!" is Spanish whoever sends it: the reply is too; START, the carriers' word, is answered
    in the language the subscriber subscribed in, which stays English."""
    telegram = CHANNELS["telegram"]
    cid = conversation("telegram", telegram.user)
    store = SubscriberStore(db)
    await store.subscribe(cid, ["water"], ["downtown"], "Please confirm: ...")
    async with mounted(telegram.connector(platform, redis_creds)) as harness:
        await post(telegram, harness, "¡Parar!")
        await post(telegram, harness, "START")
        await post(telegram, harness, "ayuda")
        assert harness.received == []
    stopped, started, helped = said(telegram.sent(platform))
    assert stopped.startswith(STOPPED_ES)
    assert started.startswith("Welcome back to Harbor City Alerts") and "Water (Downtown)" in started
    assert helped.startswith(HELP_ES)
    subscriber = await store.get(cid)
    assert subscriber is not None and subscriber.language == "en" and subscriber.status == ACTIVE
    assert [c.get("keyword") for c in await store.consent_log(cid)][1:] == ["PARAR", "START"]


async def test_spanish_words_are_chat_for_a_non_subscriber_off_sms(
    platform: FakePlatform, redis_creds: dict[str, str], db: aioredis.Redis
) -> None:
    telegram = CHANNELS["telegram"]
    async with mounted(telegram.connector(platform, redis_creds)) as harness:
        for text in ("alto", "ayuda", "reanudar", "cancelar"):
            await post(telegram, harness, text)
        assert [m.text for m in harness.received] == ["alto", "ayuda", "reanudar", "cancelar"]
    assert await SubscriberStore(db).get(conversation("telegram", telegram.user)) is None


async def test_cancelar_leaves_a_form_even_on_sms_and_alto_still_stops(
    platform: FakePlatform, redis_creds: dict[str, str], db: aioredis.Redis
) -> None:
    """Our Spanish prompts say "diga cancelar" to leave a report: on SMS too, while the form runs,
    "cancelar" and "parar" reach it and the alerts go on. ALTO, like STOP, always stops on SMS."""
    sms = CHANNELS["twilio"]
    cid = conversation("twilio", sms.user)
    store = SubscriberStore(db)
    await store.subscribe(cid, ["water"], [ALL], "Confirme, por favor: ...", language="es")
    await in_form(db, cid)
    async with mounted(sms.connector(platform, redis_creds)) as harness:
        await post(sms, harness, "Cancelar")
        await post(sms, harness, "parar")
        assert [m.text for m in harness.received] == ["Cancelar", "parar"]
        assert (await store.get(cid)).status == ACTIVE
        await post(sms, harness, "Alto")
        assert len(harness.received) == 2
    assert (await store.get(cid)).status == STOPPED


async def test_outside_a_form_cancelar_stops_on_sms_even_a_number_that_never_subscribed(
    platform: FakePlatform, redis_creds: dict[str, str], db: aioredis.Redis
) -> None:
    """A form whose session is over (the citizen's last message older than domain.yml's
    session_expiration_time, 60 minutes) is no form: Rasa would start the next message without it."""
    sms = CHANNELS["twilio"]
    cid = conversation("twilio", sms.user)
    await in_form(db, cid, minutes_ago=24 * 60)
    async with mounted(sms.connector(platform, redis_creds)) as harness:
        await post(sms, harness, "CANCELAR")
        assert harness.received == []
    [stopped] = said(sms.sent(platform))
    assert stopped.startswith(STOPPED_ES)
    subscriber = await SubscriberStore(db).get(cid)
    assert subscriber is not None and subscriber.status == STOPPED
    assert [c.get("keyword") for c in await SubscriberStore(db).consent_log(cid)] == ["CANCELAR"]


async def test_a_telegram_subscriber_stops_after_abandoning_a_form_yesterday(db: aioredis.Redis) -> None:
    cid = conversation("telegram", "4242")
    store = SubscriberStore(db)
    await store.subscribe(cid, ["water"], [ALL], "Please confirm: ...")
    await in_form(db, cid, minutes_ago=5)
    assert await keyword_reply(db, cid, "telegram", "parar") is None  # meant for the form
    await in_form(db, cid, minutes_ago=24 * 60)
    assert (await keyword_reply(db, cid, "telegram", "parar") or "").startswith(STOPPED_ES)


async def test_a_spanish_word_on_rest_is_answered_by_the_channel_in_spanish(
    redis_creds: dict[str, str], db: aioredis.Redis
) -> None:
    cid = conversation("rest", "partner-7")
    await SubscriberStore(db).subscribe(cid, ["water"], [ALL], "Please confirm: water alerts")
    async with served(CivicRestInput.from_credentials({**redis_creds, "token": TOKEN})) as rest:
        async with aiohttp.ClientSession() as session:
            async with session.post(
                f"{rest.base_url}/webhooks/rest/webhook",
                json={"sender": "partner-7", "message": "¡Baja!"},
                headers={"Authorization": f"Bearer {TOKEN}"},
            ) as response:
                assert response.status == 200
                [reply] = await response.json()
    assert reply["text"].startswith(STOPPED_ES) and rest.agent.received == []


# --- a third language, with text only ---------------------------------------------------------


def add_vietnamese(root: Path) -> None:
    """What an agency writes: the language offered, and its texts with their keywords."""
    agency = root / "data" / "agency.yml"
    text = agency.read_text(encoding="utf-8")
    agency.write_text(text.replace("languages_offered: [en, es]", "languages_offered: [en, es, vi]"))
    messages = root / "data" / "subscriptions" / "messages.yml"
    data = yaml.safe_load(messages.read_text(encoding="utf-8"))
    data["translations"]["vi"] = {
        "keywords": {
            "stop": ["dừng", "hủy đăng ký"],
            "stop_outside_forms": [],
            "start": ["tiếp tục"],
            "help": ["trợ giúp"],
        },
        "stopped": "Bạn đã hủy đăng ký {program} và sẽ không nhận thêm tin nhắn. Trả lời START để đăng ký.",
    }
    messages.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


@pytest.fixture
def vietnamese(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copytree(ROOT / "data", tmp_path / "data")
    shutil.copy(ROOT / "domain.yml", tmp_path / "domain.yml")
    add_vietnamese(tmp_path)
    monkeypatch.chdir(tmp_path)
    return tmp_path


async def test_a_third_language_s_keywords_work_with_no_code_change(
    vietnamese: Path, db: aioredis.Redis
) -> None:
    """Vietnamese offered, with its keywords and one reply translated: its words work for everyone,
    answered in Vietnamese (English where a reply is not translated yet); Spanish's still work."""
    assert texts_problems(vietnamese / "data" / "subscriptions" / "messages.yml") == []
    english, spanish = "twilio-" + "1" * 32, "twilio-" + "2" * 32
    store = SubscriberStore(db)
    await store.subscribe(english, ["water"], [ALL], "Please confirm: ...")
    await store.subscribe(spanish, ["water"], [ALL], "Confirme, por favor: ...", language="es")
    stopped = await keyword_reply(db, english, "twilio", "DỪNG!")
    assert stopped == (
        "Bạn đã hủy đăng ký Harbor City Alerts và sẽ không nhận thêm tin nhắn. Trả lời START để đăng ký."
    )
    assert await keyword_reply(db, spanish, "twilio", "dung") == stopped  # without its marks too
    assert [c.get("keyword") for c in await store.consent_log(english)][-1] == "DỪNG"
    started = await keyword_reply(db, english, "twilio", "tiếp tục")
    assert (started or "").startswith("Welcome back to Harbor City Alerts")
    assert (await keyword_reply(db, spanish, "twilio", "ALTO") or "").startswith(STOPPED_ES)
    subscriber = await store.get(english)
    assert subscriber is not None and subscriber.language == "en" and subscriber.status == ACTIVE


def test_a_broken_edit_keeps_the_keywords_last_read(
    vietnamese: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Every message is matched against the file's words: a staff typo must not hold the channels up."""
    monkeypatch.setattr(keywords, "_last", keywords._LastRead())
    messages = vietnamese / "data" / "subscriptions" / "messages.yml"
    broken = messages.read_text(encoding="utf-8").replace("keywords:", "keywordz:", 1)
    messages.write_text(broken, encoding="utf-8")
    with pytest.raises(TextsError, match="unknown key"):
        keyword_of("stop")  # nothing read yet: the intake retries the message
    messages.write_text(broken.replace("keywordz:", "keywords:", 1), encoding="utf-8")
    assert keyword_of("dừng") is not None
    messages.write_text(broken + "\n", encoding="utf-8")
    with caplog.at_level(logging.ERROR, logger="bot.subscriptions.keywords"):
        assert keyword_of("stop") == Keyword("STOP", "stop") and keyword_of("ayuda") is not None
        assert keyword_of("hello") is None
    assert len([r for r in caplog.records if "keywords last read" in r.getMessage()]) == 1


# --- the checks (`make validate`: content check) -------------------------------------------------


@pytest.mark.parametrize(
    ("edit", "error"),
    [
        (lambda r: r.pop("keywords"), r"messages\.yml: 'keywords' is missing"),
        (lambda r: r["translations"]["es"].pop("keywords"), r"'translations\.es\.keywords' is missing"),
        (
            lambda r: r["translations"]["es"]["keywords"].pop("help"),
            r"'translations\.es\.keywords\.help' must be",
        ),
        (
            lambda r: r["translations"]["es"]["keywords"].update(start=[]),
            r"'translations\.es\.keywords\.start' must",
        ),
        (lambda r: r["keywords"].update(stopp=["x"]), r"unknown key\(s\) stopp in 'keywords'"),
        (
            lambda r: r["translations"]["es"]["keywords"]["stop"].append("ayuda"),
            r"'ayuda' is in 'translations\.es\.keywords\.help' and in 'translations\.es\.keywords\.stop'",
        ),
        (
            lambda r: r["translations"]["es"]["keywords"]["start"].append("Stop"),
            r"'Stop' is in 'translations\.es\.keywords\.start' and in 'keywords\.stop'",
        ),
        (
            lambda r: r["translations"]["es"]["keywords"]["stop_outside_forms"].append("cancel"),
            r"'cancel' is in 'translations\.es\.keywords\.stop_outside_forms' and in 'keywords\.stop'",
        ),
        (
            lambda r: r["translations"]["es"]["keywords"]["stop"].append("no me mande más mensajes"),
            r"'translations\.es\.keywords\.stop' has 'no me mande más mensajes': a keyword is the whole",
        ),
        (lambda r: r["keywords"]["stop"].append("stop!"), r"'keywords\.stop' has 'stop!'"),
        (lambda r: r["translations"]["es"]["keywords"]["stop"].append(False), r"has False: .* in quotes"),
    ],
)
def test_the_keyword_lists_are_checked(edit: Any, error: str) -> None:
    bad = raw()
    edit(bad)
    with pytest.raises(TextsError, match=error):
        parse_texts(bad, Path("messages.yml"))


def test_a_word_two_languages_share_is_answered_in_the_subscriber_s_language() -> None:
    shared = raw()
    shared["translations"]["es"]["keywords"]["stop"].append("STOP")  # same meaning: fine
    shared["translations"]["fr"] = {"keywords": {"stop": ["arrêt"], "start": ["reprendre"], "help": ["aide"]}}
    table = parse_texts(shared, Path("messages.yml")).keywords  # fr, not offered, need not be complete
    assert table.of("stop") == Keyword("STOP", "stop") and table.of("ARRET") == Keyword(
        "ARRET", "stop", language="fr"
    )
    drafting = raw()
    drafting["translations"]["vi"] = {"stopped": "Bạn đã hủy đăng ký {program}."}  # vi is not offered
    assert parse_texts(drafting, Path("messages.yml")).keywords.of("dừng") is None


def test_content_check_reports_an_offered_language_without_its_keywords(tmp_path: Path) -> None:
    bad = raw()
    bad["translations"]["es"].pop("keywords")
    path = tmp_path / "messages.yml"
    path.write_text(yaml.safe_dump(bad, allow_unicode=True, sort_keys=False), encoding="utf-8")
    [problem] = texts_problems(path)
    assert problem.startswith(f"{path}: 'translations.es.keywords' is missing")
    [missing] = [p for p in texts_findings(path, load_agency(), True) if "keywords.stop" in p.message]
    assert missing.error and "keywords.help" in missing.message
    assert texts_problems(tmp_path / "none.yml") == [
        f"{tmp_path / 'none.yml'}: cannot read it (No such file or directory)"
    ]


@pytest.mark.parametrize("text", ["REVOKE", "Opt out", "optout."])
async def test_the_fcc_s_revocation_words_stop_by_sms(db: aioredis.Redis, text: str) -> None:
    cid = conversation("twilio", f"+1555010{len(text):04d}")
    reply = await keyword_reply(db, cid, "twilio", text)
    assert reply is not None and "won't get any more messages" in reply
    assert (await SubscriberStore(db).get(cid)) is not None  # recorded, so no broadcast reaches it
