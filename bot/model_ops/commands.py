"""`python -m bot model reload`: argument parsing and printing only (the work is in `reload`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

RELOAD_DESCRIPTION = """\
Regenerate the Rasa data from data/content, train a model into MODEL_DIR when config, domain or
data changed (Rasa's fingerprint; about 10 minutes), score it and the running model, and publish it
to the model server (in Redis): every Rasa replica pulls it within 10 seconds, and the command waits
until each reports it (up to a minute). Conversations continue: their trackers live in Redis.
The gate (the same as the content studio's retrains) refuses the new model when, against the
running one, the held-out intent F1 or answer F1 (tests/nlu/holdout_*.yml) is lower, any crisis
message of tests/nlu/sensitive_*.yml loses its lifeline reply, or more of our own out-of-scope
messages (tests/nlu/blind/out_of_scope.yml) get an answer; --tolerance allows that much drop in the
F1s and the out-of-scope rate, never in crisis replies. A refused model is not published (exit
status 1, the reasons printed; a refused file of MODEL_DIR is moved to MODEL_DIR/refused/), unless
--force. Without those sets nothing can be checked: the command stops, unless --force. The running
model is asked of RASA_PORT's Rasa, with RASA_TOKEN.
"""

PUBLISH_DESCRIPTION = """\
Publish a model file as it is (no training, no scoring) and wait until every Rasa replica runs it:
a rollback is publishing the previous file again.
"""

STATUS_DESCRIPTION = """\
The published model and what every Rasa replica that asked in the last 35 seconds runs; exit
status 1 while a replica runs another model.
"""


def _say(line: str) -> None:
    print(line, flush=True)


def _reload(args: argparse.Namespace) -> int:
    from bot.clients.rasa import RasaUnavailable
    from bot.model_ops.reload import ReloadPlan, reload

    settings = args.settings
    if not settings.rasa.token:
        print("error: set RASA_TOKEN to the token the running Rasa was started with", file=sys.stderr)
        return 2
    plan = ReloadPlan(
        rasa_url=args.rasa_url or settings.rasa.api_url,
        rasa_token=settings.rasa.token,
        model_dir=settings.rasa.model_dir,
        redis_url=settings.redis.url,
        force=args.force,
        train=not args.no_train,
        model=args.model,
        tolerance=args.tolerance,
        cache_file=settings.var_dir / "model_scores.json",
    )
    try:
        outcome = reload(plan, say=_say)
    except (RasaUnavailable, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(outcome.message)
    for reason in outcome.reasons:
        print(f"  - {reason}")
    return 0 if outcome.swapped or "already serves" in outcome.message else 1


def _publish(args: argparse.Namespace) -> int:
    import asyncio

    from bot.model_ops.reload import ROLLOUT_SECONDS, publish_and_follow

    if not args.model.is_file():
        print(f"error: {args.model} is not a model file", file=sys.stderr)
        return 2
    done = asyncio.run(publish_and_follow(args.settings.redis.url, args.model, ROLLOUT_SECONDS, _say))
    return 0 if done else 1


def _status(args: argparse.Namespace) -> int:
    import asyncio
    import json

    from redis.asyncio import Redis

    from bot.model_ops.store import ModelStore, status

    async def read() -> dict[str, Any]:
        redis = Redis.from_url(args.settings.redis.url, socket_timeout=5.0, socket_connect_timeout=2.0)
        try:
            store = ModelStore(redis)
            return status(await store.current(), await store.reports())
        finally:
            await redis.close(close_connection_pool=True)

    report = asyncio.run(read())
    print(json.dumps(report, indent=2))
    return 0 if report["rolled_out"] else 1


def add_commands(commands: Any) -> None:
    model = commands.add_parser(
        "model", help="retrain, publish and follow the model every Rasa replica runs"
    ).add_subparsers(dest="model_command", required=True)
    reload = model.add_parser(
        "reload",
        help="train on the current content and roll it out to every Rasa replica",
        description=RELOAD_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    reload.add_argument("--force", action="store_true", help="swap even if the gate refuses the new model")
    reload.add_argument("--no-train", action="store_true", help="never train: use the newest model file")
    reload.add_argument("--model", type=Path, help="swap this model file (no regenerating, no training)")
    reload.add_argument(
        "--tolerance",
        type=float,
        default=0.0,
        help="allowed drop in either F1, or rise in the out-of-scope rate, before refusing (default 0)",
    )
    reload.add_argument("--rasa-url", default="", help="default: http://127.0.0.1:$RASA_PORT")
    reload.set_defaults(handler=_reload)
    publish = model.add_parser(
        "publish",
        help="roll a model file out to every replica (a rollback, too)",
        description=PUBLISH_DESCRIPTION,
    )
    publish.add_argument("model", type=Path, help="the model file (.tar.gz)")
    publish.set_defaults(handler=_publish)
    model.add_parser(
        "status", help="which model every replica runs", description=STATUS_DESCRIPTION
    ).set_defaults(handler=_status)
