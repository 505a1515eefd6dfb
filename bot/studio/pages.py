"""The content studio's pages: list and search, edit, review, history, the stale report and Try it.

``/content`` lists every entry with search and filters, and its translation state in each of the
agency's other languages (``?translation=es:to-do``: the Spanish texts missing, stale or not yet
checked); ``/content/{id}`` edits one (each problem ``content check`` finds shown next to its
field), previews the reply on web chat and by SMS, and offers Save / Publish / Approve / Send back /
Retire / Revert as the account's role and the entry's state allow, with the history and a retrain's
progress; ``/content/new`` creates an entry;
``/content/stale`` is the stale content report (`bot.studio.stale`); ``/content/try`` asks the
running model (`bot.studio.tryit`). An entry page has a language switch (the agency's languages,
English first): ``/content/{id}?language=es`` edits the entry's Spanish answer, short answer,
questions, claim or agency, says whether that text is up to date with the English, stale or
missing, and previews the Spanish reply; saving it stamps it with the English it now follows.
Editors do everything, approvers read and review, agents get the 403 page. Every change goes
through the studio service (`bot.studio.service.Studio`, shared with the JSON API), posts with the
session's CSRF token and is audit-logged there. Pages work without script; ``static/studio.js``
adds question rows and polls a retrain's progress.
"""

from __future__ import annotations

import asyncio
import difflib
import re
from collections.abc import AsyncIterator, Iterable, Mapping
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
from aiohttp import web

from bot.clients.rasa import RasaClient, RasaUnavailable
from bot.console import layout, session
from bot.console.keys import REDIS
from bot.content.agency import SOURCE_LANGUAGE, Agency, load_agency
from bot.content.model import (
    KINDS,
    TRANSLATION_KEYS,
    ContentError,
    Entry,
    all_entries,
    load_content,
    load_render_settings,
    parse_day,
)
from bot.content.writer import TRANSLATIONS_KEY
from bot.studio import stale, tryit
from bot.studio.api import auditor
from bot.studio.keys import CONFIG, JOBS, STUDIO
from bot.studio.languages import FILTER_STATES, in_state, language_names, offered, translation_filter
from bot.studio.service import StudioError, StudioProblems

HERE = Path(__file__).resolve().parent
EDITOR = "editor"
APPROVER = "approver"
REVIEWERS = (EDITOR, APPROVER)
# Registered after /content/new, /stale and /try, which therefore are never entry pages.
ENTRY = "/content/{entry_id:[a-z][a-z0-9_]*}"
REVIEW_STATES = ("draft", "awaiting_review", "changes_requested")
RUNNING_JOBS = ("queued", "running")
# The fields the edit form has, by kind; questions come as one input per question.
COMMON_FIELDS = ("answer", "short_answer", "source", "department", "valid_from", "valid_until")
KIND_FIELDS = {"faq": (), "rumor": ("claim", "verdict"), "referral": ("agency",)}
SHOWN_FIELDS = (
    "questions",
    "answer",
    "short_answer",
    "claim",
    "verdict",
    "related",
    "agency",
    "source",
    "department",
    "valid_from",
    "valid_until",
    "overridden_by",
    "sensitive",
    "retired",
    "last_reviewed",
)
NEW_FIELDS = ("id", "topic", "kind")
# The form in another language than English: the translation's text (the rest is the English's),
# and a claim or agency for the kinds that have one (KIND_FIELDS).
TRANSLATED_FIELDS = ("answer", "short_answer")
OWN_TEXT = ("answer", "short_answer", "claim", "agency")  # a translation's text, beside its questions
TRANSLATION_PREFIX = f"{TRANSLATIONS_KEY}."
UNDIFFED = frozenset({"last_reviewed"})
RESPONSES_FILE = Path("data/responses/studio.yml")  # utter_answer_unavailable, under the project root
QUESTION_LIMIT = 500
_WORDS = re.compile(r"^\s+|\S+\s*")  # words with the space after them: a diff never matches lone spaces

RASA = web.AppKey("studio_rasa", RasaClient)
"""Rasa's HTTP API for Try it (RASA_URL / RASA_TOKEN), on a session opened with the app."""


# --- small helpers --------------------------------------------------------------------------------


def shown(value: Any) -> str:
    """A field's value as staff read it: lists one per line, yes/no for flags, "" for nothing."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return "\n".join(shown(item) for item in value)
    return str(value)


def word_diff(old: str, new: str) -> list[tuple[str, str]]:
    """(op, text) segments turning `old` into `new` word by word; op is same, del or ins."""
    before, after = _WORDS.findall(old), _WORDS.findall(new)
    segments: list[tuple[str, str]] = []
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            segments.append(("same", "".join(before[i1:i2])))
            continue
        if i2 > i1:
            segments.append(("del", "".join(before[i1:i2])))
        if j2 > j1:
            segments.append(("ins", "".join(after[j1:j2])))
    return segments


def list_diff(old: list[Any], new: list[Any]) -> list[tuple[str, str]]:
    """The items removed (del) and added (ins), one a line; the unchanged ones are left out."""
    before, after = [shown(item) for item in old], [shown(item) for item in new]
    removed = [("del", item) for item in before if item not in after]
    added = [("ins", item) for item in after if item not in before]
    segments: list[tuple[str, str]] = []
    for op, item in removed + added:
        segments += [(op, item), ("same", "\n")]
    return segments[:-1]


def _count(value: Any, field: str) -> str:
    items = len(value or [])
    noun = "question" if field == "questions" else "item"
    return f"{items} {noun}{'' if items == 1 else 's'}"


def flat_translations(values: Mapping[str, Any]) -> dict[str, Any]:
    """An entry's fields with ``translations`` as one field per language and key
    (``translations.es.answer``), so a diff shows what changed in which language."""
    flat = {key: value for key, value in values.items() if key != TRANSLATIONS_KEY}
    translations = values.get(TRANSLATIONS_KEY)
    for code, item in (translations or {}).items() if isinstance(translations, Mapping) else ():
        for key in TRANSLATION_KEYS:
            value = item.get(key) if isinstance(item, Mapping) else None
            if value not in (None, "", []):
                flat[f"{TRANSLATION_PREFIX}{code}.{key}"] = value
    return flat


def _flat_pairs(changes: Mapping[str, Any]) -> dict[str, Any]:
    """History's ``{field: [old, new]}`` with a ``translations`` pair split per language and key."""
    pair = changes.get(TRANSLATIONS_KEY)
    if not isinstance(pair, list | tuple) or len(pair) != 2:
        return dict(changes)
    old = flat_translations({TRANSLATIONS_KEY: pair[0]})
    new = flat_translations({TRANSLATIONS_KEY: pair[1]})
    split = {
        key: [old.get(key), new.get(key)]
        for key in [*old, *(k for k in new if k not in old)]
        if shown(old.get(key)) != shown(new.get(key))
    }
    return {**{k: v for k, v in changes.items() if k != TRANSLATIONS_KEY}, **split}


def field_changes(changes: Mapping[str, Any]) -> list[dict[str, Any]]:
    """History's ``{field: [old, new]}`` as rows for the diff table (lists by item, texts by word;
    a translation by language and key)."""
    rows = []
    for name, pair in _flat_pairs(changes).items():
        if name in UNDIFFED or not isinstance(pair, list | tuple) or len(pair) != 2:
            continue
        if isinstance(pair[0], list) or isinstance(pair[1], list):
            old_items, new_items = list(pair[0] or []), list(pair[1] or [])
            segments = list_diff(old_items, new_items)
            rows.append(
                {
                    "field": name,
                    "old": _count(old_items, name),
                    "new": _count(new_items, name),
                    "segments": segments,
                }
            )
            continue
        old, new = shown(pair[0]), shown(pair[1])
        rows.append({"field": name, "old": old, "new": new, "segments": word_diff(old, new)})
    return rows


def draft_changes(published: Mapping[str, Any] | None, fields: Mapping[str, Any]) -> list[dict[str, Any]]:
    """What a draft changes in the published entry, field by field (every field of a new entry)."""
    before = flat_translations(published or {})
    fields = flat_translations(fields)
    keys = [*before, *(key for key in fields if key not in before)]
    pairs = {
        key: [before.get(key), fields.get(key)]
        for key in keys
        if shown(before.get(key)) != shown(fields.get(key))
    }
    return field_changes(pairs)


def _published_rows(
    published: Mapping[str, Any] | None, language: str = SOURCE_LANGUAGE
) -> list[tuple[str, str]]:
    """(field, value) of the published entry as an approver reads it: what it says, flags only when
    set; in another language, its text in that language."""
    values = published or {}
    if language != SOURCE_LANGUAGE:
        own = _translation(values, language)
        return [(name, shown(own.get(name))) for name in OWN_TEXT if own.get(name)]
    rows = []
    for name in SHOWN_FIELDS:
        value = values.get(name)
        if name == "questions" or value in (None, "", [], False):
            continue
        rows.append((name, shown(value)))
    return rows


def _translation(fields: Mapping[str, Any], language: str) -> dict[str, Any]:
    """The entry's text in `language` as its fields hold it ({} when it has none)."""
    translations = fields.get(TRANSLATIONS_KEY)
    found = translations.get(language) if isinstance(translations, Mapping) else None
    return dict(found) if isinstance(found, Mapping) else {}


def in_view(problems: Iterable[Mapping[str, Any]], language: str) -> list[dict[str, Any]]:
    """The problems as the page in `language` shows them: in another language than English, its
    translation's fields by the form's names (``translations.es.answer`` is ``answer``; its stamp is
    the page's translation state) and the English fields' under ``en.``, so they are listed apart,
    never next to the translation's field of the same name. A translation's stamp (stale, not yet
    stamped) is the language switch's state, not a problem of a field, in any language."""
    own = f"{TRANSLATION_PREFIX}{language}"
    found = []
    for problem in problems:
        field = str(problem.get("field") or "")
        if field.startswith(TRANSLATION_PREFIX) and field.endswith(".translated_from"):
            continue
        if language != SOURCE_LANGUAGE:
            if field.startswith(f"{own}."):
                field = field.removeprefix(f"{own}.")
            elif field and not field.startswith(TRANSLATION_PREFIX):
                field = f"{SOURCE_LANGUAGE}.{field}"
        found.append({**problem, "field": field})
    return found


def problems_by_field(problems: Iterable[Mapping[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = {}
    for problem in problems:
        grouped.setdefault(str(problem.get("field") or ""), []).append(dict(problem))
    return grouped


def anchor(field: str, placed: Iterable[str]) -> str:
    """The id of the input a problem's field is shown at ("" when the page has none)."""
    if field.startswith("questions."):
        return "question-" + field.split(".", 1)[1] if field.split(".", 1)[1].isdigit() else "questions"
    return field if field in placed else ""


def summary_items(problems: Iterable[Mapping[str, Any]], placed: Iterable[str]) -> list[dict[str, Any]]:
    """The error summary's lines: errors first, each with the field's anchor."""
    placed = list(placed)
    items = [
        {
            "field": str(p.get("field") or ""),
            "message": str(p.get("message") or ""),
            "error": bool(p.get("error", True)),
            "anchor": anchor(str(p.get("field") or ""), placed),
        }
        for p in problems
    ]
    return sorted(items, key=lambda item: not item["error"])


def badges(state: str, window: Mapping[str, Any] | None) -> list[str]:
    """An entry's state badges: its review state, retired, or not answered today."""
    found = [state] if state in REVIEW_STATES else []
    if window and window.get("retired"):
        found.append("retired")
    elif window and not window.get("answerable", True):
        found.append("not_answered")
    return found


async def _form(request: web.Request) -> Any:
    """The posted form, after the CSRF check (403 with a reload hint when it fails)."""
    form = await request.post()
    session.remember_form_token(request, str(form.get(session.CSRF_FIELD, "")))
    if not session.csrf_ok(request):
        raise web.HTTPForbidden(text="the form has expired or lacks its security token: reload the page")
    return form


def _posted_translation(form: Any, kind: str, language: str) -> dict[str, Any]:
    """The fields a save of the form in `language` (not English) gives: that language's text only.

    Sent without ``translated_from``, so the save stamps it with the English it now follows."""
    own: dict[str, Any] = {name: str(form.get(name, "")).strip() for name in TRANSLATED_FIELDS}
    for name in ("claim", "agency"):
        if name in KIND_FIELDS.get(kind, ()) and name in form:
            own[name] = str(form.get(name, "")).strip()
    own["questions"] = [q.strip() for q in form.getall("questions", []) if str(q).strip()]
    return {TRANSLATIONS_KEY: {language: own}}


def _translation_values(fields: Mapping[str, Any], language: str) -> dict[str, Any]:
    """The form's values in `language`: the translation's text (empty when it has none)."""
    own = _translation(fields, language)
    values: dict[str, Any] = {name: shown(own.get(name)) for name in OWN_TEXT}
    values["questions"] = [shown(q) for q in own.get("questions") or []]
    return values


def _posted_fields(form: Any, kind: str) -> dict[str, Any]:
    """The entry fields of the edit form for an entry of `kind` (empty question rows dropped)."""
    fields: dict[str, Any] = {name: str(form.get(name, "")).strip() for name in COMMON_FIELDS}
    for name in KIND_FIELDS.get(kind, ()):
        if name in form:
            fields[name] = str(form.get(name, "")).strip()
    fields["questions"] = [q.strip() for q in form.getall("questions", []) if str(q).strip()]
    return fields


def _form_values(fields: Mapping[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {
        name: shown(fields.get(name)) for name in (*COMMON_FIELDS, "claim", "verdict", "agency")
    }
    values["questions"] = [shown(q) for q in fields.get("questions") or []]
    return values


def _redirect(entry_id: str, language: str = SOURCE_LANGUAGE, **query: Any) -> web.HTTPSeeOther:
    if language != SOURCE_LANGUAGE:
        query = {"language": language, **query}
    params = {key: value for key, value in query.items() if value not in (None, "")}
    return web.HTTPSeeOther(f"/content/{entry_id}" + (f"?{urlencode(params)}" if params else ""))


def _agency(path: Path) -> Agency:
    try:
        return load_agency(path)
    except ContentError:
        return Agency({}, path)  # facts stay as placeholders; content check names the problem


# --- the list ---------------------------------------------------------------------------------------


def _reviewed_before(last_reviewed: str, day: date) -> bool:
    """Last reviewed before `day`; never reviewed (no date, or not one) counts as before any day."""
    reviewed = parse_day(last_reviewed)
    return reviewed is None or reviewed < day


async def list_get(request: web.Request) -> web.StreamResponse:
    _, role = await layout.require_any_role(request, *REVIEWERS)
    studio = request.app[STUDIO]
    filters = {
        key: request.query.get(key, "").strip()[:200]
        for key in ("q", "topic", "kind", "department", "reviewed_before", "translation")
    }
    every = await studio.list_entries()
    rows = every
    filtered = any(filters.values())
    if filtered:
        rows = await studio.list_entries(
            q=filters["q"], topic=filters["topic"], kind=filters["kind"], department=filters["department"]
        )
    error = ""
    if filters["reviewed_before"]:
        before = parse_day(filters["reviewed_before"])
        if before is None:
            error = 'Write the date of "Last reviewed before" as 2026-09-01.'
        else:
            rows = [r for r in rows if _reviewed_before(r.get("last_reviewed") or "", before)]
    others = studio.languages()[1:]
    if filters["translation"]:
        wanted = translation_filter(filters["translation"], others)
        if wanted is None:
            error = " ".join([error, "Choose the translation to find from the list."]).strip()
        else:  # retired entries are left out, as in the stale report: nobody reads them
            code, state = wanted
            rows = [
                r for r in rows if not r.get("retired") and in_state(r["translations"].get(code, ""), state)
            ]
    entries = [
        {
            **row,
            "title": row.get("question") or row["id"],
            "badges": badges(row.get("state", ""), row.get("window")),
        }
        for row in rows
    ]
    context = {
        "entries": entries,
        "filters": filters,
        "filtered": filtered,
        "filter_error": error,
        "topics": await studio.topics(),
        "departments": sorted({r["department"] for r in every if r.get("department")}, key=str.casefold),
        "kinds": KINDS,
        "editor": role == EDITOR,
        "approvals": request.app[CONFIG].approvals,
        "languages": others,
        "language_names": await asyncio.to_thread(language_names, others, request.app[CONFIG].root),
        "filter_states": FILTER_STATES,
    }
    return layout.render(request, "studio/list.html", context)


# --- one entry --------------------------------------------------------------------------------------


async def _job(request: web.Request) -> dict[str, Any] | None:
    """The retrain named in the query (after a publish), else one that is queued or running now."""
    jobs = request.app[JOBS]
    job_id = request.query.get("job", "")
    job = await jobs.get(job_id) if job_id else None
    if job is None:
        latest = await jobs.latest()
        job = latest if latest and latest.get("state") in RUNNING_JOBS else None
    if job is None:
        return None
    gate = job.get("gate") or {}
    progress = max(0, min(100, int(float(job.get("progress") or 0))))
    reasons = list(gate.get("reasons") or []) if job.get("state") == "refused" else []
    return {
        **job,
        "progress": progress,
        "reasons": reasons,
        "asked_here": bool(job_id) and job.get("id") == job_id,
    }


def _history_rows(versions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Newest first, each with its diff rows; the newest is the one published now."""
    last = versions[-1]["version"] if versions else None
    return [
        {**v, "changes": field_changes(v.get("changes") or {}), "current": v["version"] == last}
        for v in reversed(versions)
    ]


async def _preview(
    request: web.Request, entry_id: str, window: Mapping[str, Any] | None, language: str = SOURCE_LANGUAGE
) -> dict[str, Any]:
    """The draft's (else the published) reply in `language` as web chat and SMS, and what citizens
    reading it get instead today."""
    studio = request.app[STUDIO]
    raw = await studio.preview({}, entry_id, language)
    window = window or {}
    why = (
        tryit.RETIRED
        if window.get("retired")
        else ""
        if window.get("answerable", True)
        else tryit.OUTSIDE_WINDOW
    )
    fallback = ""
    if why:
        agency = await asyncio.to_thread(_agency, studio.agency_file)
        responses = request.app[CONFIG].root / RESPONSES_FILE
        name = "utter_answer_unavailable"
        fallback = await asyncio.to_thread(tryit.unavailable_text, responses, agency, name, language)
    return {
        "webchat": (raw["webchat"],) if raw.get("webchat") else (),
        "buttons": tuple(raw.get("buttons") or ()),
        "sms": (raw["sms"],) if raw.get("sms") else (),
        "sms_segments": (int(raw.get("sms_segments") or 0),),
        "unavailable": why,
        "fallback": fallback,
        "valid_from": window.get("valid_from", ""),
        "valid_until": window.get("valid_until", ""),
        "language": str(raw.get("language") or SOURCE_LANGUAGE),
        "asked": language,
    }


def _language(request: web.Request, offered_languages: tuple[str, ...], asked: str = "") -> str:
    """The language the page is in: ``language`` in the query (or `asked`), if the agency offers it."""
    code = asked or request.query.get("language", "")
    return code if code in offered_languages else SOURCE_LANGUAGE


def _switch(
    entry_id: str,
    languages: tuple[str, ...],
    names: Mapping[str, str],
    current: str,
    states: Mapping[str, str],
) -> list[dict[str, Any]]:
    """The language switch's links, English first, each other language with its translation's state."""
    return [
        {
            "code": code,
            "name": names.get(code, code),
            "href": f"/content/{entry_id}" + ("" if code == SOURCE_LANGUAGE else f"?language={code}"),
            "current": code == current,
            "state": states.get(code, ""),
        }
        for code in languages
    ]


async def _entry_page(
    request: web.Request,
    entry_id: str,
    *,
    values: dict[str, Any] | None = None,
    refused: list[dict[str, Any]] | None = None,
    error: str = "",
    status: int = 200,
    language: str = "",
) -> web.Response:
    """The entry page in `language` (else the query's, else English); after a refused save, with
    the submitted `values` and the `refused` problems."""
    agent, role = await layout.require_any_role(request, *REVIEWERS)
    studio = request.app[STUDIO]
    try:
        view = await studio.view(entry_id)
    except StudioError as exc:
        raise web.HTTPNotFound(text=exc.message) from exc
    languages = tuple(view.get("languages") or (SOURCE_LANGUAGE,))
    language = _language(request, languages, language)
    names = await asyncio.to_thread(language_names, languages, request.app[CONFIG].root)
    draft, published = view.get("draft"), view.get("entry")
    fields = (draft or {}).get("fields") or published or {}
    kind = str(view.get("kind") or fields.get("kind") or "faq")
    problems = in_view(refused if refused is not None else list(view.get("problems") or []), language)
    if language == SOURCE_LANGUAGE:
        placed = [*COMMON_FIELDS, *KIND_FIELDS.get(kind, ()), "questions"]
    else:
        placed = [
            *TRANSLATED_FIELDS,
            *(n for n in ("claim", "agency") if n in KIND_FIELDS.get(kind, ())),
            "questions",
        ]
    form_values = (
        _form_values(fields) if language == SOURCE_LANGUAGE else _translation_values(fields, language)
    )
    own_questions = (
        fields.get("questions")
        if language == SOURCE_LANGUAGE
        else _translation(fields, language).get("questions")
    )
    published_own = (
        (published or {}) if language == SOURCE_LANGUAGE else _translation(published or {}, language)
    )
    states = dict(view.get("translations") or {})
    editor = role == EDITOR
    reviewable = bool(draft and draft.get("state") == "awaiting_review" and draft.get("author") != agent)
    reviewable = reviewable and agent not in (draft or {}).get("approvals", [])
    window = view.get("window") or {}
    if draft:  # approvals still missing: the author counts as one
        missing = int(view.get("approvals_required") or 2) - 1 - len(draft.get("approvals") or [])
        draft = {**draft, "missing": max(1, missing)}
    questions = fields.get("questions") or []
    e = {
        "id": entry_id,
        "kind": kind,
        "title": shown(questions[0]) if questions else entry_id,
        "topic_title": view.get("topic_title", ""),
        "department": shown(fields.get("department")),
        "last_reviewed": shown((published or {}).get("last_reviewed")),
        "sensitive": bool(fields.get("sensitive")),
        "retired": bool(window.get("retired")),
        "window": window,
        "needs_approval": bool(view.get("needs_approval")),
        "badges": badges(str(view.get("state", "")), window),
        "is_new": published is None,
    }
    can = {
        "edit": editor,
        "publish": editor and not e["needs_approval"],
        "review": reviewable,
        "retire": editor and published is not None,
        "revert": editor,
    }
    own_problems = [p for p in problems if anchor(str(p.get("field") or ""), placed)]
    context = {
        "e": e,
        "draft": draft,
        "values": values if values is not None else form_values,
        "problems": problems_by_field(own_problems),
        "unplaced": [p for p in problems if anchor(str(p.get("field") or ""), placed) == ""],
        "summary": summary_items(problems, placed) if refused else [],
        "draft_changes": draft_changes(published, draft["fields"]) if draft else [],
        "published_rows": _published_rows(published, language),
        "published_questions": [shown(q) for q in published_own.get("questions") or []],
        "preview": await _preview(request, entry_id, window, language),
        "language": language,
        "source_language": SOURCE_LANGUAGE,
        "language_names": names,
        "languages": _switch(entry_id, languages, names, language, states) if len(languages) > 1 else [],
        "translation_state": states.get(language, ""),
        "english": {name: shown(fields.get(name)) for name in OWN_TEXT if fields.get(name)},
        "try_question": shown((own_questions or [""])[0]),
        "history": _history_rows(await studio.history(entry_id)),
        "job": await _job(request),
        "can": can,
        "approvals": view.get("approvals_required", 2),
        "done": request.query.get("done", ""),
        "done_version": request.query.get("version", ""),
        "error": error,
    }
    return layout.render(request, "studio/entry.html", context, status)


async def entry_get(request: web.Request) -> web.StreamResponse:
    return await _entry_page(request, request.match_info["entry_id"])


async def _refusal_page(
    request: web.Request,
    entry_id: str,
    exc: StudioError,
    values: dict[str, Any] | None = None,
    language: str = "",
) -> web.Response:
    """The entry page again, saying why the studio refused (problems next to their fields)."""
    if isinstance(exc, StudioProblems) and exc.problems:
        problems = [{"field": p.field, "message": p.message, "error": p.error} for p in exc.problems]
        return await _entry_page(
            request, entry_id, values=values, refused=problems, status=exc.status, language=language
        )
    return await _entry_page(
        request, entry_id, values=values, error=exc.message, status=exc.status, language=language
    )


async def entry_post(request: web.Request) -> web.StreamResponse:
    """Save the edit form as the draft, and with "Publish" publish it too."""
    agent, role = await layout.require_any_role(request, *REVIEWERS)
    if role != EDITOR:
        raise layout.Forbidden(EDITOR)
    entry_id = request.match_info["entry_id"]
    form = await _form(request)
    studio = request.app[STUDIO]
    try:
        view = await studio.view(entry_id)
    except StudioError as exc:
        raise web.HTTPNotFound(text=exc.message) from exc
    kind = str(view.get("kind") or "faq")
    language = str(form.get("language", SOURCE_LANGUAGE))
    if language not in (view.get("languages") or ()):
        language = SOURCE_LANGUAGE
    if language == SOURCE_LANGUAGE:
        fields = _posted_fields(form, kind)
        values = _form_values(fields)
    else:
        fields = _posted_translation(form, kind, language)
        values = _translation_values(fields, language)
    note = str(form.get("note", "")).strip()
    values["note"] = note
    record = auditor(request, agent)
    try:
        saved = await studio.save(entry_id, {**fields, "note": note}, agent, audit=record)
        if form.get("do") != "publish":
            state = saved.get("state", "draft")
            done_key = "saved_for_review" if state == "awaiting_review" else "saved"
            raise _redirect(entry_id, language, done=done_key)
        done = await studio.publish(entry_id, agent, note, audit=record)
    except StudioError as exc:
        return await _refusal_page(request, entry_id, exc, values, language)
    raise _redirect(entry_id, language, done="published", job=done.get("job"))


async def approve_post(request: web.Request) -> web.StreamResponse:
    agent, _ = await layout.require_any_role(request, *REVIEWERS)
    entry_id = request.match_info["entry_id"]
    await _form(request)
    try:
        done = await request.app[STUDIO].approve(entry_id, agent, audit=auditor(request, agent))
    except StudioError as exc:
        return await _refusal_page(request, entry_id, exc)
    if done.get("published"):
        raise _redirect(entry_id, done="approved_published", job=done.get("job"))
    raise _redirect(entry_id, done="approved")


async def send_back_post(request: web.Request) -> web.StreamResponse:
    agent, _ = await layout.require_any_role(request, *REVIEWERS)
    entry_id = request.match_info["entry_id"]
    form = await _form(request)
    comment = str(form.get("comment", "")).strip()
    try:
        await request.app[STUDIO].send_back(entry_id, agent, comment, audit=auditor(request, agent))
    except StudioError as exc:
        return await _entry_page(
            request,
            entry_id,
            error=exc.message if not exc.problems else exc.problems[0].message,
            status=exc.status,
        )
    raise _redirect(entry_id, done="sent_back")


async def retire_post(request: web.Request) -> web.StreamResponse:
    """Retire the entry, or (``retired=false``) bring a retired one back; both are changes like any other."""
    agent = await layout.require_role(request, EDITOR)
    entry_id = request.match_info["entry_id"]
    form = await _form(request)
    note = str(form.get("note", "")).strip()
    studio = request.app[STUDIO]
    record = auditor(request, agent)
    try:
        if form.get("retired", "true") != "false":
            done = await studio.retire(entry_id, agent, note, audit=record)
            code = "retired" if done.get("published") else "saved_for_review"
            raise _redirect(entry_id, done=code, job=done.get("job"))
        saved = await studio.save(entry_id, {"retired": False, "note": note}, agent, audit=record)
        if saved.get("needs_approval"):
            raise _redirect(entry_id, done="saved_for_review")
        done = await studio.publish(entry_id, agent, note, audit=record)
    except StudioError as exc:
        return await _refusal_page(request, entry_id, exc)
    raise _redirect(entry_id, done="restored", job=done.get("job"))


async def revert_post(request: web.Request) -> web.StreamResponse:
    agent = await layout.require_role(request, EDITOR)
    entry_id = request.match_info["entry_id"]
    form = await _form(request)
    version = str(form.get("version", ""))
    if not version.isdigit():
        return await _entry_page(request, entry_id, error="Choose the version to revert to.", status=400)
    note = str(form.get("note", "")).strip()
    try:
        done = await request.app[STUDIO].revert(
            entry_id, int(version), agent, note, audit=auditor(request, agent)
        )
    except StudioError as exc:
        return await _refusal_page(request, entry_id, exc)
    raise _redirect(entry_id, done="reverted", version=version, job=done.get("job"))


# --- a new entry ------------------------------------------------------------------------------------


async def _new_page(
    request: web.Request,
    values: dict[str, Any],
    problems: list[dict[str, Any]],
    error: str = "",
    status: int = 200,
) -> web.Response:
    placed = [*COMMON_FIELDS, "claim", "verdict", "agency", "questions", *NEW_FIELDS]
    context = {
        "values": values,
        "problems": problems_by_field(problems),
        "summary": summary_items(problems, placed),
        "topics": await request.app[STUDIO].topics(),
        "kinds": KINDS,
        "error": error,
    }
    return layout.render(request, "studio/new.html", context, status)


async def new_get(request: web.Request) -> web.StreamResponse:
    await layout.require_role(request, EDITOR)
    return await _new_page(request, {"kind": "faq", "questions": []}, [])


async def new_post(request: web.Request) -> web.StreamResponse:
    agent = await layout.require_role(request, EDITOR)
    form = await _form(request)
    kind = str(form.get("kind", "faq"))
    fields = {**_posted_fields(form, kind), **{name: str(form.get(name, "")).strip() for name in NEW_FIELDS}}
    values = {**_form_values(fields), **{name: fields[name] for name in NEW_FIELDS}}
    try:
        await request.app[STUDIO].create(fields, agent, audit=auditor(request, agent))
    except StudioError as exc:
        problems = [{"field": p.field, "message": p.message, "error": p.error} for p in exc.problems]
        return await _new_page(request, values, problems, "" if problems else exc.message, exc.status)
    raise _redirect(fields["id"], done="created")


# --- the stale report and Try it ----------------------------------------------------------------


async def _entries(request: web.Request) -> list[Entry]:
    return all_entries(await asyncio.to_thread(load_content, request.app[CONFIG].content_dir))


async def stale_get(request: web.Request) -> web.StreamResponse:
    await layout.require_any_role(request, *REVIEWERS)
    studio = request.app[STUDIO]
    months = request.app[CONFIG].review_months
    others = studio.languages()[1:]
    entries = await _entries(request)
    utc_today = datetime.now(timezone.utc).date()
    report = await stale.stale_report(request.app[REDIS], entries, studio.today(), months, others, utc_today)
    names = await asyncio.to_thread(language_names, others, request.app[CONFIG].root)
    context = {
        "r": report,
        "min_rated": stale.MIN_RATED,
        "low_rate": stale.LOW_HELPFUL_RATE,
        "language_names": names,
    }
    return layout.render(request, "studio/stale.html", context)


async def _try(request: web.Request, question: str) -> dict[str, Any]:
    """Ask the running model; the reading, the reply of its pick, or the error to show."""
    rasa = request.app[RASA]
    try:
        parsed = await rasa.parse(question)
    except RasaUnavailable as exc:
        return {"error": f"The running model did not answer: {exc}"}
    try:
        model = await rasa.running_model()
    except RasaUnavailable:
        model = ""
    reading = tryit.read_parse(parsed)
    config, studio = request.app[CONFIG], request.app[STUDIO]
    entries = {entry.id: entry for entry in await _entries(request)}
    titles = {
        entry_id: entry.questions[0] if entry.questions else entry_id for entry_id, entry in entries.items()
    }
    picked = entries.get(reading.pick.entry_id)
    reply = None
    if picked is not None:
        settings = await asyncio.to_thread(load_render_settings, config.content_dir)
        agency = await asyncio.to_thread(_agency, studio.agency_file)
        responses, name = config.root / RESPONSES_FILE, "utter_answer_unavailable"
        fallback = await asyncio.to_thread(tryit.unavailable_text, responses, agency, name, reading.language)
        reply = tryit.reply(picked, settings, agency, studio.today(), fallback, reading.language)
    languages = offered(studio.agency_file)
    names = await asyncio.to_thread(language_names, (*languages, reading.language), config.root)
    return {"reading": reading, "reply": reply, "titles": titles, "model": model, "language_names": names}


async def try_get(request: web.Request) -> web.StreamResponse:
    await layout.require_any_role(request, *REVIEWERS)
    question = " ".join(request.query.get("q", "").split())[:QUESTION_LIMIT]
    result = await _try(request, question) if question else {}
    return layout.render(request, "studio/try.html", {"question": question, **result})


# --- mounting ---------------------------------------------------------------------------------------


async def _rasa(app: web.Application) -> AsyncIterator[None]:
    config = app[CONFIG]
    async with aiohttp.ClientSession() as client:
        app[RASA] = RasaClient(client, config.rasa_url, config.rasa_token)
        yield


def setup_pages(app: web.Application) -> None:
    """The pages, their static files and the "Content" nav link (editors and approvers)."""
    app.cleanup_ctx.append(_rasa)
    layout.add_template_dir(app, HERE / "templates")
    layout.add_nav(app, "/content", "Content", role=REVIEWERS)
    app.router.add_static("/studio/static", HERE / "static", append_version=False)
    app.router.add_get("/content", list_get)
    app.router.add_get("/content/new", new_get)
    app.router.add_post("/content/new", new_post)
    app.router.add_get("/content/stale", stale_get)
    app.router.add_get("/content/try", try_get)
    app.router.add_get(ENTRY, entry_get)
    app.router.add_post(ENTRY, entry_post)
    app.router.add_post(f"{ENTRY}/approve", approve_post)
    app.router.add_post(f"{ENTRY}/send-back", send_back_post)
    app.router.add_post(f"{ENTRY}/retire", retire_post)
    app.router.add_post(f"{ENTRY}/revert", revert_post)
