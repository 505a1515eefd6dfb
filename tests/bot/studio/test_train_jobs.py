"""The studio's retrains with real training: a tiny Rasa project, real `rasa train`, a real Redis.

`tests/fixtures/studio_project` is a project of its own (content in the real format, generated into
Rasa data as the studio does, a fast config, held-out, crisis and out-of-scope sets), copied to a
temporary folder per test. Its model, trained once per module, is the running model: it is published
to the model store as a model server would. No Rasa replica runs here, so a job follows the rollout
for ROLLOUT_SECONDS only and must say that no replica reported the new model.

Jobs run exactly as in the console: `TrainJobs` with `trains` on runs `python -m bot.studio.train`
as a subprocess. The routes are exercised on the real console app (with `trains` off: queueing only).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from console_support import api_sign_in, audit_actions
from polling_support import POLL_SECONDS, wait_until_async
from redis.asyncio import Redis
from stack_support import console_config, empty_redis_db

from bot.console.accounts import add_account
from bot.console.app import create_app
from bot.console.config import ConsoleConfig
from bot.content.model import load_topic
from bot.content.writer import write_topic
from bot.inbox.config import InboxConfig
from bot.model_ops.store import ModelStore, Published, read_model
from bot.model_ops.training import REFUSED_DIR, newest_model, regenerate, train_command
from bot.studio.config import StudioConfig
from bot.studio.jobs import ENDED, LEASE, TrainJobs

ROOT = Path(__file__).resolve().parents[3]
FIXTURE = ROOT / "tests" / "fixtures" / "studio_project"
DB = 10  # this module's database on the shared test Redis
ROLLOUT_SECONDS = 1.0  # no replica runs here: a short look, then the job says so
# A job: Python and Rasa start-up and training the fixture (about 30 s on 2 busy cores), loading and
# scoring one or two models (about 10 s each); four times that for a machine shared by other tests.
JOB_SECONDS = 240.0
START_SECONDS = 60.0  # a training process printing its first lines
PHASES = ("queued", "starting", "generate", "train", "score", "publish")  # in the order a job goes through
ROLES = {"erin": "editor", "ava": "approver", "dana": "agent"}
PASSWORDS = {name: f"{name}-train-password" for name in ROLES}


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Rasa's training cache and the score cache, shared by every training of the module."""
    return tmp_path_factory.mktemp("studio-train-shared")


@pytest.fixture(scope="module")
def base(shared: Path) -> Path:
    """The fixture project with its generated data and the model it trains: the running model."""
    root = shared / "base"
    shutil.copytree(FIXTURE, root)
    regenerate(root)
    env = {**os.environ, "RASA_CACHE_DIRECTORY": str(shared / "rasa-cache")}
    trained = subprocess.run(
        train_command(root / "models"), cwd=root, env=env, capture_output=True, text=True
    )
    assert trained.returncode == 0, trained.stdout[-2000:]
    return root


@pytest.fixture
def project(base: Path, shared: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the base project; the training processes share Rasa's cache and the score cache."""
    root = tmp_path / "project"
    shutil.copytree(base, root)
    monkeypatch.setenv("RASA_CACHE_DIRECTORY", str(shared / "rasa-cache"))
    monkeypatch.setenv("VAR_DIR", str(shared / "var"))
    return root


@pytest.fixture
async def redis(redis_server: int) -> AsyncIterator[Redis]:
    async with empty_redis_db(redis_server, DB) as client:
        yield client


@pytest.fixture
async def store(redis_server: int, redis: Redis) -> AsyncIterator[ModelStore]:
    """The model store on this module's database (bytes, as the model server reads it)."""
    client = Redis(port=redis_server, db=DB)
    yield ModelStore(client)
    await client.close(close_connection_pool=True)


def config(root: Path, redis_server: int, trains: bool = True) -> StudioConfig:
    return StudioConfig(
        content_dir=root / "data" / "content",
        model_dir=root / "models",
        redis_url=f"redis://127.0.0.1:{redis_server}/{DB}",
        trains=trains,
    )


async def publish_running(root: Path, store: ModelStore) -> Published:
    """Publish the project's model as the one every replica runs."""
    model = newest_model(root / "models")
    assert model is not None
    published, _ = await store.publish(read_model(model))
    return published


def add_question(root: Path, entry_id: str, *questions: str) -> None:
    """What an editor's published question change does to the content file."""
    path = root / "data" / "content" / "city.yml"
    topic = load_topic(path)
    entries = tuple(
        replace(e, questions=(*e.questions, *questions)) if e.id == entry_id else e for e in topic.entries
    )
    write_topic(replace(topic, entries=entries))


def ended(jobs: TrainJobs, job_id: str) -> Callable[[], Awaitable[dict[str, Any] | None]]:
    async def check() -> dict[str, Any] | None:
        job = await jobs.get(job_id)
        return job if job is not None and job["state"] in ENDED else None

    return check


async def test_a_refused_retrain_keeps_the_running_model_and_says_why(
    project: Path, redis_server: int, redis: Redis, store: ModelStore
) -> None:
    running = await publish_running(project, store)
    # An editor adds to the library's hours the parking ticket's held-out questions: their answers go
    # wrong, so the answer score drops.
    add_question(project, "library_hours", "pay my parking ticket", "parking ticket payment")
    jobs = TrainJobs(redis, config(project, redis_server), rollout_seconds=ROLLOUT_SECONDS, poll_seconds=0.1)
    try:
        job_id = await jobs.start("erin", "new question for library_hours")
        job = await wait_until_async(ended(jobs, job_id), JOB_SECONDS, "the retrain did not end")
    finally:
        await jobs.close()

    assert job["state"] == "refused", job["message"]
    gate = job["gate"]
    assert gate["passed"] is False
    assert gate["new"]["answer_f1"] < gate["running"]["answer_f1"]
    assert gate["new"]["crisis_recall"] == gate["running"]["crisis_recall"] == 1.0
    assert gate["reasons"] == [
        "It picks the right answer for fewer questions (answer score "
        f"{gate['running']['answer_f1']:.3f} -> {gate['new']['answer_f1']:.3f}, of 9 test questions it "
        "never trained on)."
    ]
    assert job["message"].startswith("The new model was not swapped in; the current one keeps answering.")
    assert await store.current() == running
    # Set aside where a model server starting later does not take it for the newest model.
    assert (project / "models" / REFUSED_DIR / job["model"]).is_file()
    assert newest_model(project / "models") == project / "models" / running.name
    assert job["progress"] == 100 and job["phase"] == "done" and job["finished_at"]


async def test_a_passing_retrain_shows_its_progress_and_is_published(
    project: Path, redis_server: int, redis: Redis, store: ModelStore
) -> None:
    running = await publish_running(project, store)
    add_question(project, "pothole", "my street has a huge pothole")
    jobs = TrainJobs(redis, config(project, redis_server), rollout_seconds=ROLLOUT_SECONDS, poll_seconds=0.1)
    seen: list[tuple[str, int]] = []
    queued: list[str] = []
    try:
        job_id = await jobs.start("erin", "new question for pothole")
        deadline = time.monotonic() + JOB_SECONDS
        while (job := await jobs.get(job_id)) is not None and job["state"] not in ENDED:
            assert time.monotonic() < deadline, f"the retrain did not end: {job}"
            if (job["phase"], job["progress"]) not in seen[-1:]:
                seen.append((job["phase"], job["progress"]))
            if job["state"] == "running" and not queued:
                # Two more publishes while it trains: one retrain waits for it, for both.
                queued = [await jobs.start("ava", "another change"), await jobs.start("erin", "and another")]
            await asyncio.sleep(POLL_SECONDS)
        assert job is not None and job["state"] == "swapped", job and job["message"]

        # Progress rose through the phases while it ran, with the training counted part by part.
        assert [p for _, p in seen] == sorted(p for _, p in seen)
        order = list(dict.fromkeys(phase for phase, _ in seen))
        assert order == [p for p in PHASES if p in order] and {"train", "score", "publish"} <= set(order)
        assert any(phase == "train" and 5 < progress < 75 for phase, progress in seen), seen
        assert job["progress"] == 100

        # The gate compared it with the running model, and it is what the model store serves now.
        assert job["gate"]["passed"] is True and job["gate"]["reasons"] == []
        assert job["gate"]["running"] is not None and job["gate"]["new"]["answer_f1"] == 1.0
        current = await store.current()
        assert current is not None and current != running and current.name == job["model"]
        assert await store.blob(current.etag) == (project / "models" / job["model"]).read_bytes()
        assert "not every replica reported running it within 1 s" in job["message"], job["message"]

        # The retrain requested twice while it ran waits once, then runs.
        waiting = queued[0]
        assert queued == [waiting, waiting] and waiting != job_id
        started = await wait_until_async(
            lambda: _phase_in(jobs, waiting, {"generate", "train"}),
            START_SECONDS,
            "the queued retrain did not start",
        )
        assert started["requests"] == 2 and started["actor"] == "ava"
    finally:
        await jobs.close()

    # Stopping the console stops the retrain it runs, and says so.
    stopped = await jobs.get(waiting)
    assert stopped is not None and stopped["state"] == "failed"
    assert stopped["message"].startswith("interrupted: the console stopped"), stopped
    assert await redis.get(LEASE) is None
    assert (await store.current()) == current
    assert (await jobs.latest() or {}).get("id") == waiting


async def test_a_project_without_the_gate_s_test_sets_fails_before_training(
    project: Path, redis_server: int, redis: Redis, store: ModelStore
) -> None:
    running = await publish_running(project, store)
    shutil.rmtree(project / "tests" / "nlu" / "blind")  # our own out-of-scope messages
    jobs = TrainJobs(redis, config(project, redis_server), rollout_seconds=ROLLOUT_SECONDS, poll_seconds=0.1)
    try:
        job_id = await jobs.start("erin", "new question")
        job = await wait_until_async(ended(jobs, job_id), START_SECONDS, "the retrain did not end")
    finally:
        await jobs.close()
    assert job["state"] == "failed" and job["gate"] is None
    assert job["message"] == (
        f"The retrain failed: a new model cannot be checked before it answers citizens: {project} lacks "
        "the project's own out-of-scope messages (tests/nlu/blind/out_of_scope.yml)"
    )
    assert (
        await store.current() == running
        and newest_model(project / "models") == project / "models" / running.name
    )


async def test_a_retrain_left_running_by_a_console_that_died_is_marked_failed(
    tmp_path: Path, redis_server: int, redis: Redis
) -> None:
    studio = config(tmp_path, redis_server, trains=False)
    dead = TrainJobs(redis, studio, lease_seconds=0.5)
    job_id = await dead.start("erin", "new question")
    assert await dead._take() == job_id  # its console takes the job, then dies: the lease is never renewed
    assert (await dead.get(job_id) or {})["state"] == "running"

    other = TrainJobs(redis, studio)
    job = await wait_until_async(
        lambda: _state_is(other, job_id, "failed"), 5.0, "the orphaned retrain was not marked failed"
    )
    assert "went away before it finished" in job["message"]
    second = await other.start("erin", "another")
    assert second != job_id and (await other.get(second) or {})["state"] == "queued"


@pytest.fixture(scope="module")
def accounts(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    path = tmp_path_factory.mktemp("train-accounts") / "agents.yml"
    return path, {name: add_account(path, name, role, PASSWORDS[name]) for name, role in ROLES.items()}


@pytest.fixture
async def console(
    redis_server: int, redis: Redis, accounts: tuple[Path, dict[str, str]], tmp_path: Path
) -> AsyncIterator[TestClient]:
    """The real console app; its studio queues retrains but never runs them (`trains` off)."""
    shutil.copytree(FIXTURE / "data" / "content", tmp_path / "data" / "content")
    url = f"redis://127.0.0.1:{redis_server}/{DB}"
    app = create_app(
        ConsoleConfig(redis_url=url, agents_file=accounts[0]),
        console_config(url, accounts[0]),
        InboxConfig(content_dir=tmp_path / "data" / "content"),
        studio=config(tmp_path, redis_server, trains=False),
    )
    client = TestClient(TestServer(app))
    await client.start_server()
    yield client
    await client.close()


async def test_editors_start_retrains_and_editors_and_approvers_follow_them(
    console: TestClient, accounts: tuple[Path, dict[str, str]], redis: Redis
) -> None:
    def bearer(name: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {accounts[1][name]}"}

    assert (await console.get("/api/content/jobs/latest", headers=bearer("erin"))).status == 404
    started = await console.post("/api/content/train", json={"reason": "new FAQ"}, headers=bearer("erin"))
    assert started.status == 202
    job_id = (await started.json())["job"]
    assert len(job_id) >= 22

    for name in ("erin", "ava"):
        job = await (await console.get(f"/api/content/jobs/{job_id}", headers=bearer(name))).json()
        assert (job["state"], job["progress"], job["phase"], job["gate"]) == ("queued", 0, "queued", None)
        assert (job["actor"], job["reason"]) == ("erin", "new FAQ")
        latest = await (await console.get("/api/content/jobs/latest", headers=bearer(name))).json()
        assert latest["id"] == job_id

    # A signed-in editor's page starts one with the session's CSRF token: it joins the waiting one.
    signed_in = await (await api_sign_in(console, "erin", PASSWORDS["erin"])).json()
    assert (await console.post("/api/content/train")).status == 403  # the cookie without its CSRF token
    again = await console.post("/api/content/train", headers={"X-CSRF-Token": signed_in["csrf_token"]})
    assert again.status == 202 and (await again.json())["job"] == job_id
    assert [e["target"] for e in await audit_actions(redis, "content_train")] == [job_id, job_id]
    console.session.cookie_jar.clear()

    assert (await console.post("/api/content/train", headers=bearer("ava"))).status == 403
    assert (await console.post("/api/content/train", headers=bearer("dana"))).status == 403
    assert (await console.get(f"/api/content/jobs/{job_id}", headers=bearer("dana"))).status == 403
    assert (await console.post("/api/content/train")).status == 401
    assert (await console.get(f"/api/content/jobs/{job_id}")).status == 401
    unknown = await console.get("/api/content/jobs/aaaaaaaaaaaaaaaaaaaaaa", headers=bearer("erin"))
    assert unknown.status == 404 and (await unknown.json()) == {"error": "no such retrain"}
    bad = await console.post("/api/content/train", data="not json", headers=bearer("erin"))
    assert bad.status == 400


async def _phase_in(jobs: TrainJobs, job_id: str, phases: set[str]) -> dict[str, Any] | None:
    job = await jobs.get(job_id)
    return job if job is not None and job["phase"] in phases else None


async def _state_is(jobs: TrainJobs, job_id: str, state: str) -> dict[str, Any] | None:
    job = await jobs.get(job_id)
    return job if job is not None and job["state"] == state else None
