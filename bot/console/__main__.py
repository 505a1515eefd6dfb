"""`python -m bot.console [--host H] [--port P]`: run the console (the stack starts it for `make run`).

It listens on BIND_HOST (127.0.0.1 unless set), with a warning when that is wider.

Log records are redacted (`bot.privacy.logfilter`) before anything logs: the console handles
citizens' messages and must never write their personal data.
"""

from __future__ import annotations

import argparse
import logging
import sys

from aiohttp import web

from bot.console.app import app_from_settings
from bot.privacy.logfilter import install as install_log_redaction
from bot.serve.exposure import warn_if_exposed
from bot.settings import settings_or_exit


def main(argv: list[str] | None = None) -> int:
    install_log_redaction()
    settings = settings_or_exit()
    parser = argparse.ArgumentParser(prog="python -m bot.console", description=__doc__)
    parser.add_argument("--host", default=settings.security.bind_host)
    parser.add_argument("--port", type=int, default=settings.handoff.port)
    args = parser.parse_args(argv)
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    warn_if_exposed(args.host, "the console")
    try:
        app = app_from_settings(settings)
    except ValueError as exc:  # a TRUSTED_PROXIES entry that is not an address or network
        raise SystemExit(f"error: {exc}") from None
    # SIGTERM and SIGINT end run_app, which closes the live-event sockets and runs the cleanup; a
    # request in flight gets 2 s to finish, as in the broadcaster (aiohttp's default waits 60 s,
    # also on idle keep-alive connections, so a stop lasted until the stack's SIGKILL).
    web.run_app(app, host=args.host, port=args.port, print=None, shutdown_timeout=2.0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
