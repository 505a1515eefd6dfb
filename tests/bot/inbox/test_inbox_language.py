"""The review inbox per language (issue #19): each recorded message keeps the language the NLU reported,
groups never mix languages, the pages and the API filter by language, and a decision on a Spanish group
writes Spanish text: an example question joins the entry's Spanish translation (never its English
questions), an out-of-scope one the Spanish block, a draft carries its Spanish text. Emerging questions
say their language and are filtered by it (a group made before languages counts as English). Real Redis
(through `in_own_loop` and the console the package's fixtures serve) and copies of the project's data."""

from __future__ import annotations

import http.cookiejar
import json
import time
import urllib.parse
import urllib.request
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml
from inbox_support import PASSWORDS, Console, action, in_own_loop, publish, user
from redis.asyncio import Redis
from test_recorder import drain, recorder_for

from bot.content.check import content_problems
from bot.content.model import Entry, all_entries, english_digest, load_content, load_topic
from bot.content.writer import write_topic
from bot.inbox.clusters import language_key
from bot.inbox.config import InboxConfig
from bot.inbox.emerging import MIN_THIS_WEEK, emerging_questions
from bot.inbox.selection import Message
from bot.inbox.store import LANGUAGES_MIGRATED, InboxStore
from bot.inbox.writeback import ContentEditor, Draft, WriteBackError, out_of_scope_text

DAY = 86400
HOURS = "city_hall_hours"
CLOSING = "a que hora cierra la alcaldia el viernes en la tarde"  # a new way to ask it, in Spanish


def said_in(language: str, sender: str, text: str, intent: str = "nlu_fallback") -> list[dict[str, Any]]:
    """An unsure message whose parse reports `language` (as bot/nlp/language_detector.py does), and
    the clarification that followed."""
    message = user(sender, text, intent, 0.31)
    message["parse_data"]["language"] = language
    return [message, action(sender, "action_prepare_clarification")]


def entry_of(content: Path, entry_id: str) -> Entry:
    return next(e for e in all_entries(load_content(content)) if e.id == entry_id)


# --- recording and grouping ---------------------------------------------------------------------


def test_messages_keep_their_language_and_groups_never_mix_languages(redis_server: int) -> None:
    in_own_loop(redis_server, _grouped_by_language)


async def _grouped_by_language(redis: Redis) -> None:
    legacy = user("c0", "is there free wifi at the library", "nlu_fallback", 0.3)  # no language reported
    await publish(
        redis,
        *said_in("es", "c1", "wifi gratis en la biblioteca"),
        *said_in("es", "c2", "hay wifi gratis en la biblioteca?"),
        *said_in("en", "c3", "wifi gratis en la biblioteca"),  # the same words, read as English
        legacy,
    )
    recorder = recorder_for(redis)
    await drain(redis, recorder)
    languages = {(i.message.text, i.message.language) for i in await recorder.store.items()}
    assert languages == {
        ("wifi gratis en la biblioteca", "es"),
        ("hay wifi gratis en la biblioteca?", "es"),
        ("wifi gratis en la biblioteca", "en"),
        ("is there free wifi at the library", "en"),
    }
    store = recorder.store
    every, total = await store.page(0, 10)
    assert total == 3 and [(c.count, c.language) for c in every] == [(2, "es"), (1, "en"), (1, "en")]
    assert all(item.message.language == c.language for c in every for item in c.items), "never mixed"
    spanish, total = await store.page(0, 10, "es")
    assert total == 1 and {i.message.text for i in spanish[0].items} == {
        "wifi gratis en la biblioteca",
        "hay wifi gratis en la biblioteca?",
    }
    english, _ = await store.page(0, 10, "en")
    assert {c.text for c in english} == {"wifi gratis en la biblioteca", "is there free wifi at the library"}
    assert await store.language_counts(["en", "es", "fr"]) == {"en": 2, "es": 1, "fr": 0}

    await store.resolve_cluster(spanish[0].id)  # handled: it leaves its language's list too
    assert await store.page(0, 10, "es") == ([], 0)
    assert await store.language_counts(["en", "es"]) == {"en": 2, "es": 0}


def test_groups_made_before_languages_are_filed_as_english_once(redis_server: int) -> None:
    in_own_loop(redis_server, _filed_as_english)


async def _filed_as_english(redis: Redis) -> None:
    store = InboxStore(redis, 30 * DAY)
    now = time.time()
    await store.add(
        Message("m1", "c1", "socketio", "nlu_fallback", 0.3, "where do i vote", now), ["fallback"]
    )
    (cluster,), _ = await store.page(0, 10)
    # as a console before issue #19 left it: no language on the group, and no list of a language's groups
    await redis.hdel(f"inbox:cluster:{cluster.id}", "language")
    await redis.delete(language_key("en"), LANGUAGES_MIGRATED)
    assert await store.page(0, 10, "en") == ([], 0)
    assert await store.migrate_languages() == 1
    assert await store.migrate_languages() == 0
    (filed,), total = await store.page(0, 10, "en")
    assert (total, filed.id, filed.language) == (1, cluster.id, "en")


async def missed(store: InboxStore, texts: list[str], when: float, language: str) -> None:
    """Questions in `language` the assistant missed, recorded one second apart from `when`."""
    for n, text in enumerate(texts):
        message = Message(f"{language}-{when}-{n}", f"c{n}", "socketio", "nlu_fallback", 0.3, text, when + n)
        await store.add(replace(message, language=language), ["fallback"], now=when + n)


def test_emerging_questions_say_their_language_and_are_filtered_by_it(redis_server: int) -> None:
    in_own_loop(redis_server, _emerging_by_language)


async def _emerging_by_language(redis: Redis) -> None:
    now = time.time()
    store = InboxStore(redis, 60 * DAY)
    week = now - 2 * DAY
    spanish = ["¿el agua de la llave es segura para tomar?", "el agua de la llave es segura"]
    await missed(store, spanish * MIN_THIS_WEEK, week, "es")
    await missed(store, ["is the tap water safe to drink"] * (MIN_THIS_WEEK + 1), week + 3600, "en")
    await missed(store, ["when is leaf collection"] * MIN_THIS_WEEK, week + 7200, "en")
    leaves = next(c for c in (await store.page(0, 10))[0] if c.text == "when is leaf collection")
    await redis.hdel(f"inbox:cluster:{leaves.id}", "language")  # as a console before issue #19 left it

    every = await emerging_questions(redis, now)
    assert [(e["language"], e["this_week"], set(e["examples"])) for e in every] == [
        ("es", 2 * MIN_THIS_WEEK, set(spanish)),
        ("en", MIN_THIS_WEEK + 1, {"is the tap water safe to drink"}),
        ("en", MIN_THIS_WEEK, {"when is leaf collection"}),
    ]
    (water,) = await emerging_questions(redis, now, "es")
    assert water == every[0] and water["draft_faq_url"] == f"/inbox/groups/{water['cluster']}/draft"
    assert await emerging_questions(redis, now, "en") == every[1:], "English as before, old groups too"
    assert await emerging_questions(redis, now, "vi") == []

    await store.resolve_cluster(water["cluster"])  # handled: it no longer takes a place
    assert await emerging_questions(redis, now, "es") == []
    assert [e["language"] for e in await emerging_questions(redis, now)] == ["en", "en"]


# --- write-back ---------------------------------------------------------------------------------


def test_a_spanish_question_joins_the_spanish_translation_never_the_english_questions(project: Path) -> None:
    content = project / "data/content"
    editor = ContentEditor(InboxConfig(content_dir=content))
    before = entry_of(content, HOURS)
    spanish = before.translation("es")
    assert spanish is not None

    editor.add_example(HOURS, f"  {CLOSING} ", "es")
    after = entry_of(content, HOURS)
    grown = after.translation("es")
    assert after.questions == before.questions, "the English questions are left alone"
    assert grown is not None and grown.questions == (*spanish.questions, CLOSING)
    assert grown.translated_from == english_digest(after), "a new question leaves it up to date"
    generated = (project / "data/nlu/content.generated.yml").read_text(encoding="utf-8")
    block = generated[generated.index(f"- intent: faq/{HOURS}\n  metadata:\n    language: es\n") :]
    assert f"    - {CLOSING}\n" in block.split("\n- intent:")[0] + "\n"

    taken = entry_of(content, "parking_meters").translation("es")
    assert taken is not None
    with pytest.raises(WriteBackError, match="already an example question of 'parking_meters'"):
        editor.add_example(HOURS, taken.questions[1].upper(), "es")
    with pytest.raises(WriteBackError, match="already an example question of 'city_hall_hours'"):
        editor.add_example("parking_meters", "What time does City Hall open", "es")  # its English one

    path = InboxConfig(content_dir=content).out_of_scope_file  # as an English decision left it
    path.write_text(out_of_scope_text(["what's the best pizza place downtown"]), encoding="utf-8")
    assert editor.mark_out_of_scope("cual es la mejor taqueria del centro", "es") == path
    with pytest.raises(WriteBackError, match="already marked"):
        editor.mark_out_of_scope("¿Cuál es la mejor taquería del centro?", "es")
    assert yaml.safe_load(path.read_text(encoding="utf-8"))["nlu"] == [
        {"intent": "out_of_scope", "examples": "- what's the best pizza place downtown\n"},
        {
            "intent": "out_of_scope",
            "metadata": {"language": "es"},
            "examples": "- cual es la mejor taqueria del centro\n",
        },
    ]


def test_a_draft_from_a_spanish_question_is_published_with_its_spanish_text(project: Path) -> None:
    content = project / "data/content"
    editor = ContentEditor(InboxConfig(content_dir=content))
    question = "puedo rentar una banca del parque para mi boda"
    draft = Draft(
        id="bench_rental",
        topic="parks_library",
        questions=(),
        language="es",
        translated_questions=(question,),
    )
    editor.save_draft(draft)  # the Spanish question alone is enough for a draft
    (saved,) = editor.drafts()
    assert (saved.language, saved.translated_questions, saved.questions) == ("es", (question,), ())
    with pytest.raises(WriteBackError, match="fill in questions, answer, source, department, the es answer"):
        editor.publish_draft("bench_rental")
    editor.save_draft(
        Draft(
            id="bench_rental",
            topic="parks_library",
            questions=("can i rent a park bench for my wedding",),
            answer="You can rent a park bench for events: call {agency.phone_311}.",
            source="https://www.harborcity.example/parks",
            department="Parks and Recreation",
            language="es",
            translated_questions=(question,),
            translated_answer="Puede rentar una banca del parque para eventos: llame al {agency.phone_311}.",
        )
    )
    entry = editor.publish_draft("bench_rental")
    published = entry_of(content, "bench_rental")
    own = published.translation("es")
    assert published.translations == entry.translations
    assert published.questions == ("can i rent a park bench for my wedding",)
    assert own is not None and own.questions == (question,) and own.answer.startswith("Puede rentar")
    assert own.translated_from == english_digest(published), "written with its English"

    parks = load_topic(content / "parks_library.yml")  # an entry not translated yet
    english_only = tuple(replace(e, translations=()) if e.id == "pools" else e for e in parks.entries)
    write_topic(replace(parks, entries=english_only))
    with pytest.raises(WriteBackError, match="'pools' has no es text yet"):
        editor.add_example("pools", "a que hora abre la piscina municipal", "es")
    assert entry_of(content, "pools").translations == ()

    errors = [p for p in content_problems(content, agency_file=project / "data/agency.yml") if p.error]
    assert errors == [], "content check's rules pass after every Spanish decision"


# --- the console ----------------------------------------------------------------------------------


class Session:
    """An editor signed in over HTTP (no browser): the session cookie and its CSRF token."""

    def __init__(self, console: Console, name: str = "ella") -> None:
        self.url = console.url
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )
        body = json.dumps({"name": name, "password": PASSWORDS[name]}).encode()
        request = urllib.request.Request(
            f"{self.url}/api/login", data=body, headers={"Content-Type": "application/json"}, method="POST"
        )
        with self.opener.open(request, timeout=30) as response:
            self.csrf = json.loads(response.read())["csrf_token"]

    def get(self, path: str) -> str:
        with self.opener.open(f"{self.url}{path}", timeout=30) as response:
            return str(response.read().decode("utf-8"))

    def post(self, path: str, form: dict[str, str]) -> tuple[str, str]:
        """Posts a form; (the page it lands on after the redirect, that page's path and query)."""
        data = urllib.parse.urlencode({"csrf_token": self.csrf, **form}).encode()
        with self.opener.open(urllib.request.Request(f"{self.url}{path}", data=data), timeout=30) as response:
            landed = urllib.parse.urlsplit(response.geturl())
            return response.read().decode("utf-8"), f"{landed.path}?{landed.query}"


def test_the_inbox_shows_and_filters_by_language_and_a_spanish_group_writes_spanish(inbox: Console) -> None:
    inbox.publish(
        *said_in("es", "l1", CLOSING),
        *said_in("es", "l2", "a que hora cierra la alcaldia los viernes en la tarde?"),
        *said_in("en", "l3", "what time does city hall close on friday afternoon"),
    )
    groups = inbox.wait_for_groups(2, lambda gs: sum(g["count"] for g in gs) == 3)
    assert sorted((g["language"], g["count"]) for g in groups) == [("en", 1), ("es", 2)]
    status, spanish = inbox.api("GET", "/api/inbox/groups?language=es")
    assert status == 200 and [(g["language"], g["count"]) for g in spanish["groups"]] == [("es", 2)]
    assert {m["language"] for m in spanish["groups"][0]["messages"]} == {"es"}
    assert inbox.api("GET", "/api/inbox/groups?language=xx")[0] == 400

    editor = Session(inbox)
    page = editor.get("/inbox?language=es")
    assert 'aria-label="Language of the messages"' in page and '<span lang="es">Español</span> (1)' in page
    assert f'lang="es">{CLOSING}' in page or "a que hora cierra la alcaldia" in page
    assert "what time does city hall close" not in page, "the English group is filtered out"
    assert 'list="faq-options-es"' in page and "¿Cuál es el horario de la Alcaldía? (City Hall, 311" in page

    group = spanish["groups"][0]
    draft_page = editor.get(f"/inbox/groups/{group['id']}/draft")
    assert f'name="translated_questions" lang="es">{group["text"]}</textarea>' in draft_page
    english = '<textarea id="draft-questions" name="questions"></textarea>'
    assert f"Example questions in English (one per line)</label>\n{english}" in draft_page, "starts empty"
    ContentEditor(InboxConfig(content_dir=inbox.content_dir)).save_draft(
        Draft(
            id="late_hours", topic="city_hall", questions=(), language="es", translated_questions=(CLOSING,)
        )
    )
    drafts_page = editor.get("/inbox/drafts")
    assert 'id="d-late_hours-translated-questions" name="translated_questions" lang="es">' in drafts_page

    before = entry_of(inbox.content_dir, HOURS)
    landed, where = editor.post(
        f"/inbox/groups/{group['id']}/example", {"text": CLOSING, "faq": HOURS, "filter": "es"}
    )
    assert "done=example" in where and "in=es" in where and "language=es" in where
    assert f"Added as an example question of {HOURS}, in Español." in landed
    after = entry_of(inbox.content_dir, HOURS)
    assert after.questions == before.questions
    assert after.translation("es").questions[-1] == CLOSING  # type: ignore[union-attr]
    assert [g["language"] for g in inbox.api("GET", "/api/inbox/groups")[1]["groups"]] == ["en"]
