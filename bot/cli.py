"""The subcommands of `python -m bot`: each parses its arguments and calls one module.

`bot/__main__.py` reads `Settings` once and hands them to the handler as `args.settings`; a bad
value is reported there, by name, without a traceback.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from bot.content import commands as content_commands
from bot.content.generate import generated_files, write_generated
from bot.content.model import ContentError, load_content, load_render_settings


def _content_generate(args: argparse.Namespace) -> int:
    try:
        files = generated_files(load_content(), load_render_settings())
    except ContentError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    changed = write_generated(files)
    for path in changed:
        print(f"wrote {path}")
    if not changed:
        print("generated files are up to date")
    return 0


def _nlp_build(args: argparse.Namespace) -> int:
    from bot.nlp.build import PIPELINE_DIR, build

    rebuilt = build(force=args.force)
    print(f"{'built' if rebuilt else 'up to date:'} {PIPELINE_DIR}")
    return 0


def _run(args: argparse.Namespace) -> int:
    from bot.stack import Stack, StackError

    stack = Stack(args.settings, root=Path.cwd())
    _print_generated(stack)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        print(
            "starting Redis, the demo agency API, the action server, Rasa and the handoff console"
            " (logs in var/log/) ...",
            flush=True,
        )
        stack.start()
        _print_urls(stack)
        # The stack's supervisor restarts a service that exits and says so on stderr; this waits.
        while not stop.wait(1.0):
            pass
        return 0
    except StackError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        print("\nstopping ...", flush=True)
        stack.stop()
        print("stopped.")


# Generated per run and printed, because a developer needs them: the console's and `bot model
# reload`'s API token, and the token a server-to-server REST client sends.
PRINTED_SECRETS = ("RASA_TOKEN", "REST_CHANNEL_TOKEN", "DEMO_AGENCY_ADMIN_TOKEN", "METRICS_TOKEN")


def _print_generated(stack: Any) -> None:
    for name in PRINTED_SECRETS:
        if name in stack.generated:
            print(f"{name} was not set; generated one for this run: {stack.generated[name]}")


def _print_urls(stack: Any) -> None:
    """Where everything is, public (what a reverse proxy may expose) apart from internal."""
    from bot.serve.exposure import connect_host, exposure_warning

    settings, redis = stack.settings, stack.redis
    bind = settings.security.bind_host
    host = connect_host(bind)
    replicas = [f"http://{host}:{port}" for port in settings.rasa.ports]
    demo = f"http://{host}:{settings.demo.port}"
    public = [
        ("web chat page", f"{demo}/"),
        *(("socket.io", f"{url}/socket.io") for url in replicas),
        *(
            (name, f"POST {url}/webhooks/{name}/webhook")
            for name in stack.channels.enabled
            for url in replicas
        ),
        ("console", f"http://{host}:{settings.handoff.port}/"),
    ]
    internal = [
        *(
            ("REST channel", f"POST {url}/webhooks/rest/webhook (Authorization: Bearer <REST_CHANNEL_TOKEN>)")
            for url in replicas
        ),
        *(("Rasa HTTP API", f"{url}/status?token=<RASA_TOKEN>") for url in replicas),
        ("action server", f"http://{host}:{settings.rasa.action_port}/webhook (Rasa only)"),
        ("model server", f"http://{host}:{settings.models.port}/models/status?token=<MODEL_SERVER_TOKEN>"),
        ("broadcaster", f"http://{host}:{settings.broadcasts.port}/health (broadcasts and alerts)"),
        ("demo agency API", f"{demo}/open311/v2"),
        ("Redis", f"redis://{redis.host}:{redis.port}/{redis.db}"),
        ("metrics", "/metrics on every service above (Authorization: Bearer <METRICS_TOKEN>)"),
    ]
    lines = ["", "Civic Assistant is running.", "Public (citizens, messaging platforms, agents):"]
    if len(replicas) > 1:
        lines[1] = f"Civic Assistant is running with {len(replicas)} Rasa replicas (any takes any message)."
    lines += [f"  {name:<16} {url}" for name, url in public]
    lines += ["Internal (server-to-server; never route these through a public proxy):"]
    lines += [f"  {name:<16} {url}" for name, url in internal]
    warning = exposure_warning(bind, "every service")
    lines += [warning] if warning else ["Every service listens on 127.0.0.1 only (BIND_HOST to change it)."]
    if warning and not settings.redis.address.password:
        lines += ["Redis stays on 127.0.0.1: it follows BIND_HOST only with a password (REDIS_PASSWORD)."]
    lines += [f"Crashed services are restarted; their state is in {stack.status_file}."]
    lines += ["Press Ctrl-C to stop everything."]
    print("\n".join(lines), flush=True)


def _credentials(args: argparse.Namespace) -> int:
    """Write credentials.yml plus the enabled channels' sections (the Docker entrypoint runs this)."""
    from bot.channels.config import ChannelConfig

    channels = ChannelConfig.from_settings(args.settings)
    path = channels.write_credentials(args.base, args.out)
    print(f"wrote {path} (channels: {', '.join(('rest', 'socketio', *channels.enabled))})")
    return 0


def add_commands(commands: Any) -> None:
    from bot.console.commands import add_commands as add_agent_commands

    add_agent_commands(commands)
    from bot.inbox.commands import add_commands as add_inbox_commands
    from bot.model_ops.commands import add_commands as add_model_commands

    add_inbox_commands(commands)
    add_model_commands(commands)
    from bot.privacy.commands import add_commands as add_privacy_commands

    add_privacy_commands(commands)
    from bot.channels.commands import add_commands as add_channel_commands

    add_channel_commands(commands)
    content = commands.add_parser(
        "content", help="staff content: generate Rasa data, check, export/import CSV"
    ).add_subparsers(dest="content_command", required=True)
    generate = content.add_parser("generate", help="write Rasa data and responses from data/content")
    generate.set_defaults(handler=_content_generate)
    content_commands.add_commands(content)

    nlp = commands.add_parser("nlp", help="the spaCy pipeline").add_subparsers(
        dest="nlp_command", required=True
    )
    build = nlp.add_parser("build", help="build build/spacy/harbor_en from packages and data/entities")
    build.add_argument("--force", action="store_true")
    build.set_defaults(handler=_nlp_build)

    run = commands.add_parser("run", help="start Redis, the action server and Rasa; Ctrl-C stops all")
    run.set_defaults(handler=_run)

    credentials = commands.add_parser(
        "credentials", help="write credentials.yml for the channels switched on in the environment"
    )
    credentials.add_argument("out", type=Path, help="e.g. var/credentials.yml")
    credentials.add_argument("--base", type=Path, default=Path("credentials.yml"))
    credentials.set_defaults(handler=_credentials)
