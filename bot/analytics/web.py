"""The analytics dashboard (``/analytics``) and its API (``/api/analytics/...``) on the console app.

`setup(app, emerging)` is called once by `bot.console.app.create_app`, after the shell's layout.
Editors only: the page wants a signed-in editor session; the API an editor's token (`Authorization:
Bearer`) or session (401 without either, 403 for agents), as the broadcasts' API does.
Every figure comes from the aggregator's daily counts (`bot.analytics.summary`): a request reads
the days of its range and nothing else, so a page view costs the same after a year as after a day.
Money saved and the page's wording come from data/analytics/settings.yml (`bot.analytics.savings`);
the emerging questions from the inbox's clusters (`bot.inbox.emerging`, handed over by the shell),
of every language or of one (``?language=es``: one of the agency's ``languages_offered``).
Docs: docs/analytics.md.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from aiohttp import web
from redis.asyncio import Redis

from bot.analytics.charts import Series, bar_chart, line_chart
from bot.analytics.savings import (
    SETTINGS_FILE,
    AnalyticsSettings,
    AnalyticsSettingsError,
    load_settings,
    saved_amount,
    savings,
)
from bot.analytics.summary import daily, summary
from bot.console.auth import require_account
from bot.console.keys import REDIS
from bot.console.layout import add_nav, add_template_dir, render, require_role
from bot.content.agency import SOURCE_LANGUAGE
from bot.content.model import CONTENT_DIR, ContentError, all_entries, load_content
from bot.language.offered import language_names, offered

HERE = Path(__file__).resolve().parent
EDITOR = "editor"
DEFAULT_DAYS = 7
MAX_DAYS = 366
TOP_SHOWN = 10  # bars in the top answers chart (the table lists all the summary gives)
# The CSV's columns after `date`, in this order for good: scripts and spreadsheets rely on it.
CSV_COLUMNS = (
    "conversations",
    "messages",
    "contained",
    "containment_rate",
    "handoffs",
    "declined",
    "clarifications",
    "helpful",
    "not_helpful",
    "lookups",
    "lookup_failures",
    "reports_filed",
    "csat_count",
    "csat_average",
)

Emerging = Callable[[Redis, float, str], Awaitable[list[dict[str, Any]]]]
"""`bot.inbox.emerging.emerging_questions` (redis, now, language): given by the shell, so features
never import each other."""

SETTINGS_PATH = web.AppKey("analytics_settings_file", Path)
"""data/analytics/settings.yml, or a test's copy: the cost per 311 contact and the page's wording."""
EMERGING: web.AppKey[Emerging] = web.AppKey("analytics_emerging")
"""Where the emerging questions come from (the review inbox's clusters)."""
AGENCY_PATH = web.AppKey("analytics_agency_file", Path)
"""data/agency.yml beside the content: the languages the emerging questions are filtered by."""


class BadRange(ValueError):
    """A date range the dashboard cannot show; the message says what to fix."""


class BadLanguage(ValueError):
    """A language the agency does not offer; the message names those it does."""


def _day(text: str, name: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise BadRange(f"{name} must be a date like 2026-09-01, not {text[:20]!r}") from None


def date_range(query: Mapping[str, str], today: date) -> tuple[date, date]:
    """`from` and `to` (UTC dates, both included); by default the 7 days ending `today`."""
    raw_from, raw_to = query.get("from", "").strip(), query.get("to", "").strip()
    end = _day(raw_to, "to") if raw_to else today
    start = _day(raw_from, "from") if raw_from else end - timedelta(days=DEFAULT_DAYS - 1)
    if start > end:
        raise BadRange("from must not be after to")
    if (end - start).days + 1 > MAX_DAYS:
        raise BadRange(f"a range covers at most {MAX_DAYS} days")
    return start, end


def asked_language(query: Mapping[str, str], languages: Sequence[str]) -> str:
    """``language`` of the query ("" for every language), if it is one of the agency's `languages`."""
    code = query.get("language", "").strip()
    if code and code not in languages:
        raise BadLanguage(
            f"language must be one of the agency's languages ({', '.join(languages)}), not {code[:20]!r}"
        )
    return code


def _languages(app: web.Application) -> tuple[str, ...]:
    return offered(app[AGENCY_PATH])


def _today() -> date:
    return datetime.now(timezone.utc).date()


def _json_error(kind: type[web.HTTPException], reason: str) -> web.HTTPException:
    return kind(text=json.dumps({"error": reason}), content_type="application/json")


async def _require_editor_api(request: web.Request) -> None:
    """401 without a token or session, 403 for a non-editor."""
    account = await require_account(request)
    if account.role != EDITOR:
        raise _json_error(web.HTTPForbidden, "the editor role is required")


async def _editor_api(request: web.Request) -> tuple[date, date]:
    """401 without a token or session, 403 for a non-editor, 400 for a bad range; else the range."""
    await _require_editor_api(request)
    try:
        return date_range(request.query, _today())
    except BadRange as exc:
        raise _json_error(web.HTTPBadRequest, str(exc)) from None


async def summary_api(request: web.Request) -> web.Response:
    """``GET /api/analytics/summary?from=YYYY-MM-DD&to=YYYY-MM-DD``: the figures and the money saved."""
    start, end = await _editor_api(request)
    try:
        settings = load_settings(request.app[SETTINGS_PATH])
    except AnalyticsSettingsError as exc:
        return web.json_response({"error": f"money saved cannot be computed: {exc}"}, status=500)
    figures = await summary(request.app[REDIS], start, end)
    return web.json_response({**figures, "savings": savings(int(figures["contained"]), settings)})


async def emerging_api(request: web.Request) -> web.Response:
    """``GET /api/analytics/emerging?language=``: the emerging questions (of one language, if given),
    as `bot.inbox.emerging` gives them: ``{"emerging": [...]}``."""
    await _require_editor_api(request)
    try:
        language = asked_language(request.query, await asyncio.to_thread(_languages, request.app))
    except BadLanguage as exc:
        raise _json_error(web.HTTPBadRequest, str(exc)) from None
    found = await request.app[EMERGING](request.app[REDIS], time.time(), language)
    return web.json_response({"emerging": found})


def csv_text(days: Sequence[Mapping[str, Any]]) -> str:
    """One row per day: `date`, then CSV_COLUMNS (`handoffs` is the day's total)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(("date", *CSV_COLUMNS))
    for day in days:
        writer.writerow((day["date"], *(day.get(column, 0) for column in CSV_COLUMNS)))
    return out.getvalue()


async def export_csv(request: web.Request) -> web.Response:
    """``GET /api/analytics/export.csv?from&to``: the figures per day, for a spreadsheet."""
    start, end = await _editor_api(request)
    body = csv_text(await daily(request.app[REDIS], start, end))
    name = f"civic-analytics-{start.isoformat()}-to-{end.isoformat()}.csv"
    return web.Response(
        text=body,
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )


# ---- the page --------------------------------------------------------------------------------------


def _percent(rate: float) -> str:
    return f"{rate * 100:.0f}%"


def _helpful_rate(answer: Mapping[str, Any]) -> str | None:
    """The answer's helpful rate as a percentage; None while nobody rated it (the page says so)."""
    rated = int(answer["helpful"]) + int(answer["not_helpful"])
    return _percent(float(answer["helpful_rate"])) if rated else None


def answer_names(content_dir: Path = CONTENT_DIR) -> dict[str, str]:
    """Entry id -> the question staff wrote first, so a manager reads "How do I pay a parking
    ticket?" rather than `parking_ticket_pay` (the content is parsed once per version of its files)."""
    try:
        return {e.id: e.questions[0] for e in all_entries(load_content(content_dir)) if e.questions}
    except (ContentError, OSError):  # `content check` reports it; the ids still say which answer
        return {}


def charts(
    figures: Mapping[str, Any],
    days: Sequence[Mapping[str, Any]],
    settings: AnalyticsSettings,
    names: Mapping[str, str] | None = None,
) -> list[dict[str, Any]]:
    """Each chart of the page: its id, title and SVG, and the rows of the table that says the same
    (the table heads and legends are the template's). `names`: answers' entry ids to their first
    question (a lookup, or an entry no longer in the content, keeps its id)."""
    span = f"{figures['from']} – {figures['to']}"
    dates = [d["date"] for d in days]
    conversations = tuple(float(d.get("conversations", 0)) for d in days)
    messages = tuple(float(d.get("messages", 0)) for d in days)
    rates = tuple(float(d.get("containment_rate", 0.0)) for d in days)
    handoffs = sorted(figures["handoffs"].items(), key=lambda kv: (-kv[1], kv[0]))
    top = list(figures["top_answers"])
    channels = sorted(figures["by_channel"].items(), key=lambda kv: (-kv[1]["conversations"], kv[0]))

    def title(key: str) -> str:
        return settings.say(f"chart_{key}", span=span)

    def answer(entry: Any) -> str:
        return (names or {}).get(str(entry), str(entry))

    def label(key: str) -> str:
        return settings.say("chart_label", title=title(key))

    def note(answer: Mapping[str, Any]) -> str:
        rate = _helpful_rate(answer)
        if rate is None:
            return settings.say("bar_not_rated", served=answer["served"])
        return settings.say("bar_helpful", served=answer["served"], rate=rate)

    drawn = [
        ("activity", line_chart(label("activity"), dates, [Series(conversations), Series(messages)])),
        ("containment", line_chart(label("containment"), dates, [Series(rates)], percent=True)),
        (
            "handoffs",
            bar_chart(label("handoffs"), [(settings.reason(name), float(n)) for name, n in handoffs]),
        ),
        (
            "top_answers",
            bar_chart(
                label("top_answers"),
                [(answer(a["entry"]), float(a["served"])) for a in top[:TOP_SHOWN]],
                notes=[note(a) for a in top[:TOP_SHOWN]],
            ),
        ),
        (
            "channels",
            bar_chart(
                label("channels"), [(settings.channel(n), float(c["conversations"])) for n, c in channels]
            ),
        ),
    ]
    rows: dict[str, list[list[Any]]] = {
        "activity": [[d, int(c), int(m)] for d, c, m in zip(dates, conversations, messages, strict=True)],
        "containment": [
            [d["date"], d.get("conversations", 0), d.get("contained", 0), f"{rate * 100:.1f}%"]
            for d, rate in zip(days, rates, strict=True)
        ],
        "handoffs": [[settings.reason(name), count] for name, count in handoffs],
        "top_answers": [
            [answer(a["entry"]), a["served"], a["helpful"], a["not_helpful"], _helpful_rate(a)] for a in top
        ],
        "channels": [
            [settings.channel(name), c["conversations"], c["messages"], c["helpful"], c["not_helpful"]]
            for name, c in channels
        ],
    }
    return [{"id": key, "title": title(key), "svg": svg, "rows": rows[key]} for key, svg in drawn]


def _emerging(clusters: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The inbox's growing clusters, with draft links kept only when they point into the inbox."""
    return [
        {
            "cluster": str(c["cluster"]),
            "this_week": c["this_week"],
            "weekly_before": f"{float(c['weekly_before']):.1f}".removesuffix(".0"),
            "examples": [str(text) for text in c.get("examples", [])][:3],
            "draft_faq_url": _inbox_url(c.get("draft_faq_url")),
            "draft_rumor_url": _inbox_url(c.get("draft_rumor_url")),
            "language": str(c.get("language") or SOURCE_LANGUAGE),
        }
        for c in clusters
    ]


def _inbox_url(url: Any) -> str:
    return url if isinstance(url, str) and url.startswith("/inbox/") else ""


def _money(settings: AnalyticsSettings, contained: int) -> dict[str, str]:
    """Money saved as the page words it, with the assumption and the source next to it."""
    saved = settings.money(saved_amount(contained, settings))
    return {
        "figure": settings.say("savings_figure", saved=saved, calls=f"{contained:,}"),
        "assumption": settings.say("savings_assumption", cost=settings.money(settings.cost_per_contact)),
        "source_text": settings.source_text,
        "source_url": settings.source_url,
    }


async def dashboard(request: web.Request) -> web.StreamResponse:
    """``GET /analytics?from&to``: the figures of the range as charts with tables, money saved and
    the emerging questions. Reads the range's daily counts and the inbox's clusters, nothing more."""
    await require_role(request, EDITOR)
    query = {name: request.query.get(name, "") for name in ("from", "to", "language")}
    page = "analytics/dashboard.html"
    try:
        settings = load_settings(request.app[SETTINGS_PATH])
    except AnalyticsSettingsError as exc:  # `content check` reports it before a deploy
        return render(request, page, {"query": query, "error": str(exc), "wording": {}}, status=500)
    languages = await asyncio.to_thread(_languages, request.app)
    try:
        start, end = date_range(query, _today())
        language = asked_language(query, languages)
    except (BadRange, BadLanguage) as exc:
        return render(
            request, page, {"query": query, "error": str(exc), "wording": settings.wording}, status=400
        )
    redis = request.app[REDIS]
    figures, days, clusters, names = await asyncio.gather(
        summary(redis, start, end),
        daily(redis, start, end),
        request.app[EMERGING](redis, time.time(), language),
        asyncio.to_thread(answer_names),
    )
    emerging = _emerging(clusters)
    shown = list(dict.fromkeys([*languages, *(c["language"] for c in emerging)]))
    root = request.app[AGENCY_PATH].parent.parent
    context = {
        "query": {"from": start.isoformat(), "to": end.isoformat(), "language": language},
        "f": figures,
        "charts": charts(figures, days, settings, names),
        "money": _money(settings, int(figures["contained"])),
        "wording": settings.wording,
        "emerging": emerging,
        "languages": languages,
        "language_names": await asyncio.to_thread(language_names, shown, root),
        "source_language": SOURCE_LANGUAGE,
        "handoffs_total": sum(figures["handoffs"].values()),
    }
    return render(request, page, context)


def setup(
    app: web.Application,
    emerging: Emerging,
    settings_file: Path = SETTINGS_FILE,
    agency_file: Path = CONTENT_DIR.parent / "agency.yml",
) -> None:
    """Mount the dashboard and its API on the console app, once, after the shell's layout;
    `emerging` is the inbox's `emerging_questions`, `agency_file` the one beside the inbox's content."""
    app[SETTINGS_PATH] = settings_file
    app[EMERGING] = emerging
    app[AGENCY_PATH] = agency_file
    add_template_dir(app, HERE / "templates")
    add_nav(app, "/analytics", "Analytics", role=EDITOR)
    app.router.add_get("/analytics", dashboard)
    app.router.add_get("/api/analytics/summary", summary_api)
    app.router.add_get("/api/analytics/export.csv", export_csv)
    app.router.add_get("/api/analytics/emerging", emerging_api)
    app.router.add_static("/analytics/static", HERE / "static", append_version=False)
