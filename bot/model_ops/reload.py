"""``python -m bot model reload``: regenerate, train if needed, score, and swap into the running Rasa.

The swap is Rasa's ``PUT /model``: the server loads the new model and replaces the old one
between requests. Conversations carry on because their trackers live in Redis, not in the
model. A model that scores lower on the held-out NLU examples is refused unless forced.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from bot.clients.rasa import RasaClient
from bot.model_ops import training
from bot.model_ops.scoring import HOLDOUT_GLOB, Scores, Verdict, compare, score


@dataclass(frozen=True)
class ReloadPlan:
    """Everything a reload needs; the CLI fills it from the settings and the flags."""

    rasa_url: str
    rasa_token: str
    model_dir: Path
    root: Path = Path(".")
    force: bool = False
    train: bool = True
    model: Path | None = None  # swap this file instead of training
    tolerance: float = 0.0
    holdout: list[Path] = field(default_factory=list)
    cache_file: Path = Path("var/model_scores.json")

    def holdout_files(self) -> list[Path]:
        return self.holdout or sorted(self.root.glob(HOLDOUT_GLOB))


@dataclass(frozen=True)
class Outcome:
    swapped: bool
    model: Path
    message: str
    running: Scores | None = None
    new: Scores | None = None


def _candidate(plan: ReloadPlan, say: Callable[[str], None]) -> Path:
    if plan.model is not None:
        return plan.model
    changed = training.regenerate(plan.root)
    say(
        f"regenerated {len(changed)} file(s) from data/content"
        if changed
        else "generated files are up to date"
    )
    newest = training.newest_model(plan.model_dir)
    if plan.train and (newest is None or not training.up_to_date(plan.root)):
        say("training a new model (about 10 minutes) ...")
        return training.train(plan.model_dir, plan.root)
    if newest is None:
        raise RuntimeError(f"no model in {plan.model_dir} and --no-train was given")
    say(f"model is up to date (Rasa fingerprint): {newest.name}")
    return newest


def reload(plan: ReloadPlan, say: Callable[[str], None] = print) -> Outcome:
    """Run the whole reload; raises ``bot.clients.rasa.RasaUnavailable`` when Rasa cannot be reached.

    Starts its own event loop (call it from a thread without one); training and scoring run in
    worker threads while the loop keeps the one HTTP session to Rasa.
    """
    return asyncio.run(_reload(plan, say))


async def _reload(plan: ReloadPlan, say: Callable[[str], None]) -> Outcome:
    async with aiohttp.ClientSession() as session:
        rasa = RasaClient(session, plan.rasa_url, plan.rasa_token)
        running_name = await rasa.running_model()
        candidate = await asyncio.to_thread(_candidate, plan, say)
        if running_name == candidate.name:
            return Outcome(False, candidate, f"Rasa already serves {candidate.name}; nothing to swap")
        holdout = plan.holdout_files()
        running_path = plan.model_dir / running_name
        say(f"scoring {candidate.name} and the running {running_name} on {len(holdout)} held-out file(s) ...")
        new = await asyncio.to_thread(score, candidate, holdout, plan.cache_file)
        running = (
            await asyncio.to_thread(score, running_path, holdout, plan.cache_file)
            if running_path.exists()
            else None
        )
        verdict: Verdict = compare(running, new, plan.force, plan.tolerance)
        if not verdict.swap:
            return Outcome(False, candidate, verdict.reason, running, new)
        say(f"loading {candidate.name} into the running Rasa ...")
        await rasa.load_model(candidate.resolve())
        return Outcome(True, candidate, f"swapped in {candidate.name}. {verdict.reason}", running, new)
