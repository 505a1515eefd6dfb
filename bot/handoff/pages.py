"""The handoff's console pages: the live queue and one conversation.

Rendered into the console's layout (`bot.console.layout`) and then kept live by
``static/console.js`` (served at ``/handoff/static/``) through the JSON API and its websocket.
Actions (claim, reply, transfer, release, close) go to the same JSON API with the session cookie
and the session's CSRF token, so there is one implementation of each operation.

Both pages show the citizen's language by its own name ("Español"); the conversation page offers
the agent the languages the agency offers for the console's notices and canned replies, set to the
conversation's (`POST .../language`, then the canned replies of the new one from the API).
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from bot.console.keys import ACCOUNTS
from bot.console.layout import add_nav, add_template_dir, render, require_agent
from bot.handoff import texts
from bot.handoff.keys import CONFIG
from bot.handoff.shapes import conversation_view, queue_view

HERE = Path(__file__).resolve().parent
TEMPLATE_DIR = HERE / "templates"
STATIC_DIR = HERE / "static"
SENDER_LABELS = {"citizen": "Citizen", "bot": "Bot", "agent": "Agent"}


# ---- queue and conversation ---------------------------------------------------------------------


async def queue_page(request: web.Request) -> web.StreamResponse:
    await require_agent(request)
    entries = await queue_view(request.app)
    return render(request, "queue.html", {"entries": entries, "offered": texts.offered_languages()})


async def conversation_page(request: web.Request) -> web.StreamResponse:
    agent = await require_agent(request)
    conversation = await conversation_view(request.app, request.match_info["conversation_id"])
    if conversation is None:
        raise web.HTTPNotFound(text="No such conversation in the queue.")
    colleagues = [name for name in request.app[ACCOUNTS].names() if name != agent]
    context = {
        "conversation": conversation,
        "canned": canned_replies(request.app, conversation["reply_language"]),
        "languages": [
            {"code": code, "name": texts.language_name(code)} for code in texts.offered_languages()
        ],
        "colleagues": colleagues,
        "sender_labels": SENDER_LABELS,
    }
    return render(request, "conversation.html", context)


def canned_replies(app: web.Application, language: str) -> list[dict[str, str]]:
    """Canned replies from ``canned_replies.yml`` in `language` (re-read per page, so staff edits
    apply at once)."""
    return texts.canned_replies(app[CONFIG].data_dir, language)


# ---- wiring -------------------------------------------------------------------------------------


def setup_pages(app: web.Application) -> None:
    """Mount the queue and conversation pages, their templates, nav link and script (`bot.handoff.web`)."""
    add_template_dir(app, TEMPLATE_DIR)
    add_nav(app, "/", "Queue")
    app.router.add_get("/", queue_page, name="queue")
    app.router.add_get("/conversations/{conversation_id}", conversation_page, name="conversation")
    app.router.add_static("/handoff/static", STATIC_DIR, name="handoff_static", append_version=False)
