"""Keep the stack's services running: a crashed one is started again, with backoff, and reported.

`Supervisor` watches the processes `bot.stack.Stack` started (a thread polling twice a second). A
service whose process exited without being asked to is started again after 1, 2, 4 ... seconds (at
most `MAX_BACKOFF_SECONDS`); the delay starts over once it has stayed up `STABLE_SECONDS`. Every
exit and restart is reported as one line ("rasa exited (code -9); restarting in 1s"), and the
state of every service is written to `var/stack-status.json` (name, pid, running, restarts, last
exit code and time), which is where an operator or a health check looks: the services' own
/health endpoints cannot see each other's processes.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol

MAX_BACKOFF_SECONDS = 30.0
STABLE_SECONDS = 60.0
POLL_SECONDS = 0.5


class Supervised(Protocol):
    name: str
    url: str
    log_path: Path
    stopped: bool

    def running(self) -> bool: ...

    def pid(self) -> int | None: ...

    def exit_code(self) -> int | None: ...

    def restart(self) -> None: ...


@dataclass
class Record:
    """What the supervisor knows of one service beyond its process."""

    restarts: int = 0
    failures_in_a_row: int = 0
    started_at: float = 0.0
    restart_at: float | None = None
    last_exit_code: int | None = None
    last_exit_at: str = ""


def backoff(failures_in_a_row: int) -> float:
    """1, 2, 4 ... seconds, at most MAX_BACKOFF_SECONDS."""
    return float(min(MAX_BACKOFF_SECONDS, 2 ** max(0, failures_in_a_row - 1)))


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


class Supervisor:
    """Restarts the services in `services()` that exit; `report` gets one line per event."""

    def __init__(
        self,
        services: Callable[[], Sequence[Supervised]],
        status_file: Path,
        report: Callable[[str], None],
    ) -> None:
        self.services = services
        self.status_file = status_file
        self.report = report
        self.records: dict[str, Record] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        now = time.monotonic()
        for service in self.services():
            self.records.setdefault(service.name, Record(started_at=now))
        self.write_status()
        self._thread = threading.Thread(target=self._watch, name="supervisor", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop watching (before the services are stopped, so stopping them is not a crash)."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(10)
        self._thread = None

    def _watch(self) -> None:
        while not self._stop.wait(POLL_SECONDS):
            with self._lock:
                changed = any([self.check(service) for service in self.services()])
            if changed:
                self.write_status()

    def check(self, service: Supervised) -> bool:
        """Notice an exit, or restart a service whose delay is over; True if anything changed."""
        record = self.records.setdefault(service.name, Record(started_at=time.monotonic()))
        now = time.monotonic()
        if service.stopped or self._stop.is_set():
            return False
        if service.running():
            if record.failures_in_a_row and now - record.started_at > STABLE_SECONDS:
                record.failures_in_a_row = 0
            return False
        if record.restart_at is None:
            record.failures_in_a_row += 1
            record.last_exit_code = service.exit_code()
            record.last_exit_at = now_iso()
            delay = backoff(record.failures_in_a_row)
            record.restart_at = now + delay
            self.report(
                f"{service.name} exited (code {record.last_exit_code}); restarting in {delay:.0f}s"
                f" (log: {service.log_path})"
            )
            return True
        if now < record.restart_at:
            return False
        record.restart_at = None
        record.restarts += 1
        record.started_at = now
        try:
            service.restart()
        except OSError as exc:
            self.report(f"{service.name} could not be started again: {exc}")
            return True
        self.report(f"{service.name} restarted (pid {service.pid()}, restart {record.restarts})")
        return True

    def status(self) -> dict[str, Any]:
        services = []
        for service in self.services():
            record = self.records.get(service.name, Record())
            services.append(
                {
                    "name": service.name,
                    "url": service.url,
                    "pid": service.pid(),
                    "running": service.running(),
                    "restarts": record.restarts,
                    "last_exit_code": record.last_exit_code,
                    "last_exit_at": record.last_exit_at or None,
                    "log": str(service.log_path),
                }
            )
        return {"updated_at": now_iso(), "supervisor_pid": os.getpid(), "services": services}

    def write_status(self) -> None:
        """Replace the status file atomically (a reader never sees half of it)."""
        self.status_file.parent.mkdir(parents=True, exist_ok=True)
        partial = self.status_file.with_suffix(".tmp")
        partial.write_text(json.dumps(self.status(), indent=2) + "\n")
        partial.replace(self.status_file)
