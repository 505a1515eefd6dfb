"""`python -m bot.serve.rasa`: Rasa's server with its HTTP API, as `rasa run --enable-api` runs it.

`rasa run` takes the API token only as `--auth-token`, where every local user reads it in the
process list. Here the same options go through Rasa's own argument parser, the token comes from
RASA_TOKEN and is handed over in-process, and the server listens on BIND_HOST. The action server
token (ACTION_SERVER_TOKEN) reaches Rasa through `endpoints.yml` (`action_endpoint: token:`), so
it must be set too: without it Rasa's calls to the action server would all be refused.

With METRICS_TOKEN set, the server also answers `/metrics` (`bot/metrics.py`): its requests,
the model it answers with and the webhook intake's depth per channel.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from bot import metrics
from bot.serve.exposure import warn_if_exposed
from bot.settings import Settings, settings_or_exit


def parse_args(argv: list[str] | None, settings: Settings) -> argparse.Namespace:
    """Our options (no secrets among them), with the settings' values as defaults."""
    parser = argparse.ArgumentParser(prog="python -m bot.serve.rasa", description=__doc__)
    parser.add_argument("--host", default=settings.security.bind_host)
    parser.add_argument("--port", type=int, default=settings.rasa.port)
    parser.add_argument("--model", type=Path, default=settings.rasa.model_dir)
    parser.add_argument("--endpoints", type=Path, default=Path("endpoints.yml"))
    parser.add_argument("--credentials", type=Path, default=Path("credentials.yml"))
    return parser.parse_args(argv)


def required_secrets(settings: Settings) -> str:
    """The API token; exits naming the variable when it or the action server token is unset."""
    if not settings.rasa.token:
        raise SystemExit("error: RASA_TOKEN must be set: Rasa's HTTP API never runs without auth")
    if not settings.security.action_token:
        raise SystemExit("error: ACTION_SERVER_TOKEN must be set: the action server refuses calls without it")
    return settings.rasa.token


def rasa_arguments(options: argparse.Namespace, token: str) -> argparse.Namespace:
    """What `rasa run --enable-api ...` parses to, with the token set after parsing."""
    from rasa.__main__ import create_argument_parser

    argv = [
        "run", "--enable-api", "--interface", options.host, "--port", str(options.port),
        "--model", str(options.model), "--endpoints", str(options.endpoints),
        "--credentials", str(options.credentials),
    ]  # fmt: skip
    args = create_argument_parser().parse_args(argv)
    args.auth_token = token
    return args


def install_metrics(token: str) -> None:
    """`/metrics` on the Sanic app Rasa builds (`rasa.core.run.configure_app`, which
    `serve_application` looks up at call time)."""
    import rasa.core.run

    build = rasa.core.run.configure_app

    def configure_app(input_channels: Any = None, *args: Any, **kwargs: Any) -> Any:
        app = build(input_channels, *args, **kwargs)
        intakes = [channel.intake for channel in input_channels or [] if hasattr(channel, "intake")]

        async def collect() -> None:
            processor = getattr(getattr(app.ctx, "agent", None), "processor", None)
            if processor is not None:  # None until the first model is loaded
                found = processor.model_metadata
                metrics.set_model("rasa", found.model_id, found.trained_at.isoformat(timespec="seconds"))
            metrics.set_queue_depths({f"intake_{i.channel}": await i.depth() for i in intakes})

        metrics.setup_sanic(app, "rasa", token, collect)
        return app

    rasa.core.run.configure_app = configure_app


def serve(args: argparse.Namespace) -> int:
    """Rasa's `main()` after parsing: logging, TensorFlow, plugin hooks, then `rasa run` itself."""
    import rasa.telemetry
    import rasa.utils.io
    import rasa.utils.tensorflow.environment as tf_env
    from rasa.plugin import plugin_manager
    from rasa.shared.exceptions import RasaException
    from rasa.shared.utils.cli import print_error
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    log_level = getattr(args, "loglevel", None)  # None: Rasa reads LOG_LEVEL
    configure_logging_and_warnings(
        log_level,
        getattr(args, "logging_config_file", None),
        warn_only_once=True,
        filter_repeated_logs=True,
    )
    tf_env.setup_tf_environment()
    tf_env.check_deterministic_ops()
    sys.path.insert(1, os.getcwd())  # as `rasa`: custom components (bot.*) load from the project
    rasa.utils.io.configure_colored_logging(log_level)
    hooks = plugin_manager().hook
    result = hooks.configure_commandline(cmdline_arguments=args)
    endpoints_file = result[0] if result else None
    rasa.telemetry.initialize_telemetry()
    rasa.telemetry.initialize_error_reporting()
    hooks.init_telemetry(endpoints_file=endpoints_file)
    hooks.init_managers(endpoints_file=endpoints_file)
    hooks.init_anonymization_pipeline(endpoints_file=endpoints_file)
    configure_structlog(log_level)
    try:
        args.func(args)
    except RasaException as exc:
        print_error(f"{exc.__class__.__name__}: {exc}")
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    settings = settings_or_exit()
    options = parse_args(argv, settings)
    token = required_secrets(settings)
    warn_if_exposed(options.host, "Rasa (channels and its HTTP API)")
    install_metrics(settings.security.metrics_token)
    return serve(rasa_arguments(options, token))


if __name__ == "__main__":
    sys.exit(main())
