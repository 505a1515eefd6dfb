"""`python -m bot.serve.models`: the model server every Rasa replica pulls its model from.

Rasa's model server support (`models:` in endpoints.yml) asks `GET /models/current` every
`wait_time_between_pulls` seconds with the ETag of the model it runs in `If-None-Match`: 304 means
keep it, 200 brings the new file, which Rasa loads between messages. So `bot model reload` (or a
new image) publishes once, into Redis (`bot.model_ops.store`), and every replica switches within
one pull interval, without a restart. Each request names its replica (`?replica=`), which is how
the rollout is reported (`GET /models/status`, `python -m bot model status`).

A model file holds the agency's training data: every path but `/health` needs MODEL_SERVER_TOKEN
(`?token=`, as Rasa's EndpointConfig sends it, or `Authorization: Bearer`), and the server is
internal (never behind the public proxy). At start it publishes the newest model of MODEL_DIR
when that is newer than the published one, so a fresh deployment serves its own model.
"""

from __future__ import annotations

import argparse
import asyncio
import hmac
import logging
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

from aiohttp import web
from redis.asyncio import Redis
from redis.exceptions import RedisError

from bot import metrics
from bot.model_ops.store import ModelStore, Published, bare_etag, read_model, status
from bot.model_ops.training import newest_model
from bot.serve.exposure import warn_if_exposed
from bot.settings import Settings, settings_or_exit

log = logging.getLogger(__name__)

STORE = web.AppKey("store", ModelStore)
TOKEN = web.AppKey("token", str)
MODEL_DIR = web.AppKey("model_dir", Path)
CACHE = web.AppKey("cache", dict)  # etag -> bytes of the current model only
OPEN_PATHS = frozenset({"/health", metrics.PATH})  # /metrics checks METRICS_TOKEN itself
REDIS_TIMEOUT_SECONDS = 10.0  # a model is ~20 MB: generous, but never forever


def _presented_token(request: web.Request) -> str:
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return header[len("Bearer ") :]
    return request.query.get("token", "")


@web.middleware
async def require_token(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """401 on every path but /health without the token (constant-time comparison)."""
    if request.path in OPEN_PATHS:
        return await handler(request)
    if hmac.compare_digest(_presented_token(request).encode(), request.app[TOKEN].encode()):
        return await handler(request)
    return web.json_response({"error": "unauthorized"}, status=401)


async def current_model(request: web.Request) -> web.StreamResponse:
    """The published model; 304 when the caller already runs it; 404 before the first publish."""
    store = request.app[STORE]
    published = await store.current()
    presented = request.headers.get("If-None-Match", "")
    replica = request.query.get("replica", "")
    if replica:
        await store.report(replica[:200], presented)
    if published is None:
        return web.json_response({"error": "no model has been published"}, status=404)
    headers = {"ETag": f'"{published.etag}"', "filename": published.name}
    if bare_etag(presented) == published.etag:
        return web.Response(status=304, headers=headers)
    data = await _model_bytes(request.app, published)
    if data is None:  # replaced between the two reads: the caller asks again next interval
        return web.json_response({"error": "the model changed; ask again"}, status=503)
    return web.Response(body=data, content_type="application/gzip", headers=headers)


async def _model_bytes(app: web.Application, published: Published) -> bytes | None:
    cache: dict[str, bytes] = app[CACHE]
    if published.etag not in cache:
        data = await app[STORE].blob(published.etag)
        if data is None:
            return None
        cache.clear()
        cache[published.etag] = data
    return cache[published.etag]


async def rollout(request: web.Request) -> web.Response:
    """The published model and what each replica that asked in the last pull intervals runs."""
    store = request.app[STORE]
    return web.json_response(status(await store.current(), await store.reports()))


async def health(request: web.Request) -> web.Response:
    """Liveness and the published model's name (no data, so no token)."""
    try:
        published = await request.app[STORE].current()
    except (RedisError, OSError) as exc:
        return web.json_response({"status": "redis unavailable", "error": type(exc).__name__}, status=503)
    return web.json_response({"status": "ok", "model": published.name if published else None})


def _redis_context(redis_url: str) -> Callable[[web.Application], AsyncIterator[None]]:
    async def context(app: web.Application) -> AsyncIterator[None]:
        redis = Redis.from_url(redis_url, socket_timeout=REDIS_TIMEOUT_SECONDS, socket_connect_timeout=2.0)
        app[STORE] = ModelStore(redis)
        await _publish_local(app)
        yield
        await redis.close(close_connection_pool=True)

    return context


async def _publish_local(app: web.Application) -> None:
    """Publish MODEL_DIR's newest model if it is newer than the published one."""
    local = newest_model(app[MODEL_DIR])
    if local is None:
        log.info("no model in %s: serving what is published", app[MODEL_DIR])
        return
    model = await asyncio.to_thread(read_model, local)
    published, changed = await app[STORE].publish_if_newer(model)
    log.info("%s model %s", "published" if changed else "serving the published", published.name)


def create_app(redis_url: str, token: str, model_dir: Path, metrics_token: str = "") -> web.Application:
    app = web.Application(middlewares=[require_token])
    metrics.setup_aiohttp(app, "models", metrics_token)
    app[TOKEN] = token
    app[MODEL_DIR] = model_dir
    app[CACHE] = {}
    app.cleanup_ctx.append(_redis_context(redis_url))
    app.router.add_get("/health", health)
    app.router.add_get("/models/current", current_model)
    app.router.add_get("/models/status", rollout)
    return app


def parse_args(argv: list[str] | None, settings: Settings) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bot.serve.models", description=__doc__)
    parser.add_argument("--host", default=settings.security.bind_host)
    parser.add_argument("--port", type=int, default=settings.models.port)
    parser.add_argument("--model-dir", type=Path, default=settings.rasa.model_dir)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    settings = settings_or_exit()
    args = parse_args(argv, settings)
    if not settings.models.token:
        raise SystemExit("error: MODEL_SERVER_TOKEN must be set: a model holds the agency's training data")
    warn_if_exposed(args.host, "the model server")
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    token, metrics_token = settings.models.token, settings.security.metrics_token
    app = create_app(settings.redis.url, token, args.model_dir, metrics_token)
    web.run_app(app, host=args.host, port=args.port, print=None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
