"""The pure helpers: splitting long answers, short titles, numbered options."""

from __future__ import annotations

import pytest

from bot.channels.text import (
    lead_and_last,
    numbered_options,
    parse_choice,
    shorten,
    split_text,
    typed_text,
)

LINK = "https://www.harborcity.example/permits/residential?type=deck&ref=assistant"


def test_a_short_text_is_one_part() -> None:
    assert split_text("  Trash is collected on Mondays.  ", 160) == ["Trash is collected on Mondays."]
    assert split_text("", 160) == []


def test_parts_end_at_sentences_within_the_limit() -> None:
    text = "First sentence is here. Second one follows! Is this the third? Yes it is."
    parts = split_text(text, 45)
    assert parts == ["First sentence is here. Second one follows!", "Is this the third? Yes it is."]
    assert all(len(p) <= 45 for p in parts)


def test_line_breaks_count_as_boundaries() -> None:
    text = "Blue bin: paper and cans\nGreen bin: yard waste\nMore: https://www.harborcity.example/recycling"
    assert split_text(text, 50) == [
        "Blue bin: paper and cans\nGreen bin: yard waste",
        "More: https://www.harborcity.example/recycling",
    ]


def test_closing_quotes_stay_with_their_sentence() -> None:
    assert split_text('He said "stop." Then left.', 18) == ['He said "stop."', "Then left."]


def test_links_are_never_cut() -> None:
    text = ("A deck needs a permit. " * 3) + f"Apply at {LINK}. " + ("Inspections follow. " * 3)
    for limit in range(len(LINK) + 1, 200, 7):
        parts = split_text(text, limit)
        assert all(len(p) <= limit for p in parts)
        assert sum(LINK in p for p in parts) == 1, limit


def test_a_sentence_longer_than_the_limit_is_cut_between_words() -> None:
    text = "word " * 50
    parts = split_text(text, 24)
    assert all(len(p) <= 24 for p in parts)
    assert " ".join(parts) == text.strip()


def test_a_single_word_longer_than_the_limit_is_cut() -> None:
    assert split_text("x" * 25, 10) == ["x" * 10, "x" * 10, "x" * 5]
    with pytest.raises(ValueError):
        split_text("x", 0)


def test_lead_and_last_keeps_the_last_part_under_its_own_limit() -> None:
    text = "One sentence here. " * 10
    lead, last = lead_and_last(text, 4096, 40)
    assert len(last) <= 40
    assert " ".join([*lead, last]) == text.strip()
    assert lead_and_last("", 100, 10) == ([], "")
    assert lead_and_last("Short.", 100, 10) == ([], "Short.")


def test_titles_are_shortened_with_an_ellipsis() -> None:
    assert shorten("Food, housing and crisis help", 20) == "Food, housing and c…"
    assert shorten("Parking and towing", 20) == "Parking and towing"
    assert shorten("  Spaced   out  ", 20) == "Spaced out"
    assert len(shorten("x" * 30, 20)) == 20


def test_numbered_options() -> None:
    assert numbered_options("Pick one:", ["Trash", "Parking"], "Reply with a number.") == (
        "Pick one:\n1. Trash\n2. Parking\nReply with a number."
    )
    assert numbered_options("", ["A"], "") == "1. A"


@pytest.mark.parametrize(("text", "choice"), [("2", 2), (" 2 ", 2), ("2.", 2), ("#3", 3), ("10)", 10)])
def test_choices(text: str, choice: int) -> None:
    assert parse_choice(text) == choice


@pytest.mark.parametrize("text", ["two", "2 bins", "123", "", "2.5"])
def test_not_choices(text: str) -> None:
    assert parse_choice(text) is None


def test_typed_text_cannot_trigger_an_intent() -> None:
    assert typed_text("/restart") == "restart"
    assert typed_text('//inform{"a": 1}') == 'inform{"a": 1}'
    assert typed_text("  hello  ") == "hello"
