"""Command line: `python -m bot <command>`; `--help` lists the commands."""

from __future__ import annotations

import argparse
import sys

from bot import cli
from bot.settings import Settings, SettingsError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    cli.add_commands(commands)
    args = parser.parse_args(argv)
    try:
        args.settings = Settings.from_env()
        return int(args.handler(args) or 0)
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
