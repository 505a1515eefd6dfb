"""Message tests in the console: the results pages, their JSON and CSV, and Promote (editors only).

``/experiments`` lists every test (entries with ``variants:`` in the content, and ended tests the
analytics still hold); ``/experiments/{entry_id}`` shows one, with a Promote form. The same results
are ``GET /api/experiments``, ``/api/experiments/{entry_id}`` (JSON) and ``.../{entry_id}.csv``, for
an editor's API token or signed-in session (agents get 403). Promote posts with the session's CSRF
token, writes the content off the event loop (`bot.experiments.promote`), ends the test in the
analytics and is audit-logged. Counts come from `bot.analytics.summary`; nothing here scans events.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
from pathlib import Path
from urllib.parse import urlencode

from aiohttp import web

from bot.analytics.summary import end_experiment, ended_experiments, experiments, variant_outcomes
from bot.console import audit, layout, session
from bot.console.auth import require_account
from bot.console.keys import REDIS
from bot.content.model import ID_PATTERN, Entry, all_entries, load_content
from bot.experiments.promote import PromoteRefused, promote
from bot.experiments.results import CSV_COLUMNS, OUTCOMES, Arm, ExperimentResult, csv_rows, experiment_result

HERE = Path(__file__).resolve().parent
EDITOR = "editor"
AUDIT_ACTION = "experiment_promote"
ENTRY_ROUTE = "{entry_id:[a-z][a-z0-9_]*}"

CONTENT_DIR = web.AppKey("experiments_content_dir", Path)
"""The content files the tests' variants are read from and Promote writes to (data/content)."""

MIN_EXPOSURES = web.AppKey("experiments_min_exposures", int)
"""MIN_EXPOSURES_PER_VARIANT: below it, a test's page says it is too early to decide."""


async def _tested_entries(app: web.Application) -> dict[str, Entry]:
    """Entries of the content by id (parsed off the event loop; unchanged files come from a cache)."""
    topics = await asyncio.to_thread(load_content, app[CONTENT_DIR])
    return {entry.id: entry for entry in all_entries(topics)}


async def _result(
    app: web.Application, entry_id: str, entries: dict[str, Entry], ended: set[str]
) -> ExperimentResult:
    entry = entries.get(entry_id)
    running = entry is not None and bool(entry.variants) and entry_id not in ended
    arms = [Arm(v.id, v.weight, v.answer) for v in entry.variants] if entry else []
    title = entry.questions[0] if entry and entry.questions else entry_id
    outcomes = await variant_outcomes(app[REDIS], entry_id)
    return experiment_result(entry_id, title, arms, outcomes, app[MIN_EXPOSURES], running)


async def all_results(app: web.Application) -> list[ExperimentResult]:
    """Running tests in content order, then ended ones (oldest test first)."""
    entries = await _tested_entries(app)
    ended = set(await ended_experiments(app[REDIS]))
    ids = [entry_id for entry_id, entry in entries.items() if entry.variants]
    ids += [entry_id for entry_id in await experiments(app[REDIS]) if entry_id not in ids]
    return [await _result(app, entry_id, entries, ended) for entry_id in ids]


async def one_result(app: web.Application, entry_id: str, as_json: bool = False) -> ExperimentResult:
    """The test of ``entry_id``; 404 (JSON for the API) when the entry is not tested and never was."""
    entries = await _tested_entries(app)
    entry = entries.get(entry_id)
    if (entry is None or not entry.variants) and entry_id not in await experiments(app[REDIS]):
        if as_json:
            raise web.HTTPNotFound(
                text=json.dumps({"error": "no message test for this entry"}), content_type="application/json"
            )
        raise web.HTTPNotFound(text="No message test for this entry.")
    return await _result(app, entry_id, entries, set(await ended_experiments(app[REDIS])))


# --- pages -------------------------------------------------------------------------------------


def _context(result: ExperimentResult) -> dict[str, object]:
    return {
        "r": result,
        "outcomes": OUTCOMES,
        "by_pair": {(c.outcome, c.variant): c for c in result.comparisons},
    }


async def list_get(request: web.Request) -> web.StreamResponse:
    await layout.require_role(request, EDITOR)
    results = await all_results(request.app)
    return layout.render(request, "experiments/list.html", {"results": results})


async def _detail_page(
    request: web.Request, result: ExperimentResult, error: str = "", status: int = 200
) -> web.Response:
    context = {
        **_context(result),
        "done": request.query.get("done", ""),
        "promoted": request.query.get("variant", ""),
        "error": error,
    }
    return layout.render(request, "experiments/detail.html", context, status)


async def detail_get(request: web.Request) -> web.StreamResponse:
    await layout.require_role(request, EDITOR)
    return await _detail_page(request, await one_result(request.app, request.match_info["entry_id"]))


async def promote_post(request: web.Request) -> web.StreamResponse:
    name = await layout.require_role(request, EDITOR)
    form = await request.post()
    session.remember_form_token(request, str(form.get(session.CSRF_FIELD, "")))
    if not session.csrf_ok(request):
        raise web.HTTPForbidden(text="the form has expired or lacks its security token: reload the page")
    entry_id = request.match_info["entry_id"]
    variant = str(form.get("variant", ""))
    if not ID_PATTERN.match(variant):
        result = await one_result(request.app, entry_id)
        return await _detail_page(request, result, "Choose the variant to promote.", status=400)
    try:
        promoted = await asyncio.to_thread(promote, request.app[CONTENT_DIR], entry_id, variant)
    except PromoteRefused as exc:
        result = await one_result(request.app, entry_id)
        return await _detail_page(request, result, str(exc), status=409)
    await end_experiment(request.app[REDIS], entry_id)
    await audit.record(request, AUDIT_ACTION, entry_id, actor=name, detail=f"variant {promoted.variant}")
    query = urlencode({"done": "promoted", "variant": promoted.variant})
    raise web.HTTPSeeOther(f"/experiments/{entry_id}?{query}")


# --- JSON and CSV ------------------------------------------------------------------------------


async def _editor(request: web.Request) -> None:
    account = await require_account(request)
    if account.role != EDITOR:
        raise web.HTTPForbidden(
            text=json.dumps({"error": "the editor role is required"}), content_type="application/json"
        )


async def api_list(request: web.Request) -> web.Response:
    await _editor(request)
    results = await all_results(request.app)
    return web.json_response({"experiments": [r.summary() for r in results]})


async def api_one(request: web.Request) -> web.Response:
    await _editor(request)
    result = await one_result(request.app, request.match_info["entry_id"], as_json=True)
    return web.json_response(result.as_dict())


async def api_csv(request: web.Request) -> web.Response:
    await _editor(request)
    result = await one_result(request.app, request.match_info["entry_id"], as_json=True)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerows(csv_rows(result))  # ids and numbers only: nothing a spreadsheet would run
    return web.Response(
        text=buffer.getvalue(),
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="experiment-{result.entry}.csv"'},
    )


def setup(app: web.Application, content_dir: Path, min_exposures: int) -> None:
    """Mount the message tests on the console app, after the shell's layout (`bot.console.app`)."""
    app[CONTENT_DIR] = content_dir
    app[MIN_EXPOSURES] = min_exposures
    layout.add_template_dir(app, HERE / "templates")
    layout.add_nav(app, "/experiments", "Message tests", role=EDITOR)
    app.router.add_get("/experiments", list_get)
    app.router.add_get(f"/experiments/{ENTRY_ROUTE}", detail_get)
    app.router.add_post(f"/experiments/{ENTRY_ROUTE}/promote", promote_post)
    app.router.add_get("/api/experiments", api_list)
    app.router.add_get(f"/api/experiments/{ENTRY_ROUTE}.csv", api_csv)
    app.router.add_get(f"/api/experiments/{ENTRY_ROUTE}", api_one)
