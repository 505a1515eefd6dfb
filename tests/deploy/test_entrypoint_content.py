"""The console's entrypoint keeps what staff publish in the content studio on its volume: seeded once
from the image's content, kept across restarts, the Rasa files regenerated from it at every start.

Runs the real docker-entrypoint.sh with `sh` in a directory laid out like the image's /app; `python`
is a stand-in on PATH that only records how it was called (no container runtime here).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ENTRYPOINT = ROOT / "docker-entrypoint.sh"


def start_console(app: Path, bin_dir: Path) -> list[str]:
    """Run the entrypoint's `handoff` command in `app`; the python calls it made, one per line."""
    calls = app / "python-calls.txt"
    calls.unlink(missing_ok=True)
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "RASA_TOKEN": "token-from-env", "CALLS": str(calls)}
    subprocess.run(["sh", str(ENTRYPOINT), "handoff"], cwd=app, env=env, check=True, timeout=30)
    return calls.read_text().splitlines()


def test_the_studio_content_is_seeded_once_on_the_volume_and_kept_across_restarts(tmp_path: Path) -> None:
    app, bin_dir = tmp_path / "app", tmp_path / "bin"
    (app / "data" / "content").mkdir(parents=True)
    (app / "var").mkdir()
    (app / "data" / "content" / "city_hall.yml").write_text("entries: [image]\n")
    bin_dir.mkdir()
    python = bin_dir / "python"
    python.write_text('#!/bin/sh\necho "$*" >> "$CALLS"\n')
    os.chmod(python, 0o700)

    calls = start_console(app, bin_dir)
    assert (app / "data" / "content").is_symlink()
    assert os.readlink(app / "data" / "content") == "../var/content"
    assert (app / "var" / "content" / "city_hall.yml").read_text() == "entries: [image]\n"
    assert calls == ["-m bot content generate", "-m bot.console --port 8080"]
    assert "token-from-env" not in " ".join(calls)

    # Staff publish; the container restarts (same volume): their content stays.
    (app / "data" / "content" / "city_hall.yml").write_text("entries: [published]\n")
    assert start_console(app, bin_dir)[0] == "-m bot content generate"
    assert (app / "var" / "content" / "city_hall.yml").read_text() == "entries: [published]\n"

    # A new image (fresh /app/data, same volume): the volume's content wins, not the image's.
    (app / "data" / "content").unlink()
    (app / "data" / "content").mkdir()
    (app / "data" / "content" / "city_hall.yml").write_text("entries: [newer image]\n")
    start_console(app, bin_dir)
    assert (app / "data" / "content" / "city_hall.yml").read_text() == "entries: [published]\n"
