"""`python -m bot.demo_agency`: run the demo agency API on its own.

The Open311 API key and the admin token come from DEMO_AGENCY_API_KEY and
DEMO_AGENCY_ADMIN_TOKEN (or --api-key / --admin-token); unset, a fresh one is
generated per run; it is printed only to a terminal, never into a log file.
"""

from __future__ import annotations

import argparse
import secrets
import sys
from pathlib import Path

from aiohttp import web

from bot.demo_agency.app import DATA_DIR, create_app
from bot.demo_agency.config import DemoConfig
from bot.privacy.logfilter import install as install_log_redaction
from bot.serve.exposure import warn_if_exposed
from bot.settings import Settings, settings_or_exit


def parse_args(argv: list[str] | None, settings: Settings) -> argparse.Namespace:
    """Command line over the settings' defaults, so a test can pass both."""
    demo = settings.demo
    parser = argparse.ArgumentParser(prog="python -m bot.demo_agency", description=__doc__)
    parser.add_argument("--host", default=settings.security.bind_host)
    parser.add_argument("--port", type=int, default=demo.port)
    parser.add_argument("--data-dir", type=Path, default=DATA_DIR)
    parser.add_argument("--state-dir", type=Path, default=settings.var_dir / "demo_agency")
    parser.add_argument("--api-key", default=demo.api_key)
    parser.add_argument("--admin-token", default=demo.admin_token)
    parser.add_argument(
        "--rasa-url", default=settings.rasa.browser_url, help="Rasa as the web chat page's browser sees it"
    )
    args = parser.parse_args(argv)
    args.generated = {
        name: secrets.token_urlsafe(16) for name in ("api_key", "admin_token") if not getattr(args, name)
    }
    for name, value in args.generated.items():
        setattr(args, name, value)
    return args


def _print_generated(generated: dict[str, str]) -> None:
    """Generated secrets for whoever started this by hand; a log file (the stack's) never gets them."""
    for name, value in generated.items():
        variable = f"DEMO_AGENCY_{name.upper()}"
        shown = value if sys.stdout.isatty() else "(not shown outside a terminal)"
        print(f"{variable} was not set; generated one for this run: {shown}", flush=True)


def main(argv: list[str] | None = None) -> int:
    install_log_redaction()  # requests carry citizens' descriptions and contact details
    settings = settings_or_exit()
    args = parse_args(argv, settings)
    config = DemoConfig(state_dir=args.state_dir, api_key=args.api_key, admin_token=args.admin_token)
    warn_if_exposed(args.host, "the demo agency")
    base = f"http://{args.host}:{args.port}"
    print(f"demo agency on {base} (Open311 at {base}/open311/v2)", flush=True)
    print(f"state in {args.state_dir}", flush=True)
    _print_generated(args.generated)
    app = create_app(args.data_dir, config, args.rasa_url, settings.security.metrics_token)
    web.run_app(app, host=args.host, port=args.port, print=None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
