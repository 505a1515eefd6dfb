"""The model server as a Rasa replica meets it: token, ETag, 304, what each replica reports.

A real Redis and the real app over HTTP; the model files are small stand-ins (the server never
looks inside them). That real replicas pull and load a published model is shown by
tests/bot/model_ops/test_reload.py and tests/reliability/test_replicas.py.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from multidict import CIMultiDictProxy
from stack_support import empty_redis_db

from bot.model_ops.store import ModelStore, read_model
from bot.serve.models import create_app

DB = 13
Headers = CIMultiDictProxy[str]
TOKEN = "model-server-test-token"


def model_file(directory: Path, name: str, content: bytes, mtime: float) -> Path:
    path = directory / name
    path.write_bytes(content)
    os.utime(path, (mtime, mtime))
    return path


@pytest.fixture
async def models(tmp_path: Path) -> Path:
    directory = tmp_path / "models"
    directory.mkdir()
    model_file(directory, "20261201-old.tar.gz", b"old model", 1_000)
    model_file(directory, "20261202-new.tar.gz", b"new model", 2_000)
    return directory


@pytest.fixture
async def client(redis_server: int, models: Path) -> AsyncIterator[TestClient]:
    async with empty_redis_db(redis_server, DB):
        app = create_app(f"redis://127.0.0.1:{redis_server}/{DB}", TOKEN, models)
        async with TestClient(TestServer(app)) as test_client:
            yield test_client


async def pull(client: TestClient, etag: str = "", replica: str = "rasa-1") -> tuple[int, bytes, Headers]:
    """What Rasa's model pulling sends: the token and replica as parameters, its ETag in If-None-Match."""
    response = await client.get(
        "/models/current",
        params={"token": TOKEN, "replica": replica},
        headers={"If-None-Match": etag} if etag else {},
    )
    return response.status, await response.read(), response.headers


async def test_the_newest_local_model_is_served_with_its_etag_then_not_again(client: TestClient) -> None:
    status, body, headers = await pull(client, "some-random-fingerprint")
    assert (status, body, headers["filename"]) == (200, b"new model", "20261202-new.tar.gz")

    status, body, _ = await pull(client, headers["ETag"])
    assert (status, body) == (304, b"")


async def test_without_the_token_nothing_is_served_but_health(client: TestClient) -> None:
    assert (await client.get("/models/current")).status == 401
    assert (await client.get("/models/current", params={"token": "wrong"})).status == 401
    assert (await client.get("/models/status")).status == 401
    health = await client.get("/health")
    assert (health.status, await health.json()) == (200, {"status": "ok", "model": "20261202-new.tar.gz"})
    bearer = await client.get("/models/status", headers={"Authorization": f"Bearer {TOKEN}"})
    assert bearer.status == 200


async def test_the_rollout_reports_which_replica_runs_what(client: TestClient, redis_server: int) -> None:
    _, _, first = await pull(client, "fresh-replica", replica="rasa-1")
    await pull(client, first["ETag"], replica="rasa-2")
    report = await (await client.get("/models/status", params={"token": TOKEN})).json()
    assert {r["replica"]: r["current"] for r in report["replicas"]} == {"rasa-1": False, "rasa-2": True}
    assert report["rolled_out"] is False

    await pull(client, first["ETag"], replica="rasa-1")  # rasa-1 loaded it and asks again
    report = await (await client.get("/models/status", params={"token": TOKEN})).json()
    assert report["rolled_out"] is True
    assert {r["model"] for r in report["replicas"]} == {"20261202-new.tar.gz"}


async def test_a_publish_rolls_out_and_only_two_models_are_kept(
    client: TestClient, models: Path, redis_server: int
) -> None:
    import redis.asyncio

    _, _, before = await pull(client)
    async with redis.asyncio.Redis(port=redis_server, db=DB) as raw:
        store = ModelStore(raw)
        for n in range(3):
            path = model_file(models, f"2026120{3 + n}-next.tar.gz", f"model {n}".encode(), 3_000 + n)
            published, changed = await store.publish(read_model(path))
            assert changed
        again, changed = await store.publish(read_model(path))  # the same file: nothing to roll out
        assert not changed and again == published
        assert len(await raw.keys("civic:model:blob:*")) == 2

    status, body, headers = await pull(client, before["ETag"])
    assert (status, body, headers["filename"]) == (200, b"model 2", "20261205-next.tar.gz")


async def test_restarting_an_older_image_never_rolls_back(models: Path, redis_server: int) -> None:
    """The model server publishes its own newest file only when it is newer than the published one."""
    async with empty_redis_db(redis_server, DB):
        url = f"redis://127.0.0.1:{redis_server}/{DB}"
        newer = model_file(models.parent, "20261209-reloaded.tar.gz", b"reloaded model", 9_000)
        import redis.asyncio

        async with redis.asyncio.Redis(port=redis_server, db=DB) as raw:
            await ModelStore(raw).publish(read_model(newer))
        async with TestClient(TestServer(create_app(url, TOKEN, models))) as restarted:
            status, body, _ = await pull(restarted)
        assert (status, body) == (200, b"reloaded model")


async def test_before_any_publish_rasa_is_told_there_is_no_model(tmp_path: Path, redis_server: int) -> None:
    async with empty_redis_db(redis_server, DB):
        app = create_app(f"redis://127.0.0.1:{redis_server}/{DB}", TOKEN, tmp_path)
        async with TestClient(TestServer(app)) as empty:
            status, _, _ = await pull(empty)
            health = await (await empty.get("/health")).json()
    assert status == 404 and health == {"status": "ok", "model": None}
