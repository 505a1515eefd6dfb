"""The measurement benches, short, so `make test` keeps them working (`make bench` runs them full size).

bench/analytics.py folds 2,000 synthetic events (50,000 in `make bench`); bench/inbox.py records 300
unsure messages into the console's inbox, then opens /inbox and /analytics while agents relay chats
(50,000 messages in `make bench`). Each starts its own Redis (and console); figures are printed, never
asserted as timings here.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def bench(script: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, f"bench/{script}", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_the_aggregator_bench_folds_every_event_once() -> None:
    out = bench("analytics.py", "--events", "2000", "--turns", "100")
    assert "aggregator: 2000 events in" in out
    assert "re-run over the same stream: 0 events applied" in out


def test_the_inbox_bench_records_and_opens_the_pages_under_relay_load() -> None:
    out = bench("inbox.py", "--messages", "300", "--chats", "3", "--page-loads", "5")
    assert "Review inbox with 300 recorded messages" in out
    for line in ("GET /inbox", "GET /analytics", "relay (3 chats)"):
        assert line in out, out
