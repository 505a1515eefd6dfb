"""Start-up: a broken data dir fails loudly; a damaged state log loses one line, not the rest."""

from __future__ import annotations

import json
import shutil

import pytest
from aiohttp.test_utils import TestServer

from bot.clients.open311 import Open311Client
from bot.demo_agency import DATA_DIR, DemoConfig, create_app


async def test_a_missing_data_file_fails_at_start_up(tmp_path):
    data_dir = tmp_path / "data"
    shutil.copytree(DATA_DIR, data_dir)
    (data_dir / "alerts.json").unlink()
    server = TestServer(create_app(data_dir, DemoConfig(state_dir=tmp_path / "state", api_key="k")))
    with pytest.raises(FileNotFoundError, match=r"alerts\.json"):
        await server.start_server()
    await server.close()


async def test_a_damaged_state_line_is_skipped(tmp_path, session):
    state_dir = tmp_path / "state"
    state_dir.mkdir()
    good = {"op": "request_updated", "id": "512077", "changes": {"status": "closed"}}
    lines = ["{not json", json.dumps({"op": "unknown"}), json.dumps(good)]
    (state_dir / "events.jsonl").write_text("\n".join(lines) + "\n")
    server = TestServer(create_app(DATA_DIR, DemoConfig(state_dir=state_dir, api_key="k")))
    await server.start_server()
    try:
        base = str(server.make_url("/open311/v2"))
        assert (await Open311Client(session, base).request("512077")).status == "closed"
    finally:
        await server.close()
