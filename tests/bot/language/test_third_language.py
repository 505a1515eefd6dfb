"""A third language is added with text only: no Python changes (issue #19).

Vietnamese ("vi") is added to a copy of the project's data as an agency would add it: listed in
`languages_offered`, named in data/language/vi.yml, one entry, the settings and one response
translated. Everything downstream picks it up: the detector tells it from English and Spanish, the
training data and replies carry it, a Vietnamese conversation is answered in Vietnamese, and
`content check` lists what is still missing in it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker

from bot.content.agency import load_agency
from bot.content.generate import NLU_OUT, RESPONSES_OUT, generated_files
from bot.content.model import load_content, load_render_settings
from bot.content.translations import coverage_findings, response_findings
from bot.nlg import AgencyNaturalLanguageGenerator
from bot.nlp.language_detector import load_detector

ROOT = Path(__file__).resolve().parents[3]
QUESTION_VI = "Khi nào Tòa thị chính mở cửa?"
ANSWER_VI = "Tòa thị chính mở cửa từ thứ Hai đến thứ Sáu, 8 giờ sáng đến 5 giờ chiều."
GREETING_VI = "Xin chào! Tôi là trợ lý tự động của Harbor City."


def add_vietnamese(root: Path) -> None:
    """What an agency writes to add Vietnamese: data files only."""
    agency = root / "data" / "agency.yml"
    agency.write_text(
        agency.read_text(encoding="utf-8").replace(
            "languages_offered: [en, es]", "languages_offered: [en, es, vi]"
        ),
        encoding="utf-8",
    )
    (root / "data" / "language" / "vi.yml").write_text(
        "language:\n  name: Tiếng Việt\n  names: [tiếng việt, vietnamese]\n"
        "  switch_words: [bằng, nói, xin, vui, lòng]\n",
        encoding="utf-8",
    )
    settings_path = root / "data" / "content" / "_settings.yml"
    settings = yaml.safe_load(settings_path.read_text(encoding="utf-8"))
    settings["translations"]["vi"] = {
        "templates": {"faq": "{answer}\nThêm thông tin: {source}", "topics": "Chọn một chủ đề:"},
        "verdicts": {"true": "Đúng.", "false": "Sai."},
    }
    settings_path.write_text(yaml.safe_dump(settings, allow_unicode=True, sort_keys=False), encoding="utf-8")
    topic_path = root / "data" / "content" / "city_hall.yml"
    topic = yaml.safe_load(topic_path.read_text(encoding="utf-8"))
    entry = next(e for e in topic["entries"] if e["id"] == "city_hall_hours")
    entry["translations"]["vi"] = {
        "questions": [QUESTION_VI, "giờ mở cửa tòa thị chính"],
        "answer": ANSWER_VI,
    }
    topic_path.write_text(yaml.safe_dump(topic, allow_unicode=True, sort_keys=False), encoding="utf-8")
    domain_path = root / "domain.yml"
    domain = domain_path.read_text(encoding="utf-8")
    spanish_greeting = (
        "    condition:\n    - type: slot\n      name: language\n      value: es\n  utter_goodbye:"
    )
    assert spanish_greeting in domain
    condition = "    condition:\n    - type: slot\n      name: language\n      value: vi\n"
    vietnamese = f'  - text: "{GREETING_VI}"\n' + condition
    domain_path.write_text(
        domain.replace(
            spanish_greeting, spanish_greeting.replace("  utter_goodbye:", vietnamese + "  utter_goodbye:")
        ),
        encoding="utf-8",
    )


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("vi")
    shutil.copytree(ROOT / "data", root / "data")
    shutil.copy(ROOT / "domain.yml", root / "domain.yml")
    add_vietnamese(root)
    return root


def test_the_detector_tells_the_new_language_apart(project: Path) -> None:
    detector = load_detector(project / "data" / "agency.yml", project / "data" / "language")
    assert detector.detect("Tôi cần giúp đỡ về hóa đơn nước của tôi").language == "vi"
    assert detector.detect("necesito ayuda con mi factura de agua").language == "es"
    assert detector.detect("bằng tiếng việt").switch == "vi"


def test_its_questions_train_the_answer_and_its_answer_is_a_reply(project: Path) -> None:
    content = project / "data" / "content"
    files = {
        f.path: yaml.safe_load(f.text)
        for f in generated_files(load_content(content), load_render_settings(content))
    }
    blocks = [b for b in files[NLU_OUT]["nlu"] if b["intent"] == "faq/city_hall_hours"]
    assert [b.get("metadata", {}).get("language") for b in blocks] == [None, "es", "vi"]
    replies = files[RESPONSES_OUT]["responses"]["utter_faq/city_hall_hours"]
    (said,) = [
        v for v in replies if v.get("condition") == [{"type": "slot", "name": "language", "value": "vi"}]
    ]
    assert said["text"].startswith(ANSWER_VI) and "Thêm thông tin:" in said["text"]


async def test_a_vietnamese_conversation_is_answered_in_vietnamese(project: Path) -> None:
    domain = Domain.load(str(project / "domain.yml"))
    nlg = AgencyNaturalLanguageGenerator(domain=domain, agency_file=project / "data" / "agency.yml")
    tracker = DialogueStateTracker.from_events("c1", [], slots=domain.slots)
    tracker.slots["language"].value = "vi"
    said = await nlg.generate("utter_greet", tracker, "rest")
    assert said is not None and said["text"] == GREETING_VI
    tracker.slots["language"].value = "es"
    said = await nlg.generate("utter_greet", tracker, "rest")
    assert said is not None and said["text"].startswith("¡Hola!")


def test_the_check_lists_what_is_not_yet_in_the_new_language(project: Path) -> None:
    agency = load_agency(project / "data" / "agency.yml")
    missing = [p.message for p in coverage_findings(load_content(project / "data" / "content"), agency)]
    assert any("no vi translation" in m for m in missing)
    assert not any("city_hall_hours" in m and "no vi translation" in m for m in missing)
    responses = [p.message for p in response_findings([project / "domain.yml"], agency)]
    assert any("utter_goodbye" in m and "vi" in m for m in responses)
    assert not any("utter_greet:" in m and "vi" in m for m in responses)
