"""The keyword net alone: crisis messages are caught, ordinary questions are not."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.nlp.evaluate import read_examples
from bot.nlp.safety import fold_for_safety, load_topic_question, load_triggers, match, says_no_emergency, scan

TESTS = Path(__file__).resolve().parents[2] / "nlu"
DATA = Path(__file__).resolve().parents[3] / "data" / "nlu"
# Which lifeline a reply carries: 988, the outreach line, or 911.
LIFELINE = {
    "sensitive_mental_health_crisis": "988",
    "sensitive_homelessness_help": "outreach",
    "sensitive_abuse_help": "911",
    "sensitive_immediate_danger": "911",
}


@pytest.fixture(scope="module")
def triggers():
    return load_triggers()


# sensitive_blind.yml was written blind to the patterns: it is scored through the
# whole pipeline (tests/test_rasa.py), not against the keyword net alone.
BLIND = "sensitive_blind.yml"


def all_examples() -> list[tuple[str, str]]:
    files = [f for f in sorted(TESTS.glob("*.yml")) if f.name != BLIND] + sorted(DATA.glob("*.yml"))
    return read_examples(files)


def test_every_crisis_example_gets_its_lifeline_from_the_keyword_net_alone(triggers):
    sensitive = [(text, intent) for text, intent in all_examples() if intent in LIFELINE]
    assert len(sensitive) > 300
    missed = [
        (t, i, match(triggers, t))
        for t, i in sensitive
        if LIFELINE.get(match(triggers, t) or "") != LIFELINE[i]
    ]
    recall = 1 - len(missed) / len(sensitive)
    print(f"keyword-net lifeline recall: {recall:.3f} on {len(sensitive)} messages")
    assert recall >= 0.95, missed


def test_ordinary_questions_do_not_trigger_a_lifeline(triggers):
    ordinary = [(t, i) for t, i in all_examples() if i not in LIFELINE and not i.startswith("sensitive")]
    assert len(ordinary) > 1500
    alarms = [(t, i, match(triggers, t)) for t, i in ordinary if match(triggers, t)]
    assert len(alarms) / len(ordinary) <= 0.01, alarms


@pytest.mark.parametrize(
    "text,lifeline",
    [
        ("i want to kill myself", "988"),
        ("i wanna dieee", "988"),
        ("I\u2019m thinking about ending it all", "988"),
        ("i have no where to sleep tonite", "outreach"),
        ("sleeping in my car since tuesday", "outreach"),
        ("my husband hits me", "911"),
        ("someone is breaking into my house right now", "911"),
    ],
)
def test_typical_phrasings(triggers, text, lifeline):
    assert LIFELINE[match(triggers, text) or ""] == lifeline


@pytest.mark.parametrize(
    "text,lifeline",
    [
        ("my husband took too many of his pills and he wont wake up", "911"),
        ("the baby chewed on some of grandma's pills", "911"),
        ("my brother took a bunch of pills and his lips are blue", "911"),
        ("she overdosed and she's having a seizure", "911"),
        ("mi nieto se trago unas pastillas que estaban en la mesa", "911"),
        ("i swallowed a whole bunch of pills", "988"),
        ("my son took all his meds and wont answer me", "988"),
    ],
)
def test_an_overdose_that_does_not_wake_or_a_child_who_swallowed_pills_gets_911(triggers, text, lifeline):
    """Someone who does not wake, or a child who got into medicine, needs 911, not the crisis line."""
    assert LIFELINE[match(triggers, text) or ""] == lifeline


@pytest.mark.parametrize(
    "text",
    [
        "got hit with a huge late fee on the water bill",
        "locked out of my email account, can you reset it",
        "we cleaned out the garage and i think it got thrown out",
        "i live on a street with permit parking, how do i get a sticker",
        "my car is on the street during the snow emergency, where do i move it",
        "my kids took their medicine this morning, when does the pool open",
        "when does the senior discount kick in at the pool",
        "my allergy pills finally kicked in",
        "best way of breaking in a new baseball glove",
        "coffee spilled all over my laptop keyboard, help!!",
        "plans for a lean-to shelter for the kids' bikes",
    ],
)
def test_everyday_phrases_sharing_a_crisis_word_get_no_lifeline(triggers, text):
    assert match(triggers, text) is None


@pytest.mark.parametrize(
    "text",
    [
        "what share of teen deaths are suicides in this state",
        "is self-harm more common in girls than boys? looking for statistics",
        "for my criminology class: how is a burglary different from a home invasion",
        "i'm writing a short story where a kidnapping goes wrong, how do detectives trace the car",
        "im a nursing student, what are the risk factors for suicide in older adults",
        "my civics essay is on how cities count their homeless population",
        "when was suicide prevention awareness month first held",
        "my thesis is about elder abuse in nursing homes, where can i look for statistics",
    ],
)
def test_a_general_question_about_a_crisis_topic_gets_no_lifeline_from_the_net(triggers, text):
    """Its decline adds the topic's resource line, with the same number (bot/nlg.py)."""
    assert match(triggers, text) is None


@pytest.mark.parametrize(
    "text,lifeline",
    [
        ("i keep thinking about suicide", "988"),
        ("suicide hotline", "988"),
        ("how many pills would it take, i'm done", "988"),
        ("my sister texted me a suicide note", "988"),
        ("self harm again tonight, i can't stop", "988"),
        ("im a student and i want to kill myself", "988"),
        ("there's an intruder downstairs", "911"),
        ("home invasion in progress on elm st", "911"),
        ("burglar in my garage right now", "911"),
        ("for my class i had to write about my dad, he beats my mom every night", "911"),
        ("the caregiver screams at my grandma and takes her social security money", "911"),
        ("the aide who comes to my dad's house hits him when nobody is around", "911"),
        ("my grandpa's caregiver is stealing from him and yelling at him, where can i look for help", "911"),
    ],
)
def test_the_same_words_from_a_person_in_need_still_get_the_lifeline(triggers, text, lifeline):
    assert LIFELINE[match(triggers, text) or ""] == lifeline


@pytest.mark.parametrize(
    "text,first,others",
    [
        (
            "my girlfriend hit me again and changed the locks, nowhere to sleep tonight",
            "sensitive_homelessness_help",
            ("sensitive_abuse_help",),
        ),
        (
            "been sleeping in my car for a month and i just want to die",
            "sensitive_mental_health_crisis",
            ("sensitive_homelessness_help",),
        ),
        ("i want to kill myself", "sensitive_mental_health_crisis", ()),
    ],
)
def test_a_message_naming_two_needs_gets_the_most_urgent_first_and_the_other_too(
    triggers, text, first, others
):
    """The lifeline reply then ends with the other needs' resource lines (bot/nlg.py)."""
    found = scan(triggers, text)
    assert (found.intent, found.also) == (first, others)


@pytest.mark.parametrize(
    "text,calm",
    [
        ("a truck clipped my mirror, nobody got hurt, which number do i call", True),
        ("it's not an emergency, but who handles a stray dog", True),
        ("no es una emergencia, pero un árbol cayó en la banqueta", True),
        ("nadie salió herido pero quiero reportar el choque", True),
        ("what is the non-emergency police number", False),
        ("my roommate is hurt and bleeding", False),
    ],
)
def test_saying_nobody_is_hurt_or_in_danger_is_recognised(text, calm):
    """Such a message gets no lifeline from the classifier alone (bot/nlp/safety_guard.py)."""
    assert says_no_emergency(load_topic_question(), text) is calm


def test_fold_for_safety_squeezes_repeated_letters_and_apostrophes():
    assert fold_for_safety("PLEEEASE  I\u2019m") == "pleease i'm"
