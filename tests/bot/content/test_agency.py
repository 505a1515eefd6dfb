"""The agency file, its placeholders, and `content check`'s rule for phone numbers and web addresses."""

from __future__ import annotations

import os
import shutil
import time
from datetime import date
from pathlib import Path

import pytest
import yaml

from bot.content import check
from bot.content.agency import AGENCY_FILE, UnknownFactError, load_agency, parse_agency
from bot.content.model import ContentError
from bot.content.textcheck import phone_digits, phone_numbers_in, site_address_key, site_addresses_in

ROOT = Path(__file__).resolve().parents[3]
GOOD = ROOT / "tests" / "fixtures" / "content" / "good"
PUBLISHED = ROOT.parent / "shared" / "agency" / "harbor-city-faq.yml"
TODAY = date(2026, 11, 26)
FACTS = {
    "name": "City of Testville",
    "website": "https://www.testville.example",
    "phone_311": "311",
    "phone_311_outside": "555-010-7000",
    "hours_311": "Monday to Friday 9 am to 5 pm",
    "emergency": "911",
    "web_311": "testville.example/311",
}


def write_agency(path: Path, facts: dict[str, str] = FACTS) -> Path:
    path.write_text(yaml.safe_dump(facts, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture
def agency_file(tmp_path: Path) -> Path:
    return write_agency(tmp_path / "agency.yml")


# --- loading and expanding ------------------------------------------------------------------


def test_the_shipped_agency_file_has_the_published_facts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    agency = load_agency()
    assert agency.path == AGENCY_FILE and agency.domain == "harborcity.example"
    said = agency.expand("call {agency.phone_311} ({agency.phone_311_outside} from outside the city)")
    assert said == "call 311 (555-010-3110 from outside the city)"
    assert agency.expand("{agency.hours_311}") == "Monday to Saturday 7 am to 7 pm"


def test_the_shipped_facts_agree_with_the_agency_s_published_file(monkeypatch: pytest.MonkeyPatch) -> None:
    if not PUBLISHED.exists():
        pytest.skip(f"{PUBLISHED} is not beside the checkout")
    monkeypatch.chdir(ROOT)
    published = yaml.safe_load(PUBLISHED.read_text(encoding="utf-8"))["agency"]
    facts = load_agency().facts
    for key in ("name", "short_name", "website", "emergency", "police_non_emergency"):
        assert facts[key] == published[key], key
    assert (
        published["phone_311"]
        == f"{facts['phone_311']} (or {facts['phone_311_outside']} from outside the city)"
    )
    assert published["hours_311"].replace(",", "") == facts["hours_311"]


def test_expand_fills_facts_and_leaves_other_placeholders(agency_file: Path) -> None:
    agency = load_agency(agency_file)
    text = "You're number {position}. Call {agency.phone_311_outside}, {agency.hours_311}."
    assert (
        agency.expand(text) == "You're number {position}. Call 555-010-7000, Monday to Friday 9 am to 5 pm."
    )
    assert agency.expand("no placeholders, {answer}") == "no placeholders, {answer}"


def test_an_unknown_fact_raises_or_stays_as_written(agency_file: Path) -> None:
    agency = load_agency(agency_file)
    text = "Call {agency.phone_312} or {agency.emergency} or {agency.} ({agency.phone_312})"
    with pytest.raises(UnknownFactError) as caught:
        agency.expand(text)
    assert caught.value.keys == ["phone_312", ""]
    assert "{agency.phone_312}" in str(caught.value) and str(agency_file) in str(caught.value)
    assert (
        agency.expand(text, strict=False)
        == "Call {agency.phone_312} or 911 or {agency.} ({agency.phone_312})"
    )


def test_the_agency_is_frozen(agency_file: Path) -> None:
    agency = load_agency(agency_file)
    with pytest.raises(TypeError):
        agency.facts["emergency"] = "999"  # type: ignore[index]
    with pytest.raises(AttributeError):
        agency.domain = "elsewhere.example"  # type: ignore[misc]


def test_an_edited_file_is_read_again(agency_file: Path) -> None:
    assert load_agency(agency_file).facts["emergency"] == "911"
    write_agency(agency_file, {**FACTS, "emergency": "112"})
    later = time.time() + 5  # a new modification time even on coarse file systems
    os.utime(agency_file, (later, later))
    assert load_agency(agency_file).facts["emergency"] == "112"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "emergency: 911\nname: x\nwebsite: https://x.example\n",
            "emergency: write the value in double quotes",
        ),
        ('Bad Key: "1"\n', "key 'Bad Key' must be lowercase"),
        ('name: "a {b}"\nwebsite: "https://x.example"\n', "name: a value cannot contain { or }"),
        ('name: "   "\n', "name: the value is empty"),
        ('name: "City"\n', "missing website"),
        ('name: "City"\nwebsite: "www.x.example"\n', "must be a link like https://"),
        ("- just\n- a list\n", "must be a list of `key:"),
        (
            'name: "City"\nwebsite: "https://x.example"\nalert_events: "Flood Watch"\n',
            "alert_events must be a list of event names",
        ),
        (
            'name: "City"\nwebsite: "https://x.example"\nalert_events: ["Flood Watch", ""]\n',
            "alert_events must be a list of event names",
        ),
        (
            'name: "City"\nwebsite: "https://x.example"\nalert_events: ["Flood Watch", "flood watch"]\n',
            "alert_events: Flood Watch, flood watch listed twice",
        ),
    ],
)
def test_a_bad_agency_file_says_what_to_fix(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "agency.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ContentError) as caught:
        load_agency(path)
    assert message in str(caught.value) and str(path) in str(caught.value)


def test_the_alert_feed_s_event_names_are_a_list_not_facts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    agency = load_agency()
    assert agency.alert_events[:2] == ("Boil Water Notice", "Flood Watch")
    assert "Heat Advisory" in agency.alert_events and "alert_events" not in agency.facts
    assert agency.unknown_keys("{agency.alert_events}") == ["alert_events"]
    assert parse_agency({"name": "x", "website": "https://x.example"}).alert_events == ()


def test_a_missing_or_broken_agency_file_is_a_content_error(tmp_path: Path) -> None:
    with pytest.raises(ContentError, match="cannot read the agency file"):
        load_agency(tmp_path / "nowhere.yml")
    broken = tmp_path / "broken.yml"
    broken.write_text('name: "never closed\n', encoding="utf-8")
    with pytest.raises(ContentError, match="not valid YAML"):
        load_agency(broken)
    with pytest.raises(ContentError):
        parse_agency({"name": "x", "website": "https://x.example", "emergency": 911})


# --- finding phone numbers and addresses in a text -------------------------------------------


def test_phone_numbers_are_found_in_the_forms_replies_use() -> None:
    text = (
        "Call 311 (555-010-3110 from outside), or (555) 311-0311, +1 555 010 2000 or 010-2000. "
        "It costs $911, see 2200 Industrial Way, 2026-09-01. Call or text 988; text ALERTS to 55311."
    )
    found = phone_numbers_in(text)
    assert found == ["311", "555-010-3110", "(555) 311-0311", "+1 555 010 2000", "010-2000", "988", "55311"]
    assert [phone_digits(n) for n in found[2:4]] == ["5553110311", "5550102000"]


def test_agency_addresses_are_found_with_or_without_a_scheme() -> None:
    text = (
        "See harborcity.example/311, https://www.harborcity.example/jobs. (harborcity.example/trash) "
        "but not info@harborcity.example, harborcity.examples.org or harborcity.example.org, "
        "and forms.harborcity.example"
    )
    found = site_addresses_in(text, "harborcity.example")
    assert found == [
        "harborcity.example/311",
        "https://www.harborcity.example/jobs",
        "harborcity.example/trash",
        "forms.harborcity.example",
    ]
    assert site_address_key("https://WWW.HarborCity.example/jobs/") == "harborcity.example/jobs"


# --- the content-check rule --------------------------------------------------------------------


def content_with(tmp_path: Path, answer: str, short_answer: str = "") -> Path:
    """The good fixture content plus one entry with ``answer``."""
    directory = tmp_path / "content"
    shutil.copytree(GOOD, directory)
    entry = {
        "id": "contact",
        "kind": "faq",
        "department": "311",
        "questions": ["how do i reach the city"],
        "answer": answer,
        "source": "https://www.testville.example/contact",
        "last_reviewed": "2026-09-01",
    }
    if short_answer:
        entry["short_answer"] = short_answer
    (directory / "contact.yml").write_text(yaml.safe_dump({"entries": [entry]}), encoding="utf-8")
    return directory


def errors_about(directory: Path, agency_file: Path) -> list[str]:
    return [str(p) for p in check.content_problems(directory, TODAY, agency_file) if p.error]


def test_facts_by_placeholder_or_as_published_pass(tmp_path: Path, agency_file: Path) -> None:
    answer = (
        "Call {agency.phone_311} ({agency.phone_311_outside} from outside), {agency.hours_311}, "
        "or 555-010-7000, or visit testville.example/311 or testville.example/contact."
    )
    assert errors_about(content_with(tmp_path, answer), agency_file) == []


def test_a_number_not_in_the_agency_file_is_an_error_at_the_entry(tmp_path: Path, agency_file: Path) -> None:
    directory = content_with(tmp_path, "Call 311 (555-010-7001 from outside the city).")
    assert errors_about(directory, agency_file) == [
        f"{directory / 'contact.yml'}:2: error: contact: answer: phone number '555-010-7001' is not one "
        f"of the agency's: write {{agency.<key>}} with a key from {agency_file}, or add the number there"
    ]


def test_an_unknown_address_or_placeholder_is_an_error(tmp_path: Path, agency_file: Path) -> None:
    directory = content_with(tmp_path, "See testville.example/forms or call {agency.phone_411}.")
    found = errors_about(directory, agency_file)
    assert len(found) == 2, found
    assert "contact: answer: unknown placeholder {agency.phone_411}: " in found[0]
    assert "web address 'testville.example/forms' is not one of the agency's" in found[1]


def test_sms_length_is_measured_with_the_facts_filled_in(tmp_path: Path, agency_file: Path) -> None:
    long_hours = "Monday to Friday 9 am to 5 pm, and on Saturdays from 10 am to 2 pm except holidays"
    write_agency(agency_file, {**FACTS, "hours_311": long_hours * 4})
    directory = content_with(tmp_path, "Call 311, {agency.hours_311}.")
    warnings = [p.message for p in check.content_problems(directory, TODAY, agency_file) if not p.error]
    assert any(m.startswith("contact: SMS reply is") for m in warnings), warnings


def test_a_broken_agency_file_is_reported_once(tmp_path: Path) -> None:
    missing = tmp_path / "agency.yml"
    found = [p for p in check.content_problems(GOOD, TODAY, missing) if p.error]
    assert [p.path for p in found] == [str(missing)]


def test_reply_files_are_checked_with_file_response_and_line(tmp_path: Path, agency_file: Path) -> None:
    responses = tmp_path / "responses.yml"
    responses.write_text(
        'version: "3.1"\nresponses:\n  utter_ok:\n  - text: "Call {agency.phone_311_outside}."\n'
        '  utter_wrong:\n  - text: "Call (555) 311-0311, or see testville.example/311"\n'
        '    buttons:\n    - title: "www.testville.example/old"\n      payload: "/x"\n',
        encoding="utf-8",
    )
    canned = tmp_path / "canned_replies.yml"
    canned.write_text(
        'canned_replies:\n  - title: Phone\n    text: "Reach us at {agency.phone}."\n', encoding="utf-8"
    )
    messages = tmp_path / "messages.yml"
    messages.write_text('agent_joined: "{agent} from {agency.name}, 555-010-9999"\n', encoding="utf-8")
    found = [str(p) for p in check.reply_problems([responses, canned, messages], agency_file)]
    assert len(found) == 4, found
    assert found[0].startswith(f"{responses}:6: error: utter_wrong: phone number '(555) 311-0311'")
    assert found[1].startswith(
        f"{responses}:8: error: utter_wrong button: web address 'www.testville.example/old'"
    )
    assert found[2].startswith(
        f"{canned}:3: error: canned reply 'Phone': unknown placeholder {{agency.phone}}"
    )
    assert found[3].startswith(f"{messages}:1: error: agent_joined: phone number '555-010-9999'")


def test_the_shipped_replies_use_only_the_agency_s_facts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    files = check.reply_files()
    assert Path("data/handoff/canned_replies.yml") in files
    assert not [p for p in files if p.name.endswith(".generated.yml")]
    assert [str(p) for p in check.reply_problems()] == []
