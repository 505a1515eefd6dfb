"""Prometheus metrics: `/metrics` on every service, readable with METRICS_TOKEN only.

Each process counts the HTTP requests it answers (by route template, never by concrete path, so
a conversation id never becomes a label), how long they took, and the failures on our side
(an exception or a 5xx); prometheus-client adds the process's own CPU, memory and open files.
What lives in Redis (the handoff queue, the webhook intake, dead letters) is read when scraped,
by the service that owns it: the console reports the handoff queue, each Rasa replica the
intake of its channels and the model it answers with.

The figures are operational, with no personal data, but they still tell an outsider how busy
the agency is; `/metrics` answers 401 without `Authorization: Bearer <METRICS_TOKEN>` (compared
in constant time) and 404 when no token is configured. The reverse proxies never pass it.
"""

from __future__ import annotations

import asyncio
import hmac
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Gauge, Histogram, generate_latest

PATH = "/metrics"
UNMATCHED = "(unmatched)"  # a request no route took: one label, whatever its path
CLIENT_GONE = 499  # nginx's status for a request whose client closed the connection first

REQUESTS = Counter(
    "civic_http_requests",
    "HTTP requests answered, by service, route template, method and status",
    ["service", "route", "method", "status"],
)
DURATION = Histogram(
    "civic_http_request_duration_seconds",
    "Time to answer an HTTP request (a web socket: how long it stayed open)",
    ["service", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0),
)
ERRORS = Counter(
    "civic_http_errors",
    "Requests that failed on our side: an exception or a 5xx status",
    ["service", "route"],
)
QUEUE_DEPTH = Gauge(
    "civic_queue_depth",
    "Items waiting in a Redis queue, read at scrape time (the same figure from every replica)",
    ["queue"],
)
MODEL = Gauge(
    "civic_model_info",
    "The model this process answers with (value 1): Rasa's model id and training time, the same on"
    " every replica once a rollout is complete",
    ["service", "model_id", "trained_at"],
)

# Called before each scrape to refresh the gauges from Redis; an error there is counted, not raised.
Collect = Callable[[], Awaitable[None]]
COLLECT_ERRORS = Counter(
    "civic_metrics_collect_errors", "Scrapes whose Redis-backed gauges could not be read", ["service"]
)


_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def observe(service: str, route: str, method: str, status: int, seconds: float) -> None:
    """One answered request. A method outside HTTP's usual ones counts as "other": a client's
    made-up methods must not each become a series (the same for paths: route templates only)."""
    method = method if method in _METHODS else "other"
    REQUESTS.labels(service, route, method, str(status)).inc()
    DURATION.labels(service, route).observe(seconds)
    if status >= 500:
        ERRORS.labels(service, route).inc()


def set_queue_depths(depths: dict[str, int]) -> None:
    for queue, depth in depths.items():
        QUEUE_DEPTH.labels(queue).set(depth)


_MODEL_SHOWN: dict[str, tuple[str, str]] = {}


def set_model(service: str, model_id: str, trained_at: str) -> None:
    """One series per process: the previous model's is dropped when the model changes."""
    shown, model = _MODEL_SHOWN.get(service), (model_id, trained_at)
    if shown is not None and shown != model:
        MODEL.remove(service, *shown)
        del _MODEL_SHOWN[service]
    if model_id:
        MODEL.labels(service, *model).set(1)
        _MODEL_SHOWN[service] = model


def authorised(header: str | None, token: str) -> bool:
    """`Authorization: Bearer <token>`, compared in constant time."""
    given = (header or "").removeprefix("Bearer ").strip()
    return bool(token) and hmac.compare_digest(given.encode(), token.encode())


async def exposition(service: str, collect: Collect | None) -> bytes:
    if collect is not None:
        try:
            await collect()
        except Exception:  # a scrape still reports the counters when Redis is down
            COLLECT_ERRORS.labels(service).inc()
    return generate_latest(REGISTRY)


def refused(token: str, header: str | None) -> tuple[int, str] | None:
    """The status and reason to answer instead of the figures, or None when the caller may read them."""
    if not token:
        return 404, "metrics are off: METRICS_TOKEN is not set"
    if not authorised(header, token):
        return 401, "a bearer token (METRICS_TOKEN) is required"
    return None


# --- aiohttp (console, model server, demo agency) ----------------------------------------------


def setup_aiohttp(app: web.Application, service: str, token: str, collect: Collect | None = None) -> None:
    """Count every request of `app` and serve `/metrics`; call before the app starts."""

    @web.middleware
    async def count(request: web.Request, handler: Any) -> web.StreamResponse:
        started = time.perf_counter()
        resource = request.match_info.route.resource
        route = resource.canonical if resource is not None else UNMATCHED
        status = 500
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as exc:
            status = exc.status
            raise
        except asyncio.CancelledError:  # the client went away: not a failure of ours
            status = CLIENT_GONE
            raise
        finally:
            if route != PATH:
                observe(service, route, request.method, status, time.perf_counter() - started)

    async def metrics(request: web.Request) -> web.Response:
        problem = refused(token, request.headers.get("Authorization"))
        if problem is not None:
            return web.json_response({"error": problem[1]}, status=problem[0])
        body = await exposition(service, collect)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    app.middlewares.insert(0, count)  # outermost: a request another middleware refuses counts too
    app.router.add_get(PATH, metrics)


# --- Sanic (Rasa, the action server) -----------------------------------------------------------


def sanic_route(request: Any) -> str:
    route = getattr(request, "route", None)
    path = getattr(route, "path", None)
    return "/" + str(path).lstrip("/") if path is not None else UNMATCHED


def setup_sanic(app: Any, service: str, token: str, collect: Collect | None = None) -> None:
    """Count every request of the Sanic `app` and serve `/metrics` on it."""
    from sanic import response

    @app.middleware("request")
    async def started(request: Any) -> None:
        request.ctx.metrics_started = time.perf_counter()

    @app.middleware("response")
    async def count(request: Any, answer: Any) -> None:
        began = getattr(request.ctx, "metrics_started", None)
        route = sanic_route(request)
        if began is not None and route != PATH:
            status = getattr(answer, "status", 500) or 500
            observe(service, route, request.method, status, time.perf_counter() - began)

    async def metrics(request: Any) -> Any:
        problem = refused(token, request.headers.get("Authorization"))
        if problem is not None:
            return response.json({"error": problem[1]}, status=problem[0])
        body = await exposition(service, collect)
        return response.raw(body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    app.add_route(metrics, PATH, methods=["GET"], name="civic_metrics")
