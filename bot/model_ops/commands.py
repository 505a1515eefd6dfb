"""`python -m bot model reload`: argument parsing and printing only (the work is in `reload`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

RELOAD_DESCRIPTION = """\
Regenerate the Rasa data from data/content, train a model into MODEL_DIR when config, domain or
data changed (Rasa's fingerprint; about 10 minutes), score it and the running model on the held-out
NLU examples (tests/nlu/holdout_*.yml), and swap it into the running Rasa with PUT /model
(RASA_PORT, RASA_TOKEN). Conversations continue: their trackers live in Redis. If the new model
scores lower than the running one (intent F1 or answer F1), nothing is swapped and the exit status
is 1, unless --force.
"""


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
        force=args.force,
        train=not args.no_train,
        model=args.model,
        tolerance=args.tolerance,
        cache_file=settings.var_dir / "model_scores.json",
    )
    try:
        outcome = reload(plan, say=lambda line: print(line, flush=True))
    except (RasaUnavailable, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(outcome.message)
    return 0 if outcome.swapped or "already serves" in outcome.message else 1


def add_commands(commands: Any) -> None:
    model = commands.add_parser(
        "model", help="retrain and swap the model into the running Rasa"
    ).add_subparsers(dest="model_command", required=True)
    reload = model.add_parser(
        "reload",
        help="train on the current content and swap it into the running Rasa",
        description=RELOAD_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    reload.add_argument("--force", action="store_true", help="swap even if the new model scores lower")
    reload.add_argument("--no-train", action="store_true", help="never train: use the newest model file")
    reload.add_argument("--model", type=Path, help="swap this model file (no regenerating, no training)")
    reload.add_argument(
        "--tolerance", type=float, default=0.0, help="allowed drop in either F1 before refusing (default 0)"
    )
    reload.add_argument("--rasa-url", default="", help="default: http://127.0.0.1:$RASA_PORT")
    reload.set_defaults(handler=_reload)
