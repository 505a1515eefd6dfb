"""`python -m bot.serve.actions`: the rasa_sdk action server, answering only Rasa.

Rasa sends ACTION_SERVER_TOKEN with every call (`endpoints.yml`, `action_endpoint: token:`, as
the `token` query parameter); any other caller could otherwise run our actions with a tracker of
its own making (file 311 reports, read lookups as any citizen). Every path but `/health` (the
readiness probe) answers 401 without the token, compared in constant time. The server refuses to
start without a token, listens on BIND_HOST, and reads nothing secret from its command line.
`/metrics` (`bot/metrics.py`) has a token of its own, METRICS_TOKEN, for Prometheus.
"""

from __future__ import annotations

import argparse
import hmac
import logging
import sys
from typing import Any

from bot import metrics
from bot.serve.exposure import warn_if_exposed
from bot.settings import Settings, settings_or_exit

TOKEN_PARAMETER = "token"  # noqa: S105 (a parameter name: Rasa's EndpointConfig `token_name` default)
OPEN_PATHS = frozenset({"/health", metrics.PATH})  # /metrics checks METRICS_TOKEN itself


def parse_args(argv: list[str] | None, settings: Settings) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bot.serve.actions", description=__doc__)
    parser.add_argument("--actions", default="actions", help="the package of custom actions")
    parser.add_argument("--host", default=settings.security.bind_host)
    parser.add_argument("--port", type=int, default=settings.rasa.action_port)
    return parser.parse_args(argv)


def token_matches(given: str, expected: str) -> bool:
    """Constant-time comparison, so the response time says nothing about how much of it was right."""
    return hmac.compare_digest(given.encode(), expected.encode())


def require_token(app: Any, token: str) -> None:
    """Answer 401 on every path but OPEN_PATHS unless the request carries `token`."""
    from sanic import response

    @app.middleware("request")
    async def check_token(request: Any) -> Any:
        if request.path in OPEN_PATHS:
            return None
        if token_matches(request.args.get(TOKEN_PARAMETER, ""), token):
            return None
        return response.json({"error": "unauthorized"}, status=401)


def create_app(actions: str, token: str, metrics_token: str = "") -> Any:
    """rasa_sdk's app (no CORS: no browser calls it) with our plugins, the token check and /metrics."""
    from rasa_sdk.endpoint import create_app as create_sdk_app
    from rasa_sdk.plugin import plugin_manager

    app = create_sdk_app(actions, cors_origins=None)
    plugin_manager().hook.attach_sanic_app_extensions(app=app)  # actions.resources: clients, Redis
    metrics.setup_sanic(app, "actions", metrics_token)  # first: a refused call is timed too
    require_token(app, token)
    return app


def configure_logging(level: str) -> None:
    """What `python -m rasa_sdk` sets up, at LOG_LEVEL."""
    from rasa_sdk import utils
    from rasa_sdk.constants import APPLICATION_ROOT_LOGGER_NAME

    logging.getLogger("matplotlib").setLevel(logging.WARN)
    utils.configure_colored_logging(level)
    utils.configure_file_logging(logging.getLogger(APPLICATION_ROOT_LOGGER_NAME), None, level, None)
    utils.update_sanic_log_level()


def main(argv: list[str] | None = None) -> int:
    settings = settings_or_exit()
    args = parse_args(argv, settings)
    token = settings.security.action_token
    if not token:
        raise SystemExit("error: ACTION_SERVER_TOKEN must be set: the action server answers only Rasa")
    warn_if_exposed(args.host, "the action server")
    configure_logging(settings.log_level)
    from rasa_sdk import utils

    app = create_app(args.actions, token, settings.security.metrics_token)
    logging.getLogger(__name__).info("action server on http://%s:%s", args.host, args.port)
    app.run(args.host, args.port, workers=utils.number_of_sanic_workers())
    return 0


if __name__ == "__main__":
    sys.exit(main())
