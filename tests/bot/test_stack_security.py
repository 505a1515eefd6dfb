"""Closed admin surfaces on the real stack (`make run`'s code): what `ps`, `ss` and an outsider see.

One stack with a Redis password, an identity secret, generated tokens and the demo's admin token:
no process of it carries a secret on its command line, every socket it listens on is loopback,
the action server answers only calls with its token (and Rasa's calls still run the custom
actions), `make run` says what is public and what is internal, and the shipped reverse proxy in
front of it passes the public paths only.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import os
import secrets
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import socketio
from polling_support import wait_until
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample
from proxy_support import nginx_binary, serve_proxy
from stack_support import ROOT, RestClient, sender_id, stack_settings

from bot.cli import _print_generated, _print_urls
from bot.settings import Settings
from bot.stack import Stack, free_port

pytestmark = pytest.mark.stack

ADMIN_TOKEN = "demo-admin-" + secrets.token_urlsafe(12)


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory, model_path: Path) -> Iterator[Stack]:
    var = tmp_path_factory.mktemp("var")
    overrides = {} if os.environ.get("REDIS_URL") else {"REDIS_PASSWORD": "redis-" + secrets.token_hex(12)}
    settings = stack_settings(var, **overrides)
    extra = {"DEMO_AGENCY_ADMIN_TOKEN": ADMIN_TOKEN, **overrides}
    with Stack(settings, root=ROOT, extra_env=extra) as running:
        yield running


def stack_secrets(stack: Stack) -> dict[str, str]:
    settings = stack.settings
    found = {
        "RASA_TOKEN": settings.rasa.token,
        "REST_CHANNEL_TOKEN": settings.security.rest_token,
        "ACTION_SERVER_TOKEN": settings.security.action_token,
        "MODEL_SERVER_TOKEN": settings.models.token,
        "METRICS_TOKEN": settings.security.metrics_token,
        "IDENTITY_SECRET": settings.security.identity_secret,
        "DEMO_AGENCY_API_KEY": settings.demo.api_key,
        "DEMO_AGENCY_ADMIN_TOKEN": ADMIN_TOKEN,
        "REDIS_PASSWORD": settings.redis.address.password,
    }
    return {name: value for name, value in found.items() if value}


def process_group(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:  # gone meanwhile
        return None
    return int(stat[stat.rindex(")") + 2 :].split()[2])  # after "pid (comm)": state, ppid, pgrp


def stack_processes(stack: Stack) -> dict[int, str]:
    """pid -> command line of every process in the stack's process groups (children included)."""
    groups = {service.process.pid for service in stack.services if service.process}
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and process_group(int(entry.name)) in groups:
            try:
                found[int(entry.name)] = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
    return found


def listening_addresses(pids: set[int]) -> set[str]:
    """The local addresses of the TCP sockets these processes listen on (from /proc/net/tcp{,6})."""
    inodes = set()
    for pid in pids:
        try:
            links = [os.readlink(fd) for fd in Path(f"/proc/{pid}/fd").iterdir()]
        except OSError:
            continue
        inodes |= {link[8:-1] for link in links if link.startswith("socket:[")}
    addresses = set()
    for table, width in (("tcp", 4), ("tcp6", 16)):
        for line in Path(f"/proc/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state != "0A" or inode not in inodes:  # 0A: LISTEN
                continue
            raw = bytes.fromhex(local.split(":")[0])
            # the kernel prints each 32-bit word in host (little-endian) order
            words = b"".join(raw[i : i + 4][::-1] for i in range(0, width, 4))
            addresses.add(str(ipaddress.ip_address(words)))
    return addresses


def call(url: str, data: bytes | None = None, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    request = urllib.request.Request(
        url, data=data, headers={"Content-Type": "application/json", **(headers or {})}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            body = response.read()
            status = response.status
    except urllib.error.HTTPError as exc:
        body, status = exc.read(), exc.code
    try:
        return status, json.loads(body)
    except ValueError:
        return status, body.decode(errors="replace")


def test_no_secret_on_any_command_line(secured: Stack) -> None:
    processes = stack_processes(secured)
    assert len(processes) >= len(secured.services) == 7
    servers = ("bot.serve.rasa", "bot.serve.actions", "bot.serve.models", "bot.console", "bot.demo_agency")
    for name in (*servers, "bot.broadcasts"):
        assert any(name in cmd for cmd in processes.values()), (name, processes)
    leaks = [
        (name, cmd)
        for name, value in stack_secrets(secured).items()
        for cmd in processes.values()
        if value in cmd
    ]
    assert not leaks, leaks
    assert not any("token" in cmd.lower() or "password" in cmd.lower() for cmd in processes.values())


def test_the_stack_redis_asks_for_its_password(secured: Stack) -> None:
    address = secured.settings.redis.address
    if secured.settings.redis.external:
        pytest.skip("REDIS_URL is set: the stack did not start Redis")
    with pytest.raises(redis.AuthenticationError):
        redis.Redis(host=address.host, port=address.port).ping()
    assert redis.Redis.from_url(address.url).ping()


def test_every_service_listens_on_loopback_only(secured: Stack) -> None:
    addresses = listening_addresses(set(stack_processes(secured)))
    assert addresses, "found no listening socket of the stack"
    assert all(ipaddress.ip_address(a).is_loopback for a in addresses), addresses


def test_the_action_server_refuses_calls_without_its_token(secured: Stack) -> None:
    base = f"http://127.0.0.1:{secured.settings.rasa.action_port}"
    call_body = json.dumps(
        {"next_action": "action_check_request_status", "tracker": {}, "domain": {}}
    ).encode()
    token = secured.settings.security.action_token
    assert call(f"{base}/webhook", call_body)[0] == 401
    assert call(f"{base}/webhook?token=wrong-{token}", call_body)[0] == 401
    assert call(f"{base}/webhook?token={token[:-1]}", call_body)[0] == 401
    assert call(f"{base}/actions")[0] == 401
    status, listed = call(f"{base}/actions?token={token}")
    assert status == 200 and {"name": "action_check_request_status"} in listed
    assert call(f"{base}/health")[0] == 200  # the readiness probe stays open


def test_the_model_server_hands_the_model_only_to_its_token(secured: Stack) -> None:
    base = f"http://127.0.0.1:{secured.settings.models.port}"
    token = secured.settings.models.token
    for path in ("/models/current", "/models/status", f"/models/current?token={token[:-1]}"):
        assert call(f"{base}{path}")[0] == 401, path
    # Rasa presents the model it loaded on its next pull (every 10 s): then it is reported as current
    wait_until(
        lambda: call(f"{base}/models/status?token={token}")[1]["rolled_out"],
        30.0,
        lambda: f"Rasa never reported the published model: {call(f'{base}/models/status?token={token}')}",
    )
    assert call(f"{base}/models/status?token={token}")[1]["replicas"][0]["replica"] == "rasa"
    assert call(f"{base}/health")[0] == 200  # the readiness probe stays open


def scrape(url: str, token: str) -> dict[str, list[Sample]]:
    status, body = call(f"{url}/metrics", headers={"Authorization": f"Bearer {token}"})
    assert status == 200, (url, body)
    return {family.name: family.samples for family in text_string_to_metric_families(body)}


def test_every_service_serves_its_metrics_to_the_metrics_token_only(secured: Stack) -> None:
    settings, token = secured.settings, secured.settings.security.metrics_token
    # one message through Rasa and the action server first
    RestClient.of(secured).say(sender_id("metrics"), "when is city hall open?")
    services = {
        "rasa": f"http://127.0.0.1:{settings.rasa.port}",
        "actions": f"http://127.0.0.1:{settings.rasa.action_port}",
        "console": f"http://127.0.0.1:{settings.handoff.port}",
        "models": f"http://127.0.0.1:{settings.models.port}",
        "demo_agency": f"http://127.0.0.1:{settings.demo.port}",
        "broadcaster": f"http://127.0.0.1:{settings.broadcasts.port}",
    }
    call(f"{services['broadcaster']}/health")  # a request of its own to count
    for service, url in services.items():
        assert call(f"{url}/metrics")[0] == 401, service
        wrong = token[:-1] + ("x" if token[-1] != "x" else "y")  # one character off
        assert call(f"{url}/metrics", headers={"Authorization": f"Bearer {wrong}"})[0] == 401, service
        found = scrape(url, token)
        assert "process_resident_memory_bytes" in found, service
        routes = {s.labels["route"] for s in found["civic_http_requests"] if s.labels["service"] == service}
        assert routes, (service, found["civic_http_requests"])
    rasa = scrape(services["rasa"], token)
    requests = {s.labels["route"]: s.value for s in rasa["civic_http_requests"] if s.name.endswith("_total")}
    assert requests.get("/webhooks/rest/webhook", 0) >= 1, requests
    assert not [route for route in requests if "metrics" in route or sender_id("metrics") in route]
    [model] = [s.labels for s in rasa["civic_model_info"]]
    assert len(model["model_id"]) == 32 and model["trained_at"].startswith("20"), model
    actions = scrape(services["actions"], token)["civic_http_requests"]
    assert any(s.labels["route"] == "/webhook" and s.labels["status"] == "200" for s in actions), actions
    queues = {s.labels["queue"]: s.value for s in scrape(services["console"], token)["civic_queue_depth"]}
    assert queues == {"handoff_waiting": 0, "dead_letters": 0}


def test_rasa_still_runs_custom_actions(secured: Stack) -> None:
    reply = RestClient.of(secured).say(sender_id("status"), "any update on #512077?")
    assert "512077" in reply and "Last update" in reply  # from the action server, via the demo agency


def test_make_run_prints_the_tokens_it_generated(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stack = Stack(Settings.from_env({"VAR_DIR": str(tmp_path)}), root=tmp_path)
    _print_generated(stack)
    out = capsys.readouterr().out
    for name in ("RASA_TOKEN", "REST_CHANNEL_TOKEN"):
        assert f"{name} was not set; generated one for this run: {stack.generated[name]}" in out
    assert stack.generated["ACTION_SERVER_TOKEN"] not in out  # only Rasa and the action server use it


def test_make_run_says_what_is_public_and_what_is_internal(
    secured: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    _print_urls(secured)
    out = capsys.readouterr().out
    public, internal = out.split("Internal")
    rasa = secured.settings.rasa.port
    for shown in ("web chat page", f"127.0.0.1:{rasa}/socket.io", "console"):
        assert shown in public
    for shown in ("Rasa HTTP API", "action server", f"{rasa}/webhooks/rest/webhook", "Redis"):
        assert shown in internal and shown not in public
    assert "listens on 127.0.0.1 only" in out
    assert not any(value in out for value in stack_secrets(secured).values())


def test_the_proxy_passes_only_the_public_paths(secured: Stack, tmp_path: Path) -> None:
    nginx_binary()
    settings = secured.settings
    rasa = f"http://127.0.0.1:{settings.rasa.port}"
    console = f"http://127.0.0.1:{settings.handoff.port}"
    token = settings.rasa.token
    with serve_proxy(tmp_path / "nginx", free_port(), rasa, console) as proxy:
        # the direct Rasa API answers with the token; through the proxy it is not there at all
        assert call(f"{rasa}/status?token={token}")[0] == 200
        for path in (f"/status?token={token}", f"/version?token={token}", f"/model?token={token}",
                     f"/conversations/x/tracker?token={token}", "/webhook", "/actions"):  # fmt: skip
            status, body = call(proxy + path)
            assert status == 404 and "model_file" not in str(body) and "version" not in str(body), path
        rest = json.dumps({"sender": "s", "message": "hi"}).encode()
        bearer = {"Authorization": f"Bearer {settings.security.rest_token}"}
        assert call(f"{proxy}/webhooks/rest/webhook", rest, bearer)[0] == 404  # server-to-server only
        assert call(f"{proxy}/webhooks//rest/webhook", rest, bearer)[0] == 404
        metrics = {"Authorization": f"Bearer {settings.security.metrics_token}"}
        assert call(f"{console}/metrics", headers=metrics)[0] == 200
        assert call(f"{proxy}/metrics", headers=metrics)[0] == 404  # for the internal scraper only
        # public: the socket (socket.io's handshake), the widget's files, the console
        status, handshake = call(f"{proxy}/socket.io/?EIO=4&transport=polling")
        assert status == 200 and '"sid"' in str(handshake)
        status, script = call(f"{proxy}/webchat/civic-chat.js")
        assert status == 200 and "socket" in script
        status, page = call(f"{proxy}/login")
        assert status == 200 and "<form" in page
        assert asyncio.run(websocket_connects(proxy))  # the Upgrade headers get through


async def websocket_connects(url: str) -> bool:
    client = socketio.AsyncClient(reconnection=False)
    await client.connect(url, transports=["websocket"], socketio_path="/socket.io", wait_timeout=30)
    try:
        return bool(client.connected and client.transport() == "websocket")
    finally:
        await client.disconnect()
