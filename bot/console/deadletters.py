"""Failed platform messages in the console: the ``/deadletters`` page for editors, with a retry.

A webhook message whose handling failed `INTAKE_MAX_ATTEMPTS` times is a dead letter
(`bot.channels.intake`): nothing is dropped silently. Editors see each one's channel,
conversation, text (redacted, as in the review inbox: editors need what was asked, not who asked
it) and error, and "Retry" puts it back into its channel's intake stream (once,
however often the button is pressed); every retry is in the audit log (``intake_retry``).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from aiohttp import web

from bot.channels.intake import DeadLetter, DeadLetters
from bot.console import session
from bot.console.audit import record
from bot.console.keys import REDIS
from bot.console.layout import add_nav, render, require_role
from bot.privacy.public import public_redactor
from bot.privacy.redact import Redactor

EDITOR = "editor"
NOTICES = {"retried": "The message is back in the queue and will be answered shortly.", "gone": ""}


@functools.lru_cache(maxsize=1)
def _redactor() -> Redactor:
    return public_redactor()  # reads the published data files once: the city's own numbers stay


@dataclass(frozen=True)
class Shown:
    """A dead letter as the page shows it: the citizen's text and the error redacted."""

    id: str
    channel: str
    conversation: str
    summary: str
    error: str
    attempts: int
    failed_at: float

    @classmethod
    def of(cls, letter: DeadLetter) -> Shown:
        redact = _redactor().redact
        return cls(
            letter.id, letter.channel, letter.conversation, redact(letter.summary),
            redact(letter.error), letter.attempts, letter.failed_at,
        )  # fmt: skip


async def deadletters_page(request: web.Request) -> web.StreamResponse:
    await require_role(request, EDITOR)
    letters = [Shown.of(letter) for letter in await DeadLetters(request.app[REDIS]).all()]
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
