"""The settings tree: one parser, one error style, one Redis address, secrets generated once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.agency_config import AgencyConfig
from bot.channels.config import ChannelConfig, ChannelSetupError
from bot.handoff.config import HandoffConfig
from bot.inbox.config import InboxConfig
from bot.settings import RedisAddress, Settings, SettingsError
from bot.stack import Stack

ROOT = Path(__file__).resolve().parents[2]


def test_defaults_need_no_environment() -> None:
    settings = Settings.from_env({})
    assert settings.redis.url == "redis://127.0.0.1:6379/0" and not settings.redis.external
    assert settings.rasa.api_url == settings.rasa.browser_url == "http://127.0.0.1:5005"
    assert (settings.handoff.port, settings.demo.port, settings.log_level) == (8080, 8000, "INFO")


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"RASA_PORT": "abc"}, "RASA_PORT must be a whole number, got 'abc'"),
        ({"HANDOFF_PORT": "70000"}, "HANDOFF_PORT must be a whole number from 1 to 65535, got '70000'"),
        ({"HANDOFF_INACTIVITY_MINUTES": "0"}, "HANDOFF_INACTIVITY_MINUTES must be more than 0, got '0'"),
        ({"AGENCY_TIMEOUT_SECONDS": "soon"}, "AGENCY_TIMEOUT_SECONDS must be a number, got 'soon'"),
        ({"INBOX_CONFIDENCE_THRESHOLD": "1.5"}, "INBOX_CONFIDENCE_THRESHOLD must be at most 1, got '1.5'"),
        ({"ALERTS_FORMAT": "rss"}, "ALERTS_FORMAT must be one of geojson, cap-atom, got 'rss'"),
        ({"AGENCY_TIMEZONE": "Harbor/City"}, "AGENCY_TIMEZONE must be an IANA time zone"),
        ({"LOG_LEVEL": "loud"}, "LOG_LEVEL must be one of debug, info"),
        ({"REDIS_URL": "http://cache:6379"}, "REDIS_URL must be a redis://"),
        ({"REDIS_URL": "redis://cache:6379/x"}, "REDIS_URL must be a URL whose path is a database number"),
        ({"RASA_PUBLIC_URL": "chat.example"}, "RASA_PUBLIC_URL must be an http:// or https:// URL"),
        (
            {"WHATSAPP_TEMPLATE_LANGS": "es"},
            "WHATSAPP_TEMPLATE_LANGS must be key=value pairs separated by commas",
        ),
        ({"WHATSAPP_TEMPLATE_LANGS": "es=es_MX,es=es"}, "WHATSAPP_TEMPLATE_LANGS must be key=value pairs"),
    ],
)
def test_a_bad_value_is_named_with_what_it_must_be(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env(env)
    assert str(caught.value).startswith(message)


def test_the_whatsapp_template_s_other_languages() -> None:
    settings = Settings.from_env({"WHATSAPP_TEMPLATE_LANGS": " es = es_MX , vi=vi ,"})
    assert settings.broadcasts.whatsapp_template_langs == {"es": "es_MX", "vi": "vi"}
    assert Settings.from_env({}).broadcasts.whatsapp_template_langs == {}


def test_one_redis_address_from_a_url_or_its_parts() -> None:
    from_url = Settings.from_env({"REDIS_URL": "redis://:p%40ss@cache.internal:6390/2"}).redis
    parts = Settings.from_env(
        {"REDIS_HOST": "cache.internal", "REDIS_PORT": "6390", "REDIS_DB": "2", "REDIS_PASSWORD": "p@ss"}
    ).redis
    assert from_url.address == parts.address == RedisAddress("cache.internal", 6390, 2, "p@ss")
    assert from_url.external and not parts.external
    assert RedisAddress.from_url(from_url.url) == from_url.address  # the URL round-trips
    assert parts.address.split_env() == {
        "REDIS_HOST": "cache.internal",
        "REDIS_PORT": "6390",
        "REDIS_DB": "2",
        "REDIS_PASSWORD": "p@ss",
    }


def test_every_feature_builds_its_config_from_the_same_tree() -> None:
    settings = Settings.from_env(
        {
            "REDIS_URL": "redis://cache:6391/1",
            "RASA_URL": "http://rasa:5005/",
            "RASA_TOKEN": "t",
            "HANDOFF_HOURS": "Always",
            "INBOX_RETENTION_DAYS": "7",
            "TELEGRAM_TOKEN": "1:a",
            "TELEGRAM_SECRET_TOKEN": "s",
        }
    )
    handoff = HandoffConfig.from_settings(settings)
    assert (handoff.redis_url, handoff.rasa_url, handoff.hours_always) == (
        "redis://cache:6391/1",
        "http://rasa:5005",
        True,
    )
    assert AgencyConfig.from_settings(settings).redis_url == handoff.redis_url
    assert InboxConfig.from_settings(settings).retention_seconds == 7 * 86400
    assert ChannelConfig.from_settings(settings).enabled == ("telegram",)


def test_a_half_configured_channel_is_a_settings_error() -> None:
    with pytest.raises(ChannelSetupError, match="TELEGRAM_SECRET_TOKEN") as caught:
        ChannelConfig.from_settings(Settings.from_env({"TELEGRAM_TOKEN": "1:a"}))
    assert isinstance(caught.value, SettingsError)


def test_secrets_stay_out_of_the_repr() -> None:
    settings = Settings.from_env(
        {
            "RASA_TOKEN": "rasa-secret",
            "REDIS_URL": "redis://:redis-secret@cache:6379/0",
            "DEMO_AGENCY_API_KEY": "demo-secret",
            "OPEN311_API_KEY": "open311-secret",
        }
    )
    assert "secret" not in repr(settings)


def test_the_stack_generates_missing_secrets_once(tmp_path: Path) -> None:
    stack = Stack(Settings.from_env({"VAR_DIR": str(tmp_path)}), root=tmp_path)
    tokens = {"RASA_TOKEN", "DEMO_AGENCY_API_KEY", "DEMO_AGENCY_ADMIN_TOKEN", "REST_CHANNEL_TOKEN"}
    tokens |= {"ACTION_SERVER_TOKEN", "MODEL_SERVER_TOKEN", "METRICS_TOKEN"}
    assert set(stack.generated) == tokens
    assert stack.settings.rasa.token == stack.generated["RASA_TOKEN"]
    assert stack.settings.demo.api_key == stack.generated["DEMO_AGENCY_API_KEY"]
    assert stack.settings.security.action_token == stack.generated["ACTION_SERVER_TOKEN"]
    given_env = {"RASA_TOKEN": "r", "DEMO_AGENCY_API_KEY": "d", "DEMO_AGENCY_ADMIN_TOKEN": "m"}
    given_env.update(
        REST_CHANNEL_TOKEN="t", ACTION_SERVER_TOKEN="a", MODEL_SERVER_TOKEN="s", METRICS_TOKEN="p"
    )
    given = Stack(Settings.from_env(given_env), root=tmp_path)
    assert given.generated == {} and (given.settings.rasa.token, given.settings.demo.api_key) == ("r", "d")
    assert (given.settings.security.rest_token, given.settings.security.action_token) == ("t", "a")
    assert given.settings.security.metrics_token == "p"


@pytest.mark.parametrize(
    "command",
    [
        ["-m", "bot", "run"],
        ["-m", "bot", "agents", "list"],
        ["-m", "bot.handoff"],
        ["-m", "bot.demo_agency"],
    ],
)
def test_entry_points_report_a_bad_value_once_without_a_traceback(command: list[str]) -> None:
    env = {**os.environ, "HANDOFF_PORT": "eighty"}
    done = subprocess.run(
        [sys.executable, *command], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 1
    assert done.stderr.strip() == "error: HANDOFF_PORT must be a whole number, got 'eighty'"
