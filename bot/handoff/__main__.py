"""`python -m bot.handoff [--host H] [--port P]`: run the console (the stack starts it for `make run`)."""

from __future__ import annotations

import argparse
import logging

from aiohttp import web

from bot.handoff.app import create_app
from bot.handoff.config import HandoffConfig
from bot.settings import Settings


def main(argv: list[str] | None = None) -> None:
    settings = Settings.from_env()
    parser = argparse.ArgumentParser(prog="python -m bot.handoff", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=settings.handoff_port)
    args = parser.parse_args(argv)
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    web.run_app(create_app(HandoffConfig.from_settings(settings)), host=args.host, port=args.port, print=None)


if __name__ == "__main__":
    main()
