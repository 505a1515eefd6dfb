"""`python -m bot.broadcasts`: the broadcaster (delivery workers, alerts poller, /health, /metrics).

See `bot/broadcasts/service.py`; settings from the environment (docs/broadcasts.md lists them).
"""

from __future__ import annotations

import argparse
import logging
import sys

from aiohttp import web

from bot.broadcasts.service import create_app, load_connectors
from bot.serve.exposure import warn_if_exposed
from bot.settings import Settings, settings_or_exit


def parse_args(argv: list[str] | None, settings: Settings) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bot.broadcasts", description=__doc__)
    parser.add_argument("--host", default=settings.security.bind_host)
    parser.add_argument("--port", type=int, default=settings.broadcasts.port)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    settings = settings_or_exit()
    args = parse_args(argv, settings)
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    warn_if_exposed(args.host, "the broadcaster")
    connectors = load_connectors(settings)
    # SIGTERM and SIGINT end run_app, which runs the cleanup: workers, poller, sessions, Redis.
    # (aiohttp waits `shutdown_timeout` for idle keep-alive connections first: 60 s by default.)
    app = create_app(settings, connectors)
    web.run_app(app, host=args.host, port=args.port, print=None, shutdown_timeout=2.0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
