"""Failed platform messages in the console: the ``/deadletters`` page for editors, with a retry.

A webhook message whose handling failed `INTAKE_MAX_ATTEMPTS` times is a dead letter
(`bot.channels.intake`): nothing is dropped silently. Editors see each one's channel,
conversation, text and error, and "Retry" puts it back into its channel's intake stream (once,
however often the button is pressed); every retry is in the audit log (``intake_retry``).
"""

from __future__ import annotations

from aiohttp import web

from bot.channels.intake import DeadLetters
from bot.console import session
from bot.console.audit import record
from bot.console.keys import REDIS
from bot.console.layout import add_nav, render, require_role

EDITOR = "editor"
NOTICES = {"retried": "The message is back in the queue and will be answered shortly.", "gone": ""}


async def deadletters_page(request: web.Request) -> web.StreamResponse:
    await require_role(request, EDITOR)
    letters = await DeadLetters(request.app[REDIS]).all()
    notice = NOTICES.get(request.query.get("done", ""), "")
    return render(request, "deadletters.html", {"letters": letters, "notice": notice})


async def retry_post(request: web.Request) -> web.StreamResponse:
    await require_role(request, EDITOR)
    form = await request.post()
    session.remember_form_token(request, str(form.get(session.CSRF_FIELD, "")))
    if not session.csrf_ok(request):
        raise web.HTTPForbidden(text="the form has expired or lacks its security token: reload the page")
    letters = DeadLetters(request.app[REDIS])
    letter = await letters.get(request.match_info["letter_id"])
    if letter is None or not await letters.retry(letter):
        raise web.HTTPSeeOther("/deadletters?done=gone")  # already retried (another tab, another editor)
    await record(request, "intake_retry", letter.conversation, detail=f"{letter.channel}, {letter.error}")
    raise web.HTTPSeeOther("/deadletters?done=retried")


def setup_deadletters(app: web.Application) -> None:
    """The page, its retry form and the editors' nav link."""
    add_nav(app, "/deadletters", "Failed messages", role=EDITOR)
    app.router.add_get("/deadletters", deadletters_page, name="deadletters")
    app.router.add_post("/deadletters/{letter_id}/retry", retry_post, name="deadletters_retry")
