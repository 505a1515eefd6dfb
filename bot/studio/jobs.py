"""Retrains for the content studio: requested by any console, run one at a time, followed in Redis.

Keys (``civic:studio:train:*``), on the console's Redis:

- ``job:<id>``: one job's hash (``id, state, progress, phase, message, gate`` (JSON), ``model, actor,
  reason, requests, requested_at, started_at, finished_at, owner``), kept JOB_DAYS days. Ids are 128
  random bits: knowing one job's id tells nothing about another's.
- ``latest``: the id of the job requested last.
- ``waiting``: the id of the queued job. At most one waits: a retrain requested while one waits
  joins it (it trains on the content as it is when it starts, so it covers every change made since).
- ``running`` and ``lease``: the job a console runs, and ``"<console> <job id>"`` with an expiry that
  the running console renews. Taking the lease is what lets a console run a job, so one runs at a
  time across replicas; a job whose lease expired (its console died) is marked failed by the next
  console that looks, so it is never left "running" for good.

Only a console with ``config.trains`` (CONTENT_TRAINING) runs a worker task: it takes the waiting job
when the lease is free and runs ``python -m bot.studio.train`` in the project directory, its secrets
in the environment (never in its argv), writing each JSON progress line it prints into the job.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
import secrets
import signal
import socket
import sys
from collections import deque
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError, WatchError

import bot
from bot.background import Background
from bot.model_ops.reload import ROLLOUT_SECONDS
from bot.studio.config import StudioConfig
from bot.studio.train import plain

log = logging.getLogger(__name__)

PREFIX = "civic:studio:train"
LATEST = f"{PREFIX}:latest"
WAITING = f"{PREFIX}:waiting"
RUNNING_JOB = f"{PREFIX}:running"
LEASE = f"{PREFIX}:lease"
JOB_DAYS = 30

QUEUED, RUNNING, SWAPPED, REFUSED, FAILED = "queued", "running", "swapped", "refused", "failed"
ENDED = frozenset({SWAPPED, REFUSED, FAILED})
LEASE_SECONDS = 30.0  # a console that has not renewed its lease for this long is gone
POLL_SECONDS = 1.0  # how often a training console looks for a job another console queued
STOP_SECONDS = 10.0  # how long a stopping console gives the training process to exit on SIGTERM
ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
INTERRUPTED = (
    "interrupted: the console stopped before the retrain finished; the current model keeps answering"
)
ORPHANED = (
    "stopped: the console running this retrain went away before it finished; "
    "the current model keeps answering"
)

# Write fields to a running job, only while it runs and (if ARGV[1] names one) belongs to that console;
# when ARGV[2] is the job's id and the job ends here, also clear the `running` pointer.
_UPDATE_RUNNING = """
if redis.call('HGET', KEYS[1], 'state') ~= 'running' then return 0 end
if ARGV[1] ~= '' and redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
if ARGV[2] ~= '' and redis.call('GET', KEYS[2]) == ARGV[2] then redis.call('DEL', KEYS[2]) end
return 1
"""
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def job_key(job_id: str) -> str:
    return f"{PREFIX}:job:{job_id}"


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def job_view(fields: dict[str, str]) -> dict[str, Any]:
    """A job as the API shows it (the owning console's name stays internal)."""
    gate = fields.get("gate") or ""
    return {
        "id": fields.get("id", ""),
        "state": fields.get("state", ""),
        "progress": int(fields.get("progress") or 0),
        "phase": fields.get("phase", ""),
        "gate": json.loads(gate) if gate else None,
        "message": fields.get("message", ""),
        "model": fields.get("model", ""),
        "actor": fields.get("actor", ""),
        "reason": fields.get("reason", ""),
        "requests": int(fields.get("requests") or 1),
        "requested_at": fields.get("requested_at", ""),
        "started_at": fields.get("started_at", ""),
        "finished_at": fields.get("finished_at", ""),
    }


def ended_fields(line: dict[str, Any]) -> dict[str, str]:
    """The job's last fields from the training process's last line (a state it cannot have: failed)."""
    state = str(line.get("state", ""))
    return {
        "state": state if state in ENDED else FAILED,
        "phase": "done",
        "progress": str(int(line.get("progress") or 0)),
        "message": str(line.get("message") or ""),
        "gate": json.dumps(line["gate"]) if line.get("gate") else "",
        "model": str(line.get("model") or ""),
        "finished_at": now_iso(),
    }


def failed_fields(message: str) -> dict[str, str]:
    return {"state": FAILED, "phase": "done", "message": message, "finished_at": now_iso()}


def progress_line(raw: bytes) -> dict[str, Any] | None:
    """One JSON progress line of the training process, or None for anything else."""
    try:
        line = json.loads(raw)
    except ValueError:
        return None
    return line if isinstance(line, dict) and "phase" in line else None


def _signal_group(process: asyncio.subprocess.Process, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signum)


class TrainJobs:
    """Start, follow and (in a console with ``config.trains``) run the studio's retrains.

    ``rollout_seconds`` is how long a job follows the replicas after publishing; ``poll_seconds``
    and ``lease_seconds`` pace the worker (tests shorten them).
    """

    def __init__(
        self,
        redis: Redis,
        config: StudioConfig,
        *,
        rollout_seconds: float = ROLLOUT_SECONDS,
        poll_seconds: float = POLL_SECONDS,
        lease_seconds: float = LEASE_SECONDS,
    ) -> None:
        self.redis, self.config = redis, config
        self.rollout_seconds, self.poll_seconds, self.lease_seconds = (
            rollout_seconds,
            poll_seconds,
            lease_seconds,
        )
        self.console = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        self._update = redis.register_script(_UPDATE_RUNNING)
        self._renew_script = redis.register_script(_RENEW)
        self._release_script = redis.register_script(_RELEASE)
        self._background = Background()
        self._wake = asyncio.Event()
        self._process: asyncio.subprocess.Process | None = None
        self._current: str | None = None
        self._closing = False
        if config.trains:
            self._background.start(self._work(), "studio-train-jobs")

    # --- what the API and the studio call ---------------------------------------------------------

    async def start(self, actor: str, reason: str) -> str:
        """Queue a retrain, or join the one already waiting; returns the job's id."""
        job_id = secrets.token_urlsafe(16)
        fields: dict[str | bytes, str] = {
            "id": job_id,
            "state": QUEUED,
            "progress": "0",
            "phase": QUEUED,
            "message": "Waiting to start: one retrain runs at a time",
            "actor": actor,
            "reason": reason,
            "requests": "1",
            "requested_at": now_iso(),
        }
        async with self.redis.pipeline(transaction=True) as pipe:
            while True:
                try:
                    await pipe.watch(WAITING)
                    waiting = await pipe.get(WAITING)
                    if waiting and await pipe.exists(job_key(waiting)):
                        await pipe.reset()
                        await self.redis.hincrby(job_key(waiting), "requests", 1)
                        return str(waiting)
                    pipe.multi()
                    pipe.hset(job_key(job_id), mapping=fields)
                    pipe.expire(job_key(job_id), JOB_DAYS * 86400)
                    pipe.set(WAITING, job_id)
                    pipe.set(LATEST, job_id)
                    await pipe.execute()
                    break
                except WatchError:
                    continue
        self._wake.set()
        return job_id

    async def get(self, job_id: str) -> dict[str, Any] | None:
        """The job, or None for an id no job has (or had within JOB_DAYS)."""
        if not ID_PATTERN.match(job_id):
            return None
        fields = await self.redis.hgetall(job_key(job_id))
        if not fields:
            return None
        if fields.get("state") == RUNNING and not await self._lease_holds(job_id):
            await self._orphaned(job_id)
            fields = await self.redis.hgetall(job_key(job_id))
        return job_view(fields)

    async def latest(self) -> dict[str, Any] | None:
        """The job requested last, or None before the first."""
        job_id = await self.redis.get(LATEST)
        return await self.get(str(job_id)) if job_id else None

    async def close(self) -> None:
        """Stop the worker; a retrain running here is stopped (SIGTERM) and marked failed: interrupted."""
        self._closing = True
        self._background.stopping.set()
        process = self._process
        if process is not None and process.returncode is None:
            _signal_group(process, signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), STOP_SECONDS)
            except asyncio.TimeoutError:
                _signal_group(process, signal.SIGKILL)
                await process.wait()
        await self._background.stop()
        job_id = self._current
        if job_id is not None:
            with contextlib.suppress(RedisError, OSError):
                await self._end(job_id, failed_fields(INTERRUPTED))
                await self._release(job_id)

    # --- the lease ---------------------------------------------------------------------------------

    def _token(self, job_id: str) -> str:
        return f"{self.console} {job_id}"

    async def _lease_holds(self, job_id: str) -> bool:
        holder = await self.redis.get(LEASE)
        return bool(holder) and str(holder).rpartition(" ")[2] == job_id

    async def _release(self, job_id: str) -> None:
        await self._release_script(keys=[LEASE], args=[self._token(job_id)])

    async def _renew(self, job_id: str) -> None:
        """Keep the lease while the job runs; if it was lost (Redis lost it, or this console stalled
        so long another marked the job failed), stop the training: another job may start now."""
        milliseconds = int(self.lease_seconds * 1000)
        while True:
            await asyncio.sleep(self.lease_seconds / 3)
            try:
                held = await self._renew_script(keys=[LEASE], args=[self._token(job_id), milliseconds])
            except (RedisError, OSError) as exc:
                log.warning("could not renew the retrain's lease: %s", exc)
                continue
            if not held:
                log.warning("retrain %s lost its lease: stopping it", job_id)
                if self._process is not None and self._process.returncode is None:
                    _signal_group(self._process, signal.SIGTERM)
                return

    async def _orphaned(self, job_id: str) -> None:
        """Mark failed a job left running by a console whose lease expired."""
        if await self._update(
            keys=[job_key(job_id), RUNNING_JOB], args=["", job_id, *_pairs(failed_fields(ORPHANED))]
        ):
            log.warning("retrain %s was left running by a console that went away: marked failed", job_id)

    # --- the worker ----------------------------------------------------------------------------------

    async def _work(self) -> None:
        while not self._background.stopping.is_set():
            try:
                running = await self.redis.get(RUNNING_JOB)
                if running and not await self._lease_holds(str(running)):
                    await self._orphaned(str(running))
                job_id = await self._take()
                if job_id is not None:
                    await self._run(job_id)
                    continue
            except (RedisError, OSError) as exc:
                log.warning("studio retrains: Redis failed (%s); trying again", exc)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_seconds)
            self._wake.clear()

    async def _take(self) -> str | None:
        """The waiting job, now running here, if the lease is free; None otherwise."""
        waiting = await self.redis.get(WAITING)
        if not waiting:
            return None
        job_id = str(waiting)
        taken = await self.redis.set(LEASE, self._token(job_id), nx=True, px=int(self.lease_seconds * 1000))
        if not taken:
            return None  # another console runs a job; this one waits its turn
        started: dict[str | bytes, str] = {
            "state": RUNNING,
            "phase": "starting",
            "progress": "0",
            "message": "Starting the retrain",
            "started_at": now_iso(),
            "owner": self.console,
        }
        async with self.redis.pipeline(transaction=True) as pipe:
            try:
                await pipe.watch(WAITING)
                if await pipe.get(WAITING) != job_id or not await pipe.exists(job_key(job_id)):
                    raise WatchError("the waiting job changed")
                pipe.multi()
                pipe.delete(WAITING)
                pipe.hset(job_key(job_id), mapping=started)
                pipe.set(RUNNING_JOB, job_id)
                await pipe.execute()
            except WatchError:
                await self._release(job_id)
                return None
        return job_id

    async def _run(self, job_id: str) -> None:
        self._current = job_id
        renewal = asyncio.create_task(self._renew(job_id), name="studio-train-lease")
        try:
            ended = await self._train(job_id)
        except Exception as exc:
            log.exception("retrain %s failed to run", job_id)
            ended = failed_fields(f"The retrain could not run: {exc}")
        finally:
            renewal.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewal
        await self._end(job_id, ended)
        await self._release(job_id)
        self._current = None

    async def _end(self, job_id: str, fields: dict[str, str]) -> None:
        await self._update(keys=[job_key(job_id), RUNNING_JOB], args=[self.console, job_id, *_pairs(fields)])
        await self.redis.expire(job_key(job_id), JOB_DAYS * 86400)

    def _command(self) -> list[str]:
        model_dir = self.config.model_dir.resolve()
        argv = ["--model-dir", str(model_dir), "--rollout-seconds", f"{self.rollout_seconds:g}"]
        return [sys.executable, "-m", "bot.studio.train", *argv]

    def _environment(self) -> dict[str, str]:
        """The console's environment, with this studio's Redis and Rasa (secrets stay out of argv)."""
        env = dict(os.environ)
        code = str(Path(bot.__file__).resolve().parent.parent)  # `bot` importable from any project dir
        env["PYTHONPATH"] = os.pathsep.join(p for p in (code, env.get("PYTHONPATH", "")) if p)
        for name, value in (
            ("REDIS_URL", self.config.redis_url),
            ("RASA_URL", self.config.rasa_url),
            ("RASA_TOKEN", self.config.rasa_token),
        ):
            if value:
                env[name] = value
        return env

    async def _train(self, job_id: str) -> dict[str, str]:
        """Run the training process, writing its progress into the job; returns the job's last fields."""
        process = await asyncio.create_subprocess_exec(
            *self._command(),
            cwd=self.config.root,
            env=self._environment(),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,  # its own process group: stopping it stops `rasa train` too
            limit=1 << 20,
        )
        self._process = process
        if self._closing:  # the console began to stop while this started
            _signal_group(process, signal.SIGTERM)
        assert process.stdout is not None and process.stderr is not None
        tail: deque[str] = deque(maxlen=5)
        drain = asyncio.create_task(_drain(process.stderr, tail))
        last: dict[str, Any] | None = None
        try:
            async for raw in process.stdout:
                line = progress_line(raw)
                if line is None:
                    continue
                if "state" in line:
                    last = line
                    continue
                update = {
                    "phase": str(line["phase"]),
                    "progress": str(int(line.get("progress") or 0)),
                    "message": str(line.get("message") or ""),
                }
                try:
                    await self._update(
                        keys=[job_key(job_id), RUNNING_JOB], args=[self.console, "", *_pairs(update)]
                    )
                except (RedisError, OSError) as exc:  # a missed step of the bar; the training goes on
                    log.warning("could not record the retrain's progress: %s", exc)
            code = await process.wait()
            await drain
        finally:
            if process.returncode is None:  # cancelled while it ran: never leave a training behind
                _signal_group(process, signal.SIGKILL)
            self._process = None
        if last is not None:
            return ended_fields(last)
        if self._closing:
            return failed_fields(INTERRUPTED)
        said = tail[-1] if tail else "no output"
        return failed_fields(f"The retrain stopped unexpectedly (exit status {code}): {said}")


def _pairs(fields: dict[str, str]) -> list[str]:
    return [item for pair in fields.items() for item in pair]


async def _drain(stream: asyncio.StreamReader, tail: deque[str]) -> None:
    """Read the training process's stderr (Rasa's log) so it never blocks; keep its last lines."""
    pending = ""
    while chunk := await stream.read(1 << 16):
        pending += chunk.decode("utf-8", "replace")
        *lines, pending = re.split(r"[\r\n]", pending)
        for line in lines:
            if shown := plain(line):
                tail.append(shown)
                log.debug("retrain: %s", shown)
    if shown := plain(pending):
        tail.append(shown)
