"""Redaction: each kind of personal data is replaced; request numbers, dates, times and prices stay."""

from __future__ import annotations

import pytest

from bot.privacy.public import public_redactor
from bot.privacy.redact import redact


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("call me at (555) 123-4567 please", "call me at [phone] please"),
        ("my number is 555-867-5309", "my number is [phone]"),
        ("555.867.5309 is my cell", "[phone] is my cell"),
        ("reach me on +1 555 867 5309", "reach me on [phone]"),
        ("text me at 5558675309", "text me at [phone]"),
        ("I'm in London, +44 20 7946 0958", "I'm in London, [phone]"),
        ("mon portable +33 6 12 34 56 78", "mon portable [phone]"),
        ("or 0049 30 1234567 from Berlin", "or [phone] from Berlin"),
    ],
)
def test_phone_numbers(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("email me: jane.doe+311@example.com", "email me: [email]"),
        ("Maria_Lopez@mail.harbor.gov.example wrote", "[email] wrote"),
    ],
)
def test_emails(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    "card",
    [
        "4111 1111 1111 1111",
        "4111-1111-1111-1111",
        "4111111111111111",
        "3782 822463 10005",
        "5555555555554444",
    ],
)
def test_card_numbers_that_pass_luhn(card: str) -> None:
    assert redact(f"charge my card {card} for the permit") == "charge my card [card] for the permit"


def test_a_long_number_that_fails_luhn_is_not_a_card() -> None:
    assert redact("account 4111 1111 1111 1112") == "account 4111 1111 1111 1112"


@pytest.mark.parametrize(
    "number",
    ["123-45-6789", "123 45 6789", "JG 10 37 56 A", "AB123456C", "046-454-286", "046 454 286"],
)
def test_national_id_numbers(number: str) -> None:
    assert redact(f"my id is {number}, thanks") == "my id is [id number], thanks"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("pothole outside 12 Elm St", "pothole outside [address]"),
        ("I live at 1400 North Harbor Boulevard Apt 3.", "I live at [address]."),
        ("trash not picked up at 77 sycamore lane unit 4b", "trash not picked up at [address]"),
        ("send it to PO Box 1234", "send it to [address]"),
        ("mail to P.O. Box 77, Harbor City", "mail to [address], Harbor City"),
        ("streetlight out at 5 W. Maple Ave #2", "streetlight out at [address]"),
    ],
)
def test_street_addresses(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "what is the status of request 512077",
        "status of #512077?",
        "SR-512077 still open",
        "request 123456789012 is closed",
        "ticket 5120771234",
        "is the pool open on 2026-09-01",
        "pickup on 12/05/2026 or 12-05-2026",
        "open from 9:30 to 17:00, or 10am-4pm",
        "the permit costs $45.00 or $1,250",
        "my water bill is 123.45 dollars",
        "311 or 911",
        "it happened on 3 May at 5",
    ],
)
def test_request_numbers_dates_times_and_prices_are_kept(text: str) -> None:
    assert redact(text) == text


def test_the_citys_published_numbers_and_addresses_are_kept() -> None:
    redactor = public_redactor()
    text = "is the depot at 2200 Industrial Way open? I called 555-010-2000"
    assert redactor.redact(text) == text
    assert redactor.redact("I live at 12 Elm St, 555-867-5309") == "I live at [address], [phone]"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ssn 123456789", "ssn [id number]"),
        ("my social is 078051120", "my social is [id number]"),
        ("here it is 512348765 for the form", "here it is [id number] for the form"),
    ],
)
def test_bare_nine_digit_ssns(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    ["request 123456789 status", "#123456789", "my case number is 448120937", "order #601234567"],
)
def test_nine_digit_request_and_case_numbers_are_kept(text: str) -> None:
    assert redact(text) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I was born 03/14/1985", "I was born [date of birth]"),
        ("dob: 1985-03-14", "dob: [date of birth]"),
        ("my birthday is March 14th", "my birthday is [date of birth]"),
        ("D.O.B. Jan 9, 1962", "D.O.B. [date of birth]"),
        ("born in 1948, am I a senior?", "born in [date of birth], am I a senior?"),
        ("name: Walter Kim, 11/02/1956", "name: Walter Kim, [date of birth]"),
    ],
)
def test_dates_of_birth(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text", ["pickup on 12/05/2026", "is city hall open on Dec 24, 2026", "the vote was on 4 June 2025"]
)
def test_ordinary_dates_are_kept(text: str) -> None:
    assert redact(text) == text


def test_the_address_given_to_a_form_is_redacted_wherever_it_appears() -> None:
    known = ["the blue house past the mill"]
    text = "why was The Blue House  Past the Mill skipped? the blue house past the mill again"
    assert redact(text, known) == "why was [address] skipped? [address] again"
    assert redact("yes", known) == "yes"
