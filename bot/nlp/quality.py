"""Answer quality of a trained model: what a citizen gets for held-out, out-of-scope and crisis messages.

One module for `make eval` (``bench/eval.py`` prints the table, writes the misses and the threshold
trade-off) and the floors in ``tests/test_rasa.py``, so both measure the same thing the same way.

What a reply is (`outcome`): an *agency answer* is a FAQ's answer, a rumor's verdict, a live lookup
or a lifeline; a referral (an entry of kind ``referral``: "that is the state's DMV, here is how to
reach them") is a decline with a pointer; ``out_of_scope`` and ``nlu_fallback`` are declines;
greetings, thanks and the like are neither. A crisis message counts as caught when its lifeline
reply is given (`LIFELINE_REPLY`: two lifeline intents share the 911 reply).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

import yaml

from bot.content.model import all_entries, load_content
from bot.nlp.evaluate import (
    ANSWER_INTENTS,
    EQUIVALENT,
    LIVE_ROUTED,
    LOOKUP_INTENTS,
    RETRIEVAL,
    base_intent,
    f1_scores,
    full_intent,
    read_examples,
    sure_enough,
)
from bot.nlp.evaluate import selector_prediction as _selector_prediction

ROOT = Path(__file__).resolve().parents[2]
NLU_TESTS = ROOT / "tests" / "nlu"
CONTENT = ROOT / "data" / "content"
CONFIG = ROOT / "config.yml"
CLINC = ROOT.parent / "shared" / "datasets" / "clinc150"  # read from here only, never copied

DECLINE_INTENTS = frozenset({"out_of_scope", "nlu_fallback"})
SENSITIVE_PREFIX = "sensitive_"
# What the citizen reads for each lifeline intent: abuse and immediate danger both get the 911 reply,
# so one of them for the other still gives the right help. A lifeline intent not listed (a new
# sensitive entry in the content) is its own reply.
LIFELINE_REPLY = {
    "sensitive_mental_health_crisis": "988",
    "sensitive_homelessness_help": "outreach",
    "sensitive_abuse_help": "911",
    "sensitive_immediate_danger": "911",
}

FACT, VERDICT, REFERRAL, LOOKUP, LIFELINE, DECLINE, OTHER = (
    "fact",
    "verdict",
    "referral",
    "lookup",
    "lifeline",
    "decline",
    "other",
)
AGENCY_ANSWERS = frozenset({FACT, VERDICT, LOOKUP, LIFELINE})
DECLINES = frozenset({DECLINE, REFERRAL})

# Roles of an evaluation set: what its messages should get.
ANSWERS = "answers"  # labelled in-scope questions (held out): the right intent and answer
OWN_OUT_OF_SCOPE = "out_of_scope"  # our own out-of-scope messages: a decline
CRISIS = "crisis"  # crisis messages (a lifeline) and ordinary ones sharing their words (no lifeline)
CLINC_OOS = "clinc"  # CLINC150 queries: no agency answer (small talk may be answered as small talk)


def answer_kinds(content_dir: Path = CONTENT) -> dict[str, str]:
    """``faq/<id>`` -> the entry's kind (faq, rumor, referral), from the content files."""
    return {e.intent: e.kind for e in all_entries(load_content(content_dir)) if not e.sensitive}


def rumor_related(content_dir: Path = CONTENT) -> dict[str, str]:
    """A rumor's ``faq/<id>`` -> its ``related`` entry's (what answers the topic without a verdict)."""
    return {
        e.intent: f"faq/{related}"
        for e in all_entries(load_content(content_dir))
        if e.kind == "rumor" and (related := getattr(e, "related", ""))
    }


def outcome(intent: str, kinds: Mapping[str, str]) -> str:
    """What the citizen gets for a full intent (``faq/<id>``, ``ask_alerts``, ...)."""
    if intent.startswith(SENSITIVE_PREFIX):
        return LIFELINE
    if intent in DECLINE_INTENTS:
        return DECLINE
    if intent in LOOKUP_INTENTS:
        return LOOKUP
    if intent.startswith("faq/"):
        return {"rumor": VERDICT, "referral": REFERRAL}.get(kinds.get(intent, "faq"), FACT)
    return OTHER


def lifeline_reply(intent: str) -> str:
    """The lifeline reply an intent gets; "" for an intent that gets none."""
    if not intent.startswith(SENSITIVE_PREFIX):
        return ""
    return LIFELINE_REPLY.get(intent, intent)


RETRIEVAL_INTENTS = (*RETRIEVAL, LIVE_ROUTED)


DOMAIN_GATE = "domain_gate"  # the DomainGate's report in the parse (bot.nlp.domain_gate.OUTPUT)


def answer(parse: dict[str, Any]) -> str:
    """The full intent (``faq/<id>`` for any FAQ, rumor or referral answer, routed or not)."""
    if str((parse.get("intent") or {}).get("name") or "") == LIVE_ROUTED:
        response = _selector_prediction(parse, LIVE_ROUTED).get("response") or {}
        return str(response.get("intent_response_key") or LIVE_ROUTED)
    return full_intent(parse)


def selector_pick(parse: dict[str, Any]) -> str:
    """The answer selector's own choice (``faq/<id>``), whatever the intent classifier and gates said.

    The DomainGate may replace a rumor the message is not about with its related FAQ; its report
    keeps the selector's pick.
    """
    response = _selector_prediction(parse, RETRIEVAL[0]).get("response") or {}
    replaced = (parse.get(DOMAIN_GATE) or {}).get("not_about_claim")
    return str(replaced or response.get("intent_response_key") or "")


# ---- evaluation sets --------------------------------------------------------------------------


@dataclass(frozen=True)
class EvalSet:
    key: str  # short name: measure keys, the misses file
    title: str  # what the table calls it
    role: str  # ANSWERS, OWN_OUT_OF_SCOPE, CRISIS or CLINC_OOS
    examples: tuple[tuple[str, str], ...]  # (text, wanted intent); CLINC's are labelled out_of_scope


def nlu_set(key: str, title: str, role: str, paths: Iterable[Path]) -> EvalSet | None:
    """A set read from Rasa NLU YAML files; None when none of them exists (not written yet)."""
    found = [path for path in paths if path.exists()]
    if not found:
        return None
    return EvalSet(key, title, role, tuple(read_examples(found)))


# The project's own sets: (key, title, role, files). Keys are what tests/test_rasa.py's floors name.
# validation_v1/ is the first blind set (2026-12-05), retired the same day: the briefs for new training
# data had been written after seeing its misses, so it is validation data now (tuning allowed).
# validation_v2/ (2026-12-07) was written from the answers alone once the older validation sets had
# stopped predicting the blind set (training data had been written from their misses): no training
# data is written from it.
def project_set_files(nlu_dir: Path = NLU_TESTS) -> list[tuple[str, str, str, list[Path]]]:
    blind, retired, fresh = nlu_dir / "blind", nlu_dir / "validation_v1", nlu_dir / "validation_v2"
    return [
        ("blind", "blind/answers.yml", ANSWERS, [blind / "answers.yml"]),
        ("validation", "validation: holdout_*.yml", ANSWERS, sorted(nlu_dir.glob("holdout_*.yml"))),
        ("validation_v1", "validation: validation_v1/answers.yml", ANSWERS, [retired / "answers.yml"]),
        ("validation_v2", "validation: validation_v2/answers.yml", ANSWERS, [fresh / "answers.yml"]),
        ("own_oos", "blind/out_of_scope.yml", OWN_OUT_OF_SCOPE, [blind / "out_of_scope.yml"]),
        ("own_oos_v1", "validation: validation_v1/out_of_scope.yml", OWN_OUT_OF_SCOPE,
         [retired / "out_of_scope.yml"]),
        ("own_oos_v2", "validation: validation_v2/out_of_scope.yml", OWN_OUT_OF_SCOPE,
         [fresh / "out_of_scope.yml"]),
        *(
            (name, f"{name}.yml", CRISIS, [nlu_dir / f"{name}.yml"])
            for name in ("sensitive_paraphrases", "sensitive_tuning", "sensitive_blind")
        ),
        ("blind_crisis", "blind/crisis.yml", CRISIS, [blind / "crisis.yml"]),
        ("crisis_v1", "validation: validation_v1/crisis.yml", CRISIS, [retired / "crisis.yml"]),
        ("crisis_v2", "validation: validation_v2/crisis.yml", CRISIS, [fresh / "crisis.yml"]),
        *spanish_set_files(nlu_dir),
    ]  # fmt: skip


# Spanish (issue #19): es/blind/ frozen for reporting, es/validation/ for choosing; sensitive_es.yml
# is the crisis set the Spanish keyword net was written against (recall 100% required).
def spanish_set_files(nlu_dir: Path = NLU_TESTS) -> list[tuple[str, str, str, list[Path]]]:
    blind, validation = nlu_dir / "es" / "blind", nlu_dir / "es" / "validation"
    fresh = nlu_dir / "es" / "validation_v2"
    return [
        ("es_blind", "es/blind/answers.yml", ANSWERS, [blind / "answers.yml"]),
        ("es_validation", "validation: es/validation/answers.yml", ANSWERS, [validation / "answers.yml"]),
        ("es_validation_v2", "validation: es/validation_v2/answers.yml", ANSWERS, [fresh / "answers.yml"]),
        ("es_oos", "es/blind/out_of_scope.yml", OWN_OUT_OF_SCOPE, [blind / "out_of_scope.yml"]),
        ("es_oos_validation", "validation: es/validation/out_of_scope.yml", OWN_OUT_OF_SCOPE,
         [validation / "out_of_scope.yml"]),
        ("es_oos_validation_v2", "validation: es/validation_v2/out_of_scope.yml", OWN_OUT_OF_SCOPE,
         [fresh / "out_of_scope.yml"]),
        ("sensitive_es", "sensitive_es.yml", CRISIS, [nlu_dir / "sensitive_es.yml"]),
        ("es_crisis", "es/blind/crisis.yml", CRISIS, [blind / "crisis.yml"]),
        ("es_crisis_validation", "validation: es/validation/crisis.yml", CRISIS, [validation / "crisis.yml"]),
        ("es_crisis_validation_v2", "validation: es/validation_v2/crisis.yml", CRISIS,
         [fresh / "crisis.yml"]),
    ]  # fmt: skip


def project_sets(nlu_dir: Path = NLU_TESTS, keys: Iterable[str] | None = None) -> list[EvalSet]:
    """The project's evaluation sets that exist (all of them, or those named in ``keys``)."""
    wanted = set(keys) if keys is not None else None
    found = [
        nlu_set(key, title, role, paths)
        for key, title, role, paths in project_set_files(nlu_dir)
        if wanted is None or key in wanted
    ]
    return [s for s in found if s is not None]


def interleaved(queries: Sequence[Any]) -> list[str]:
    """A CLINC domain's query texts, taking each of its intents in turn (a varied sample from the top)."""
    by_intent: dict[str, list[str]] = {}
    for item in queries:
        text, intent = (item["text"], item.get("clinc_intent", "")) if isinstance(item, dict) else (item, "")
        by_intent.setdefault(str(intent), []).append(str(text))
    rows: list[list[str]] = [[] for _ in range(max((len(v) for v in by_intent.values()), default=0))]
    for texts in by_intent.values():
        for index, text in enumerate(texts):
            rows[index].append(text)
    return [text for row in rows for text in row]


def clinc_sets(
    directory: Path = CLINC,
    keys: Iterable[str] = ("oos_test", "other_domains"),
    per_domain: int | None = None,
) -> list[EvalSet]:
    """CLINC150 sets: ``oos_val`` (tuning only), ``oos_test``, ``other_domains`` (``per_domain`` of each)."""
    wanted = set(keys)
    found = []
    if wanted & {"oos_val", "oos_test"}:
        oos = json.loads((directory / "oos.json").read_text(encoding="utf-8"))
        for key in ("oos_val", "oos_test"):
            if key in wanted:
                title = f"CLINC {key} ({'tuning only' if key == 'oos_val' else 'never tuned on'})"
                found.append(EvalSet(key, title, CLINC_OOS, tuple((q, "out_of_scope") for q in oos[key])))
    if "other_domains" in wanted:
        domains = json.loads((directory / "other_domains_test.json").read_text(encoding="utf-8"))
        texts = [t for queries in domains.values() for t in interleaved(queries)[:per_domain]]
        sample = "all" if per_domain is None else f"{per_domain} per domain"
        title = f"CLINC other_domains_test ({len(domains)} domains, {sample})"
        found.append(EvalSet("other_domains", title, CLINC_OOS, tuple((t, "out_of_scope") for t in texts)))
    return found


# ---- parsing ------------------------------------------------------------------------------------


class Parses(Protocol):
    def parse(self, texts: list[str]) -> list[dict[str, Any]]: ...


@dataclass(frozen=True)
class Row:
    text: str
    wanted: str
    got: str  # the full intent: faq/<id>, ask_alerts, nlu_fallback, sensitive_...
    outcome: str
    pick: str  # the answer selector's own pick


@dataclass(frozen=True)
class Parsed:
    set: EvalSet
    rows: tuple[Row, ...]
    parses: tuple[dict[str, Any], ...]


def parse_sets(parser: Parses, sets: Sequence[EvalSet], kinds: Mapping[str, str]) -> list[Parsed]:
    """Every set's messages parsed in one batched call, then split back into their sets."""
    texts = [text for s in sets for text, _ in s.examples]
    parses = parser.parse(texts)
    found, start = [], 0
    for s in sets:
        mine = parses[start : start + len(s.examples)]
        start += len(s.examples)
        rows = tuple(
            Row(text, wanted, answer(p), outcome(answer(p), kinds), selector_pick(p))
            for (text, wanted), p in zip(s.examples, mine, strict=True)
        )
        found.append(Parsed(s, rows, tuple(mine)))
    return found


# ---- measures -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """The issue's target for a measure: at least ``bound`` (a floor) or at most (a ceiling)."""

    bound: float
    at_least: bool

    def met(self, value: float) -> bool:
        return value >= self.bound if self.at_least else value <= self.bound


# The targets, by measure key ("<measure>/<set>").
TARGETS = {
    "intent_f1/blind": Target(0.95, True),
    "exact_answer/blind": Target(0.95, True),
    "answered/oos_test": Target(0.03, False),
    "verdicts/oos_test": Target(0.0, False),
    "lifelines/oos_test": Target(0.01, False),
    "answered/other_domains": Target(0.03, False),
    "verdicts/other_domains": Target(0.0, False),
    "lifelines/other_domains": Target(0.01, False),
    "declined/own_oos": Target(0.95, True),
    "verdicts/own_oos": Target(0.0, False),
    "lifelines/own_oos": Target(0.01, False),
    "recall/sensitive_paraphrases": Target(1.0, True),
    "recall/sensitive_tuning": Target(1.0, True),
    "recall/sensitive_blind": Target(0.97, True),
    "recall/blind_crisis": Target(0.97, True),
    # Spanish (#19)
    "intent_f1/es_blind": Target(0.93, True),
    "exact_answer/es_blind": Target(0.93, True),
    "declined/es_oos": Target(0.90, True),
    "recall/sensitive_es": Target(1.0, True),
}

# What each measure is called in the table, and whether more is better.
MEASURES = {
    "intent_f1": ("intent F1 (every FAQ, rumor and referral is `faq`)", True),
    "exact_answer": ("exact answer: the right `faq/<id>` for FAQ, rumor and referral questions", True),
    "paraphrase": ("FAQ paraphrase accuracy (the answer selector's own pick)", True),
    "false_lifeline": ("false lifeline: a lifeline reply to an in-scope question", False),
    "answered": ("answered (an agency answer: FAQ, rumor verdict, lookup or lifeline)", False),
    "verdicts": ("rumor verdicts given", False),
    "lifelines": ("lifeline replies", False),
    "declined": ("declined (a decline, a fallback or a referral)", True),
    "recall": ("crisis recall (the lifeline reply given)", True),
    "false_alarm": ("false lifeline on the ordinary / about-the-topic messages", False),
}


@dataclass(frozen=True)
class Measure:
    key: str  # "<measure>/<set>"
    set_title: str
    hits: int
    n: int
    value: float  # a rate, or an F1 (``hits`` is then the correct count)

    @property
    def name(self) -> str:
        return self.key.split("/", 1)[0]

    @property
    def set_key(self) -> str:
        return self.key.split("/", 1)[1]

    @property
    def label(self) -> str:
        return MEASURES[self.name][0]

    @property
    def higher_is_better(self) -> bool:
        return MEASURES[self.name][1]

    @property
    def target(self) -> Target | None:
        return TARGETS.get(self.key)

    @property
    def shown(self) -> str:
        if self.name == "intent_f1":
            return f"{self.value:.3f}"
        if self.name == "verdicts":
            return f"{self.hits} of {self.n}"
        return f"{self.value:.1%} ({self.hits}/{self.n})"


def intent_f1(parsed: Parsed) -> Measure:
    """Weighted F1 of the intent as `rasa test nlu` counts it (bot.nlp.evaluate.Report.intent_f1).

    Every FAQ, rumor and referral answer is ``faq``; an out-of-scope message that falls back counts
    as declined (bot.nlp.evaluate.EQUIVALENT). ``hits`` is the number of right intents.
    """
    truth = [base_intent(r.wanted) for r in parsed.rows]
    got = [base_intent(r.got) for r in parsed.rows]
    got = [want if (want, g) in EQUIVALENT else g for want, g in zip(truth, got, strict=True)]
    weighted, _ = f1_scores(truth, got)
    hits = sum(a == b for a, b in zip(truth, got, strict=True))
    return Measure(f"intent_f1/{parsed.set.key}", parsed.set.title, hits, len(truth), weighted)


def measures(parsed: Parsed) -> list[Measure]:
    """The measures of one parsed set (those its messages allow: no recall without crisis messages)."""
    s, rows = parsed.set, parsed.rows
    found: list[Measure] = []

    def rate(name: str, among: Sequence[Row], hit: Callable[[Row], bool]) -> None:
        if among:
            hits = sum(hit(r) for r in among)
            found.append(Measure(f"{name}/{s.key}", s.title, hits, len(among), hits / len(among)))

    if s.role == ANSWERS:
        found.append(intent_f1(parsed))
        answers = [r for r in rows if r.wanted.startswith("faq/")]
        rate("exact_answer", answers, lambda r: r.got == r.wanted)
        rate("paraphrase", answers, lambda r: r.pick == r.wanted)
        in_scope = [r for r in rows if not lifeline_reply(r.wanted) and r.wanted not in DECLINE_INTENTS]
        rate("false_lifeline", in_scope, lambda r: r.outcome == LIFELINE)
        rate("declined", [r for r in rows if r.wanted in DECLINE_INTENTS], lambda r: r.outcome in DECLINES)
    elif s.role in (OWN_OUT_OF_SCOPE, CLINC_OOS):
        rate("answered", rows, lambda r: r.outcome in AGENCY_ANSWERS)
        rate("verdicts", rows, lambda r: r.outcome == VERDICT)
        rate("lifelines", rows, lambda r: r.outcome == LIFELINE)
        if s.role == OWN_OUT_OF_SCOPE:
            rate("declined", rows, lambda r: r.outcome in DECLINES)
    elif s.role == CRISIS:
        crisis = [r for r in rows if lifeline_reply(r.wanted)]
        rate("recall", crisis, lambda r: lifeline_reply(r.got) == lifeline_reply(r.wanted))
        rate(
            "false_alarm", [r for r in rows if not lifeline_reply(r.wanted)], lambda r: r.outcome == LIFELINE
        )
    return found


def all_measures(parsed: Iterable[Parsed]) -> dict[str, Measure]:
    return {m.key: m for p in parsed for m in measures(p)}


# ---- floors -------------------------------------------------------------------------------------

MARGIN = 0.01  # one point, or one message of a smaller set: one message must not decide a build
# Bounds without a margin: a rumor verdict to a query outside city services is a city "fact" nobody
# asked for, and the trigger patterns were written from these two sets, so each message counts.
NO_MARGIN = ("verdicts/", "recall/sensitive_paraphrases", "recall/sensitive_tuning")


def margin(measure: Measure) -> float:
    """The larger of 1 point and one message of the set; none for the measures in NO_MARGIN."""
    if measure.key.startswith(NO_MARGIN):
        return 0.0
    return max(MARGIN, 1 / measure.n)


def floor_by_rule(measure: Measure) -> float:
    """The floor (or ceiling) the margin rule gives a measured figure.

    Floor: the figure less its `margin`, rounded down to the hundredth; ceiling: plus the margin,
    rounded up; a figure without a margin is its own bound. Never stricter than the issue's target:
    a figure better than its target by more than the margin gets the target itself as its bound
    (measured 0.962 -> floor 0.95 for a 0.95 target).
    """
    value, target, moved = measure.value, measure.target, margin(measure)
    if measure.higher_is_better:
        floor = math.floor(round((value - moved) * 100, 6)) / 100 if moved else value
        return max(0.0, min(floor, target.bound) if target else floor)
    ceiling = math.ceil(round((value + moved) * 100, 6)) / 100 if moved else value
    return min(1.0, max(ceiling, target.bound) if target else ceiling)


# ---- misses -------------------------------------------------------------------------------------


def miss_kind(row: Row, role: str) -> str:
    """Why a row is a miss, for the review file; "" when it is not one."""
    if lifeline_reply(row.wanted):
        return "" if lifeline_reply(row.got) == lifeline_reply(row.wanted) else "missed lifeline"
    if row.outcome == LIFELINE:
        return "false lifeline"
    if role == CRISIS:
        return ""  # ordinary messages of a crisis set: only a lifeline is wrong for them
    if role == CLINC_OOS or row.wanted in DECLINE_INTENTS:
        if row.outcome in AGENCY_ANSWERS:
            return f"answered out of scope ({row.outcome})"
        if role != CLINC_OOS and row.outcome not in DECLINES:
            return "not declined"
        return ""
    if row.got == row.wanted or (row.wanted, row.got) in EQUIVALENT:
        return ""
    if row.wanted.startswith("faq/") and row.got.startswith("faq/"):
        return "wrong answer"
    if row.outcome in DECLINES:
        return "declined"
    return "wrong intent"


def misses(parsed: Iterable[Parsed]) -> list[tuple[str, str, str, str, str]]:
    """(set, text, wanted, got, kind of miss) for every miss."""
    return [
        (p.set.key, r.text, r.wanted, r.got, kind)
        for p in parsed
        for r in p.rows
        if (kind := miss_kind(r, p.set.role))
    ]


# ---- the thresholds in config.yml and their trade-off ----------------------------------------------

# What the DomainGate may decline when config.yml does not say (its own default).
GATED_INTENTS = ANSWER_INTENTS


def pipeline_config(config: Path = CONFIG) -> dict[str, dict[str, Any]]:
    """config.yml's pipeline components by their class name (``DomainGate``, ``FallbackClassifier``...)."""
    pipeline = (yaml.safe_load(config.read_text(encoding="utf-8")) or {}).get("pipeline") or []
    return {str(c["name"]).rsplit(".", 1)[-1]: c for c in pipeline}


def config_thresholds(config: Path = CONFIG) -> dict[str, dict[str, float]]:
    """Every threshold set in config.yml (a setting named ``*threshold`` with a value), by component."""
    found: dict[str, dict[str, float]] = {}
    for name, component in pipeline_config(config).items():
        values = {k: float(v) for k, v in component.items() if k.endswith("threshold") and v is not None}
        if values:
            found[name] = values
    return found


@dataclass(frozen=True)
class Gates:
    """The thresholds that turn an unsure or far-out prediction into a decline (None: not in the pipeline)."""

    fallback: float = 0.0  # FallbackClassifier: the top intent's confidence
    ambiguity: float = 0.0  # FallbackClassifier: the gap between the top two intents
    retrieval: float = 0.0  # RetrievalGate: the answer selector's confidence in a FAQ or rumor answer
    domain: float | None = None  # DomainGate: how far out the message lies (its report's "score")
    claim: float | None = None  # DomainGate: a rumor's verdict only this close to its claim
    gated: tuple[str, ...] = GATED_INTENTS  # the intents the DomainGate may decline
    # RetrievalGate: a language's own threshold (language_thresholds)
    retrieval_by_language: Mapping[str, float] = field(default_factory=dict)
    # RetrievalGate: a language's clear lead over the runner-up (language_leads: {ratio, floor})
    lead_by_language: Mapping[str, Mapping[str, float]] = field(default_factory=dict)

    @classmethod
    def from_config(cls, config: Path = CONFIG) -> Gates:
        pipeline = pipeline_config(config)
        fallback = pipeline.get("FallbackClassifier", {})
        retrieval = pipeline.get("RetrievalGate", {})
        domain = pipeline.get("DomainGate", {})

        def number(component: dict[str, Any], key: str) -> float | None:
            return None if component.get(key) is None else float(component[key])

        return cls(
            fallback=number(fallback, "threshold") or 0.0,
            ambiguity=number(fallback, "ambiguity_threshold") or 0.0,
            retrieval=number(retrieval, "threshold") or 0.0,
            retrieval_by_language={
                str(k): float(v) for k, v in (retrieval.get("language_thresholds") or {}).items()
            },
            lead_by_language={
                str(k): {str(n): float(x) for n, x in v.items()}
                for k, v in (retrieval.get("language_leads") or {}).items()
            },
            domain=number(domain, "threshold"),
            claim=number(domain, "claim_threshold"),
            gated=tuple(domain.get("gated_intents") or GATED_INTENTS),
        )


def _raw_ranking(parse: dict[str, Any]) -> list[dict[str, Any]]:
    """The intent classifier's own ranking: without the fallbacks and declines the gates put first.

    A gate's decline (``out_of_scope``, confidence exactly 1) replaces the classifier's entry for it,
    and it only overrides another top intent, so what follows it is the classifier's ranking.
    """
    ranking = [r for r in parse.get("intent_ranking") or [] if r.get("name") != "nlu_fallback"]
    if ranking and ranking[0].get("name") == "out_of_scope" and ranking[0].get("confidence") == 1.0:
        ranking = ranking[1:]
    return ranking


def gated(parse: dict[str, Any], gates: Gates, related: Mapping[str, str] | None = None) -> str:
    """The full intent the pipeline would give with ``gates``, from the scores the parse reports.

    In pipeline order: FallbackClassifier, RetrievalGate, DomainGate (distance, then a rumor's
    claim: its ``related`` answer, else a fallback), SafetyGuard. A lifeline stays a lifeline: the
    SafetyGuard runs last and none of these thresholds moves it; a lifeline the classifier picked but
    the SafetyGuard held back is a decline. A message the model declined before the claim check has
    no claim similarity: its rumor keeps the verdict.
    """
    final = answer(parse)
    if final.startswith(SENSITIVE_PREFIX):
        return final
    ranking = _raw_ranking(parse)
    if not ranking:
        return final
    top = float(ranking[0].get("confidence") or 0.0)
    second = float(ranking[1].get("confidence") or 0.0) if len(ranking) > 1 else 0.0
    if top < gates.fallback or top - second < gates.ambiguity:
        return "nlu_fallback"
    name = str(ranking[0].get("name") or "")
    prediction = _selector_prediction(parse, name)
    response = prediction.get("response") or {}
    language = str(parse.get("language") or "")
    retrieval = gates.retrieval_by_language.get(language, gates.retrieval)
    lead = gates.lead_by_language.get(language)
    if name in RETRIEVAL_INTENTS and not sure_enough(prediction, retrieval, lead):
        return "nlu_fallback"
    if name.startswith(SENSITIVE_PREFIX):
        return "out_of_scope"
    report = parse.get(DOMAIN_GATE) or {}
    if gates.domain is not None and name in gates.gated and float(report.get("score", 0.0)) > gates.domain:
        return "out_of_scope"
    if name not in RETRIEVAL_INTENTS:
        return name
    pick = str(report.get("not_about_claim") or response.get("intent_response_key") or name)
    similarity = report.get("claim_similarity")
    if gates.claim is not None and similarity is not None and float(similarity) < gates.claim:
        return (related or {}).get(pick) or "nlu_fallback"
    return pick


@dataclass(frozen=True)
class Point:
    threshold: float | None  # None: the gate off
    oos_answered: float  # share of the out-of-scope tuning queries given an agency answer
    oos_verdicts: float  # share of them given a rumor verdict
    accuracy: float  # share of the in-scope validation messages given the right intent and answer


def trade_off(
    oos: Sequence[dict[str, Any]],
    validation: Sequence[tuple[tuple[str, str], dict[str, Any]]],
    kinds: Mapping[str, str],
    gates: Gates,
    name: str,
    values: Iterable[float | None],
    related: Mapping[str, str] | None = None,
) -> list[Point]:
    """The out-of-scope answers against in-scope accuracy as one threshold of ``gates`` moves."""
    in_scope = [(want, p) for (_, want), p in validation if want not in DECLINE_INTENTS]
    points = []
    for value in values:
        change: dict[str, Any] = {name: value}
        moved = replace(gates, **change)
        got = [outcome(gated(p, moved, related), kinds) for p in oos]
        right = sum(gated(p, moved, related) == want for want, p in in_scope) / len(in_scope)
        answered = sum(o in AGENCY_ANSWERS for o in got) / len(oos)
        points.append(Point(value, answered, got.count(VERDICT) / len(oos), right))
    return points


def agreement(
    parses: Iterable[dict[str, Any]], gates: Gates, related: Mapping[str, str] | None = None
) -> float:
    """How often `gated` with the configured gates reproduces the model's own answer (should be 1)."""
    pairs = [(gated(p, gates, related), answer(p)) for p in parses]
    return sum(a == b for a, b in pairs) / len(pairs) if pairs else 1.0
