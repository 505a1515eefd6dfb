"""Docker: only the proxy is published, and no secret is on a command line (`ps` would show it)."""

from __future__ import annotations

import re

import yaml
from stack_support import ROOT

COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SECRETS = ("RASA_TOKEN", "REST_CHANNEL_TOKEN", "ACTION_SERVER_TOKEN", "IDENTITY_SECRET", "PASSWORD")


def test_only_the_proxy_publishes_a_port() -> None:
    published = {name for name, service in COMPOSE["services"].items() if service.get("ports")}
    assert published == {"proxy"}
    assert COMPOSE["services"]["proxy"]["ports"] == ["${PROXY_PORT:-8080}:8080"]


def test_secrets_reach_containers_through_the_environment_only() -> None:
    for name, service in COMPOSE["services"].items():
        command = service.get("command", [])
        words = command if isinstance(command, list) else [command]
        for word in words:
            # the Redis password is read from a here-document on standard input, not from argv
            argv_part = word.split("<<", 1)[0]
            assert not any(secret in argv_part for secret in SECRETS), (name, word)
    assert "$$REDIS_PASSWORD" in COMPOSE["services"]["redis"]["command"][-1].split("<<", 1)[1]
    for name in ("rasa", "actions"):
        assert "ACTION_SERVER_TOKEN" in COMPOSE["services"][name]["environment"]


def test_the_entrypoint_starts_our_servers_without_secrets_in_argv() -> None:
    entrypoint = (ROOT / "docker-entrypoint.sh").read_text()
    # A server's command line is literal: no variable (a secret among them) is expanded into it.
    servers = re.findall(r"exec (python -m [^;]*?)(?:;;|$)", entrypoint.replace("\\\n", " "), re.M)
    assert len(servers) == 3, servers
    assert not any("$" in command or "--auth-token" in command for command in servers), servers
    assert "python -m bot.serve.rasa" in entrypoint and "python -m bot.serve.actions" in entrypoint


def test_the_image_redacts_logs_in_every_python_process() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    app_stage = dockerfile.split("FROM python:", 1)[1]
    assert "PYTHONPATH=/app/bot/privacy/site" in app_stage
    assert (ROOT / "bot" / "privacy" / "site" / "sitecustomize.py").exists()
