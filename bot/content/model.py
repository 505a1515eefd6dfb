"""The content model: FAQ, rumor and referral entries that agency staff own.

Content lives in ``data/content/<topic>.yml``; everything Rasa trains on or says
about it is generated from these files, so this module is the one reader.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any, cast

import yaml

CONTENT_DIR = Path("data/content")
SETTINGS_FILE = "_settings.yml"
ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
# faq: the city's answer; rumor: a claim going around, with its verdict; referral: a question
# for another government, answered with a pointer to the agency that handles it.
KINDS = ("faq", "rumor", "referral")
VERDICTS = ("true", "false", "misleading")
# A message test's arms: each variant's own keys (docs/experiments.md).
VARIANT_KEYS = ("id", "answer", "short_answer", "weight")
MIN_VARIANTS = 2
# An entry's text in another language (``translations: {es: {...}}``), and what it was made from.
TRANSLATION_KEYS = ("questions", "answer", "short_answer", "claim", "agency", "translated_from")
TRANSLATED_FIELDS = ("answer", "short_answer", "claim", "agency")  # the English a translation follows
LANGUAGE_CODE = re.compile(r"^[a-z]{2}$")


class ContentError(ValueError):
    """A content file that cannot be used, with the place a person can open."""

    def __init__(self, path: Path | str, message: str, line: int | None = None) -> None:
        self.path = str(path)
        self.line = line
        where = f"{path}:{line}" if line else str(path)
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class Variant:
    """One wording of an entry under a message test: served instead of the entry's own answer to
    ``weight`` shares of conversations. ``line`` (for error messages) is not part of its value."""

    id: str
    answer: str
    short_answer: str = ""
    weight: int = 1
    line: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Translation:
    """An entry in another language: its own training questions, answer, short answer and, for a
    rumor or a referral, claim or agency. ``translated_from`` is the digest of the English it was
    made from (`english_digest`), so `content check` can say which translations fell behind."""

    language: str
    questions: tuple[str, ...]
    answer: str
    short_answer: str = ""
    claim: str = ""
    agency: str = ""
    translated_from: str = ""
    line: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Entry:
    """One FAQ, rumor or referral, as staff wrote it.

    ``claim``, ``verdict`` and ``related`` (the id of the entry that answers the topic
    without a verdict) are a rumor's; ``agency`` (who handles it) is a referral's.
    ``overridden_by`` names the alert events (``alert_events`` in data/agency.yml)
    that contradict the answer while they are in effect. ``variants``, when present, are the
    arms of a message test: all of them are served (by weight) instead of ``answer``.
    ``retired`` entries are kept (with their history) but never trained on or answered;
    ``valid_from`` / ``valid_until`` (ISO dates, both days included, in the agency's time zone)
    bound when the entry is answered at all (seasonal hours, a temporary crisis answer).
    """

    id: str
    kind: str
    questions: tuple[str, ...]
    answer: str
    source: str
    department: str
    last_reviewed: str
    short_answer: str = ""
    claim: str = ""
    verdict: str = ""
    related: str = ""
    agency: str = ""
    overridden_by: tuple[str, ...] = ()
    sensitive: bool = False
    variants: tuple[Variant, ...] = ()
    retired: bool = False
    valid_from: str = ""
    valid_until: str = ""
    translations: tuple[Translation, ...] = ()
    topic: str = ""
    path: str = ""
    line: int = 0

    @property
    def intent(self) -> str:
        """The Rasa intent this entry is trained and predicted as, also the answer's response key.

        FAQs, rumors and referrals share the retrieval intent ``faq``: one answer
        selector picks the answer among all of them, so the intent classifier never has
        to tell "how do I pay my water bill" from "are they shutting off water Friday".
        """
        if self.sensitive:
            return f"sensitive_{self.id}"
        return f"faq/{self.id}"

    @property
    def response(self) -> str:
        return f"utter_{self.intent}"

    def translation(self, language: str) -> Translation | None:
        """The entry's text in `language`, if it has been translated."""
        return next((t for t in self.translations if t.language == language), None)

    def answerable_on(self, day: date) -> bool:
        """Whether citizens get this answer on ``day``: not retired, and inside its validity window."""
        if self.retired:
            return False
        start, end = parse_day(self.valid_from), parse_day(self.valid_until)
        return (start is None or start <= day) and (end is None or day <= end)


def english_digest(entry: Entry) -> str:
    """A short digest of the English a translation follows: it changes when any of that text does."""
    text = "\x1f".join(getattr(entry, name) for name in TRANSLATED_FIELDS)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:10]


def in_language(entry: Entry, language: str) -> Entry:
    """The entry as a citizen reading `language` meets it (the English entry when not translated).

    A message test's variants are English wordings: in another language the translation is said.
    """
    found = entry.translation(language)
    if found is None:
        return entry
    return replace(
        entry,
        questions=found.questions,
        answer=found.answer,
        short_answer=found.short_answer,
        claim=found.claim or entry.claim,
        agency=found.agency or entry.agency,
        variants=(),
        translations=(),
    )


def parse_day(text: str) -> date | None:
    """An ISO date (``2026-12-24``) as written in a content file, else None (empty or not a date)."""
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


@dataclass(frozen=True)
class Topic:
    """A content file: one topic area with its entries."""

    id: str
    title: str
    path: Path
    entries: tuple[Entry, ...]
    titles: Mapping[str, str] = field(default_factory=dict)  # the title in other languages, by code

    def title_in(self, language: str) -> str:
        return self.titles.get(language) or self.title


@dataclass(frozen=True)
class MenuService:
    """A live service the "what can you do?" menu offers: its button starts ``intent``."""

    title: str
    intent: str

    @property
    def payload(self) -> str:
        return f"/{self.intent}"


# The entity a button after an answer may carry (`after: {pothole: pothole}`): the report form reads
# the kind of problem from it (actions/forms/report_issue.py), so it does not ask again.
SERVICE_ENTITY = "service"


@dataclass(frozen=True)
class AnswerButton:
    """A button that ends the answers of the entries in ``after``: it starts ``intent``, the task
    those answers describe ("Report it through 311 or this chat"), so the citizen need not ask again.

    ``after`` maps each entry id to the kind of problem (a ``service``) the task starts with, "" for
    none. ``titled`` is False in a language whose settings give no title (the English one stands
    in); ``line`` is where the button (in a language, its titles) is written, for messages only.
    """

    title: str
    intent: str
    after: Mapping[str, str] = field(default_factory=dict)
    titled: bool = field(default=True, compare=False)
    line: int = field(default=0, compare=False)

    def payload(self, entry_id: str) -> str:
        """Rasa's intent trigger, with the entry's service as an entity when it has one:
        ``/report_problem{"service":"pothole"}`` (written like the menu's topic payloads)."""
        service = self.after.get(entry_id, "")
        if not service:
            return f"/{self.intent}"
        entities = json.dumps({SERVICE_ENTITY: service}, ensure_ascii=False, separators=(",", ":"))
        return f"/{self.intent}{entities}"


@dataclass(frozen=True)
class RenderSettings:
    """How entries become replies; kept in ``_settings.yml`` so staff can reword it.

    ``services`` are the live services at the top of the menu, most used first (a channel that
    shows fewer buttons keeps the first ones). ``answer_buttons`` end the answers that describe a
    task the chat does, with a button that starts it.
    """

    sms_limit: int
    templates: dict[str, str]
    verdicts: dict[str, str]
    extra: dict[str, Any] = field(default_factory=dict)
    services: tuple[MenuService, ...] = ()
    answer_buttons: tuple[AnswerButton, ...] = ()
    languages: Mapping[str, RenderSettings] = field(default_factory=dict)  # other languages, by code

    def for_language(self, language: str) -> RenderSettings:
        """The settings in `language` (templates, verdicts and button titles; English where missing)."""
        return self.languages.get(language, self)

    def buttons_after(self, entry_id: str) -> list[AnswerButton]:
        """The buttons that end `entry_id`'s answer, in the order the settings list them."""
        return [button for button in self.answer_buttons if entry_id in button.after]


# libyaml's parser when the wheel has it (it does on the platforms we ship): the content's YAML is
# read on every check and every studio save and publish, about ten times faster than pure Python.
_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _LineLoader(_SafeLoader):  # type: ignore[valid-type,misc]
    """A YAML loader that remembers the line of every mapping, for error messages."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict[str, Any]:
    mapping = cast(dict[str, Any], loader.construct_mapping(node, deep=True))
    mapping["__line__"] = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
# Dates stay strings: staff write 2026-09-01 and expect to read it back unchanged.
_LineLoader.yaml_implicit_resolvers = {
    key: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def read_yaml_with_lines(path: Path, text: str | None = None) -> Any:
    """The YAML of `path` (or `text`, read from it already), every mapping with its line number."""
    try:
        source = path.read_text(encoding="utf-8") if text is None else text
        return yaml.load(source, Loader=_LineLoader)  # noqa: S506
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ContentError(path, f"not valid YAML: {exc}", mark.line + 1 if mark else None) from exc


def _text(raw: dict[str, Any], key: str) -> str:
    value = raw.get(key)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).strip()


def parse_entry(raw: Any, path: Path, topic: str) -> Entry:
    """Turn one YAML mapping into an Entry, or say precisely what is wrong with it."""
    if not isinstance(raw, dict):
        raise ContentError(path, "each entry must be a mapping with id, kind, questions, ...")
    line = int(raw.get("__line__", 0))
    entry_id = _text(raw, "id")
    if not ID_PATTERN.match(entry_id):
        raise ContentError(path, f"id {entry_id!r} must be lowercase letters, digits and _", line)
    kind = _text(raw, "kind") or "faq"
    if kind not in KINDS:
        raise ContentError(path, f"{entry_id}: kind must be one of {', '.join(KINDS)}", line)
    questions = raw.get("questions") or []
    if not isinstance(questions, list) or not all(isinstance(q, (str, int, float)) for q in questions):
        raise ContentError(path, f"{entry_id}: questions must be a list of texts", line)
    verdict = _text(raw, "verdict").lower()
    if kind == "rumor" and verdict not in VERDICTS:
        raise ContentError(path, f"{entry_id}: a rumor needs verdict {' / '.join(VERDICTS)}", line)
    events = raw.get("overridden_by") or []
    if not isinstance(events, list) or not all(isinstance(e, str) and e.strip() for e in events):
        message = f"{entry_id}: overridden_by must be a list of alert event names, e.g. [Boil Water Notice]"
        raise ContentError(path, message, line)
    sensitive = bool(raw.get("sensitive", False))
    for key in ("valid_from", "valid_until"):
        if _text(raw, key) and parse_day(_text(raw, key)) is None:
            raise ContentError(path, f"{entry_id}: {key} must be a date written as 2026-12-24", line)
    variants = parse_variants(raw.get("variants"), path, entry_id, line)
    translations = parse_translations(raw.get("translations"), path, entry_id, line)
    problems = variant_problems(variants, kind, sensitive)
    if problems:
        where = next((at for at, _ in problems if at), variants[0].line or line)
        raise ContentError(path, f"{entry_id}: {'; '.join(m for _, m in problems)}", where)
    return Entry(
        id=entry_id,
        kind=kind,
        questions=tuple(str(q).strip() for q in questions if str(q).strip()),
        answer=_text(raw, "answer"),
        short_answer=_text(raw, "short_answer"),
        source=_text(raw, "source"),
        department=_text(raw, "department"),
        last_reviewed=_text(raw, "last_reviewed"),
        claim=_text(raw, "claim"),
        verdict=verdict,
        related=_text(raw, "related"),
        agency=_text(raw, "agency"),
        overridden_by=tuple(e.strip() for e in events),
        sensitive=sensitive,
        variants=variants,
        retired=bool(raw.get("retired", False)),
        valid_from=_text(raw, "valid_from"),
        valid_until=_text(raw, "valid_until"),
        translations=translations,
        topic=topic,
        path=str(path),
        line=line,
    )


def with_variant(entry: Entry, variant: Variant) -> Entry:
    """The entry as a citizen shown ``variant`` reads it: the variant's answer and short answer."""
    return replace(entry, answer=variant.answer, short_answer=variant.short_answer, variants=())


def variant_problems(variants: Sequence[Variant], kind: str, sensitive: bool) -> list[tuple[int, str]]:
    """What makes a set of variants unusable as a test: (the variant's line or 0, words staff can act on)."""
    if not variants:
        return []
    problems = []
    if sensitive:
        problems.append(
            (0, "variants: a crisis (sensitive) entry is never tested: its lifeline stays as written")
        )
    if kind not in KINDS:
        problems.append((0, f"variants: only {', '.join(KINDS)} entries can be tested"))
    if len(variants) < MIN_VARIANTS:
        problems.append((0, f"variants: a test needs at least {MIN_VARIANTS} variants (or none)"))
    seen: set[str] = set()
    for variant in variants:
        name = variant.id or "?"
        if not ID_PATTERN.match(variant.id):
            problems.append(
                (variant.line, f"variant id {variant.id!r} must be lowercase letters, digits and _")
            )
        elif variant.id in seen:
            problems.append((variant.line, f"variant id {variant.id!r} is used twice in this entry"))
        seen.add(variant.id)
        if not variant.answer:
            problems.append((variant.line, f"variant {name}: missing answer"))
        if variant.weight < 1:
            problems.append((variant.line, f"variant {name}: weight must be a whole number of 1 or more"))
    return problems


def parse_weight(value: Any) -> int:
    """A weight as written: a whole number (``2`` or ``"2"``), 1 when left out; anything else 0 (refused)."""
    if value is None:
        return 1
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = str(value).strip()
    return int(text) if not isinstance(value, bool) and text.isdigit() else 0


def parse_variants(raw: Any, path: Path, entry_id: str, line: int) -> tuple[Variant, ...]:
    """``variants:``: a list of ``{id, answer, short_answer, weight}`` (weight 1 when left out)."""
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(item, dict) for item in raw):
        message = f"{entry_id}: variants must be a list of {{id, answer, short_answer, weight}}"
        raise ContentError(path, message, line)
    variants = []
    for item in raw:
        where = int(item.get("__line__", line))
        unknown = [key for key in item if key not in VARIANT_KEYS and key != "__line__"]
        if unknown:
            message = f"{entry_id}: unknown key {unknown[0]!r} in a variant (use {', '.join(VARIANT_KEYS)})"
            raise ContentError(path, message, where)
        nested = [key for key in ("id", "answer", "short_answer") if isinstance(item.get(key), (list, dict))]
        if nested:
            raise ContentError(path, f"{entry_id}: variant {nested[0]} must be a text", where)
        variants.append(
            Variant(
                id=_text(item, "id"),
                answer=_text(item, "answer"),
                short_answer=_text(item, "short_answer"),
                weight=parse_weight(item.get("weight")),
                line=where,
            )
        )
    return tuple(variants)


def parse_translations(raw: Any, path: Path, entry_id: str, line: int) -> tuple[Translation, ...]:
    """``translations:``: a mapping of language code -> ``{questions, answer, short_answer, ...}``."""
    if raw is None:
        return ()
    example = "translations: {es: {questions: [...], answer: ...}}"
    if not isinstance(raw, dict):
        raise ContentError(path, f"{entry_id}: translations must be a mapping such as {example}", line)
    translations = []
    for code, item in raw.items():
        if code == "__line__":
            continue
        if not isinstance(code, str) or not LANGUAGE_CODE.match(code) or not isinstance(item, dict):
            raise ContentError(path, f"{entry_id}: translations must be a mapping such as {example}", line)
        translations.append(_parse_translation(code, item, path, entry_id))
    return tuple(translations)


def _parse_translation(code: str, item: dict[str, Any], path: Path, entry_id: str) -> Translation:
    where = int(item.get("__line__", 0))
    unknown = [key for key in item if key not in TRANSLATION_KEYS and key != "__line__"]
    if unknown:
        keys = ", ".join(TRANSLATION_KEYS)
        message = f"{entry_id}: unknown key {unknown[0]!r} in its {code} translation (use {keys})"
        raise ContentError(path, message, where)
    questions = item.get("questions") or []
    if not isinstance(questions, list) or not all(isinstance(q, (str, int, float)) for q in questions):
        raise ContentError(path, f"{entry_id}: the {code} questions must be a list of texts", where)
    nested = [key for key in TRANSLATION_KEYS[1:] if isinstance(item.get(key), (list, dict))]
    if nested:
        raise ContentError(path, f"{entry_id}: the {code} {nested[0]} must be a text", where)
    return Translation(
        language=code,
        questions=tuple(str(q).strip() for q in questions if str(q).strip()),
        answer=_text(item, "answer"),
        short_answer=_text(item, "short_answer"),
        claim=_text(item, "claim"),
        agency=_text(item, "agency"),
        translated_from=_text(item, "translated_from"),
        line=where,
    )


# path -> (the file's sha256, its topic): a file read again unchanged costs a read and a hash, not
# a YAML parse (0.3 s for the whole content, once per inbox page and per decision otherwise).
_LOADED: dict[str, tuple[bytes, Topic]] = {}


def load_topic(path: Path) -> Topic:
    """The topic file at `path`, parsed once per version of its bytes (topics are immutable)."""
    data = path.read_bytes()
    digest = hashlib.sha256(data).digest()
    cached = _LOADED.get(str(path))
    if cached is not None and cached[0] == digest:
        return cached[1]
    topic = _parse_topic(path, data.decode("utf-8"))
    _LOADED[str(path)] = (digest, topic)
    return topic


def _parse_topic(path: Path, text: str) -> Topic:
    raw = read_yaml_with_lines(path, text)
    if not isinstance(raw, dict) or not isinstance(raw.get("entries"), list):
        raise ContentError(path, "a content file needs a list under 'entries:'")
    meta = raw.get("topic") or {}
    topic_id = str(meta.get("id") or path.stem)
    title = str(meta.get("title") or topic_id.replace("_", " ").capitalize())
    entries = tuple(parse_entry(item, path, topic_id) for item in raw["entries"])
    titles = {t.language: t.answer for t in parse_topic_titles(meta.get("translations"), path)}
    return Topic(id=topic_id, title=title, path=path, entries=entries, titles=titles)


def parse_topic_titles(raw: Any, path: Path) -> list[Translation]:
    """A topic's ``translations: {es: {title: ...}}`` (each title kept as a Translation's text)."""
    if raw is None:
        return []
    example = "translations: {es: {title: Basura y reciclaje}}"
    items = raw.items() if isinstance(raw, dict) else []
    found = [
        Translation(language=code, questions=(), answer=str(item.get("title") or "").strip())
        for code, item in items
        if code != "__line__" and isinstance(item, dict)
    ]
    if not isinstance(raw, dict) or any(not LANGUAGE_CODE.match(t.language) or not t.answer for t in found):
        raise ContentError(path, f"topic: translations must be a mapping such as {example}")
    return found


def topic_files(content_dir: Path = CONTENT_DIR) -> list[Path]:
    """Every topic file, in a stable order; files starting with ``_`` are settings."""
    return sorted(p for p in content_dir.glob("*.yml") if not p.name.startswith("_"))


def load_content(content_dir: Path = CONTENT_DIR) -> list[Topic]:
    return [load_topic(path) for path in topic_files(content_dir)]


def all_entries(topics: list[Topic]) -> list[Entry]:
    return [entry for topic in topics for entry in topic.entries]


def by_response_key(entries: Iterable[Entry]) -> dict[str, Entry]:
    """Entries by the key the answer selector returns (``faq/<id>``; ``sensitive_<id>`` for crisis ones).

    An action that gets ``intent_response_key`` (or the ``utter_`` response name without
    its prefix) looks the entry up here, e.g. for its ``overridden_by`` or ``related``.
    """
    return {entry.intent: entry for entry in entries}


# The placeholders each reply template may use: one template per entry kind, and the menus.
ENTRY_PLACEHOLDERS = ("answer", "source", "verdict", "claim", "agency")
TEMPLATE_PLACEHOLDERS: dict[str, tuple[str, ...]] = {
    **{kind: ENTRY_PLACEHOLDERS for kind in KINDS},
    "topic_menu": ("title",),
    "capabilities": (),
    "topics": (),
    "more_topics": (),
}


def parse_services(raw: Any, path: Path) -> tuple[MenuService, ...]:
    """``services:`` in the settings: a list of ``{title, intent}``, the intent a plain name."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise ContentError(path, "services: needs a list of {title, intent}")
    services = []
    for item in raw:
        line = item.get("__line__") if isinstance(item, dict) else None
        title = str(item.get("title") or "").strip() if isinstance(item, dict) else ""
        intent = str(item.get("intent") or "").strip() if isinstance(item, dict) else ""
        if not title or not ID_PATTERN.match(intent):
            message = "services: each needs a title and an intent such as report_problem"
            raise ContentError(path, message, line)
        services.append(MenuService(title=title, intent=intent))
    return tuple(services)


ANSWER_BUTTON_KEYS = ("title", "intent", "after")


def parse_answer_buttons(raw: Any, path: Path) -> tuple[AnswerButton, ...]:
    """``answer_buttons:`` in the settings: a list of ``{title, intent, after}``, one button per
    intent (its Spanish title is found by the intent, as a service's is)."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise ContentError(path, "answer_buttons: needs a list of {title, intent, after}")
    buttons = [_answer_button(item, path) for item in raw]
    seen: set[str] = set()
    for button in buttons:
        if button.intent in seen:
            message = (
                f"answer_buttons: two buttons start {button.intent}: list all their entries under one `after`"
            )
            raise ContentError(path, message, button.line)
        seen.add(button.intent)
    return tuple(buttons)


def _answer_button(item: Any, path: Path) -> AnswerButton:
    """One ``{title, intent, after}``, or the error naming what is wrong, at its line."""
    line = int(item.get("__line__", 0)) if isinstance(item, dict) else None
    needs = "answer_buttons: each needs a title, an intent such as report_problem and `after:` its entries"
    if not isinstance(item, dict):
        raise ContentError(path, needs, line)
    unknown = [key for key in item if key not in ANSWER_BUTTON_KEYS and key != "__line__"]
    if unknown:
        message = f"answer_buttons: unknown key {unknown[0]!r} (use {', '.join(ANSWER_BUTTON_KEYS)})"
        raise ContentError(path, message, line)
    title, intent = _text(item, "title"), _text(item, "intent")
    if not title or not ID_PATTERN.match(intent):
        raise ContentError(path, needs, line)
    after = _after(item.get("after"))
    if after is None:
        message = (
            f"answer_buttons: {title!r}: after must list entry ids, [pothole, graffiti], or give each "
            "the kind of problem the task starts with, {pothole: pothole}"
        )
        raise ContentError(path, message, line)
    return AnswerButton(title=title, intent=intent, after=after, line=line or 0)


def _after(raw: Any) -> dict[str, str] | None:
    """``after`` as entry id -> service ("" for none); None unless a non-empty list of ids or a
    mapping of ids to texts (or to nothing)."""
    if isinstance(raw, list):
        pairs = [(key, None) for key in raw]
    elif isinstance(raw, dict):
        pairs = [(key, value) for key, value in raw.items() if key != "__line__"]
    else:
        return None
    well_formed = all(
        isinstance(key, str) and ID_PATTERN.match(key) and (value is None or isinstance(value, str))
        for key, value in pairs
    )
    if not pairs or not well_formed:
        return None
    return {key: (value or "").strip() for key, value in pairs}


SETTINGS_KEYS = frozenset(
    {"sms_limit", "templates", "verdicts", "services", "answer_buttons", "translations"}
)


def load_render_settings(content_dir: Path = CONTENT_DIR) -> RenderSettings:
    path = content_dir / SETTINGS_FILE
    raw = read_yaml_with_lines(path)
    try:
        settings = RenderSettings(
            sms_limit=int(raw["sms_limit"]),
            templates={k: str(v) for k, v in raw["templates"].items() if k != "__line__"},
            verdicts={str(k): str(v) for k, v in raw["verdicts"].items() if k != "__line__"},
            extra={k: v for k, v in raw.items() if k not in SETTINGS_KEYS},
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ContentError(path, f"needs sms_limit, templates and verdicts ({exc})") from exc
    settings = replace(
        settings,
        services=parse_services(raw.get("services"), path),
        answer_buttons=parse_answer_buttons(raw.get("answer_buttons"), path),
    )
    settings = replace(settings, languages=_settings_translations(settings, raw.get("translations"), path))
    _check_templates(settings, path, raw.get("templates") or {})
    for code, own in settings.languages.items():
        _check_templates(own, path, raw.get("templates") or {}, f"translations: {code}: ")
    return settings


def _check_templates(settings: RenderSettings, path: Path, raw: dict[str, Any], where: str = "") -> None:
    """Every template present, each with only the placeholders it can fill (in every language)."""
    for name, placeholders in TEMPLATE_PLACEHOLDERS.items():
        if name not in settings.templates:
            raise ContentError(path, f"{where}templates: missing {name!r}", int(raw.get("__line__", 0)))
        try:
            settings.templates[name].format(**dict.fromkeys(placeholders, ""))
        except (KeyError, IndexError, ValueError) as exc:
            allowed = ", ".join(f"{{{p}}}" for p in placeholders) or "none"
            wrong = f"{where}templates: {name} has a placeholder it cannot fill ({exc})"
            raise ContentError(path, f"{wrong}; it may use {allowed}") from exc


def _strings(mapping: dict[Any, Any]) -> dict[str, str]:
    return {str(k): str(v) for k, v in mapping.items() if k != "__line__"}


TRANSLATED_SETTINGS = ("templates", "verdicts", "services", "answer_buttons")


def _settings_translations(settings: RenderSettings, raw: Any, path: Path) -> dict[str, RenderSettings]:
    """``translations: {es: {templates, verdicts, services, answer_buttons}}``: each language's
    wording over the English.

    ``services`` and ``answer_buttons`` map a button's intent to its title in that language.
    """
    if raw is None:
        return {}
    example = "translations: {es: {templates: {...}, verdicts: {...}, services: {report_problem: ...}}}"
    if not isinstance(raw, dict):
        raise ContentError(path, f"translations must be a mapping such as {example}")
    languages = {}
    for code, item in raw.items():
        if code == "__line__":
            continue
        if not isinstance(code, str) or not LANGUAGE_CODE.match(code) or not isinstance(item, dict):
            raise ContentError(path, f"translations must be a mapping such as {example}")
        parts = {key: item.get(key) or {} for key in TRANSLATED_SETTINGS}
        if not all(isinstance(part, dict) for part in parts.values()):
            message = f"translations: {code}: templates, verdicts, services and answer_buttons are mappings"
            raise ContentError(path, message, int(item.get("__line__", 0)))
        text = {
            key: {str(k): str(v) for k, v in part.items() if k != "__line__"} for key, part in parts.items()
        }
        titles = text["services"]
        where = int(parts["answer_buttons"].get("__line__") or item.get("__line__") or 0)
        languages[code] = replace(
            settings,
            templates={**settings.templates, **text["templates"]},
            verdicts={**settings.verdicts, **text["verdicts"]},
            services=tuple(replace(s, title=titles.get(s.intent, s.title)) for s in settings.services),
            answer_buttons=_answer_buttons_in(settings.answer_buttons, parts["answer_buttons"], where),
            languages={},
        )
    return languages


def _answer_buttons_in(
    buttons: tuple[AnswerButton, ...], titles: dict[str, Any], line: int
) -> tuple[AnswerButton, ...]:
    """The buttons with a language's titles (by intent); one it gives no title keeps the English,
    marked ``titled=False`` for `content check`."""
    given = {str(k): str(v).strip() for k, v in titles.items() if k != "__line__" and v is not None}
    return tuple(
        replace(b, title=given.get(b.intent) or b.title, titled=bool(given.get(b.intent)), line=line)
        for b in buttons
    )
