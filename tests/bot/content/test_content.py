"""The content files are the single source of what the assistant says."""

from __future__ import annotations

import json
import os
import statistics
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from stack_support import SHARED, require_shared

from bot.content.agency import load_agency
from bot.content.generate import NLU_OUT, RESPONSES_OUT, generated_files, render_answer
from bot.content.model import (
    ContentError,
    all_entries,
    by_response_key,
    load_content,
    load_render_settings,
    load_topic,
)
from bot.nlp.evaluate import read_examples

ROOT = Path(__file__).resolve().parents[3]
AGENCY_FILE = SHARED / "agency" / "harbor-city-faq.yml"


@pytest.fixture(scope="module")
def entries():
    return {e.id: e for e in all_entries(load_content())}


def test_generated_files_are_up_to_date_and_marked():
    for item in generated_files(load_content(), load_render_settings()):
        assert item.path.read_text(encoding="utf-8") == item.text, f"{item.path}: run `make content`"
        assert item.text.startswith("# GENERATED"), item.path


def test_generation_is_byte_stable():
    first = generated_files(load_content(), load_render_settings())
    second = generated_files(load_content(), load_render_settings())
    assert [f.text for f in first] == [f.text for f in second]


def test_every_intent_has_at_least_15_distinct_examples(entries):
    for entry in entries.values():
        assert len({q.lower() for q in entry.questions}) >= 15, entry.id
    core: dict[str, set[str]] = {}
    for text, intent in read_examples([ROOT / "data" / "nlu" / "core.yml"]):
        core.setdefault(intent, set()).add(text.lower())
    assert core and all(len(texts) >= 15 for texts in core.values()), {i: len(t) for i, t in core.items()}


def test_held_out_examples_are_never_trained_on(entries):
    def norm(text: str) -> str:
        return " ".join("".join(c for c in text.lower() if c.isalnum() or c.isspace()).split())

    trained = {norm(q) for e in entries.values() for q in e.questions}
    trained |= {norm(t) for t, _ in read_examples([ROOT / "data" / "nlu" / "core.yml"])}
    held_out = read_examples(sorted((ROOT / "tests" / "nlu").glob("*.yml")))
    assert held_out and not [t for t, _ in held_out if norm(t) in trained]


def test_every_published_faq_and_rumor_is_in_our_content_word_for_word(entries):
    published_file = require_shared(AGENCY_FILE, "the agency's published FAQ file, beside the checkout")
    published = yaml.safe_load(published_file.read_text(encoding="utf-8"))
    agency = load_agency()
    for faq in published["faqs"]:
        ours = entries[faq["id"]]
        said = agency.expand(ours.answer)  # as citizens read it, the agency's facts filled in
        assert said == faq["answer"].strip() and ours.source == faq["source"], faq["id"]
        assert ours.sensitive == bool(faq.get("sensitive")), faq["id"]
    for rumor in published["rumors"]:
        ours = entries[rumor["id"]]
        assert ours.kind == "rumor" and ours.answer == rumor["facts"].strip(), rumor["id"]
        assert ours.verdict == ("true" if rumor["verdict"] else "false") and ours.source == rumor["source"]


def test_replies_carry_the_facts_and_the_source_link(entries):
    settings = load_render_settings()
    for entry in entries.values():
        reply = render_answer(entry, settings)
        assert entry.answer in reply and entry.source in reply, entry.id
        if entry.kind == "referral":
            assert reply.startswith(f"That's handled by {entry.agency}, not the city: "), entry.id


def test_a_rumor_reply_names_the_claim_and_its_verdict_whatever_the_question(entries):
    """ "is recycling still free?" must not get "No, that's false.": the verdict is the claim's."""
    settings = load_render_settings()
    assert render_answer(entries["sunday_meters"], settings).startswith(
        'Rumor: "Parking meters are free on Sundays." That\'s true. Parking at meters is free'
    )
    assert render_answer(entries["recycling_fee"], settings).startswith(
        'Rumor: "The city will start charging a fee for recycling collection." That\'s false. '
        "Recycling collection stays included"
    )
    rumors = [entry for entry in entries.values() if entry.kind == "rumor"]
    assert len(rumors) >= 6
    for rumor in rumors:
        reply = render_answer(rumor, settings)
        assert f'"{rumor.claim}" {settings.verdicts[rumor.verdict]} {rumor.answer}' in reply, rumor.id
        assert not reply.lower().startswith(("yes", "no")), rumor.id
        # A claim is one declarative sentence that reads well in quotes.
        assert rumor.claim[0].isupper() and rumor.claim.endswith(".") and '"' not in rumor.claim, rumor.id
        assert "?" not in rumor.claim and rumor.claim.count(". ") == 0, rumor.id


# Referral ids are fixed: held-out test questions are written for them by id.
REFERRAL_HOSTS = {
    "passport": "travel.state.gov",
    "social_security_card": "www.ssa.gov",
    "social_security_benefits": "www.ssa.gov",
    "medicare": "www.medicare.gov",
    "medicaid": "www.medicaid.gov",
    "federal_taxes": "www.irs.gov",
    "tax_refund": "www.irs.gov",
    "immigration_visa": "www.uscis.gov",
    "citizenship": "www.uscis.gov",
    "green_card": "www.uscis.gov",
    "drivers_license": "www.usa.gov",
    "vehicle_registration": "www.usa.gov",
    "unemployment_benefits": "www.careeronestop.org",
    "property_tax": "www.usa.gov",
    "county_courts": "www.usa.gov",
    "jury_duty": "www.uscourts.gov",
    "veterans_benefits": "www.va.gov",
    "student_aid": "studentaid.gov",
    "federal_jobs": "www.usajobs.gov",
    "postal_service": "www.usps.com",
    "small_business_loans": "www.sba.gov",
    "disaster_assistance": "www.disasterassistance.gov",
    "consumer_fraud": "reportfraud.ftc.gov",
    "identity_theft": "www.identitytheft.gov",
    "birth_certificate": "www.cdc.gov",
    "national_parks": "www.nps.gov",
}


def test_the_referrals_are_the_agreed_ids_each_with_another_government_s_page(entries):
    referrals = {e.id: e for e in entries.values() if e.kind == "referral"}
    assert sorted(referrals) == sorted(REFERRAL_HOSTS)
    city = [len({q.lower() for q in e.questions}) for e in entries.values() if e.kind == "faq"]
    for entry in referrals.values():
        # enough ways to ask for the classifier; not so many that referrals outweigh the city's own
        # FAQs (at most as many questions as the city's median FAQ has)
        assert 15 <= len({q.lower() for q in entry.questions}) <= statistics.median(city), entry.id
        assert entry.intent == f"faq/{entry.id}" and entry.agency and entry.department == "311", entry.id
        assert "\n" not in entry.answer and entry.last_reviewed, entry.id
        parts = urlsplit(entry.source)
        assert parts.scheme == "https" and parts.hostname == REFERRAL_HOSTS[entry.id], entry.id
    assert referrals["tax_refund"].source == "https://www.irs.gov/refunds"
    assert referrals["drivers_license"].source == referrals["vehicle_registration"].source


def test_referrals_are_answers_of_the_faq_intent_and_not_topic_menus():
    files = {f.path: f.text for f in generated_files(load_content(), load_render_settings())}
    assert "- intent: faq/passport\n" in files[NLU_OUT]
    reply = "That's handled by the U.S. Department of State, not the city: Apply for or renew a U.S. passport"
    assert f'  utter_faq/passport:\n  - text: "{reply}' in files[RESPONSES_OUT]
    assert '{\\"topic\\":\\"rumors\\"}' in files[RESPONSES_OUT]
    assert '{\\"topic\\":\\"referrals\\"}' not in files[RESPONSES_OUT], "no menu button for referrals"
    assert "value: referrals" not in files[RESPONSES_OUT]
    assert "value: rumors" in files[RESPONSES_OUT]


def test_every_rumor_names_the_faq_that_answers_its_topic_without_a_verdict(entries):
    rumors = [e for e in entries.values() if e.kind == "rumor"]
    for rumor in rumors:
        related = entries[rumor.related]
        assert related.kind == "faq" and not related.sensitive, rumor.id
        assert related.source == rumor.source, f"{rumor.id}: the related FAQ is about the same page"
    assert entries["tap_water_unsafe"].related == "water_quality"
    assert entries["sunday_meters"].related == "parking_meters"
    assert entries["data_sold"].related == "privacy"


def test_answers_a_live_alert_contradicts_name_the_feed_s_events(entries):
    assert entries["tap_water_unsafe"].overridden_by == ("Boil Water Notice",)
    assert entries["water_quality"].overridden_by == ("Boil Water Notice",)
    assert entries["sandbags"].overridden_by == ("Flood Watch", "Flood Warning")
    assert entries["cooling_centers"].overridden_by[0] == "Heat Advisory"
    events = set(load_agency().alert_events)
    demo_feed = ROOT / "bot" / "demo_agency" / "data" / "alerts.json"
    assert {alert["event"] for alert in json.loads(demo_feed.read_text(encoding="utf-8"))["alerts"]} <= events
    assert all(set(e.overridden_by) <= events for e in entries.values())


def test_an_action_finds_an_answer_s_entry_by_its_response_key(entries):
    keyed = by_response_key(entries.values())
    assert keyed["faq/tap_water_unsafe"].overridden_by == ("Boil Water Notice",)
    assert keyed["faq/passport"].kind == "referral"
    assert keyed["sensitive_mental_health_crisis"].sensitive
    assert len(keyed) == len(entries)


def test_a_broken_entry_is_reported_with_file_and_line(tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text("entries:\n- id: ok_entry\n  answer: fine\n- id: Bad Id\n  answer: x\n", encoding="utf-8")
    with pytest.raises(ContentError) as caught:
        load_topic(bad)
    assert caught.value.line == 4 and "Bad Id" in str(caught.value)


def test_a_file_is_parsed_again_whenever_its_bytes_change(tmp_path):
    """Pages read the content often, so an unchanged file is not parsed twice; a changed one always
    is, even rewritten at once with the same size (file times are too coarse to tell)."""
    path = tmp_path / "topic.yml"
    path.write_text("entries:\n- id: hours\n  answer: Open at 8.\n", encoding="utf-8")
    first = load_topic(path)
    assert load_topic(path) is first
    stat = path.stat()
    path.write_text("entries:\n- id: hours\n  answer: Open at 9.\n", encoding="utf-8")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert load_topic(path).entries[0].answer == "Open at 9."
    path.write_text("entries:\n- id: Bad Id\n  answer: x\n", encoding="utf-8")
    with pytest.raises(ContentError):
        load_topic(path)


def test_a_rumor_without_verdict_is_refused(tmp_path):
    bad = tmp_path / "rumors.yml"
    bad.write_text("entries:\n- id: r1\n  kind: rumor\n  answer: x\n", encoding="utf-8")
    with pytest.raises(ContentError, match="verdict"):
        load_topic(bad)


CLINC = SHARED / "datasets" / "clinc150"


def _clinc_sentences(value: object) -> set[str]:
    if isinstance(value, str):
        return {value.strip().lower()}
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else []
    return {s for item in items for s in _clinc_sentences(item)}


def test_no_clinc150_sentence_is_copied_into_the_project() -> None:
    """CLINC150 measures out-of-scope handling only if none of its queries were trained on."""
    require_shared(CLINC, "CLINC150 sits beside the project")
    clinc = {s for f in CLINC.glob("*.json") for s in _clinc_sentences(json.loads(f.read_text()))}
    clinc = {s for s in clinc if len(s.split()) >= 4}  # "thanks", "hi there" are everyone's words
    files = [p for folder in ("data", "tests") for p in (ROOT / folder).rglob("*")]
    texts = {p: p.read_text(encoding="utf-8").lower() for p in files if p.suffix in (".yml", ".py")}
    copied = [(str(path), s) for path, text in texts.items() for s in clinc if s in text]
    assert len(clinc) > 1000 and copied == []
