"""docker-compose.yml: the whole system on one Docker host, with only the proxy published, every
service health-checked and restarted, and no secret on a command line (`ps` would show it).

No Docker engine here: the file is read as compose reads it (YAML, `${...}` left as written).
"""

from __future__ import annotations

import re

import pytest
import yaml
from stack_support import ROOT

COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, dict] = COMPOSE["services"]
ENTRYPOINT = (ROOT / "docker-entrypoint.sh").read_text()
SECRETS = (
    "RASA_TOKEN",
    "REST_CHANNEL_TOKEN",
    "ACTION_SERVER_TOKEN",
    "MODEL_SERVER_TOKEN",
    "IDENTITY_SECRET",
    "PASSWORD",
)


def redis_config() -> list[str]:
    """The configuration Redis reads on standard input (the here-document of its command)."""
    return SERVICES["redis"]["command"][-1].split("<<", 1)[1].splitlines()


def test_the_whole_system_runs() -> None:
    assert set(SERVICES) == {"redis", "models", "actions", "rasa", "handoff", "demo", "broadcaster", "proxy"}
    # every app service runs one of the entrypoint's commands
    for name, service in SERVICES.items():
        if "command" in service and name != "redis":
            [command] = service["command"]
            assert re.search(rf"^  {command}\)$", ENTRYPOINT, re.M), (name, command)
    assert SERVICES["models"]["command"] == ["models"] and SERVICES["demo"]["command"] == ["demo"]


def test_only_the_proxy_publishes_a_port() -> None:
    published = {name for name, service in SERVICES.items() if service.get("ports")}
    assert published == {"proxy"}
    assert SERVICES["proxy"]["ports"] == ["${PROXY_PORT:-8080}:8080"]
    assert SERVICES["proxy"]["build"]["target"] == "proxy"


def test_rasa_runs_several_replicas_fed_by_the_model_server() -> None:
    rasa = SERVICES["rasa"]
    assert rasa["deploy"]["replicas"] == "${RASA_REPLICAS:-2}"
    assert "container_name" not in rasa and "ports" not in rasa  # several containers, one name
    env = rasa["environment"]
    assert env["MODEL_SERVER_URL"] == "http://models:5057/models/current"
    assert env["MODEL_SERVER_TOKEN"] == SERVICES["models"]["environment"]["MODEL_SERVER_TOKEN"]
    assert "RASA_REPLICA_NAME" not in env  # one per container: the entrypoint's default
    assert 'RASA_REPLICA_NAME="${RASA_REPLICA_NAME:-$(uname -n)}"' in ENTRYPOINT


def test_every_address_names_a_service_of_this_file() -> None:
    for name, service in SERVICES.items():
        for key, value in (service.get("environment") or {}).items():
            for host in re.findall(r"^https?://([a-z]+):\d+", str(value).split(":-")[-1].rstrip("}")):
                assert host in SERVICES, (name, key, value)


def test_redis_requires_a_password_and_never_evicts() -> None:
    config = redis_config()
    assert 'requirepass "$$REDIS_PASSWORD"' in config
    assert "appendonly yes" in config and "maxmemory-policy noeviction" in config
    assert any(re.fullmatch(r"maxmemory \S+", line) for line in config)
    assert SERVICES["redis"]["environment"]["REDIS_PASSWORD"].startswith("${REDIS_PASSWORD:?")
    assert SERVICES["redis"]["volumes"] == ["redis-data:/data"]


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_every_service_is_health_checked_and_restarted(name: str) -> None:
    service = SERVICES[name]
    assert service["restart"] == "unless-stopped"
    test = service["healthcheck"]["test"]
    assert test[0] in ("CMD", "CMD-SHELL")
    # nothing is interpolated into the check's command line: a secret is read inside it
    assert not any("$" in word for word in test), test
    for dependency, condition in (service.get("depends_on") or {}).items():
        assert condition == {"condition": "service_healthy"}, (name, dependency)
        assert "healthcheck" in SERVICES[dependency], dependency


def test_services_start_in_order() -> None:
    def needs(name: str) -> set[str]:
        return set(SERVICES[name].get("depends_on") or {})

    assert needs("rasa") == {"redis", "models", "actions"}
    assert {"redis"} <= needs("models") and {"redis"} <= needs("actions")
    assert needs("proxy") == {"rasa", "handoff"}


def test_the_broadcaster_sends_with_the_same_channel_settings_as_rasa() -> None:
    """Broadcasts go out through the same connectors as replies: same platforms, same credentials."""
    rasa, broadcaster = SERVICES["rasa"]["environment"], SERVICES["broadcaster"]["environment"]
    channel_vars = {name for name in rasa if name.startswith(("TWILIO_", "TELEGRAM_", "META_", "MESSENGER_"))}
    channel_vars |= {name for name in rasa if name.startswith(("INSTAGRAM_", "WHATSAPP_", "PUBLIC_BASE"))}
    assert {"TWILIO_AUTH_TOKEN", "TELEGRAM_TOKEN", "WHATSAPP_ACCESS_TOKEN", "PUBLIC_BASE_URL"} <= channel_vars
    assert all(broadcaster[name] == rasa[name] for name in channel_vars)
    assert broadcaster["IDENTITY_SECRET"] == rasa["IDENTITY_SECRET"]  # the same conversation ids
    assert "ports" not in SERVICES["broadcaster"]


def test_rasa_is_healthy_only_with_a_model() -> None:
    check = " ".join(SERVICES["rasa"]["healthcheck"]["test"])
    assert "127.0.0.1:5005/status" in check and "os.environ['RASA_TOKEN']" in check


def test_secrets_reach_containers_through_the_environment_only() -> None:
    for name, service in SERVICES.items():
        command = service.get("command", [])
        words = command if isinstance(command, list) else [command]
        for word in words:
            # the Redis password is read from a here-document on standard input, not from argv
            argv_part = word.split("<<", 1)[0]
            assert not any(secret in argv_part for secret in SECRETS), (name, word)
    for name in ("rasa", "actions"):
        assert "ACTION_SERVER_TOKEN" in SERVICES[name]["environment"]


def test_the_proxy_reaches_every_rasa_replica() -> None:
    """nginx resolves `rasa` per request (a resolver, and proxy_pass through a variable): Docker's
    DNS answers with every replica's address, so scaling needs no proxy reload."""
    template = (ROOT / "deploy" / "nginx" / "site.conf.template").read_text()
    server = (ROOT / "deploy" / "nginx" / "civic-assistant.conf").read_text()
    assert re.search(r"^resolver \$\{NGINX_LOCAL_RESOLVERS\} valid=\d+s", template, re.M)
    assert "set $civic_rasa ${CIVIC_RASA_URL};" in template
    assert re.findall(r"proxy_pass (\S+);", server) == ["$civic_rasa", "$civic_rasa", "$civic_console"]


def test_the_entrypoint_starts_our_servers_without_secrets_in_argv() -> None:
    # A server's command line is literal: no variable (a secret among them) is expanded into it.
    servers = re.findall(r"exec (python -m [^;]*?)(?:;;|$)", ENTRYPOINT.replace("\\\n", " "), re.M)
    assert len(servers) == 6, servers
    assert not any("$" in command or "--auth-token" in command for command in servers), servers
    for module in (
        "bot.serve.rasa",
        "bot.serve.models",
        "bot.serve.actions",
        "bot.broadcasts",
        "bot.console",
        "bot.demo_agency",
    ):
        assert any(command.startswith(f"python -m {module} ") for command in servers), module


def test_the_image_redacts_logs_in_every_python_process() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    app_stage = dockerfile.rsplit("\nFROM ", 1)[1]
    assert app_stage.startswith("python:") and "PYTHONPATH=/app/bot/privacy/site" in app_stage
    assert (ROOT / "bot" / "privacy" / "site" / "sitecustomize.py").exists()
