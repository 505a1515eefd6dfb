"""Fixtures for the inbox tests: a clean real Redis database, a temporary copy of the data, the console."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis as redis_sync
from civic_testing import ROOT
from inbox_testing import CONSOLE_DB, PASSWORDS, Console, ConsoleServer

from bot.handoff.accounts import add_account
from bot.handoff.config import HandoffConfig
from bot.inbox.config import InboxConfig
from bot.inbox.web import INBOX_CONFIG
from bot.stack import free_port, http_ok


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A throwaway project root with a copy of data/ (content, nlu, responses, rules...)."""
    shutil.copytree(ROOT / "data", tmp_path / "data")
    return tmp_path


@pytest.fixture(scope="module")
def console(
    redis_server: int, tmp_path_factory: pytest.TempPathFactory, monkeypatch_module: pytest.MonkeyPatch
) -> Iterator[Console]:
    project = tmp_path_factory.mktemp("project")
    shutil.copytree(ROOT / "data", project / "data")
    # Whichever way the inbox gets mounted, it must work on the copy: never on the repo's data/.
    monkeypatch_module.setenv("CONTENT_DIR", str(project / "data/content"))
    agents = project / "agents.yml"
    tokens = {
        name: add_account(agents, name, "editor" if name == "ella" else "agent", password)
        for name, password in PASSWORDS.items()
    }
    redis_url = f"redis://127.0.0.1:{redis_server}/{CONSOLE_DB}"
    redis_sync.Redis.from_url(redis_url).flushdb()
    config = HandoffConfig(
        redis_url=redis_url,
        rasa_url=f"http://127.0.0.1:{free_port()}",  # nothing listens: the inbox never calls Rasa
        rasa_token="unused",
        agents_file=agents,
        port=free_port(),
        sweep_seconds=3600.0,
    )
    server = ConsoleServer(config, InboxConfig(content_dir=project / "data/content"))
    server.start()
    url = f"http://127.0.0.1:{config.port}"
    deadline = time.monotonic() + 30
    while not http_ok(f"{url}/health"):
        if time.monotonic() > deadline:
            pytest.fail("the console did not start")
        time.sleep(0.1)
    assert server.app is not None and server.app[INBOX_CONFIG].content_dir == project / "data/content"
    yield Console(url, redis_url, project, tokens)
    server.stop()


@pytest.fixture(scope="module")
def monkeypatch_module() -> Iterator[pytest.MonkeyPatch]:
    with pytest.MonkeyPatch.context() as patch:
        yield patch


@pytest.fixture
def inbox(console: Console) -> Console:
    """Each test starts with an empty inbox (the stream and its consumer group stay)."""
    client = redis_sync.Redis.from_url(console.redis_url)
    for key in client.scan_iter("inbox:*"):
        client.delete(key)
    client.close()
    return console


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context()
    context.set_default_timeout(30_000)
    page = context.new_page()
    yield page
    context.close()
