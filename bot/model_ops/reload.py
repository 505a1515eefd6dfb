"""``python -m bot model reload``: regenerate, train if needed, score, and roll out to every replica.

The rollout is a publish to the model server's store (``bot.model_ops.store``, in Redis): every
Rasa replica asks the model server every 10 s and loads the new model between messages, so the
command then follows the replicas' reports until each runs it (or says which did not within
`rollout_seconds`). Conversations carry on because their trackers live in Redis, not in the
model. A model the gate refuses (``bot.model_ops.scoring.compare``: lower held-out intent or answer
F1, a crisis message losing its lifeline, more out-of-scope messages answered) is not published,
unless forced; a refused model trained into the model dir is set aside in its ``refused/`` folder,
so a model server starting later does not publish it as the newest file.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
from redis.asyncio import Redis

from bot.clients.rasa import RasaClient
from bot.model_ops import training
from bot.model_ops.scoring import GateSets, Scores, Verdict, compare, score
from bot.model_ops.store import ModelStore, Published, read_model, status

ROLLOUT_SECONDS = 60.0  # six pull intervals: a replica that has not switched by then is stuck


@dataclass(frozen=True)
class ReloadPlan:
    """Everything a reload needs; the CLI fills it from the settings and the flags."""

    rasa_url: str
    rasa_token: str
    model_dir: Path
    redis_url: str
    root: Path = Path(".")
    force: bool = False
    train: bool = True
    model: Path | None = None  # swap this file instead of training
    tolerance: float = 0.0
    holdout: list[Path] = field(default_factory=list)  # default: the project's tests/nlu/holdout_*.yml
    safety: list[Path] = field(default_factory=list)  # default: tests/nlu/sensitive_*.yml
    out_of_scope: list[Path] = field(default_factory=list)  # default: our own out-of-scope set
    cache_file: Path = Path("var/model_scores.json")
    rollout_seconds: float = ROLLOUT_SECONDS

    def gate_sets(self) -> GateSets:
        """The project's gate sets, each replaced by the files given in the plan."""
        project = GateSets.of_project(self.root)
        return GateSets(
            holdout=tuple(self.holdout) or project.holdout,
            safety=tuple(self.safety) or project.safety,
            out_of_scope=tuple(self.out_of_scope) or project.out_of_scope,
            content_dir=project.content_dir,
        )


@dataclass(frozen=True)
class Outcome:
    swapped: bool
    model: Path
    message: str
    running: Scores | None = None
    new: Scores | None = None
    reasons: tuple[str, ...] = ()  # why the gate refused (or what --force overrode), in plain words


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
    sets = plan.gate_sets()
    if sets.missing() and not plan.force:  # a gate without its sets would pass any model
        raise RuntimeError(
            f"cannot check a new model: {plan.root.resolve()} lacks {'; '.join(sets.missing())}"
        )
    async with aiohttp.ClientSession() as session:
        rasa = RasaClient(session, plan.rasa_url, plan.rasa_token)
        running_name = await rasa.running_model()
        candidate = await asyncio.to_thread(_candidate, plan, say)
        if running_name == candidate.name:
            return Outcome(False, candidate, f"Rasa already serves {candidate.name}; nothing to swap")
        running_path = plan.model_dir / running_name
        say(
            f"scoring {candidate.name} and the running {running_name} on {len(sets.files())} file(s): "
            "held-out questions, crisis messages, out-of-scope messages ..."
        )
        new = await asyncio.to_thread(score, candidate, sets, plan.cache_file)
        running = (
            await asyncio.to_thread(score, running_path, sets, plan.cache_file)
            if running_path.exists()
            else None
        )
        verdict: Verdict = compare(running, new, plan.force, plan.tolerance)
        if not verdict.swap:
            if candidate.parent.resolve() == plan.model_dir.resolve():
                aside = await asyncio.to_thread(training.set_aside, candidate, plan.model_dir)
                say(f"set the refused model aside: {aside} (to swap it anyway: --model {aside} --force)")
            return Outcome(False, candidate, verdict.reason, running, new, verdict.reasons)
        say(f"publishing {candidate.name} to every replica ...")
        rolled_out = await publish_and_follow(plan.redis_url, candidate, plan.rollout_seconds, say)
        message = f"{_rollout_words(rolled_out, candidate)} {verdict.reason}"
        return Outcome(rolled_out, candidate, message, running, new, verdict.reasons)


def _rollout_words(rolled_out: bool, candidate: Path) -> str:
    if rolled_out:
        return f"swapped in {candidate.name}: every replica runs it."
    return f"published {candidate.name}, but not every replica switched (python -m bot model status)."


async def publish_and_follow(redis_url: str, model: Path, within: float, say: Callable[[str], None]) -> bool:
    """Publish `model`, then wait until every active replica reports it; False if one did not."""
    redis = Redis.from_url(redis_url, socket_timeout=10.0, socket_connect_timeout=2.0)
    try:
        store = ModelStore(redis)
        published, _ = await store.publish(await asyncio.to_thread(read_model, model))
        return await follow_rollout(store, published, within, say)
    finally:
        await redis.close(close_connection_pool=True)


async def follow_rollout(
    store: ModelStore, published: Published, within: float, say: Callable[[str], None]
) -> bool:
    """Poll the replicas' reports (they ask every 10 s) until all run `published`, or `within` passes."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    started = loop.time()
    while True:
        report = status(published, await store.reports())
        if report["rolled_out"]:
            names = ", ".join(r["replica"] for r in report["replicas"])
            say(f"every replica runs {published.name} after {loop.time() - started:.0f}s: {names}")
            return True
        if loop.time() >= deadline:
            behind = [
                f"{r['replica']} ({r['model'] or 'no model'})" for r in report["replicas"] if not r["current"]
            ]
            say(f"after {within:.0f}s still on another model: {', '.join(behind) or 'no replica has asked'}")
            return False
        await asyncio.sleep(1.0)
