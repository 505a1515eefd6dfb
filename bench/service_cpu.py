"""Throughput at 20 concurrent conversations and each service's CPU per message, in rounds.

Starts a stack (as bench/latency.py does: REST channel, Redis tracker and lock stores, the newest
model in the checkout's models/), warms it up with one load, then runs ROUNDS loads of --messages
over 20 conversations and prints, per round, messages per second, p50, and the CPU seconds each
service spent during that load. Several rounds show the run-to-run noise that one figure hides.

    .venv/bin/python bench/service_cpu.py [--rounds 2] [--messages 400] [--language es] [--root DIR]

`--language es` sends each entry's first Spanish training question instead of its English one (the
multilingual encoder runs for Spanish messages only, so their cost is measured on its own).

`--root DIR` measures another checkout of the project (an older commit, with its own models/ and
build/spacy) with this venv: run it with PYTHONPATH=OTHER_CHECKOUT so its `bot` is imported.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def questions(entries: list[Any], language: str) -> list[str]:
    """Each entry's first training question in `language` (English: its own), crisis entries left out."""
    found = []
    for entry in (e for e in entries if not e.sensitive):
        own = entry.questions if language == "en" else getattr(entry.translation(language), "questions", ())
        found += list(own[:1])
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--messages", type=int, default=400, help="messages per round")
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument("--language", default="en", help="the entries' questions in this language")
    args = parser.parse_args()
    root = args.root.resolve()
    sys.path[:0] = [str(root), str(root / "bench")]
    import latency  # the checkout's own bench: its texts and limits

    from bot.content.model import all_entries, load_content
    from bot.settings import Settings
    from bot.stack import Stack, free_port, stop_on_sigterm

    stop_on_sigterm()
    os.chdir(root)
    texts = questions(all_entries(load_content()), args.language) + latency.OUR_EXTRA
    workdir = Path(tempfile.mkdtemp(prefix="civic-cpu-"))
    settings = Settings.from_env({
        "REDIS_PORT": str(free_port()), "RASA_PORT": str(free_port()), "ACTION_PORT": str(free_port()),
        "MODEL_SERVER_PORT": str(free_port()), "DEMO_AGENCY_PORT": str(free_port()),
        "RASA_TOKEN": secrets.token_urlsafe(16), "VAR_DIR": str(workdir / "var"), "LOG_LEVEL": "WARNING",
    })  # fmt: skip
    with Stack(settings, root=root, extra_env=latency.BENCH_LIMITS) as stack:
        url, token = f"http://127.0.0.1:{settings.rasa.port}", stack.settings.security.rest_token
        pids = {s.name: s.process.pid for s in stack.services if s.process}
        asyncio.run(latency.drive(url, texts, 20, 200, token))  # warm-up
        shown = f"{len(texts)} texts ({args.language})"
        print(f"{root}: 20 conversations, {args.messages} messages per round, {shown}")
        for number in range(1, args.rounds + 1):
            time.sleep(2)
            before = {name: cpu_seconds(pid) for name, pid in pids.items()}
            figures = asyncio.run(latency.drive(url, texts, 20, args.messages, token))
            time.sleep(2)  # what the turns left for the background services
            spent = {name: cpu_seconds(pid) - before[name] for name, pid in pids.items()}
            busy = {name: seconds for name, seconds in spent.items() if seconds >= 0.05}
            per_message = ", ".join(f"{n} {s * 1000 / args.messages:.1f}" for n, s in busy.items())
            print(
                f"round {number}: {figures.per_second:5.1f} msg/s  p50 {figures.p50_ms:6.0f} ms  "
                f"CPU ms per message: {per_message}",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
