"""The inbox in the console: editor-only pages under ``/inbox`` and a JSON API under ``/api/inbox``.

`setup(app, config)` (called once by `bot.console.app.create_app`) adds the routes, the nav link
for editors, and a cleanup context that runs the recorder in the console's loop, so ``make run``
needs no extra process. Pages reuse the console's layout and sign-in (``bot.console.layout``);
every form carries the session's CSRF token; citizen text is rendered through autoescape.
Write-backs run in a worker thread: they read and write files and run the content rules.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode

from aiohttp import web

from bot.background import Background
from bot.console import audit, layout, session
from bot.console.auth import require_account
from bot.console.keys import REDIS
from bot.inbox.config import InboxConfig
from bot.inbox.grouping import Group, find_group, group_items
from bot.inbox.recorder import Recorder, run_forever
from bot.inbox.selection import DECLINE_REASONS
from bot.inbox.store import InboxStore
from bot.inbox.writeback import ContentEditor, Draft, WriteBackError
from bot.privacy.public import public_redactor

HERE = Path(__file__).resolve().parent
EDITOR = "editor"
EXAMPLES_SHOWN = 5
T = TypeVar("T")

INBOX_CONFIG = web.AppKey("inbox_config", InboxConfig)
"""Where the content is, the confidence threshold and the retention period."""
INBOX_STORE = web.AppKey("inbox_store", InboxStore)
"""The inbox messages in Redis (opened by the cleanup context, on the console's Redis client)."""
INBOX_EDITOR = web.AppKey("inbox_editor", ContentEditor)
"""Writes editors' decisions back to the content files."""

NOTICES = {
    "example": "Added as an example question of {faq}. It is used from the next `model reload`.",
    "out_of_scope": "Marked out of scope: declined from the next `model reload`.",
    "draft": "Draft {faq} saved. It is not used until it is published with an answer, source and department.",
    "published": "Published {faq}. It is used from the next `model reload`.",
    "dismissed": "Dismissed: the messages left the inbox without changing the content.",
}
AUDITED = {
    "example": "add_example",
    "out_of_scope": "mark_out_of_scope",
    "draft": "save_draft",
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
    yield
    await background.stop()


async def _in_thread(function: Callable[..., T], *args: Any) -> T:
    return await asyncio.get_running_loop().run_in_executor(None, functools.partial(function, *args))


async def _groups(request: web.Request) -> list[Group]:
    """Grouping compares messages pairwise: in a thread, so that agents' pages and the relay keep
    answering while a busy month's inbox is grouped."""
    return await _in_thread(group_items, await request.app[INBOX_STORE].items())


async def _group_or_404(request: web.Request) -> Group:
    group = find_group(await _groups(request), request.match_info["group_id"])
    if group is None:
        raise web.HTTPNotFound(text="that group is no longer in the inbox (someone may have handled it)")
    return group


def _faq_options(editor: ContentEditor) -> list[dict[str, str]]:
    return [
        {"id": e.id, "label": f"{e.questions[0] if e.questions else e.id} ({t.title})", "topic": t.title}
        for t, e in editor.faqs()
        if not e.sensitive
    ]


# ---- decisions, shared by the pages and the JSON API --------------------------------------------


async def _decide(request: web.Request, group: Group, action: str, fields: dict[str, str]) -> tuple[str, str]:
    """Apply one decision to a group; returns (notice key, FAQ id). Raises WriteBackError."""
    editor = request.app[INBOX_EDITOR]
    text = fields.get("text", "").strip() or group.text
    faq = ""
    if action == "example":
        faq = fields.get("faq", "").strip()
        if not faq:
            raise WriteBackError("choose the FAQ this question belongs to")
        await _in_thread(editor.add_example, faq, text)
    elif action == "out_of_scope":
        await _in_thread(editor.mark_out_of_scope, text)
    elif action in ("draft", "published"):
        draft = Draft(
            id=fields.get("id", "").strip(),
            topic=fields.get("topic", "").strip(),
            questions=tuple(q for q in fields.get("questions", text).splitlines() if q.strip()),
            answer=fields.get("answer", "").strip(),
            short_answer=fields.get("short_answer", "").strip(),
            source=fields.get("source", "").strip(),
            department=fields.get("department", "").strip(),
        )
        await _in_thread(editor.save_draft, draft)
        faq = draft.id
        if action == "published":
            await _in_thread(editor.publish_draft, draft.id)
    elif action != "dismissed":
        raise WriteBackError(f"unknown decision {action!r}")
    await request.app[INBOX_STORE].resolve(group.ids)
    await audit.record(request, AUDITED[action], faq or group.id, detail=f"{len(group.ids)} inbox messages")
    return action, faq


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
    groups = await _groups(request)
    notice = NOTICES.get(request.query.get("done", ""), "").format(faq=request.query.get("faq", ""))
    context = {
        "groups": groups,
        "examples_shown": EXAMPLES_SHOWN,
        "faqs": await _in_thread(_faq_options, request.app[INBOX_EDITOR]),
        "notice": notice,
        "error": error,
        "failed": failed,
        "values": values or {},
        "retention_days": request.app[INBOX_CONFIG].retention_days,
        "decline_labels": DECLINE_REASONS,
    }
    return layout.render(request, "inbox/inbox.html", context, status)


async def inbox_get(request: web.Request) -> web.StreamResponse:
    await layout.require_role(request, EDITOR)
    return await _inbox_page(request)


async def decision_post(request: web.Request) -> web.StreamResponse:
    await layout.require_role(request, EDITOR)
    fields = await _form(request)
    group = await _group_or_404(request)
    action = request.match_info["action"].replace("-", "_")
    try:
        done, faq = await _decide(request, group, action, fields)
    except WriteBackError as exc:
        if action in ("draft", "published"):
            return await _draft_page(request, group, str(exc), fields, status=400)
        return await _inbox_page(request, str(exc), group.id, fields, status=400)
    raise web.HTTPSeeOther(f"/inbox?{_query(done, faq)}")


def _query(done: str, faq: str) -> str:
    return urlencode({"done": done, "faq": faq})


async def _draft_page(
    request: web.Request,
    group: Group,
    error: str = "",
    values: dict[str, str] | None = None,
    status: int = 200,
) -> web.Response:
    editor = request.app[INBOX_EDITOR]
    topics = await _in_thread(editor.topics)
    context = {"group": group, "topics": topics, "error": error, "values": values or {}}
    return layout.render(request, "inbox/draft.html", context, status)


async def draft_get(request: web.Request) -> web.StreamResponse:
    await layout.require_role(request, EDITOR)
    return await _draft_page(request, await _group_or_404(request))


async def drafts_get(request: web.Request) -> web.StreamResponse:
    await layout.require_role(request, EDITOR)
    editor = request.app[INBOX_EDITOR]
    context = {"drafts": await _in_thread(editor.drafts), "topics": await _in_thread(editor.topics)}
    context["notice"] = NOTICES.get(request.query.get("done", ""), "").format(
        faq=request.query.get("faq", "")
    )
    return layout.render(request, "inbox/drafts.html", context)


async def drafts_post(request: web.Request) -> web.StreamResponse:
    """Save or publish a draft from the drafts page."""
    await layout.require_role(request, EDITOR)
    fields = await _form(request)
    editor = request.app[INBOX_EDITOR]
    draft = Draft(
        id=request.match_info["draft_id"],
        topic=fields.get("topic", ""),
        questions=tuple(q for q in fields.get("questions", "").splitlines() if q.strip()),
        answer=fields.get("answer", ""),
        short_answer=fields.get("short_answer", ""),
        source=fields.get("source", ""),
        department=fields.get("department", ""),
    )
    try:
        await _in_thread(editor.save_draft, draft)
        if fields.get("publish"):
            await _in_thread(editor.publish_draft, draft.id)
    except WriteBackError as exc:
        context = {"drafts": await _in_thread(editor.drafts), "topics": await _in_thread(editor.topics)}
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


def _group_json(group: Group) -> dict[str, Any]:
    return {
        "id": group.id,
        "text": group.text,
        "count": group.count,
        "reasons": dict(group.reasons),
        "intents": dict(group.intents),
        "declines": dict(group.declines),
        "messages": [item.as_dict() for item in group.items],
    }


async def api_groups(request: web.Request) -> web.StreamResponse:
    await _require_editor_api(request)
    return web.json_response({"groups": [_group_json(g) for g in await _groups(request)]})


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
    group = find_group(await _groups(request), request.match_info["group_id"])
    if group is None:
        return web.json_response({"error": "no such group in the inbox"}, status=404)
    action = {"dismiss": "dismissed", "publish": "published"}.get(request.match_info["action"])
    action = action or request.match_info["action"].replace("-", "_")
    if isinstance(body.get("questions"), list):
        body["questions"] = "\n".join(str(q) for q in body["questions"])
    try:
        done, faq = await _decide(request, group, action, {k: str(v) for k, v in body.items()})
    except WriteBackError as exc:
        return web.json_response({"error": str(exc)}, status=400)
    return web.json_response({"done": done, "faq": faq, "resolved": group.ids})


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
    app.router.add_post(
        "/inbox/groups/{group_id}/{action:example|out-of-scope|draft|published|dismissed}", decision_post
    )
    app.router.add_static("/inbox/static", HERE / "static", append_version=False)
    app.router.add_get("/api/inbox/groups", api_groups)
    app.router.add_post(
        "/api/inbox/groups/{group_id}/{action:example|out-of-scope|draft|publish|dismiss}", api_decision
    )
