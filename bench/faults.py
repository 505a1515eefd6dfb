"""Messages lost and doubled under each fault, and throughput with one and two Rasa replicas.

Runs the fault scenarios of tests/reliability/test_faults.py at full size on the real stack (one
supervised stack for the faults, a RASA_REPLICAS=2 stack for the replicas) and prints, per
scenario: messages sent, lost, doubled, out of order, restarted (and the other counts of
`load_support.Tally`), messages per second and p50/p95 of a message's time to its answer (resends
included). Then the same load without faults and without pauses between messages on 1 and on 2
replicas: saturated messages per second and p50/p95. Exits 1 if any count that must be 0 is not.

    .venv/bin/python bench/faults.py [--conversations 50] [--messages 20] [--action-stop 90]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for path in (ROOT, ROOT / "tests", ROOT / "tests" / "reliability"):
    sys.path.insert(0, str(path))

from load_support import FAULTS, Plan, Tally, fault_stack, run_scenario  # noqa: E402

from bot.stack import stop_on_sigterm  # noqa: E402

ONE_RASA = (
    "kill -9 rasa",
    "action server stopped",
    "redis restarted",
    "redis unreachable",
    "webhook redelivered",
)
FULL_REDIS_PAUSE_SECONDS = 10.0  # as the full load has always run it (make test's short load: 8 s)
COLUMNS = ("sent", "lost", "doubled", "out_of_order", "restarted", "bad_turns", "answered_twice")


def row(name: str, tally: Tally) -> str:
    counts = "".join(f"{getattr(tally, column):>10}" for column in COLUMNS)
    stream = f"{tally.stream_duplicates}/{tally.stream_missing}"
    return (
        f"{name:<24}{counts}{stream:>9}{tally.resends + tally.redeliveries:>8}{tally.replies_lost:>8}"
        f"{tally.per_second:>8.1f}{tally.p50_ms:>8.0f}{tally.p95_ms:>9.0f}"
    )


HEADER = (
    f"{'scenario':<24}"
    + "".join(
        f"{c.replace('out_of_order', 'disorder').replace('answered_twice', 'twice'):>10}" for c in COLUMNS
    )
    + f"{'stream±':>9}{'resent':>8}{'noreply':>8}{'msg/s':>8}{'p50 ms':>8}{'p95 ms':>9}"
)


def run(var: Path, replicas: int, scenarios: list[tuple[str, Plan]]) -> list[tuple[str, Tally]]:
    results = []
    with fault_stack(var, replicas) as (stack, telegram):
        for name, plan in scenarios:
            key = name.split(" (")[0]
            tally = asyncio.run(run_scenario(stack, telegram, plan, FAULTS[key]))
            print(row(name, tally), flush=True)
            for problem in tally.problems[:10]:
                print(f"    {problem}", flush=True)
            results.append((name, tally))
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=50)
    parser.add_argument("--messages", type=int, default=20, help="messages per conversation")
    parser.add_argument(
        "--action-stop", type=float, default=90.0, help="seconds the action server is stopped"
    )
    args = parser.parse_args()
    stop_on_sigterm()  # a killed bench stops the services it started
    plan = Plan(
        conversations=args.conversations,
        messages=args.messages,
        action_stop_seconds=args.action_stop,
        redis_pause_seconds=FULL_REDIS_PAUSE_SECONDS,
    )
    saturated = dataclasses.replace(plan, think_seconds=0.0)
    print(
        f"{plan.conversations} conversations x {plan.messages} messages (REST, web chat, Telegram mixed); "
        f"action server stopped {plan.action_stop_seconds:.0f} s, Redis unreachable "
        f"{plan.redis_pause_seconds:.0f} s\n"
        "stream±: event stream entries doubled/missing; resent: 'send again' notices and unacknowledged "
        "webhooks; noreply: stored but the answer never reached the citizen\n"
    )
    print(HEADER, flush=True)
    with tempfile.TemporaryDirectory(prefix="civic-faults-") as workdir:
        one = [
            (name, dataclasses.replace(plan, duplicate_webhooks=name == "webhook redelivered"))
            for name in ONE_RASA
        ]
        results = run(Path(workdir) / "one", 1, [("no fault (1 replica)", saturated), *one])
        results += run(
            Path(workdir) / "two",
            2,
            [("no fault (2 replicas)", saturated), ("two replicas", plan)],
        )
    broken = [(name, tally.faults()) for name, tally in results if tally.faults()]
    for name, faults in broken:
        print(f"FAILED {name}: {faults}")
    return 1 if broken else 0


if __name__ == "__main__":
    raise SystemExit(main())
