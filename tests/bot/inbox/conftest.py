"""Fixtures for the inbox tests: a clean real Redis database, a temporary copy of the data, the console."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis as redis_sync
from inbox_support import CONSOLE_DB, PASSWORDS, Console
from stack_support import ROOT, console_app, console_config, serve_app

from bot.console.accounts import add_account
from bot.inbox.config import InboxConfig
from bot.inbox.web import INBOX_CONFIG


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
    config = console_config(redis_url, agents)
    inbox = InboxConfig(content_dir=project / "data/content")
    with serve_app(lambda: console_app(config, inbox), config.port) as app:
        assert app[INBOX_CONFIG].content_dir == project / "data/content"
        yield Console(f"http://127.0.0.1:{config.port}", redis_url, project, tokens)


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
