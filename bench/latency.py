"""Latency, throughput, memory and training time, against a vanilla `rasa init` bot.

Starts our stack and a vanilla Rasa 3.6 starter bot (trained here by
`rasa init`) with the same Redis tracker and lock stores, then drives both over
the REST channel: one conversation at a time and 20 at once. Prints p50/p95
round-trip latency, messages per second, peak RSS of each Rasa process, and
training times. Loopback only; every loop is bounded.

    .venv/bin/python bench/latency.py [--messages 200] [--skip-train] [--model models/X.tar.gz]
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.content.model import all_entries, load_content  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.stack import BIN, Service, Stack, free_port, http_ok, stop_on_sigterm  # noqa: E402

VANILLA_MESSAGES = [
    "hello",
    "i am feeling sad",
    "yes",
    "great",
    "no",
    "bye",
    "are you a bot?",
    "good morning",
]
OUR_EXTRA = ["hi", "thanks!", "are you a bot?", "what can you do", "recommend a pizza place"]
# One sender and one address send far faster than any citizen: buckets too big to refuse anything,
# so the rate-limit check is still paid (one Redis script per message) but never stops the run.
BENCH_LIMITS = {
    "RATE_CONVERSATION_PER_MINUTE": "1000000", "RATE_CONVERSATION_BURST": "1000000",
    "RATE_REST_ADDRESS_PER_MINUTE": "1000000", "RATE_REST_ADDRESS_BURST": "1000000",
}  # fmt: skip


@dataclass
class Figures:
    p50_ms: float
    p95_ms: float
    per_second: float


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def drive(base: str, texts: list[str], conversations: int, total: int, token: str = "") -> Figures:
    """Send ``total`` messages spread over ``conversations`` concurrent senders (with our REST token)."""
    latencies: list[float] = []
    per_conversation = max(1, total // conversations)
    headers = {"Authorization": f"Bearer {token}"} if token else {}

    async def one(session: aiohttp.ClientSession, index: int) -> None:
        sender = f"bench-{index}-{secrets.token_hex(4)}"
        for i in range(per_conversation):
            text = texts[(index + i) % len(texts)]
            start = time.perf_counter()
            async with session.post(
                f"{base}/webhooks/rest/webhook", json={"sender": sender, "message": text}, headers=headers
            ) as r:
                await r.read()
                r.raise_for_status()
            latencies.append((time.perf_counter() - start) * 1000)

    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        await one(session, -1)  # warm-up
        latencies.clear()
        start = time.perf_counter()
        await asyncio.gather(*(one(session, i) for i in range(conversations)))
        elapsed = time.perf_counter() - start
    return Figures(statistics.median(latencies), percentile(latencies, 0.95), len(latencies) / elapsed)


def peak_rss_mb(pid: int) -> float:
    """Peak resident set size of the process (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def timed(argv: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(argv, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def vanilla_project(workdir: Path, redis_host: str, redis_port: int) -> tuple[Path, float]:
    project = workdir / "vanilla"
    project.mkdir()
    seconds = timed([str(BIN / "rasa"), "init", "--no-prompt", "--init-dir", str(project)], workdir)
    (project / "endpoints.yml").write_text(
        "tracker_store:\n  type: redis\n"
        f"  url: {redis_host}\n  port: {redis_port}\n  db: 0\n  key_prefix: vanilla\n"
        "lock_store:\n  type: redis\n"
        f"  url: {redis_host}\n  port: {redis_port}\n  db: 0\n  key_prefix: vanilla\n"
    )
    return project, seconds


def report(name: str, single: Figures, many: Figures, rss: float) -> None:
    print(
        f"{name:<10} 1 conversation: p50 {single.p50_ms:6.1f} ms  p95 {single.p95_ms:6.1f} ms  "
        f"{single.per_second:5.1f} msg/s | 20 conversations: p50 {many.p50_ms:6.1f} ms  "
        f"p95 {many.p95_ms:6.1f} ms  {many.per_second:5.1f} msg/s | peak RSS {rss:6.0f} MB"
    )


def only_model(archive: Path, workdir: Path) -> Path:
    """A model folder holding `archive` alone, so that the stack serves that model (compare two)."""
    folder = workdir / "one-model"
    folder.mkdir()
    (folder / archive.name).symlink_to(archive.resolve())
    return folder


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200, help="messages per measurement")
    parser.add_argument("--skip-train", action="store_true", help="do not time a forced retrain of our model")
    parser.add_argument("--model", type=Path, help="serve this model (default: the newest in models/)")
    args = parser.parse_args()
    stop_on_sigterm()  # a killed bench stops the services it started

    texts = [e.questions[0] for e in all_entries(load_content()) if not e.sensitive] + OUR_EXTRA
    workdir = Path(tempfile.mkdtemp(prefix="civic-bench-"))
    settings = Settings.from_env({
        "REDIS_PORT": str(free_port()), "RASA_PORT": str(free_port()), "ACTION_PORT": str(free_port()),
        "MODEL_SERVER_PORT": str(free_port()),
        "DEMO_AGENCY_PORT": str(free_port()), "RASA_TOKEN": secrets.token_urlsafe(16),
        "VAR_DIR": str(workdir / "var"), "LOG_LEVEL": "WARNING",
        **({"MODEL_DIR": str(only_model(args.model, workdir))} if args.model else {}),
    })  # fmt: skip
    ours_train = None
    if not args.skip_train:
        out = workdir / "models"
        ours_train = timed(
            [str(BIN / "rasa"), "train", "--force", "--out", str(out), "--num-threads", "2"], ROOT
        )
    try:
        with Stack(settings, root=ROOT, extra_env=BENCH_LIMITS) as stack:
            assert stack.redis is not None
            ours_url, token = f"http://127.0.0.1:{settings.rasa.port}", stack.settings.security.rest_token
            ours_1 = asyncio.run(drive(ours_url, texts, 1, args.messages, token))
            ours_20 = asyncio.run(drive(ours_url, texts, 20, args.messages, token))
            ours_pid = next(s for s in stack.services if s.name == "rasa").process.pid  # type: ignore[union-attr]
            ours_rss = peak_rss_mb(ours_pid)
            report("ours", ours_1, ours_20, ours_rss)

            project, vanilla_train = vanilla_project(workdir, stack.redis.host, stack.redis.port)
            port = free_port()
            vanilla = Service(
                "vanilla rasa",
                [str(BIN / "rasa"), "run", "--port", str(port), "--endpoints", "endpoints.yml"],
                stack._env,
                lambda: http_ok(f"http://127.0.0.1:{port}/"),
                workdir / "vanilla.log",
            )
            stack.root, root = project, stack.root
            stack._start(vanilla, 180)
            stack.root = root
            vanilla_url = f"http://127.0.0.1:{port}"
            time.sleep(2)
            van_1 = asyncio.run(drive(vanilla_url, VANILLA_MESSAGES, 1, args.messages))
            van_20 = asyncio.run(drive(vanilla_url, VANILLA_MESSAGES, 20, args.messages))
            van_rss = peak_rss_mb(vanilla.process.pid)  # type: ignore[union-attr]
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    print(
        f"\nREST channel round trips, {args.messages} messages per measurement, Redis tracker + lock stores"
    )
    report("ours", ours_1, ours_20, ours_rss)
    report("vanilla", van_1, van_20, van_rss)
    print(f"throughput ratio ours/vanilla at 20 conversations: {ours_20.per_second / van_20.per_second:.2f}x")
    if ours_train is not None:
        print(
            f"training time: ours {ours_train:.0f} s (forced, from scratch); "
            f"vanilla `rasa init` {vanilla_train:.0f} s"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
