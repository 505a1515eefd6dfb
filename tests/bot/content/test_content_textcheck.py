"""The text-level checks behind `content check`: similar questions, links, formatting, reading level."""

from __future__ import annotations

import random
import time

import pytest

from bot.content.similar import Question, fold_for_similarity, similar_pairs, similarity
from bot.content.textcheck import (
    formatting_problems,
    link_problems,
    links_in,
    reading_grade,
    url_problem,
)


def test_normalising_ignores_case_accents_punctuation_and_word_order() -> None:
    folded = fold_for_similarity("Is the CAFÉ open?!")
    assert folded == fold_for_similarity("open is the cafe") == "cafe is open the"
    assert similarity("When do the pools open?", "when do the POOLS open") == 1.0
    assert 0.9 <= similarity("recycling fee rumor", "recyling fee rumor") < 1.0
    assert similarity("library card", "library card fee?") < 0.9


def test_similar_pairs_only_across_owners() -> None:
    questions = [
        Question("When do the pools open?", "pools"),
        Question("when do the pools open", "pools"),
        Question("When do pools open", "fees"),
        Question("when do the pools open!", "fees"),
        Question("how much is a pool pass", "fees"),
    ]
    pairs = [(p.first.text, p.second.text, round(p.score, 2)) for p in similar_pairs(questions)]
    assert ("When do the pools open?", "when do the pools open!", 1.0) in pairs
    assert all(p.first.owner != p.second.owner for p in similar_pairs(questions))
    assert not [pair for pair in pairs if "pool pass" in pair[0] + pair[1]]


def test_three_thousand_questions_are_compared_quickly() -> None:
    rng = random.Random(7)
    words = [f"w{n}" for n in range(800)] + "the a is do i how when where pay my bill".split()
    questions = [Question(" ".join(rng.sample(words, rng.randint(3, 10))), n % 150) for n in range(3000)]
    questions.append(Question(questions[0].text + "s", "other"))
    started = time.perf_counter()
    pairs = similar_pairs(questions)
    assert time.perf_counter() - started < 10, "well under a second on a laptop; generous for CI"
    assert [(p.first.text, p.second.owner) for p in pairs] == [(questions[0].text, "other")]


@pytest.mark.parametrize(
    "url",
    [
        "https://www.harborcity.example/water/billing",
        "https://harborcity.example",
        "https://a.example:8443/x?y=1#z",
    ],
)
def test_good_urls(url: str) -> None:
    assert url_problem(url) == ""


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://www.harborcity.example/x", "must start with https://"),
        ("www.harborcity.example/x", "must start with https://"),
        ("/water/billing", "must start with https://"),
        ("https:/www.harborcity.example", "not a well-formed"),
        ("https://", "not a well-formed"),
        ("https://harborcity", "not a well-formed"),
        ("https://www.harbor city.example", "contains a space"),
        ("https://a.example:99999/", "invalid port"),
        ("", "is empty"),
    ],
)
def test_bad_urls(url: str, problem: str) -> None:
    assert problem in url_problem(url)


def test_links_in_text_lose_surrounding_punctuation() -> None:
    text = "See https://a.example/x. Or (https://b.example/y), [form](https://c.example/z), a_b@c.example."
    assert links_in(text) == ["https://a.example/x", "https://b.example/y", "https://c.example/z"]
    assert link_problems("Visit http://a.example or www.b.example today.") == [
        "link 'http://a.example' must start with https://",
        "link 'www.b.example' must start with https://",
    ]


@pytest.mark.parametrize(
    "text",
    [
        "Main roads (priority 1) are cleared first.",
        "Choose a) online or b) by phone.",
        "Thanks :) see https://a.example/x_(y) and snake_case or first_last@city.example",
        'She said "yes" and **meant** it, *really*, _truly_.',
        "Marked #1, #2 and #5; 50% off; 3 * 4 = 12 * 1",
    ],
)
def test_balanced_formatting_is_not_reported(text: str) -> None:
    assert formatting_problems(text) == []


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("Bring ID (a license.", "'(' is never closed"),
        ("Bring ID a license).", "')' without a matching '('"),
        ("Forms [here).", "')' without a matching '('"),
        ('Say "hello to staff.', "odd number of '\"'"),
        ("Say \u201chello to staff.", "unmatched curly quotes"),
        ("This is **important.", "odd number of '**'"),
        ("This is *important.", "odd number of '*'"),
        ("This is _important.", "odd number of '_'"),
    ],
)
def test_unbalanced_formatting_is_reported(text: str, problem: str) -> None:
    assert any(problem in found for found in formatting_problems(text)), formatting_problems(text)


def test_reading_grade_tells_plain_from_dense_text() -> None:
    assert reading_grade("Call 311. We can help you.") < 9
    dense = "Comprehensive administrative documentation regarding municipal rehabilitation is available."
    assert reading_grade(dense) > 9
    assert reading_grade("Read https://www.harborcity.example/very/long/administrative/path now.") < 9
