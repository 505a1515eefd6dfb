"""``python -m bot.studio.train``: one retrain for the content studio (`bot.studio.jobs` runs it).

Run in the project directory: regenerate the Rasa data from the content files, ``rasa train`` into
``--model-dir``, score the new and the running model with the reload gate (`bot.model_ops.scoring`),
and if it passes publish the new model to the model store and follow the rollout to the replicas
(`bot.model_ops.reload.publish_and_follow`); a refused model goes to ``refused/`` in the model dir
and the running one keeps answering.

Progress goes to stdout as JSON lines ``{"phase", "progress" (0-100), "message"}``; the last one
adds ``"state"`` (swapped, refused or failed), ``"gate"`` and ``"model"``. Anything else printed
(Rasa's and TensorFlow's output) goes to stderr. Secrets (REDIS_URL, RASA_TOKEN) come from the
environment through `bot.settings`, never from the command line, where ``ps`` would show them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from bot.content.writer import content_lock
from bot.model_ops import training
from bot.model_ops.reload import ROLLOUT_SECONDS, publish_and_follow
from bot.model_ops.scoring import GateSets, Scores, Verdict, compare, file_digest, score
from bot.settings import Settings, settings_or_exit

# Where each phase starts on the progress bar (0-100): training takes most of the time.
GENERATE, TRAIN, SCORE, PUBLISH = 0, 5, 75, 92
SWAPPED, REFUSED, FAILED = "swapped", "refused", "failed"
_COLOUR = re.compile(r"\x1b\[[0-9;]*m")
WORK_DIR = ".studio-training"  # under the model dir: a model being trained, out of the model server's sight


class Report:
    """Writes the progress lines the job reads; keeps the bar from moving back."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.progress = 0

    def __call__(self, phase: str, progress: int, message: str, **final: Any) -> None:
        self.progress = max(self.progress, min(100, progress))
        line = {"phase": phase, "progress": self.progress, "message": message, **final}
        self.stream.write(json.dumps(line) + "\n")
        self.stream.flush()


@dataclass(frozen=True)
class Plan:
    root: Path
    model_dir: Path
    redis_url: str
    rasa_url: str
    rasa_token: str
    cache_file: Path
    rollout_seconds: float = ROLLOUT_SECONDS
    tolerance: float = 0.0


class GateUnavailable(RuntimeError):
    """The sets the gate checks a new model on are missing: nothing is trained, nothing swapped."""

    def __init__(self, detail: str) -> None:
        super().__init__(f"a new model cannot be checked before it answers citizens: {detail}")


class TrainingFailed(RuntimeError):
    """``rasa train`` did not produce a model; the message ends with its last words."""


def plain(line: str) -> str:
    """A line of Rasa's output as staff may read it: without colour codes or surrounding space."""
    return _COLOUR.sub("", line).strip()


def _component_total(future: Future[list[str]]) -> int:
    try:
        return len(future.result())
    except Exception:
        return 0


def train(plan: Plan, report: Report) -> Path:
    """``rasa train`` into a work folder of the model dir, its components counted on the bar."""
    work = plan.model_dir / WORK_DIR
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    name = f"{time.strftime('%Y%m%d-%H%M%S')}-studio.tar.gz"
    report("train", TRAIN, "Training a new model: reading the training data")
    tail: deque[str] = deque(maxlen=5)
    done = 0
    with ThreadPoolExecutor(1) as pool:
        components = pool.submit(training.graph_components, plan.root)
        with subprocess.Popen(
            training.train_command(work, name),
            cwd=plan.root,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
        ) as rasa:
            assert rasa.stdout is not None
            for line in rasa.stdout:
                sys.stderr.write(line)  # Rasa's own output, for the console's log
                if shown := plain(line):
                    tail.append(shown)
                event = training.component_event(line)
                if event is None:
                    continue
                finished, component = event
                done += finished
                total = max(_component_total(components), done, 1)
                words = f"Training a new model: {done} of {total} parts done"
                report(
                    "train",
                    TRAIN + (SCORE - TRAIN) * done // total,
                    words if finished else f"{words}, now {component}",
                )
            code = rasa.wait()
    model = work / name
    if code != 0 or not model.is_file():
        raise TrainingFailed(f"rasa train failed (exit status {code}): {tail[-1] if tail else 'no output'}")
    return model


async def running_model(plan: Plan, scratch: Path) -> Path | None:
    """The model the replicas run: the model store's current one (from the model dir when the same
    file is there, else its bytes from Redis), else the one Rasa reports; None when neither says."""
    from redis.asyncio import Redis

    from bot.model_ops.store import ModelStore

    redis = Redis.from_url(plan.redis_url, socket_timeout=10.0, socket_connect_timeout=2.0)
    try:
        store = ModelStore(redis)
        current = await store.current()
        if current is not None:
            local = plan.model_dir / current.name
            if local.is_file() and await asyncio.to_thread(file_digest, local) == current.etag:
                return local
            data = await store.blob(current.etag)
            if data is not None:
                copy = scratch / current.name
                await asyncio.to_thread(copy.write_bytes, data)
                return copy
    finally:
        await redis.close(close_connection_pool=True)
    return await _rasa_model(plan)


async def _rasa_model(plan: Plan) -> Path | None:
    if not plan.rasa_token:
        return None
    import aiohttp

    from bot.clients.rasa import RasaClient, RasaUnavailable

    try:
        async with aiohttp.ClientSession() as session:
            name = await RasaClient(session, plan.rasa_url, plan.rasa_token).running_model()
    except RasaUnavailable:
        return None
    local = plan.model_dir / name
    return local if name and local.is_file() else None


def gate(
    plan: Plan, sets: GateSets, candidate: Path, report: Report, scratch: Path
) -> tuple[Verdict, Scores | None, Scores]:
    report(
        "score", SCORE, "Checking the new model: held-out questions, crisis messages, out-of-scope messages"
    )
    new = score(candidate, sets, plan.cache_file)
    report("score", (SCORE + PUBLISH) // 2, "Checking the running model on the same messages")
    current = asyncio.run(running_model(plan, scratch))
    running = score(current, sets, plan.cache_file) if current is not None else None
    return compare(running, new, tolerance=plan.tolerance), running, new


def gate_json(verdict: Verdict, running: Scores | None, new: Scores) -> dict[str, Any]:
    return {
        "passed": verdict.swap,
        "running": running.as_dict() if running else None,
        "new": new.as_dict(),
        "reasons": list(verdict.reasons),
        "summary": verdict.reason,
    }


def publish(plan: Plan, model: Path, report: Report) -> str:
    """Publish and follow the rollout; returns what happened, in the words the studio shows."""
    said: list[str] = []

    def say(line: str) -> None:
        said.append(line)
        report("publish", PUBLISH + 4, line)

    report("publish", PUBLISH, f"Publishing {model.name} to the assistant's replicas")
    rolled_out = asyncio.run(publish_and_follow(plan.redis_url, model, plan.rollout_seconds, say))
    if rolled_out:
        return f"The new model {model.name} passed the checks; every replica of the assistant runs it now."
    return (
        f"The new model {model.name} passed the checks and is published, but not every replica "
        f"reported running it within {plan.rollout_seconds:g} s ({said[-1] if said else 'no report'}); "
        "replicas load it when they next ask for the model (python -m bot model status)."
    )


def run(plan: Plan, report: Report) -> None:
    """The whole retrain; the last progress line says how it ended."""
    sets = GateSets.of_project(plan.root)
    if sets.missing():
        raise GateUnavailable(f"{plan.root} lacks {'; '.join(sets.missing())}")
    report("generate", GENERATE, "Regenerating the training data from the content files")
    with content_lock(plan.root / "data" / "content"):
        changed = training.regenerate(plan.root)
    report("generate", TRAIN, f"Regenerated the training data ({len(changed)} file(s) changed)")
    try:
        candidate = train(plan, report)
        with tempfile.TemporaryDirectory(prefix="studio-running-") as scratch:
            verdict, running, new = gate(plan, sets, candidate, report, Path(scratch))
        checked = gate_json(verdict, running, new)
        if not verdict.swap:
            training.set_aside(candidate, plan.model_dir)
            message = "The new model was not swapped in; the current one keeps answering. " + " ".join(
                verdict.reasons
            )
            report("done", 100, message, state=REFUSED, gate=checked, model=candidate.name)
            return
        model = plan.model_dir / candidate.name
        os.replace(candidate, model)
        message = publish(plan, model, report)
        if running is None:
            message += " (The running model could not be found to compare with.)"
        report("done", 100, message, state=SWAPPED, gate=checked, model=model.name)
    finally:
        shutil.rmtree(plan.model_dir / WORK_DIR, ignore_errors=True)


def _progress_stream() -> TextIO:
    """stdout for our JSON lines only: whatever else writes to file descriptor 1 now goes to stderr."""
    sys.stdout.flush()
    stream = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    os.dup2(2, 1)
    return stream


def _stop(signum: int, _frame: object) -> None:
    """The console stopping sends SIGTERM to our process group: unwind, so work files are removed."""
    raise SystemExit(128 + signum)


def plan_of(args: argparse.Namespace, settings: Settings) -> Plan:
    return Plan(
        root=Path.cwd(),
        model_dir=args.model_dir.resolve(),
        redis_url=settings.redis.url,
        rasa_url=settings.rasa.api_url,
        rasa_token=settings.rasa.token,
        cache_file=(settings.var_dir / "model_scores.json").resolve(),
        rollout_seconds=args.rollout_seconds,
        tolerance=args.tolerance,
    )


def main(argv: list[str] | None = None, stream: Callable[[], TextIO] = _progress_stream) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.studio.train", description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", type=Path, required=True, help="where models are trained and kept")
    parser.add_argument(
        "--rollout-seconds", type=float, default=ROLLOUT_SECONDS, help="how long to follow the rollout"
    )
    parser.add_argument(
        "--tolerance", type=float, default=0.0, help="allowed drop in the F1s and out-of-scope rate"
    )
    args = parser.parse_args(argv)
    plan = plan_of(args, settings_or_exit())
    signal.signal(signal.SIGTERM, _stop)
    report = Report(stream())
    try:
        run(plan, report)
    except Exception as exc:
        report("done", report.progress, f"The retrain failed: {exc}", state=FAILED, gate=None, model="")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
