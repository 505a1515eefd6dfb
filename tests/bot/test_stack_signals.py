"""A script holding a stack (a benchmark) stops it when it is sent SIGTERM (`stop_on_sigterm`).

Without it, SIGTERM ends the process at once: no `with Stack(...)` block exits, and Redis, Rasa
and the rest keep running with nobody to stop them.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import contextlib, sys, time
from pathlib import Path
from bot.stack import stop_on_sigterm

@contextlib.contextmanager
def services(marker):
    try:
        yield
    finally:
        marker.write_text("stopped")

stop_on_sigterm()
with services(Path(sys.argv[1])):
    print("started", flush=True)
    time.sleep(60)
"""


def test_sigterm_stops_what_the_script_started(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    process = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, str(marker)], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None and process.stdout.readline().strip() == "started"
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=30)
    assert marker.read_text() == "stopped"  # the `with` block was left through its exit
