"""`/metrics` (bot/metrics.py) on a real aiohttp server: what Prometheus reads, and who may read it.

Routes are counted by their template, so a conversation id never becomes a label (nor a series
per citizen); a failure on our side is counted as an error; the figures need the metrics token.
The same code runs on every service (the stack test in test_stack_security.py scrapes them all).
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from prometheus_client.parser import text_string_to_metric_families
from server_support import serving

from bot import metrics

TOKEN = "metrics-token-for-the-test"
_services = itertools.count()


async def conversation(request: web.Request) -> web.Response:
    return web.json_response({"id": request.match_info["conversation_id"]})


async def broken(_: web.Request) -> web.Response:
    raise RuntimeError("a bug of ours")


async def refused(_: web.Request) -> web.Response:
    raise web.HTTPForbidden()


def app(service: str, token: str = TOKEN, collect: metrics.Collect | None = None) -> web.Application:
    application = web.Application()
    metrics.setup_aiohttp(application, service, token, collect)
    application.router.add_get("/api/conversations/{conversation_id}", conversation)
    application.router.add_get("/broken", broken)
    application.router.add_get("/refused", refused)
    return application


@pytest.fixture
async def served() -> AsyncIterator[tuple[str, str]]:
    """A fresh service name per test (the counters are per process), and the server's URL."""
    service = f"svc{next(_services)}"

    async def queues() -> None:
        metrics.set_queue_depths({f"{service}_waiting": 3})

    async with serving(app(service, collect=queues)) as base:
        yield service, base


async def get(url: str, token: str | None = TOKEN) -> tuple[int, str]:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    async with aiohttp.ClientSession() as session, session.get(url, headers=headers) as response:
        return response.status, await response.text()


async def scraped(base: str) -> dict[str, list[tuple[str, dict[str, str], float]]]:
    status, body = await get(f"{base}/metrics")
    assert status == 200, body
    return {
        family.name: [(s.name, s.labels, s.value) for s in family.samples]
        for family in text_string_to_metric_families(body)
    }


def counted(
    found: dict[str, list[tuple[str, dict[str, str], float]]], service: str
) -> dict[tuple[str, str], float]:
    """(route, status) -> requests of `service`."""
    return {
        (labels["route"], labels["status"]): value
        for name, labels, value in found["civic_http_requests"]
        if name.endswith("_total") and labels["service"] == service
    }


async def test_requests_are_counted_by_route_template_never_by_conversation(served: tuple[str, str]) -> None:
    service, base = served
    for conversation_id in ("c-111", "c-222", "c-333"):
        assert (await get(f"{base}/api/conversations/{conversation_id}"))[0] == 200
    assert (await get(f"{base}/nowhere/c-444"))[0] == 404
    found = await scraped(base)
    assert counted(found, service) == {
        ("/api/conversations/{conversation_id}", "200"): 3,
        ("(unmatched)", "404"): 1,
    }
    assert "c-111" not in str(found) and "c-444" not in str(found)
    durations = [v for n, labels, v in found["civic_http_request_duration_seconds"]
                 if n.endswith("_count") and labels["service"] == service]  # fmt: skip
    assert sorted(durations) == [1.0, 3.0]


async def test_made_up_methods_do_not_each_become_a_series(served: tuple[str, str]) -> None:
    service, base = served
    async with aiohttp.ClientSession() as session:
        for method in ("BREW", "WHEN", "PURGE"):
            async with session.request(method, f"{base}/api/conversations/c-1") as response:
                assert response.status in (400, 405)  # aiohttp refuses some before any handler
    found = await scraped(base)
    methods = {
        labels["method"] for _, labels, _ in found["civic_http_requests"] if labels["service"] == service
    }
    assert methods <= {"other"}


async def test_failures_on_our_side_are_errors_and_refusals_are_not(served: tuple[str, str]) -> None:
    service, base = served
    assert (await get(f"{base}/broken"))[0] == 500
    assert (await get(f"{base}/refused"))[0] == 403
    found = await scraped(base)
    assert counted(found, service) == {("/broken", "500"): 1, ("/refused", "403"): 1}
    errors = {labels["route"]: v for n, labels, v in found["civic_http_errors"]
              if n.endswith("_total") and labels["service"] == service}  # fmt: skip
    assert errors == {"/broken": 1}


async def test_the_figures_need_the_metrics_token(served: tuple[str, str]) -> None:
    _, base = served
    assert (await get(f"{base}/metrics", token=None))[0] == 401
    assert (await get(f"{base}/metrics", token=TOKEN[:-1]))[0] == 401
    assert (await get(f"{base}/metrics", token=""))[0] == 401
    status, body = await get(f"{base}/metrics")
    assert status == 200 and "civic_http_requests_total" in body


async def test_without_a_token_configured_there_are_no_figures_at_all() -> None:
    server = TestServer(app(f"svc{next(_services)}", token=""))
    await server.start_server()
    try:
        status, body = await get(f"{str(server.make_url('')).rstrip('/')}/metrics", token="")
        assert status == 404 and "METRICS_TOKEN" in body
    finally:
        await server.close()


async def test_queue_depths_are_read_when_scraped(served: tuple[str, str]) -> None:
    service, base = served
    depths = {labels["queue"]: v for _, labels, v in (await scraped(base))["civic_queue_depth"]}
    assert depths[f"{service}_waiting"] == 3


async def test_a_scrape_still_answers_when_the_queues_cannot_be_read() -> None:
    service = f"svc{next(_services)}"

    async def redis_down() -> None:
        raise ConnectionError("Redis is down")

    server = TestServer(app(service, collect=redis_down))
    await server.start_server()
    try:
        found = await scraped(str(server.make_url("")).rstrip("/"))
    finally:
        await server.close()
    failures = [v for n, labels, v in found["civic_metrics_collect_errors"]
                if n.endswith("_total") and labels["service"] == service]  # fmt: skip
    assert failures == [1.0]


def test_a_new_model_replaces_the_old_one_in_the_figures() -> None:
    metrics.set_model("replica-x", "a" * 32, "2026-12-06T01:00:00")
    metrics.set_model("replica-x", "b" * 32, "2026-12-06T02:00:00")
    shown = [s.labels for s in metrics.MODEL.collect()[0].samples if s.labels["service"] == "replica-x"]
    assert shown == [{"service": "replica-x", "model_id": "b" * 32, "trained_at": "2026-12-06T02:00:00"}]
