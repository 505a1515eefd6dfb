"""The frozen blind test set (tests/nlu/blind) against the training data: no leaks, enough messages.

The blind set was written without seeing the training examples and is for reporting only. These
tests fail when a blind message sits too close to something the model trains on, in the data/nlu
files (content.generated.yml included) or in the content questions they are generated from:

* a normalised copy or near-copy: the same lower-cased word tokens, or, for messages of 3 or more
  tokens, a token-set Jaccard similarity of at least JACCARD_THRESHOLD;
* a close paraphrase: a cosine similarity of at least EMBEDDING_THRESHOLD between the project's own
  MiniLM sentence embeddings.

The blind set here is the second one (2026-12-05): the first, now tests/nlu/validation_v1/, became
validation data once briefs for new training data had been written from its misses
(docs/measurements.md). The measurements below are the first set's.

The blind set is frozen: the thresholds are never raised to make this pass. Before the set was
first reported, flagged blind messages were replaced by differently worded ones. From now on a
failure means training data moved towards a blind message, and it is the training example that
has to be reworded or dropped (a blind message may be replaced only if the replacement is recorded
and the old figures are no longer compared with the new).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from bot.content.model import Entry, all_entries, load_content

ROOT = Path(__file__).resolve().parents[1]
BLIND_DIR = ROOT / "tests" / "nlu" / "blind"
# The Spanish blind set (issue #19), written the same way on 2026-12-06: its messages are checked
# against every training text, Spanish and English, by the same rules.
SPANISH_BLIND_DIR = ROOT / "tests" / "nlu" / "es" / "blind"
MIN_PER_SPANISH_ANSWER = 5
TRAINING_DIR = ROOT / "data" / "nlu"
CONTENT_DIR = ROOT / "data" / "content"

# Near-copies: token-set Jaccard on lower-cased word tokens, for messages of 3+ tokens on both
# sides (shorter ones are checked for exact copies only, which any length can be).
JACCARD_THRESHOLD = 0.8
JACCARD_MIN_TOKENS = 3

# Paraphrases: cosine of the L2-normalised all-MiniLM-L6-v2 embeddings (bot.nlp.minilm), nearest
# training text per blind message. Measured on 2026-12-05:
# * first draft of the blind set, before any message was replaced (957 blind messages, 3,384
#   distinct training texts): median 0.646, p90 0.962, p95 1.000, p99 1.000; 106 messages >= 0.95,
#   137 >= 0.92, 169 >= 0.90 (many natural short questions had been written identically);
# * calibration on pairs built from blind messages (no training text): 26 near-copies that change
#   one or two words ("how do i get a library card" / "where can i get a library card") scored
#   0.84-1.00, 18 of them >= 0.92 but only 13 >= 0.95; 26 genuine rewordings of the same request
#   ("my car was towed" / "I came out of work and my truck is gone, I think it got towed") scored
#   0.14-0.917, none >= 0.92. So 0.95 would let half of the one-word edits through; 0.92 sits just
#   above the highest genuine rewording and flags 18 of the 26 near-copies;
# * final blind set (975 messages, 4,167 distinct training texts after referral and out-of-scope
#   training data was added): median 0.707, p90 0.869, p95 0.901, p99 0.916, max 0.9199.
EMBEDDING_THRESHOLD = 0.92

# Questions the city answers by pointing to another government (content may still be adding them).
REFERRAL_IDS = (
    "passport",
    "social_security_card",
    "social_security_benefits",
    "medicare",
    "medicaid",
    "federal_taxes",
    "tax_refund",
    "immigration_visa",
    "citizenship",
    "green_card",
    "drivers_license",
    "vehicle_registration",
    "unemployment_benefits",
    "property_tax",
    "county_courts",
    "jury_duty",
    "veterans_benefits",
    "student_aid",
    "federal_jobs",
    "postal_service",
    "small_business_loans",
    "disaster_assistance",
    "consumer_fraud",
    "identity_theft",
    "birth_certificate",
    "national_parks",
)
CRISIS_INTENTS = (
    "sensitive_mental_health_crisis",
    "sensitive_immediate_danger",
    "sensitive_abuse_help",
    "sensitive_homelessness_help",
)
MIN_PER_ANSWER = 6
MIN_OUT_OF_SCOPE = 250
MIN_PER_CRISIS_INTENT = 20
MIN_CRISIS_OUT_OF_SCOPE = 60

_ANNOTATION = re.compile(r"\[([^\]]+)\](?:\([^)]*\)|\{[^}]*\})")  # [text](entity) or [text]{...}
_TOKEN = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True)
class Example:
    intent: str
    text: str
    source: str

    @property
    def tokens(self) -> tuple[str, ...]:
        return tokens(self.text)


class Examples(list[Example]):
    """A list of examples that a failing test's traceback shows as a count, not as its texts."""

    def __repr__(self) -> str:
        return f"<{len(self)} examples>"


def tokens(text: str) -> tuple[str, ...]:
    """Lower-cased word tokens, apostrophes dropped ("Don't" and "dont" are one token)."""
    return tuple(_TOKEN.findall(re.sub("['\u2019]", "", text.lower())))


def read_nlu(path: Path) -> list[Example]:
    """The intent examples of a Rasa NLU YAML file, entity annotations reduced to their text."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    found = []
    for item in data.get("nlu") or []:
        if "intent" not in item:
            continue  # synonyms, lookups and regexes are not messages
        for line in str(item.get("examples") or "").splitlines():
            text = line.strip().removeprefix("- ").strip()
            if text:
                found.append(Example(item["intent"], _ANNOTATION.sub(r"\1", text), path.name))
    return found


def content_entries() -> list[Entry]:
    return all_entries(load_content(CONTENT_DIR))


# The second validation sets (2026-12-07) are held to the same rules: a validation set close to the
# training data stops predicting the blind one, which is why they were written.
VALIDATION_V2_DIRS = [ROOT / "tests" / "nlu" / "validation_v2", SPANISH_BLIND_DIR.parent / "validation_v2"]


@pytest.fixture(
    scope="module",
    params=[BLIND_DIR, SPANISH_BLIND_DIR, *VALIDATION_V2_DIRS],
    ids=["en", "es", "en_validation_v2", "es_validation_v2"],
)
def blind(request: pytest.FixtureRequest) -> Examples:
    folder: Path = request.param
    return Examples(ex for path in sorted(folder.glob("*.yml")) for ex in read_nlu(path))


@pytest.fixture(scope="module")
def training() -> Examples:
    """Every text the model trains on, once each: data/nlu/*.yml plus the content questions."""
    found = [ex for path in sorted(TRAINING_DIR.glob("*.yml")) for ex in read_nlu(path)]
    found += [Example(e.intent, q, Path(e.path).name) for e in content_entries() for q in e.questions]
    found += [
        Example(e.intent, q, f"{Path(e.path).name} ({t.language})")
        for e in content_entries()
        for t in e.translations
        for q in t.questions
    ]
    unique: dict[str, Example] = {}
    for ex in found:
        unique.setdefault(ex.text, ex)
    return Examples(unique.values())


def by_intent(path: Path) -> Counter[str]:
    return Counter(ex.intent for ex in read_nlu(path))


def test_training_and_blind_data_are_found(blind: list[Example], training: list[Example]) -> None:
    assert len(training) > 1000, "no training data found under data/nlu"
    assert {p.name for p in BLIND_DIR.glob("*.yml")} >= {"answers.yml", "out_of_scope.yml", "crisis.yml"}
    assert blind


def test_no_exact_or_near_copies(blind: list[Example], training: list[Example]) -> None:
    train_tokens = [(ex, set(ex.tokens), ex.tokens) for ex in training]
    exact = {ex.tokens: ex for ex in training}
    leaks = []
    for ex in blind:
        toks = ex.tokens
        if toks in exact:
            leaks.append((1.0, ex, exact[toks]))
            continue
        if len(set(toks)) < JACCARD_MIN_TOKENS:
            continue
        mine = set(toks)
        best, nearest = 0.0, None
        for other, theirs, _ in train_tokens:
            if len(theirs) < JACCARD_MIN_TOKENS:
                continue
            score = len(mine & theirs) / len(mine | theirs)
            if score > best:
                best, nearest = score, other
        if best >= JACCARD_THRESHOLD and nearest is not None:
            leaks.append((best, ex, nearest))
    assert not leaks, _report("token-set Jaccard", JACCARD_THRESHOLD, leaks)


@pytest.fixture(scope="module")
def encode() -> Any:
    from bot.nlp import minilm

    return minilm.load().encode


@pytest.fixture(scope="module")
def training_vectors(training: list[Example], encode: Any) -> np.ndarray:
    """The training texts' embeddings, once for both blind sets (encoding them takes half a minute)."""
    return encode([ex.text for ex in training])


def test_no_close_paraphrases(
    blind: list[Example], training: list[Example], training_vectors: np.ndarray, encode: Any
) -> None:
    mine = encode([ex.text for ex in blind])
    similarity = mine @ training_vectors.T
    nearest = similarity.argmax(axis=1)
    best = similarity[np.arange(len(blind)), nearest]
    print(  # shown with -s, and in the report of a failure
        "nearest training text per blind message, cosine: "
        + ", ".join(f"p{q}={np.percentile(best, q):.3f}" for q in (50, 90, 95, 99))
        + f", max={best.max():.3f}, >= {EMBEDDING_THRESHOLD}: {(best >= EMBEDDING_THRESHOLD).sum()}"
    )
    leaks = [
        (float(best[i]), blind[i], training[nearest[i]])
        for i in np.argsort(-best)
        if best[i] >= EMBEDDING_THRESHOLD
    ]
    assert not leaks, _report("MiniLM cosine", EMBEDDING_THRESHOLD, leaks)


def _report(measure: str, threshold: float, leaks: list[tuple[float, Example, Example]]) -> str:
    leaks = sorted(leaks, key=lambda leak: -leak[0])
    lines = [f"{len(leaks)} blind message(s) at {measure} >= {threshold}; reword them (closest first):"]
    for score, ex, other in leaks[:40]:
        lines.append(f"  {score:.3f}  blind {ex.intent}: {ex.text!r}")
        lines.append(f"         train {other.intent} ({other.source}): {other.text!r}")
    return "\n".join(lines)


def test_blind_messages_are_unique(blind: list[Example]) -> None:
    seen = Counter(ex.tokens for ex in blind)
    repeated = [" ".join(toks) for toks, n in seen.items() if n > 1]
    assert not repeated, f"messages in more than one place: {repeated}"


def test_answers_have_enough_messages_per_intent() -> None:
    counts = by_intent(BLIND_DIR / "answers.yml")
    assert all(intent.startswith("faq/") for intent in counts), sorted(counts)
    short = {intent: n for intent, n in counts.items() if n < MIN_PER_ANSWER}
    assert not short, f"fewer than {MIN_PER_ANSWER} messages: {short}"
    missing = [rid for rid in REFERRAL_IDS if f"faq/{rid}" not in counts]
    assert not missing, f"referral ids without blind messages: {missing}"


def test_out_of_scope_has_enough_messages() -> None:
    counts = by_intent(BLIND_DIR / "out_of_scope.yml")
    assert set(counts) == {"out_of_scope"}
    assert counts["out_of_scope"] >= MIN_OUT_OF_SCOPE


def test_crisis_has_enough_messages_per_intent() -> None:
    counts = by_intent(BLIND_DIR / "crisis.yml")
    assert set(counts) == {*CRISIS_INTENTS, "out_of_scope"}
    short = {i: counts[i] for i in CRISIS_INTENTS if counts[i] < MIN_PER_CRISIS_INTENT}
    assert not short, f"fewer than {MIN_PER_CRISIS_INTENT} messages: {short}"
    assert counts["out_of_scope"] >= MIN_CRISIS_OUT_OF_SCOPE


def test_every_content_entry_has_blind_messages() -> None:
    answers = by_intent(BLIND_DIR / "answers.yml")
    crisis = by_intent(BLIND_DIR / "crisis.yml")
    missing = []
    for entry in content_entries():
        counts, minimum = (crisis, MIN_PER_CRISIS_INTENT) if entry.sensitive else (answers, MIN_PER_ANSWER)
        if counts[entry.intent] < minimum:
            missing.append(f"{entry.intent} ({entry.path}): {counts[entry.intent]} blind messages")
    assert not missing, "content entries without enough blind messages:\n" + "\n".join(missing)


def test_blind_answers_name_known_entries() -> None:
    known = {e.id for e in content_entries() if not e.sensitive} | set(REFERRAL_IDS)
    unknown = [i for i in by_intent(BLIND_DIR / "answers.yml") if i.removeprefix("faq/") not in known]
    assert not unknown, f"blind intents naming no content entry or referral: {unknown}"


@pytest.mark.parametrize("referral", REFERRAL_IDS)
def test_referral_entry_is_covered(referral: str) -> None:
    entries = {e.id: e for e in content_entries()}
    if referral not in entries:
        pytest.skip(f"referral {referral!r} is not in data/content yet")
    assert entries[referral].intent == f"faq/{referral}", "a referral must be a non-sensitive faq entry"
    assert by_intent(BLIND_DIR / "answers.yml")[f"faq/{referral}"] >= MIN_PER_ANSWER


@pytest.mark.parametrize("name", ["answers.yml", "out_of_scope.yml", "crisis.yml"])
def test_rasa_reads_blind_file(name: str) -> None:
    """Rasa parses each file to the same messages, so `rasa test nlu` scores what is counted here."""
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader

    path = BLIND_DIR / name
    reader = RasaYAMLReader()
    reader.validate(path.read_text(encoding="utf-8"))
    data = reader.read(path)
    ours = Counter((ex.intent, ex.text) for ex in read_nlu(path))
    theirs = Counter(
        (m.get("intent_response_key") or m.get("intent"), m.get("text")) for m in data.intent_examples
    )
    assert ours == theirs


def test_the_spanish_blind_set_asks_about_every_answer() -> None:
    counts = by_intent(SPANISH_BLIND_DIR / "answers.yml")
    wanted = {
        e.intent for e in content_entries() if e.kind in ("faq", "rumor", "referral") and not e.sensitive
    }
    short = {intent: counts[intent] for intent in wanted if counts[intent] < MIN_PER_SPANISH_ANSWER}
    assert not short, f"fewer than {MIN_PER_SPANISH_ANSWER} Spanish messages: {short}"
    assert len(read_nlu(SPANISH_BLIND_DIR / "out_of_scope.yml")) >= 100
