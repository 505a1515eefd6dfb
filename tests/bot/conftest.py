"""The real console app (`create_app`) on a real Redis, served from a thread for sync playwright tests.

Here because two packages' browser tests share it: the sign-in pages (`tests/bot/console/`) and the
queue and conversation pages (`tests/bot/handoff/test_pages.py`); they ask for `fresh`. Helpers are in
`tests/console_support.py`. Named `served_console`, not `console`: `tests/bot/handoff/conftest.py` and
`tests/bot/inbox/conftest.py` have a `console` fixture of their own.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from console_support import PASSWORDS, REDIS_DB, Console, serve
from stack_support import console_config

from bot.console.accounts import add_account


@pytest.fixture(scope="session")
def agents_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("agents") / "agents.yml"
    for name, password in PASSWORDS.items():
        add_account(path, name, "editor" if name == "erin" else "agent", password)
    return path


@pytest.fixture(scope="session")
def served_console(redis_server: int, agents_file: Path) -> Iterator[Console]:
    """The console without Rasa: pages, sessions and the queue (nothing here speaks to a citizen)."""
    redis_url = f"redis://127.0.0.1:{redis_server}/{REDIS_DB}"
    redis.Redis.from_url(redis_url).flushdb()
    with serve(console_config(redis_url, agents_file)) as url:
        yield Console(url, redis_url, agents_file)


@pytest.fixture
def fresh(served_console: Console) -> Console:
    """Each test starts with an empty queue, no sessions and no failed sign-ins (all from 127.0.0.1).

    Only the handoff keys go: the event stream and its consumer groups belong to the running console.
    """
    client = redis.Redis.from_url(served_console.redis_url)
    for key in client.scan_iter("handoff:*", count=500):
        client.delete(key)
    client.close()
    return served_console
