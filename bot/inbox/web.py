"""The inbox in the console: editor-only pages under ``/inbox`` and a JSON API under ``/api/inbox``.

`setup(app, config)` (called once by `bot.console.app.create_app`) adds the routes, the nav link
for editors, and a cleanup context that runs the recorder in the console's loop, so ``make run``
needs no extra process. Pages reuse the console's layout and sign-in (``bot.console.layout``);
every form carries the session's CSRF token; citizen text is rendered through autoescape.
Pages read the clusters the recorder keeps (`bot.inbox.clusters`), a page at a time, so opening the
inbox costs the same with fifty or fifty thousand messages; messages recorded before clusters
existed join theirs once, in the background, when the console starts. Groups never mix languages:
the page shows each group's language and filters by it (``/inbox?language=es``), and a decision
on a group in another language than English writes that language's text (`bot.inbox.writeback`).
Write-backs run in a worker thread: they read and write files and run the content rules.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode

from aiohttp import web
from redis.exceptions import RedisError

from bot.background import Background
from bot.console import audit, layout, session
from bot.console.auth import require_account
from bot.console.keys import REDIS
from bot.content.agency import SOURCE_LANGUAGE
from bot.content.model import Entry
from bot.inbox.config import InboxConfig
from bot.inbox.recorder import Recorder, run_forever
from bot.inbox.selection import DECLINE_REASONS
from bot.inbox.store import Cluster, InboxStore
from bot.inbox.writeback import ContentEditor, Draft, WriteBackError
from bot.language.offered import language_names, offered
from bot.privacy.public import public_redactor

log = logging.getLogger(__name__)
HERE = Path(__file__).resolve().parent
EDITOR = "editor"
EXAMPLES_SHOWN = 5
PAGE_SIZE = 20
API_LIMIT = 100
T = TypeVar("T")

INBOX_CONFIG = web.AppKey("inbox_config", InboxConfig)
"""Where the content is, the confidence threshold and the retention period."""
INBOX_STORE = web.AppKey("inbox_store", InboxStore)
"""The inbox messages in Redis (opened by the cleanup context, on the console's Redis client)."""
INBOX_EDITOR = web.AppKey("inbox_editor", ContentEditor)
"""Writes editors' decisions back to the content files."""

NOTICES = {
    "example": "Added as an example question of {faq}{where}. It is used from the next `model reload`.",
    "out_of_scope": "Marked out of scope: declined from the next `model reload`.",
    "draft": "Draft {faq} saved. It is not used until it is published with an answer, source and department.",
    "rumor": "Rumor draft {faq} saved. It is not used until published with its facts, source and department.",
    "published": "Published {faq}. It is used from the next `model reload`.",
    "dismissed": "Dismissed: the messages left the inbox without changing the content.",
}
AUDITED = {
    "example": "add_example",
    "out_of_scope": "mark_out_of_scope",
    "draft": "save_draft",
    "rumor": "save_draft",
    "published": "publish",
    "dismissed": "dismiss",
}


async def _inbox_resources(app: web.Application) -> AsyncIterator[None]:
    config = app[INBOX_CONFIG]
    store = InboxStore(app[REDIS], config.retention_seconds)
    app[INBOX_STORE] = store
    recorder = Recorder(store, public_redactor(), config.confidence_threshold)
    background = Background()
    background.start(
        run_forever(store.redis, recorder, config.stream, config.group, config.consumer, background), "inbox"
    )
    background.start(_migrate(store), "inbox-migrate")
    yield
    await background.stop()


async def _migrate(store: InboxStore) -> None:
    """Messages recorded before clusters existed join theirs, once, in batches (the pages show the
    clusters made so far meanwhile)."""
    try:
        done = await store.migrate()
        filed = await store.migrate_languages()
    except (RedisError, OSError) as exc:  # tried again at the next start
        log.warning("inbox: clustering earlier messages failed (%s)", type(exc).__name__)
        return
    if done:
        log.info("inbox: put %d earlier message(s) into clusters", done)
    if filed:
        log.info("inbox: filed %d earlier group(s) as English", filed)


async def _in_thread(function: Callable[..., T], *args: Any) -> T:
    return await asyncio.get_running_loop().run_in_executor(None, functools.partial(function, *args))


async def _group_or_404(request: web.Request) -> Cluster:
    group = await request.app[INBOX_STORE].cluster(request.match_info["group_id"])
    if group is None:
        raise web.HTTPNotFound(text="that group is no longer in the inbox (someone may have handled it)")
    return group


def _lines(text: str) -> tuple[str, ...]:
    return tuple(q for q in text.splitlines() if q.strip())


def _draft_from(
    fields: dict[str, str], text: str, kind: str = "faq", draft_id: str = "", language: str = ""
) -> Draft:
    """A draft from a form or a JSON body; ``text`` is the example question when none is given: in
    ``language`` (the group's, when not English) it is a question of the draft's text in it."""
    other = "" if language == SOURCE_LANGUAGE else language
    english = fields.get("questions", "" if other else text)
    return Draft(
        id=draft_id or fields.get("id", "").strip(),
        topic=fields.get("topic", "").strip(),
        questions=_lines(english),
        language=other,
        translated_questions=_lines(fields.get("translated_questions", text)) if other else (),
        translated_answer=fields.get("translated_answer", "").strip() if other else "",
        translated_short_answer=fields.get("translated_short_answer", "").strip() if other else "",
        translated_claim=fields.get("translated_claim", "").strip() if other else "",
        answer=fields.get("answer", "").strip(),
        short_answer=fields.get("short_answer", "").strip(),
        source=fields.get("source", "").strip(),
        department=fields.get("department", "").strip(),
        kind=kind,
        claim=fields.get("claim", "").strip(),
        verdict=fields.get("verdict", "").strip(),
        related=fields.get("related", "").strip(),
    )


def _faq_options(editor: ContentEditor, language: str = SOURCE_LANGUAGE) -> list[dict[str, str]]:
    """The entries a question in `language` can join, each named by its first question in it (in
    another language than English, only the entries with text in that language)."""
    options = []
    for topic, entry in editor.faqs():
        own = entry.questions if language == SOURCE_LANGUAGE else _translated_questions(entry, language)
        if entry.sensitive or own is None:
            continue
        label = f"{own[0] if own else entry.id} ({topic.title})"
        options.append({"id": entry.id, "label": label, "topic": topic.title})
    return options


def _translated_questions(entry: Entry, language: str) -> tuple[str, ...] | None:
    found = entry.translation(language)
    return None if found is None else tuple(found.questions)


def _languages(app: web.Application) -> tuple[str, ...]:
    """The agency's languages, English first (from the agency file beside the content)."""
    return offered(app[INBOX_CONFIG].content_dir.parent / "agency.yml")


# ---- decisions, shared by the pages and the JSON API --------------------------------------------


async def _decide(
    request: web.Request, group: Cluster, action: str, fields: dict[str, str]
) -> tuple[str, str, list[str]]:
    """Apply one decision to a group; returns (notice key, FAQ id, message ids). Raises WriteBackError."""
    editor = request.app[INBOX_EDITOR]
    store = request.app[INBOX_STORE]
    text = fields.get("text", "").strip() or group.text
    faq = ""
    if action == "example":
        faq = fields.get("faq", "").strip()
        if not faq:
            raise WriteBackError("choose the FAQ this question belongs to")
        await _in_thread(editor.add_example, faq, text, group.language)
    elif action == "out_of_scope":
        await _in_thread(editor.mark_out_of_scope, text, group.language)
    elif action in ("draft", "published", "rumor", "rumor_published"):
        kind = "rumor" if action.startswith("rumor") else "faq"
        draft = _draft_from(fields, text, kind, language=group.language)
        await _in_thread(editor.save_draft, draft)
        faq = draft.id
        if action.endswith("published"):
            await _in_thread(editor.publish_draft, draft.id)
            action = "published"
    elif action != "dismissed":
        raise WriteBackError(f"unknown decision {action!r}")
    ids = await store.resolve_cluster(group.id)
    await audit.record(request, AUDITED[action], faq or group.id, detail=f"{len(ids)} inbox messages")
    return action, faq, ids


# ---- pages ----------------------------------------------------------------------------------------


async def _form(request: web.Request) -> dict[str, str]:
    """The posted form, after the session's CSRF check (403 without the right token)."""
    form = await request.post()
    session.remember_form_token(request, str(form.get(session.CSRF_FIELD, "")))
    if not session.csrf_ok(request):
        raise web.HTTPForbidden(text="the form has expired or lacks its security token: reload the page")
    return {key: str(value) for key, value in form.items() if isinstance(value, str)}


async def _inbox_page(
    request: web.Request,
    error: str = "",
    failed: str = "",
    values: dict[str, str] | None = None,
    status: int = 200,
) -> web.Response:
    page = _page_number(request)
    store = request.app[INBOX_STORE]
    languages = await _in_thread(_languages, request.app)
    language = request.query.get("language", "")
    language = language if language in languages else ""
    groups, total = await store.page((page - 1) * PAGE_SIZE, PAGE_SIZE, language)
    shown = list(dict.fromkeys([*languages, *(group.language for group in groups)]))
    root = request.app[INBOX_CONFIG].root
    names = await _in_thread(language_names, shown, root)
    where = request.query.get("in", "")
    notice = NOTICES.get(request.query.get("done", ""), "").format(
        faq=request.query.get("faq", ""), where=f", in {names.get(where, where)}" if where else ""
    )
    editor = request.app[INBOX_EDITOR]
    faqs = {code: await _in_thread(_faq_options, editor, code) for code in {g.language for g in groups}}
    context = {
        "groups": groups,
        "page": page,
        "pages": max(1, -(-total // PAGE_SIZE)),
        "total": total,
        "examples_shown": EXAMPLES_SHOWN,
        "faqs": faqs,
        "language": language,
        "languages": languages,
        "language_names": names,
        "source_language": SOURCE_LANGUAGE,
        "counts": await store.language_counts(languages) if len(languages) > 1 else {},
        "notice": notice,
        "error": error,
        "failed": failed,
        "values": values or {},
        "retention_days": request.app[INBOX_CONFIG].retention_days,
        "decline_labels": DECLINE_REASONS,
    }
    return layout.render(request, "inbox/inbox.html", context, status)


def _page_number(request: web.Request) -> int:
    try:
        return max(1, int(request.query.get("page", "1")))
    except ValueError:
        return 1


async def inbox_get(request: web.Request) -> web.StreamResponse:
    await layout.require_role(request, EDITOR)
    return await _inbox_page(request)


async def decision_post(request: web.Request) -> web.StreamResponse:
    await layout.require_role(request, EDITOR)
    fields = await _form(request)
    group = await _group_or_404(request)
    action = request.match_info["action"].replace("-", "_")
    try:
        done, faq, _ = await _decide(request, group, action, fields)
    except WriteBackError as exc:
        if action in ("draft", "published"):
            return await _draft_page(request, group, str(exc), fields, status=400)
        if action.startswith("rumor"):
            return await _draft_page(request, group, str(exc), fields, status=400, kind="rumor")
        return await _inbox_page(request, str(exc), group.id, fields, status=400)
    where = group.language if done == "example" and group.language != SOURCE_LANGUAGE else ""
    raise web.HTTPSeeOther(f"/inbox?{_query(done, faq, where, fields.get('filter', ''))}")


def _query(done: str, faq: str, where: str = "", language: str = "") -> str:
    """The inbox's query after a decision: what was done, to which FAQ, in which language (when not
    English), and the language the page was filtered by."""
    query = {"done": done, "faq": faq, "in": where, "language": language}
    return urlencode({key: value for key, value in query.items() if value or key in ("done", "faq")})


async def _draft_page(
    request: web.Request,
    group: Cluster,
    error: str = "",
    values: dict[str, str] | None = None,
    status: int = 200,
    kind: str = "faq",
) -> web.Response:
    editor = request.app[INBOX_EDITOR]
    topics = await _in_thread(editor.topics)
    other = "" if group.language == SOURCE_LANGUAGE else group.language
    names = await _in_thread(language_names, [group.language], request.app[INBOX_CONFIG].root)
    context = {
        "group": group,
        "topics": topics,
        "error": error,
        "values": values or {},
        "language": other,
        "language_name": names.get(group.language, group.language),
    }
    if kind == "rumor":
        context["faqs"] = await _in_thread(_faq_options, editor)
        return layout.render(request, "inbox/rumor.html", context, status)
    return layout.render(request, "inbox/draft.html", context, status)


async def draft_get(request: web.Request) -> web.StreamResponse:
    await layout.require_role(request, EDITOR)
    return await _draft_page(request, await _group_or_404(request))


async def rumor_get(request: web.Request) -> web.StreamResponse:
    """A rumor entry drafted from an inbox question: claim, verdict, facts (one click from /analytics)."""
    await layout.require_role(request, EDITOR)
    return await _draft_page(request, await _group_or_404(request), kind="rumor")


async def _drafts_context(request: web.Request) -> dict[str, Any]:
    editor = request.app[INBOX_EDITOR]
    drafts = await _in_thread(editor.drafts)
    codes = [draft.language for draft in drafts if draft.language]
    names = await _in_thread(language_names, codes, request.app[INBOX_CONFIG].root)
    return {"drafts": drafts, "topics": await _in_thread(editor.topics), "language_names": names}


async def drafts_get(request: web.Request) -> web.StreamResponse:
    await layout.require_role(request, EDITOR)
    context = await _drafts_context(request)
    context["notice"] = NOTICES.get(request.query.get("done", ""), "").format(
        faq=request.query.get("faq", "")
    )
    return layout.render(request, "inbox/drafts.html", context)


async def drafts_post(request: web.Request) -> web.StreamResponse:
    """Save or publish a draft from the drafts page."""
    await layout.require_role(request, EDITOR)
    fields = await _form(request)
    editor = request.app[INBOX_EDITOR]
    draft_id = request.match_info["draft_id"]
    saved = next((d for d in await _in_thread(editor.drafts) if d.id == draft_id), None)
    language = saved.language if saved else ""
    posted = {"questions": "", "translated_questions": "", **fields}
    draft = _draft_from(posted, "", saved.kind if saved else "faq", draft_id, language)
    try:
        await _in_thread(editor.save_draft, draft)
        if fields.get("publish"):
            await _in_thread(editor.publish_draft, draft.id)
    except WriteBackError as exc:
        context = await _drafts_context(request)
        context.update(error=str(exc), failed=draft.id)
        return layout.render(request, "inbox/drafts.html", context, status=400)
    done = "published" if fields.get("publish") else "draft"
    await audit.record(request, AUDITED[done], draft.id)
    raise web.HTTPSeeOther(f"/inbox/drafts?{_query(done, draft.id)}")


# ---- JSON API -------------------------------------------------------------------------------------


async def _require_editor_api(request: web.Request) -> None:
    account = await require_account(request)
    if account.role != EDITOR:
        raise web.HTTPForbidden(
            text='{"error": "the editor role is required"}', content_type="application/json"
        )


def _group_json(group: Cluster) -> dict[str, Any]:
    return {
        "id": group.id,
        "language": group.language,
        "text": group.text,
        "count": group.count,
        "reasons": dict(group.reasons),
        "intents": dict(group.intents),
        "declines": dict(group.declines),
        "answers": dict(group.answers),
        "messages": [item.as_dict() for item in group.items],  # examples: the most common wording, the newest
    }


async def api_groups(request: web.Request) -> web.StreamResponse:
    """``GET /api/inbox/groups?offset=0&limit=100&language=``: clusters (of one language, if given),
    most frequent first, with ``total``."""
    await _require_editor_api(request)
    try:
        offset = max(0, int(request.query.get("offset", "0")))
        limit = min(API_LIMIT, max(1, int(request.query.get("limit", str(API_LIMIT)))))
    except ValueError:
        return web.json_response({"error": "offset and limit must be whole numbers"}, status=400)
    language = request.query.get("language", "")
    if language and language not in await _in_thread(_languages, request.app):
        return web.json_response({"error": f"{language!r} is not one of the agency's languages"}, status=400)
    groups, total = await request.app[INBOX_STORE].page(offset, limit, language)
    return web.json_response({"groups": [_group_json(g) for g in groups], "total": total})


async def api_decision(request: web.Request) -> web.StreamResponse:
    """``POST /api/inbox/groups/{id}/{example|out-of-scope|draft|dismiss}`` with a JSON body."""
    await _require_editor_api(request)
    try:
        body = await request.json()
    except ValueError:
        return web.json_response({"error": "the body must be JSON"}, status=400)
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(
            text='{"error": "the body must be a JSON object"}', content_type="application/json"
        )
    group = await request.app[INBOX_STORE].cluster(request.match_info["group_id"])
    if group is None:
        return web.json_response({"error": "no such group in the inbox"}, status=404)
    action = {"dismiss": "dismissed", "publish": "published"}.get(request.match_info["action"])
    action = action or request.match_info["action"].replace("-", "_")
    for key in ("questions", "translated_questions"):
        if isinstance(body.get(key), list):
            body[key] = "\n".join(str(q) for q in body[key])
    try:
        done, faq, ids = await _decide(request, group, action, {k: str(v) for k, v in body.items()})
    except WriteBackError as exc:
        return web.json_response({"error": str(exc)}, status=400)
    return web.json_response({"done": done, "faq": faq, "resolved": ids})


def setup(app: web.Application, config: InboxConfig) -> None:
    """Mount the inbox on the console app, once, after the shell's layout (`bot.console.app`)."""
    app[INBOX_CONFIG] = config
    app[INBOX_EDITOR] = ContentEditor(config)
    app.cleanup_ctx.append(_inbox_resources)
    layout.add_template_dir(app, HERE / "templates")
    layout.add_nav(app, "/inbox", "Inbox", role=EDITOR)
    app.router.add_get("/inbox", inbox_get, name="inbox")
    app.router.add_get("/inbox/drafts", drafts_get, name="inbox_drafts")
    app.router.add_post("/inbox/drafts/{draft_id}", drafts_post)
    app.router.add_get("/inbox/groups/{group_id}/draft", draft_get)
    app.router.add_get("/inbox/groups/{group_id}/rumor", rumor_get)
    app.router.add_post(
        "/inbox/groups/{group_id}/{action:example|out-of-scope|draft|published|dismissed|rumor|rumor-published}",
        decision_post,
    )
    app.router.add_static("/inbox/static", HERE / "static", append_version=False)
    app.router.add_get("/api/inbox/groups", api_groups)
    app.router.add_post(
        "/api/inbox/groups/{group_id}/{action:example|out-of-scope|draft|publish|dismiss|rumor}", api_decision
    )
