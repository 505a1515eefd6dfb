"""The content files are the single source of what the assistant says."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from stack_support import SHARED, require_shared

from bot.content.agency import load_agency
from bot.content.generate import generated_files, render_answer
from bot.content.model import ContentError, all_entries, load_content, load_render_settings, load_topic
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
    rumor = render_answer(entries["sunday_meters"], settings)
    assert rumor.startswith(settings.verdicts["true"])
    assert render_answer(entries["data_sold"], settings).startswith(settings.verdicts["false"])


def test_a_broken_entry_is_reported_with_file_and_line(tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text("entries:\n- id: ok_entry\n  answer: fine\n- id: Bad Id\n  answer: x\n", encoding="utf-8")
    with pytest.raises(ContentError) as caught:
        load_topic(bad)
    assert caught.value.line == 4 and "Bad Id" in str(caught.value)


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
