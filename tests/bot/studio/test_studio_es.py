"""The content studio in another language than English (issue #19), on a copy of the project's content
and a real Redis: an entry's Spanish text is saved as a draft (checked by `content check`'s rules per
translation, each problem on its field), previewed as the Spanish web chat and SMS, and stamped with
the English it follows; an edit of the English keeps it and makes it stale; published, it is in the
topic file and the history, and live in Redis, where the NLG says it to Spanish conversations within
a second while English ones get the English."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from polling_support import wait_until_async
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SlotSet
from rasa.shared.core.trackers import DialogueStateTracker
from redis.asyncio import Redis

from bot.content.generate import entry_variations
from bot.content.model import Entry, all_entries, english_digest, load_content, load_render_settings
from bot.language.conversation import variation_language
from bot.nlg import AgencyNaturalLanguageGenerator
from bot.studio.languages import translation_state
from bot.studio.live import CHECK_SECONDS, LiveContent
from bot.studio.service import Studio, StudioProblems, retrain_reason

ROOT = Path(__file__).resolve().parents[3]
SHIPPED_FILES = [ROOT / "domain.yml", *sorted((ROOT / "data" / "responses").glob("*.yml"))]
LIVE_WITHIN = CHECK_SECONDS + 1.0
METERS = "parking_meters"  # an FAQ translated into Spanish, without a short answer in either language
SPANISH = {
    "answer": (
        "Estacionarse en los parquímetros es gratis los domingos y los días feriados de la ciudad. "
        "Los demás días, pague el parquímetro. Preguntas: llame al 311, {agency.hours_311}."
    ),
    "short_answer": "Parquímetros: gratis los domingos y feriados; pague los demás días.",
}
ENGLISH = "Parking at meters is free on Sundays and city holidays. Pay the meter on other days."


def entry_of(studio: Studio, entry_id: str) -> Entry:
    return next(e for e in all_entries(load_content(studio.content_dir)) if e.id == entry_id)


def spanish_variations(entry: Entry, content: Path) -> list[str]:
    variations = entry_variations(entry, load_render_settings(content))
    return [str(v["text"]) for v in variations if variation_language(v) == "es"]


async def said(nlg: AgencyNaturalLanguageGenerator, domain: Domain, language: str, channel: str) -> str:
    events = [SlotSet("language", language)]
    tracker = DialogueStateTracker.from_events(f"c-{language}", events, slots=domain.slots)
    answer = await nlg.generate(f"utter_faq/{METERS}", tracker, channel)
    assert answer is not None
    return str(answer["text"])


async def test_a_spanish_edit_is_checked_on_its_fields_and_nothing_is_saved(studio: Studio) -> None:
    shipped = entry_of(studio, METERS)
    mine = shipped.translation("es")
    theirs = entry_of(studio, "parking_ticket_pay").translation("es")
    assert mine is not None and theirs is not None
    questions = [*mine.questions, theirs.questions[0]]
    change = {"answer": "Llame al 555-999-1234 si tiene preguntas.", "questions": questions}
    with pytest.raises(StudioProblems) as refused:
        await studio.save(METERS, {"translations": {"es": change}}, "erin")
    problems = {p.field: p.message for p in refused.value.problems}
    assert set(problems) == {"translations.es.answer", f"translations.es.questions.{len(mine.questions)}"}
    assert "555-999-1234" in problems["translations.es.answer"]
    assert "under parking_ticket_pay" in problems[f"translations.es.questions.{len(mine.questions)}"]
    view = await studio.view(METERS)
    assert (view["state"], view["draft"], view["translations"]) == ("published", None, {"es": "up to date"})
    assert view["languages"] == ["en", "es"]


async def test_a_spanish_edit_is_previewed_stamped_kept_by_english_edits_and_published_live(
    studio: Studio, redis: Redis
) -> None:
    shipped = entry_of(studio, METERS)
    spanish_preview = await studio.preview({"translations": {"es": SPANISH}}, METERS, "es")
    assert spanish_preview["language"] == "es" and spanish_preview["state"] == "up to date"
    assert spanish_preview["webchat"].startswith("Estacionarse en los parquímetros es gratis")
    assert "de lunes a sábado, de 7 a. m. a 7 p. m." in spanish_preview["webchat"], "facts in Spanish"
    assert spanish_preview["webchat"].endswith("Más información: https://www.harborcity.example/parking")
    assert spanish_preview["sms"].startswith(SPANISH["short_answer"]) and spanish_preview["sms_segments"] == 2
    assert not [p for p in spanish_preview["problems"] if p["error"]]
    english_preview = await studio.preview({"translations": {"es": SPANISH}}, METERS)
    assert (
        english_preview["webchat"].startswith("Parking at meters is free")
        and english_preview["language"] == "en"
    )

    # Saved: the Spanish follows the English as it is, its questions kept.
    view = await studio.save(METERS, {"translations": {"es": SPANISH}}, "erin")
    drafted = view["draft"]["fields"]["translations"]["es"]
    assert drafted["answer"] == SPANISH["answer"] and drafted["questions"] == list(
        shipped.translation("es").questions
    )
    assert drafted["translated_from"] == english_digest(shipped) and view["translations"] == {
        "es": "up to date"
    }

    # The English edited: the Spanish is kept as it was, and stale; saved again, up to date.
    view = await studio.save(METERS, {"answer": ENGLISH}, "erin")
    assert view["draft"]["fields"]["translations"]["es"] == drafted and view["translations"] == {
        "es": "stale"
    }
    assert (await studio.preview({}, METERS, "es"))["state"] == "stale"
    view = await studio.save(METERS, {"translations": {"es": {"answer": SPANISH["answer"]}}}, "erin")
    assert view["translations"] == {"es": "up to date"}

    done = await studio.publish(METERS, "erin", "Spanish SMS answer")
    assert done["job"] is None, "the wording only: no retrain"
    published = entry_of(studio, METERS)
    found = published.translation("es")
    assert published.answer == ENGLISH and found is not None
    assert (found.answer, found.short_answer) == (SPANISH["answer"], SPANISH["short_answer"])
    assert translation_state(published, "es") == "up to date"
    latest = (await studio.history(METERS))[-1]
    assert latest["entry"]["translations"]["es"]["short_answer"] == SPANISH["short_answer"]
    assert set(latest["changes"]) == {"answer", "translations"}

    # Live: the Spanish variations are published with the English ones, as the files render them.
    live = (await LiveContent(redis).all())[f"utter_faq/{METERS}"]
    assert live.version == done["version"] and done["live"]
    assert [v["text"] for v in live.variations if variation_language(v) == "es"] == spanish_variations(
        published, studio.content_dir
    )
    domain = Domain.load([str(path) for path in SHIPPED_FILES])
    nlg = AgencyNaturalLanguageGenerator(domain=domain, redis=redis, content_dir=studio.content_dir)

    async def spanish_now() -> str:
        text = await said(nlg, domain, "es", "socketio")
        return text if "pague el parquímetro" in text else ""

    web = await wait_until_async(spanish_now, LIVE_WITHIN, "the Spanish never went live")
    assert "de lunes a sábado, de 7 a. m. a 7 p. m." in web
    assert (await said(nlg, domain, "es", "twilio")).startswith(SPANISH["short_answer"])
    assert (await said(nlg, domain, "en", "socketio")).startswith(ENGLISH)


def test_new_questions_in_any_language_need_a_retrain() -> None:
    entries = {e.id: e for e in all_entries(load_content(ROOT / "data" / "content"))}
    meters = entries[METERS]
    spanish = meters.translation("es")
    assert spanish is not None
    asked = replace(spanish, questions=(*spanish.questions, "el parquimetro cobra en navidad?"))
    reworded = replace(spanish, answer="Otra redacción.")
    assert (
        retrain_reason(meters, replace(meters, translations=(asked,))) == f"es questions of {METERS} changed"
    )
    assert retrain_reason(meters, replace(meters, translations=())) == f"es questions of {METERS} changed"
    assert retrain_reason(meters, replace(meters, translations=(reworded,))) == ""
