"""The broadcast bench, short: 500 subscribers through the real broadcaster process, each once.

`make bench` runs bench/broadcast.py at 10,000; this keeps the bench itself working in `make test`.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[3] / "bench" / "broadcast.py"


async def test_the_bench_delivers_500_subscribers_once_each(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("bench_broadcast", BENCH)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = bench  # its dataclasses look their module up
    spec.loader.exec_module(bench)
    figures = await bench.run(500, 8, tmp_path / "broadcaster.log")  # raises on a double or a gap
    assert figures["subscribers"] == 500
    assert figures["messages_per_second"] > 50
    assert figures["redis_bytes_per_subscriber"] < 4000
