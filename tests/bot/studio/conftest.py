"""The content studio on a copy of the shipped content, with its Redis (database 12, emptied per test).

Modules with their own database or studio (the API, the pages, the live answers, the retrains)
define their own `redis` fixture, which overrides this one.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from redis.asyncio import Redis
from stack_support import ROOT, empty_redis_db

from bot.studio.config import StudioConfig
from bot.studio.jobs import TrainJobs
from bot.studio.service import Studio

DB = 12


@pytest.fixture
async def redis(redis_server: int) -> AsyncIterator[Redis]:
    async with empty_redis_db(redis_server, DB) as client:
        yield client


@pytest.fixture
async def studio(tmp_path: Path, redis: Redis) -> AsyncIterator[Studio]:
    """A studio that edits a copy of the shipped content (no history, no drafts), two approvals."""
    content = tmp_path / "data" / "content"
    shutil.copytree(
        ROOT / "data" / "content", content, ignore=shutil.ignore_patterns("_history", "_studio_*")
    )
    shutil.copy(ROOT / "data" / "agency.yml", tmp_path / "data" / "agency.yml")
    config = StudioConfig(content_dir=content, approvals=2, trains=False)
    jobs = TrainJobs(redis, config)
    yield Studio(config, redis, jobs)
    await jobs.close()
