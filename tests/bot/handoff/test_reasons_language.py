"""A rating typed in words in English or Spanish, "N out of 5" / "N de 5", and the words file's shape."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.handoff.reasons import RatingWords, load_rating_words, parse_rating, read_rating_words


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 out of 5", 1),
        ("5 out of 5", 5),
        ("I'd say 2 out of 5", 2),
        ("three out of five", 3),
        ("4 of 5 stars", 4),
        ("2/5", 2),
        ("7 out of 10", None),
        ("1 or 5", None),
    ],
)
def test_a_rating_out_of_five_in_english_is_the_rating(text: str, expected: int | None) -> None:
    assert parse_rating(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("5", 5),
        ("cinco", 5),
        ("Cinco!", 5),
        ("cuatro estrellas", 4),
        ("3 de 5", 3),
        ("tres de cinco", 3),
        ("1 de 5 estrellas", 1),
        ("4 sobre 5", 4),
        ("le doy un 4", 4),
        ("dos", 2),
        ("uno", 1),
        ("muy bien", None),  # as "great" in English: a word of praise is not a number
        ("tengo una pregunta", None),  # "una" is no rating: a short question stays a question
        ("2 o 3", None),
        ("8 de 10", None),
    ],
)
def test_a_rating_in_spanish(text: str, expected: int | None) -> None:
    assert parse_rating(text) == expected


def test_the_buttons_entity_still_wins() -> None:
    assert parse_rating("/rate", [{"entity": "rating", "value": "2"}]) == 2


def test_a_third_language_is_words_in_the_file_not_code(tmp_path: Path) -> None:
    raw = {
        "numbers": {1: ["one"], 2: ["two"], 3: ["three"], 4: ["four"], 5: ["five"]},
        "out_of": ["out of"],
        "translations": {
            "vi": {"numbers": {1: ["một"], 2: ["hai"], 3: ["ba"], 4: ["bốn"], 5: ["năm"]}, "out_of": ["trên"]}
        },
    }
    path = tmp_path / "ratings.yml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    words = load_rating_words(path)
    assert parse_rating("bốn", words=words) == 4
    assert parse_rating("bon", words=words) == 4  # accents optional, as citizens type
    assert parse_rating("ba trên năm", words=words) == 3
    assert parse_rating("four", words=words) == 4  # English still read
    assert parse_rating("cinco", words=words) is None  # Spanish is not in this file


def test_the_words_file_reads_each_language_and_keeps_only_ratings_from_one_to_five() -> None:
    raw = {"numbers": {1: ["one"], 6: ["six"], "x": ["x"]}, "out_of": ["Out  of"]}
    words = read_rating_words(raw)
    assert dict(words.numbers) == {"one": 1}
    assert parse_rating("six", words=words) is None
    assert parse_rating("one OUT OF 5", words=words) == 1
    assert parse_rating("4", words=RatingWords()) == 4  # digits need no words
    assert parse_rating("four", words=RatingWords()) is None
