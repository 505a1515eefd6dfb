"""A redis-server of a test's own that the test can make unreachable, stop and start again.

`local_redis` (stack_support) gives a port only; fault tests need the process: SIGSTOP makes Redis
unreachable with the connection open (calls time out, the way a stalled or partitioned Redis
looks), SIGCONT brings it back with its data, `restart` stops it (saving its append-only file) and
starts it again on the same port and directory.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import redis
from polling_support import wait_until

from bot.stack import free_port, redis_server_binary

START_SECONDS = 30.0


@dataclass
class RedisProcess:
    data_dir: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        argv = [
            redis_server_binary(), "--port", str(self.port), "--bind", "127.0.0.1",
            "--dir", str(self.data_dir), "--save", "", "--appendonly", "yes", "--appendfsync", "always",
            "--daemonize", "no", "--protected-mode", "yes",
        ]  # fmt: skip
        self.process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(self.answers, START_SECONDS, "redis-server did not start")

    def answers(self) -> bool:
        try:
            with redis.Redis(port=self.port, socket_timeout=1) as client:
                return bool(client.ping())
        except redis.RedisError:
            return False

    def pause(self) -> None:
        """Unreachable: connections stay open, every call times out."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGSTOP)
        wait_until(lambda: self.state() == "T", START_SECONDS, "redis-server did not stop")

    def state(self) -> str:
        """The process's state letter from /proc ("T": stopped): a signal takes a moment to land."""
        assert self.process is not None
        stat = Path(f"/proc/{self.process.pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0]

    def resume(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGCONT)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.resume()
            self.process.terminate()
            self.process.wait(10)

    def restart(self) -> None:
        self.stop()
        self.start()


@contextmanager
def redis_process(data_dir: Path) -> Iterator[RedisProcess]:
    server = RedisProcess(data_dir)
    server.start()
    try:
        yield server
    finally:
        server.stop()
