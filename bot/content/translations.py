"""Translations: which entries, titles and replies lack a language, which fell behind the English,
and the content check's rules on each translation as citizens read it.

English is the source: every translation records the digest of the English it was made from
(``translated_from``, `english_digest`), so when the English answer, short answer, claim or agency
changes the translation is reported *stale* until someone checks it and stamps it again
(``python -m bot content translations --stamp <id>``). Only the digest is kept, so the report cannot
say which English field changed, only that one did.

A translation is checked like the English entry, rendered with that language's settings: links,
agency facts, placeholders, formatting, SMS length, duplicate questions within the language. Rules
written for English text are not run on other languages (the reading level is a formula for English
words and sentences). Every finding is a `LanguageProblem`: a `Problem` that knows its language,
and for the to-do list whether it is stale, not yet stamped or missing.

Beyond the content: every response needs a variation in each offered language, and every texts file
of the services (``bot.language.texts``: the console's notices, the channels' messages, ...) each of
its keys in each offered language, with the English's placeholders (`texts_findings`; the agency's
facts in those texts are ``lint.reply_file_findings``'). The agency file's translated facts may
only give the English facts' phone numbers and web addresses (`agency_fact_findings`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from itertools import groupby
from pathlib import Path
from typing import Any

import yaml

from bot.content.agency import SOURCE_LANGUAGE, Agency
from bot.content.generate import BUTTON_TITLE_LIMIT, menu_topics
from bot.content.lint import (
    FileText,
    KnownFacts,
    LanguageProblem,
    Problem,
    agency_findings,
    expanded_entry,
    formatting_findings,
    link_findings,
    placeholder_findings,
    question_findings,
    question_findings_for,
    reply_texts,
    sms_findings,
)
from bot.content.model import (
    TEMPLATE_PLACEHOLDERS,
    ContentError,
    Entry,
    RenderSettings,
    Topic,
    english_digest,
    in_language,
    load_content,
    read_yaml_with_lines,
)
from bot.content.similar import fold_for_similarity
from bot.content.textcheck import phone_numbers_in, site_address_key, site_addresses_in
from bot.content.writer import body_comment_lines, content_lock, unknown_keys, write_topic
from bot.language.conversation import other_conditions, variation_language
from bot.language.texts import TRANSLATIONS, untranslated

# Fewer example questions than this and the assistant misses many ways of asking in the language.
MIN_QUESTIONS = 15
STAMP_COMMAND = "python -m bot content translations --stamp"
# What a to-do finding is, for the report's counts (`LanguageProblem.todo`).
STALE = "stale"
UNSTAMPED = "not yet stamped"
MISSING = "missing"
TODO_KINDS = (STALE, UNSTAMPED, MISSING)
# The to-do findings are listed together in `content check`, like the reviews due.
TODO_HEADING = "translations to do, {code}"
# The fields a translation gives; the others (source, department, verdict, ...) are the English's.
OWN_FIELDS = ("questions", "answer", "short_answer", "claim", "agency")
_PLACEHOLDER = re.compile(r"\{([^{}\s]+)\}")
LINE = "__line__"  # the line `read_yaml_with_lines` adds to every mapping


def other_languages(agency: Agency) -> tuple[str, ...]:
    """The offered languages a translation is made into: all but English, the source."""
    return tuple(code for code in agency.languages if code != SOURCE_LANGUAGE)


def _entry_problem(entry: Entry, code: str, message: str, error: bool, field: str, todo: str = "") -> Problem:
    group = TODO_HEADING.format(code=code) if todo else ""
    found = entry.translation(code)
    line = found.line if found and found.line else entry.line
    text = f"{entry.id}: {code}: {message}"
    return LanguageProblem(entry.path, line, text, error, group, field, language=code, todo=todo)


def in_language_problem(problem: Problem, entry: Entry, code: str) -> LanguageProblem:
    """A finding of an English rule run on the translation, its message and field naming the language."""
    message = problem.message
    if message.startswith(f"{entry.id}: "):
        message = f"{entry.id}: {code}: {message.removeprefix(f'{entry.id}: ')}"
    field = f"translations.{code}.{problem.field}" if problem.field else f"translations.{code}"
    return LanguageProblem(
        problem.path, problem.line, message, problem.error, problem.group, field, language=code
    )


# --- stamps: which English each translation follows ------------------------------------------


def stamp_findings(entries: Iterable[Entry]) -> list[Problem]:
    """Translations made from other English than the entry's now (stale), or never stamped.

    Retired entries are left out: nobody reads them in any language.
    """
    problems = []
    for entry in entries:
        if entry.retired:
            continue
        digest = english_digest(entry)
        for translation in entry.translations:
            code, field = translation.language, f"translations.{translation.language}.translated_from"
            if not translation.translated_from:
                message = (
                    f"{UNSTAMPED}: once the {code} text says what the English says, run "
                    f"`{STAMP_COMMAND} {entry.id}` (it records the English it follows)"
                )
                problems.append(_entry_problem(entry, code, message, False, field, UNSTAMPED))
            elif translation.translated_from != digest:
                message = (
                    f"{STALE}: the English answer, short answer, claim or agency changed since this "
                    f"translation was made; check the {code} text against the English, then run "
                    f"`{STAMP_COMMAND} {entry.id}`"
                )
                problems.append(_entry_problem(entry, code, message, False, field, STALE))
    return problems


# --- coverage: what has no text in an offered language ---------------------------------------


def coverage_findings(topics: list[Topic], agency: Agency) -> list[Problem]:
    """Entries (not retired) without a translation in an offered language, topic titles the menu
    shows without one, and translations in a language that is not offered."""
    languages = other_languages(agency)
    problems: list[Problem] = []
    for topic in topics:
        for entry in topic.entries:
            problems += [
                _entry_problem(
                    entry,
                    code,
                    f"{MISSING}: no {code} translation, so {code} speakers get the English answer; add "
                    f"`translations: {code}:` with its questions, answer and short_answer",
                    False,
                    f"translations.{code}",
                    MISSING,
                )
                for code in languages
                if not entry.retired and entry.translation(code) is None
            ]
            problems += [
                _entry_problem(
                    entry,
                    translation.language,
                    f"{translation.language} is not in languages_offered ({agency.path}), so this "
                    "translation is never said: add the language there, or remove the translation",
                    False,
                    f"translations.{translation.language}",
                )
                for translation in entry.translations
                if translation.language not in languages
            ]
    for topic in menu_topics(topics):
        for code in languages:
            if code not in topic.titles:
                message = (
                    f"topic {topic.id}: {MISSING}: no {code} title, so the {code} menu shows "
                    f"{topic.title!r}; add `translations: {code}: title: ...` under `topic:`"
                )
                group = TODO_HEADING.format(code=code)
                problems.append(
                    LanguageProblem(str(topic.path), 1, message, False, group, language=code, todo=MISSING)
                )
    return problems


def settings_findings(settings: RenderSettings, agency: Agency, settings_path: str) -> list[Problem]:
    """``translations:`` in the settings against the offered languages, and each language's wording:
    templates it cannot fill (`content generate` would fail on them) and a button after answers
    without its title are errors, wording the same as the English, other placeholders than the
    English's and long button titles warnings."""
    languages = other_languages(agency)
    problems: list[Problem] = []

    def add(code: str, message: str, error: bool = False) -> None:
        problems.append(
            LanguageProblem(settings_path, 1, f"translations: {code}: {message}", error, language=code)
        )

    for code in settings.languages:
        if code not in languages:
            add(
                code,
                f"{code} is not in languages_offered ({agency.path}): add it there, or remove its wording",
            )
    for code in languages:
        if code not in settings.languages:
            add(
                code,
                f"no {code} wording for the reply templates, verdicts and menu, so no {code} answers are "
                f"generated at all: add `translations: {code}:` to {settings_path}",
            )
    for code, own in settings.languages.items():
        for message, error in _wording_problems(settings, own, code):
            add(code, message, error)
        problems += answer_button_title_findings(own, code, settings_path)
    return problems


def answer_button_title_findings(own: RenderSettings, code: str, settings_path: str) -> list[Problem]:
    """Each button after an answer needs its title in `code` (a reader of it would get an English
    button in a reply in their language: an error), within what Messenger shows (a warning)."""
    problems: list[Problem] = []
    for button in own.answer_buttons:
        if not button.titled:
            message = (
                f"translations: {code}: answer_buttons: no {code} title for {button.intent} "
                f"(English {button.title!r}), so {code} readers get the English button: add "
                f'`{button.intent}: "..."`'
            )
            problems.append(LanguageProblem(settings_path, button.line, message, language=code))
        elif len(button.title) > BUTTON_TITLE_LIMIT:
            message = (
                f"translations: {code}: answer_buttons: {button.title!r} is cut to {BUTTON_TITLE_LIMIT} "
                "characters on Messenger"
            )
            problems.append(LanguageProblem(settings_path, button.line, message, False, language=code))
    return problems


def _wording_problems(english: RenderSettings, own: RenderSettings, code: str) -> list[tuple[str, bool]]:
    """(message, error) for one language's templates, verdicts and service titles."""
    found: list[tuple[str, bool]] = []
    for name, allowed in TEMPLATE_PLACEHOLDERS.items():
        text = own.templates.get(name, "")
        try:
            text.format(**dict.fromkeys(allowed, ""))
        except (KeyError, IndexError, ValueError) as exc:
            may = ", ".join(f"{{{p}}}" for p in allowed) or "none"
            found.append(
                (f"templates: {name} has a placeholder it cannot fill ({exc}); it may use {may}", True)
            )
            continue
        if text == english.templates.get(name):
            found.append((f"templates: {name} is the English wording: translate it", False))
        elif _placeholders(text) != _placeholders(english.templates.get(name, "")):
            theirs = _listed(_placeholders(english.templates.get(name, "")))
            found.append(
                (f"templates: {name} has {_listed(_placeholders(text))}, the English {theirs}", False)
            )
    found += [
        (f"verdicts: {verdict} is the English wording: translate it", False)
        for verdict, text in own.verdicts.items()
        if text == english.verdicts.get(verdict)
    ]
    for service, source in zip(own.services, english.services, strict=False):
        if service.title == source.title:
            found.append((f"services: {service.intent} is the English title: translate it", False))
        elif len(service.title) > BUTTON_TITLE_LIMIT:
            message = f"services: {service.title!r} is cut to {BUTTON_TITLE_LIMIT} characters on Messenger"
            found.append((message, False))
    return found


def _placeholders(text: str) -> frozenset[str]:
    return frozenset(_PLACEHOLDER.findall(text))


def _listed(names: Iterable[str]) -> str:
    return ", ".join(f"{{{name}}}" for name in sorted(names)) or "no placeholders"


# --- the content check's rules on each translation -------------------------------------------


def as_read(entry: Entry, code: str) -> Entry:
    """The entry as a reader of `code` meets it, at its translation's line (the entry's when it has none)."""
    found = entry.translation(code)
    shown = in_language(entry, code)
    return replace(shown, line=found.line or entry.line) if found else shown


def _own_fields(entry: Entry, code: str) -> frozenset[str]:
    """The fields the translation gives: a finding about another is the English entry's."""
    found = entry.translation(code)
    if found is None:
        return frozenset()
    return frozenset(
        name for name in OWN_FIELDS if name in ("questions", "answer", "short_answer") or getattr(found, name)
    )


def translated_rule_findings(
    checked: list[Entry],
    known: KnownFacts | None,
    settings: RenderSettings | None,
) -> list[Problem]:
    """The per-entry rules on every translation of ``checked``, as citizens read it in that language
    (agency facts filled in, the language's templates): links, agency facts, text left to fill in,
    formatting, SMS length; plus a missing answer, and a rumor's claim or a referral's agency left
    in English. The reading level is not checked: Flesch-Kincaid measures English words and
    sentences and says nothing about Spanish. Findings about what the translation does not give
    (the source, the English claim) are the English entry's, reported once."""
    problems: list[Problem] = []
    for code in sorted({t.language for entry in checked for t in entry.translations}):
        pairs = [(entry, as_read(entry, code)) for entry in checked if entry.translation(code)]
        for entry, shown in pairs:
            problems += _own_text_findings(entry, shown, code)
            found = []
            if known:  # as the English: the agency rules on the text as written, the others as read
                found += agency_findings([shown], known)
                shown = expanded_entry(shown, known.agency)
            found += link_findings(shown) + placeholder_findings([shown]) + formatting_findings([shown])
            if settings:
                try:
                    found += sms_findings([shown], settings.for_language(code), code)
                except (KeyError, IndexError, ValueError):
                    pass  # a template of the language's it cannot fill: `settings_findings` reports it
            own = _own_fields(entry, code)
            problems += [
                in_language_problem(problem, entry, code)
                for problem in found
                if problem.field.split(".")[0] in own
            ]
    return problems


def _own_text_findings(entry: Entry, shown: Entry, code: str) -> list[Problem]:
    """What the translation must give itself: an answer, and words the English would fill in."""
    found = entry.translation(code)
    assert found is not None
    problems = []
    if not found.answer:
        problems.append(_entry_problem(entry, code, "missing answer", True, f"translations.{code}.answer"))
    if found.agency and entry.kind != "referral":
        message = "agency: only a referral names another agency (use kind: referral)"
        problems.append(_entry_problem(entry, code, message, True, f"translations.{code}.agency"))
    if entry.kind == "rumor" and not found.claim:
        message = f"no claim in {code}, so the {code} reply quotes the English claim {shown.claim!r}"
        problems.append(_entry_problem(entry, code, message, False, f"translations.{code}.claim"))
    if entry.kind == "referral" and not found.agency:
        message = f"no agency in {code}, so the {code} reply names {shown.agency!r} in English"
        problems.append(_entry_problem(entry, code, message, False, f"translations.{code}.agency"))
    return problems


def question_count_findings(entries: Iterable[Entry]) -> list[Problem]:
    """A translation needs questions of its own, the way people ask in the language (no question is
    an error: the menu's button is the first one); fewer than MIN_QUESTIONS a warning."""
    problems = []
    for entry in entries:
        for found in entry.translations:
            code, count, field = (
                found.language,
                len(found.questions),
                f"translations.{found.language}.questions",
            )
            if entry.retired or count >= MIN_QUESTIONS:
                continue
            if not count:
                message = f"needs at least one example question in {code}"
                problems.append(_entry_problem(entry, code, message, True, field))
            else:
                message = (
                    f"{count} example question(s) in {code}: aim for at least {MIN_QUESTIONS}, the ways "
                    f"people ask it in {code} (typos and short forms too)"
                )
                problems.append(_entry_problem(entry, code, message, False, field))
    return problems


def translated_question_findings(entries: list[Entry], only: Entry | None = None) -> list[Problem]:
    """Example questions of a language the same or nearly the same under two entries (as English
    ones), and a translated question that is an English question of another entry (two answers
    trained on one text). ``only``: its questions against the others' only (the studio)."""
    live = [entry for entry in entries if not entry.retired]
    checked = live if only is None else [only] if not only.retired else []
    problems: list[Problem] = []
    by_id = {entry.id: entry for entry in live}
    for code in sorted({t.language for entry in checked for t in entry.translations}):
        shown = {entry.id: as_read(entry, code) for entry in live if entry.translation(code)}
        if only is None:
            found = question_findings(list(shown.values()))
        elif only.id in shown:
            others = [entry for entry_id, entry in shown.items() if entry_id != only.id]
            found = question_findings_for(as_read(only, code), others)
        else:
            found = []
        problems += [in_language_problem(p, by_id[p.message.split(": ", 1)[0]], code) for p in found]
        problems += _across_languages(checked, live, code)
    return problems


def _across_languages(checked: list[Entry], live: list[Entry], code: str) -> list[Problem]:
    english: dict[str, tuple[Entry, str]] = {}
    for entry in live:
        for question in entry.questions:
            english.setdefault(fold_for_similarity(question), (entry, question))
    problems = []
    for entry in checked:
        found = entry.translation(code)
        for index, question in enumerate(found.questions if found else ()):
            other, theirs = english.get(fold_for_similarity(question), (entry, ""))
            if other.id == entry.id or not fold_for_similarity(question):
                continue
            message = (
                f"example question {question!r} is the same as the English {theirs!r} under {other.id} "
                f"({other.path}:{other.line}): two answers trained on one text"
            )
            problems.append(
                _entry_problem(entry, code, message, True, f"translations.{code}.questions.{index}")
            )
    return problems


# --- responses: every English variation in every offered language ----------------------------


def response_findings(paths: Sequence[Path], agency: Agency) -> list[Problem]:
    """Every response of ``paths`` (the files with ``responses:``; others are skipped): each English
    variation, per channel and other conditions, needs one in each offered language with the same
    placeholders; a variation in a language that is not offered is never said. All errors.

    A file that cannot be read is skipped: `reply_problems` reports it.
    """
    responses: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for path in paths:
        try:
            raw = read_yaml_with_lines(path)
        except ContentError:
            continue
        block = raw.get("responses") if isinstance(raw, dict) else None
        for name, variations in block.items() if isinstance(block, dict) else ():
            if name != "__line__" and isinstance(variations, list):
                responses.setdefault(name, [])
                responses[name] += [(str(path), v) for v in variations if isinstance(v, dict)]
    problems: list[Problem] = []
    for name, variations in responses.items():
        problems += _response_problems(name, variations, agency)
    return problems


def _variation_key(variation: dict[str, Any]) -> tuple[str, tuple[tuple[tuple[str, str], ...], ...]]:
    """Its channel and other conditions: what a variation in another language must match."""
    conditions = [
        tuple(sorted((str(k), str(v)) for k, v in c.items() if k != "__line__"))
        if isinstance(c, dict)
        else ((str(c), ""),)
        for c in other_conditions(variation)
    ]
    return str(variation.get("channel") or ""), tuple(sorted(conditions))


def _described(key: tuple[str, tuple[tuple[tuple[str, str], ...], ...]]) -> str:
    channel, conditions = key
    where = f" for channel {channel}" if channel else ""
    named = [dict(condition) for condition in conditions]
    whens = [f"{c.get('name', '?')} is {c.get('value', '?')}" for c in named]
    return where + (f" when {' and '.join(whens)}" if whens else "")


def _variation_placeholders(variation: dict[str, Any]) -> frozenset[str]:
    """The placeholders of its text and button titles (the assistant fills them the same in any language)."""
    texts = [str(variation.get("text") or "")]
    buttons = variation.get("buttons")
    texts += (
        [str(b.get("title") or "") for b in buttons if isinstance(b, dict)]
        if isinstance(buttons, list)
        else []
    )
    return frozenset(name for text in texts for name in _PLACEHOLDER.findall(text))


def _response_problems(
    name: str, variations: list[tuple[str, dict[str, Any]]], agency: Agency
) -> list[Problem]:
    languages = other_languages(agency)
    english = [(p, v) for p, v in variations if variation_language(v) in (None, SOURCE_LANGUAGE)]
    problems: list[Problem] = []
    for path, variation in variations:
        code = variation_language(variation)
        if code not in (None, SOURCE_LANGUAGE, *languages):
            message = (
                f"{name}: a variation in {code!r}, which is not in languages_offered ({agency.path}): "
                "add the language there, or remove the variation"
            )
            problems.append(LanguageProblem(path, _line(variation), message, language=str(code)))
    for code in languages:
        own = [(p, v) for p, v in variations if variation_language(v) == code]
        reported: set[object] = set()
        for path, variation in english:
            key = _variation_key(variation)
            if key in reported or any(_variation_key(v) == key for _, v in own):
                continue
            reported.add(key)
            message = (
                f"{name}: no {code} variation{_described(key)}, so {code} speakers get the English; add one "
                f"with `condition: [{{type: slot, name: language, value: {code}}}]`"
            )
            problems.append(LanguageProblem(path, _line(variation), message, language=code))
        for path, variation in own:
            key = _variation_key(variation)
            sources = [v for _, v in english if _variation_key(v) == key] or [v for _, v in english]
            expected = {_variation_placeholders(v) for v in sources}
            mine = _variation_placeholders(variation)
            if expected and mine not in expected:
                theirs = " or ".join(sorted(_listed(names) for names in expected))
                message = (
                    f"{name}: the {code} variation{_described(key)} has {_listed(mine)}, the English "
                    f"{theirs}: keep the same placeholders (the assistant fills them in)"
                )
                problems.append(LanguageProblem(path, _line(variation), message, language=code))
    return problems


def _line(variation: dict[str, Any]) -> int:
    return int(variation.get("__line__", 1))


# --- texts files: what the services say, in every offered language ---------------------------


def texts_findings(path: Path, agency: Agency, required: bool) -> list[Problem]:
    """A texts file's ``translations:`` block (``bot.language.texts``) against its English and the
    offered languages. Keys an offered language does not have are listed once per language: an
    error when ``required`` (the file is what citizens read: a text left in English is like a
    response without its variation), else a warning. A text with other placeholders than its
    English's, or of another kind (a text for a list of words), is an error; a language that is not
    offered, and a key the English does not have, are warnings (never said).

    A file that cannot be read is skipped: `reply_problems` reports it.
    """
    raw = _texts_yaml(path)
    if raw is None:
        return []
    at, texts = _block_lines(raw), _without_lines(raw)
    english = {key: value for key, value in texts.items() if key != TRANSLATIONS}
    block = texts.get(TRANSLATIONS) or {}
    lines = {(t.language, t.what): t.line for t in _file_texts(path)}
    problems = _block_languages(path, block, agency, at)
    for code, own in block.items() if isinstance(block, dict) else ():
        if code not in other_languages(agency):
            continue
        if not isinstance(own, dict):
            message = f"{TRANSLATIONS}: {code}: must be the same `key: text` lines as the English"
            problems.append(LanguageProblem(str(path), at.get(code, 1), message, language=code))
            continue
        for key, message, error in _text_problems(english, own, ""):
            line = lines.get((code, key), at.get(code, 1))
            text = f"{TRANSLATIONS}: {code}: {key}: {message}"
            problems.append(LanguageProblem(str(path), line, text, error, language=code))
    problems += [
        _missing_texts(path, code, untranslated(texts, code), "text", required, at.get(code, 1))
        for code in other_languages(agency)
        if untranslated(texts, code)
    ]
    return problems


def canned_findings(path: Path, agency: Agency, required: bool) -> list[Problem]:
    """The canned replies (``canned_replies:``, a list of title and text, in each language under
    ``translations: <code>: canned_replies:``): each English reply's title needs a reply in every
    offered language, with the same placeholders. A title the English does not have is a reply of
    that language only, so it is not reported."""
    raw = _texts_yaml(path)
    if raw is None:
        return []
    english = _titled(raw.get("canned_replies"))
    block = raw.get(TRANSLATIONS) or {}
    at = _block_lines(raw)
    problems = _block_languages(path, _without_lines(block), agency, at)
    for code in other_languages(agency):
        own = block.get(code) if isinstance(block, dict) else None
        replies = _titled(own.get("canned_replies") if isinstance(own, dict) else None)
        missing = [title for title in english if title not in replies]
        if missing:
            problems.append(_missing_texts(path, code, missing, "reply", required, at.get(code, 1)))
        for title, reply in replies.items():
            if title in english and _placeholders(reply[1]) != _placeholders(english[title][1]):
                message = (
                    f"{TRANSLATIONS}: {code}: canned reply {title!r} has {_listed(_placeholders(reply[1]))}, "
                    f"the English {_listed(_placeholders(english[title][1]))}: keep the same placeholders"
                )
                problems.append(LanguageProblem(str(path), reply[0], message, language=code))
    return problems


def catalog_findings(path: Path, agency: Agency, required: bool) -> list[Problem]:
    """The subscription catalog (``bot.subscriptions.catalog``): its translations give, per language,
    the ``frequency`` and, by id, each topic's ``name`` and ``description`` (what a citizen picks
    from and agrees to). The program's and the districts' names may stay as written."""
    raw = _texts_yaml(path)
    if raw is None:
        return []
    block = raw.get(TRANSLATIONS) or {}
    at = _block_lines(raw)
    problems = _block_languages(path, _without_lines(block), agency, at)
    topics = [t for t in raw.get("topics") or [] if isinstance(t, dict) and t.get("id")]
    for code in other_languages(agency):
        own = _mapping(block.get(code) if isinstance(block, dict) else None)
        named = _mapping(own.get("topics"))
        missing = ["frequency"] if "frequency" in raw and not own.get("frequency") else []
        for topic in topics:
            mine = _mapping(named.get(topic["id"]))
            missing += [
                f"topics.{topic['id']}.{key}"
                for key in ("name", "description")
                if topic.get(key) and not mine.get(key)
            ]
        if missing:
            problems.append(_missing_texts(path, code, missing, "text", required, at.get(code, 1)))
    return problems


def agency_fact_findings(known: KnownFacts) -> list[Problem]:
    """The agency file's fact translations (``Agency.translated``; a key that is not a fact is refused
    when the file is read): a language that is not offered is never read (a warning), and a phone
    number or agency web address the English facts do not publish is an error, as in any text."""
    agency = known.agency
    lines = _key_lines(agency.path, TRANSLATIONS)
    problems: list[Problem] = []
    for code, facts in agency.translated.items():
        own = _key_lines(agency.path, TRANSLATIONS, code)
        if code not in other_languages(agency):
            message = (
                f"{TRANSLATIONS}: {code}: {code} is not in languages_offered ({agency.path}), so these "
                "facts are never read: add the language there, or remove them"
            )
            problems.append(
                LanguageProblem(str(agency.path), lines.get(code, 1), message, False, language=code)
            )
        for key, value in facts.items():
            found = [
                f"phone number {number!r}"
                for number in phone_numbers_in(value)
                if not known.knows_phone(number)
            ]
            found += [
                f"web address {address!r}"
                for address in site_addresses_in(value, agency.domain)
                if site_address_key(address) not in known.addresses
            ]
            problems += [
                LanguageProblem(
                    str(agency.path),
                    own.get(key, lines.get(code, 1)),
                    f"{TRANSLATIONS}: {code}: {key}: {what} is not one of the agency's: a translated fact "
                    "gives the numbers and addresses of the English facts (add it to those first)",
                    language=code,
                )
                for what in found
            ]
    return problems


def _texts_yaml(path: Path) -> dict[str, Any] | None:
    """The file's YAML with every mapping's line under ``__line__``, or None when it cannot be read
    (`reply_problems` reports that) or is not a mapping."""
    try:
        raw = read_yaml_with_lines(path)
    except ContentError:
        return None
    return raw if isinstance(raw, dict) else None


def _block_lines(raw: dict[str, Any]) -> dict[str, int]:
    """Language code -> the first line of its block in the translations block."""
    block = raw.get(TRANSLATIONS)
    if not isinstance(block, dict):
        return {}
    return {
        str(code): int(own.get(LINE, 1)) if isinstance(own, dict) else int(block.get(LINE, 1))
        for code, own in block.items()
        if code != LINE
    }


def _without_lines(value: Any) -> Any:
    """``value`` as the services read it: without the lines `read_yaml_with_lines` adds."""
    if isinstance(value, dict):
        return {key: _without_lines(inner) for key, inner in value.items() if key != LINE}
    if isinstance(value, list):
        return [_without_lines(inner) for inner in value]
    return value


def _file_texts(path: Path) -> list[FileText]:
    try:
        return reply_texts(path)
    except ContentError:
        return []


def _key_lines(path: Path, *keys: str) -> dict[str, int]:
    """The line of each key of the mapping found at ``keys`` in the YAML file (none when unreadable)."""
    try:
        node = yaml.compose(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    except (OSError, yaml.YAMLError):
        return {}
    for key in keys:
        pairs = node.value if isinstance(node, yaml.MappingNode) else []
        node = next((v for k, v in pairs if isinstance(k, yaml.ScalarNode) and k.value == key), None)
    if not isinstance(node, yaml.MappingNode):
        return {}
    return {str(k.value): k.start_mark.line + 1 for k, _ in node.value if isinstance(k, yaml.ScalarNode)}


def _block_languages(path: Path, block: Any, agency: Agency, at: dict[str, int]) -> list[Problem]:
    """The translations block's shape, and its languages against the offered ones."""
    if not isinstance(block, dict):
        message = f"{TRANSLATIONS}: must map a language code to the same keys as the English"
        return [Problem(str(path), 1, message)]
    problems: list[Problem] = []
    for code in block:
        if code == SOURCE_LANGUAGE:
            message = (
                f"{TRANSLATIONS}: {code}: the English texts are the file's own (above `{TRANSLATIONS}:`), "
                "so this block is never read"
            )
        elif code not in other_languages(agency):
            message = (
                f"{TRANSLATIONS}: {code}: {code} is not in languages_offered ({agency.path}), so these "
                "texts are never said: add the language there, or remove them"
            )
        else:
            continue
        problems.append(LanguageProblem(str(path), at.get(str(code), 1), message, False, language=str(code)))
    return problems


def _mapping(value: Any) -> dict[Any, Any]:
    return value if isinstance(value, dict) else {}


def _kind(value: Any) -> str:
    return "mapping" if isinstance(value, dict) else "list" if isinstance(value, list) else "text"


def _text_problems(english: dict[str, Any], own: dict[str, Any], prefix: str) -> list[tuple[str, str, bool]]:
    """(dotted key, message, error) for a language's texts against the English ones: keys the English
    does not have, another kind of value, other placeholders."""
    found: list[tuple[str, str, bool]] = []
    for key, value in own.items():
        name = f"{prefix}{key}"
        if key not in english:
            found.append((name, "the English has no such key, so this is never said (a typo?)", False))
        elif _kind(value) != _kind(english[key]):
            message = (
                f"a {_kind(value)} where the English has a {_kind(english[key])}: write it as the English is"
            )
            found.append((name, message, True))
        elif isinstance(value, dict):
            found += _text_problems(english[key], value, f"{name}.")
        elif not isinstance(value, list) and _placeholders(str(value)) != _placeholders(str(english[key])):
            mine, theirs = _listed(_placeholders(str(value))), _listed(_placeholders(str(english[key])))
            message = f"has {mine}, the English {theirs}: keep the same placeholders (they are filled in)"
            found.append((name, message, True))
    return found


def _titled(items: Any) -> dict[str, tuple[int, str]]:
    """Canned replies by title: (line, text); replies without a title cannot be matched, so are left out."""
    return {
        str(item["title"]): (int(item.get(LINE, 1)), str(item.get("text") or ""))
        for item in (items if isinstance(items, list) else ())
        if isinstance(item, dict) and item.get("title")
    }


def _missing_texts(
    path: Path, code: str, keys: Sequence[str], what: str, required: bool, line: int
) -> Problem:
    listed = ", ".join(keys)
    message = (
        f"{TRANSLATIONS}: {code}: {MISSING}: {len(keys)} {what}(s) with no {code} translation, so {code} "
        f"speakers read them in English: {listed}; add them under `{TRANSLATIONS}: {code}:`"
    )
    group = "" if required else TODO_HEADING.format(code=code)
    return LanguageProblem(str(path), line, message, required, group, language=code, todo=MISSING)


# --- stamping: "this translation says what this English says" -------------------------------


@dataclass(frozen=True)
class Stamp:
    """One translation stamped: where, and the digest it had (empty: never stamped)."""

    path: str
    entry: str
    language: str
    before: str


@dataclass
class Stamping:
    """What `stamp_content` wrote, and notes for the person who ran it."""

    stamps: list[Stamp]
    notes: list[str]


def stamped_topics(
    topics: list[Topic], ids: Sequence[str] = (), unstamped: bool = False, stale: bool = False
) -> tuple[list[Topic], list[Stamp]]:
    """The topics with ``translated_from`` set to the English's digest on every translation of the
    entries ``ids``, and with ``unstamped`` on those without one, with ``stale`` on those made from
    other English. Raises ContentError for an id no entry has (nothing is stamped then)."""
    known = {entry.id for topic in topics for entry in topic.entries}
    if unknown := [entry_id for entry_id in ids if entry_id not in known]:
        path = topics[0].path.parent if topics else Path(".")
        raise ContentError(path, f"no entry with id {', '.join(map(repr, unknown))}: nothing was stamped")
    changed, stamps = [], []
    for topic in topics:
        entries = []
        for entry in topic.entries:
            digest = english_digest(entry)
            chosen = [
                t
                for t in entry.translations
                if t.translated_from != digest
                and (
                    entry.id in ids or (unstamped and not t.translated_from) or (stale and t.translated_from)
                )
            ]
            stamps += [Stamp(str(topic.path), entry.id, t.language, t.translated_from) for t in chosen]
            translations = tuple(
                replace(t, translated_from=digest) if t in chosen else t for t in entry.translations
            )
            entries.append(replace(entry, translations=translations))
        changed.append(replace(topic, entries=tuple(entries)))
    return changed, stamps


def stamp_content(
    content_dir: Path, ids: Sequence[str] = (), unstamped: bool = False, stale: bool = False
) -> Stamping:
    """`stamped_topics` on the content files, written back in the canonical layout under the content
    lock (the studio and the inbox write the same files). A file with a key the model does not know
    is refused (rewriting would drop it); comments below a file's top block are lost, and said so."""
    with content_lock(content_dir):
        topics = load_content(content_dir)
        changed, stamps = stamped_topics(topics, ids, unstamped, stale)
        touched = {stamp.path for stamp in stamps}
        rewritten = [topic for topic in changed if str(topic.path) in touched]
        lost = [
            f"{topic.path}:{line}: unknown key {key!r} would be lost; fix it first (`content check`)"
            for topic in rewritten
            for line, key in unknown_keys(read_yaml_with_lines(topic.path))
        ]
        if lost:
            raise ContentError(content_dir, "nothing was stamped: " + "; ".join(lost))
        notes = [
            f"{entry_id} has no translation to stamp" for entry_id in ids if not _translated(topics, entry_id)
        ]
        for topic in rewritten:
            comments = body_comment_lines(topic.path.read_text(encoding="utf-8"))
            if comments:
                notes.append(
                    f"{topic.path}: comments on line(s) {', '.join(map(str, comments))} were not kept"
                )
            write_topic(topic)
    return Stamping(stamps, notes)


def _translated(topics: list[Topic], entry_id: str) -> bool:
    return any(entry.translations for topic in topics for entry in topic.entries if entry.id == entry_id)


# --- the to-do list: `content check --translations` ------------------------------------------


def language_problems(problems: Iterable[Problem]) -> list[LanguageProblem]:
    return [problem for problem in problems if isinstance(problem, LanguageProblem)]


def report(problems: Iterable[LanguageProblem]) -> str:
    """The findings by language, then by entry (or response) in file order, each language headed by
    its counts: what a member of staff translating it has to do."""
    ordered = sorted(problems, key=lambda p: (p.language, p.path, p.line, p.message))
    lines = []
    for code, members in groupby(ordered, key=lambda p: p.language):
        found = list(members)
        counts = [f"{sum(p.todo == kind for p in found)} {kind}" for kind in TODO_KINDS]
        rules = [p for p in found if not p.todo]
        errors = sum(p.error for p in rules)
        counts.append(f"{len(rules)} other finding(s) ({errors} error(s))")
        lines.append(f"{code}: {', '.join(counts)}")
        for subject, items in groupby(found, key=_subject):
            lines.append(f"  {subject}:")
            lines += [f"    {_shortened(problem, subject)}" for problem in items]
    return "\n".join(lines)


def _shortened(problem: LanguageProblem, subject: str) -> str:
    """The finding without the entry (or file) and language its headings name."""
    message = problem.message
    for prefix in (
        f"{subject}: {problem.language}: ",
        f"{subject}: ",
        f"{TRANSLATIONS}: {problem.language}: ",
    ):
        message = message.removeprefix(prefix)
    return str(replace(problem, message=message))


def _subject(problem: LanguageProblem) -> str:
    """What a finding is about: the entry or response its message names, or the topic; the file for
    a finding about a translations block (texts files, the settings, the agency's facts)."""
    first = problem.message.split(": ", 1)[0]
    if " " in first.removeprefix("topic ") or first == TRANSLATIONS:
        return problem.path
    return first
