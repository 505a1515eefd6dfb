"""Which channels are switched on, and the credentials.yml Rasa gets: loaded here by Rasa itself."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from rasa.core.run import create_http_input_channels

from bot.channels.config import (
    CHANNELS,
    ChannelSetupError,
    credentials_yaml,
    enabled_channels,
    set_channel_vars,
    write_credentials,
)
from bot.channels.facebook import MessengerInput
from bot.channels.instagram import InstagramInput
from bot.channels.telegram import TelegramBotInput
from bot.channels.twilio import TwilioSmsInput
from bot.channels.whatsapp import WhatsAppInput
from bot.identity import IdentityKey

ROOT = Path(__file__).resolve().parents[3]
SECRETS = {
    "MESSENGER_VERIFY_TOKEN": "v1",
    "MESSENGER_APP_SECRET": "s1",
    "MESSENGER_PAGE_ACCESS_TOKEN": "t1",
    "INSTAGRAM_VERIFY_TOKEN": "v2",
    "INSTAGRAM_APP_SECRET": "s2",
    "INSTAGRAM_ACCESS_TOKEN": "t2",
    "WHATSAPP_VERIFY_TOKEN": "v3",
    "WHATSAPP_APP_SECRET": "s3",
    "WHATSAPP_ACCESS_TOKEN": "t3",
    "WHATSAPP_PHONE_NUMBER_ID": "106540352242922",
    "TWILIO_ACCOUNT_SID": "AC123",
    "TWILIO_AUTH_TOKEN": "tok",
    "TWILIO_NUMBER": "+15550001111",
    "TELEGRAM_TOKEN": "123:abc",
    "TELEGRAM_SECRET_TOKEN": "secret_1",
}
REDIS_ENV = {"REDIS_HOST": "127.0.0.1", "REDIS_PORT": "6390", "REDIS_DB": "2", "REDIS_PASSWORD": ""}
REST_SECTION = "bot.channels.rest.CivicRestInput"
SOCKETIO_SECTION = "bot.channels.socketio.CivicSocketIOInput"


@pytest.fixture(autouse=True)
def always_on_channel_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    """The REST token and identity secret the always-on channels need, as the stack sets them for Rasa."""
    monkeypatch.setenv("REST_CHANNEL_TOKEN", "rest-token-1")
    monkeypatch.setenv("IDENTITY_SECRET", "identity-secret-of-the-tests")


def test_no_secrets_no_channels() -> None:
    assert enabled_channels({}) == ()
    assert credentials_yaml("rest:\n", ()) == "rest:\n"


def test_a_channel_is_on_when_all_its_secrets_are_set() -> None:
    env = {k: v for k, v in SECRETS.items() if k.startswith(("TELEGRAM", "TWILIO"))}
    assert enabled_channels(env) == ("twilio", "telegram")
    assert enabled_channels(SECRETS) == ("facebook", "instagram", "whatsapp", "twilio", "telegram")


def test_a_half_configured_channel_is_an_error() -> None:
    with pytest.raises(ChannelSetupError, match="WHATSAPP_PHONE_NUMBER_ID"):
        enabled_channels({k: v for k, v in SECRETS.items() if k != "WHATSAPP_PHONE_NUMBER_ID"})
    with pytest.raises(ChannelSetupError, match="Telegram"):
        enabled_channels({"TELEGRAM_TOKEN": "123:abc", "TELEGRAM_SECRET_TOKEN": "  "})


def test_optional_variables_are_written_only_when_set() -> None:
    env = {**SECRETS, "META_GRAPH_URL": "http://127.0.0.1:9/v18.0", "PUBLIC_BASE_URL": " "}
    assert set_channel_vars(env) == set(SECRETS) | {"META_GRAPH_URL"}
    text = credentials_yaml("", ["whatsapp", "telegram"], set_channel_vars(env))
    assert text.count("api_url: ${META_GRAPH_URL}") == 1
    assert (
        "TELEGRAM_API_URL" not in text and "PUBLIC_BASE_URL" not in text and "TELEGRAM_BOT_NAME" not in text
    )


def test_the_generated_file_holds_placeholders_only() -> None:
    text = credentials_yaml((ROOT / "credentials.yml").read_text(), enabled_channels(SECRETS), set(SECRETS))
    for value in SECRETS.values():
        assert f": {value}\n" not in text
    parsed = yaml.safe_load(text)
    links = "bot.channels.links.LinkRedirect"  # the click-counting redirect: no secrets
    assert list(parsed) == [REST_SECTION, SOCKETIO_SECTION, links, *(spec.class_path for spec in CHANNELS)]
    assert parsed[REST_SECTION]["token"] == "${REST_CHANNEL_TOKEN}"
    assert parsed["bot.channels.telegram.TelegramBotInput"]["secret_token"] == "${TELEGRAM_SECRET_TOKEN}"
    for spec in CHANNELS:  # every connector keys its conversation ids with the server's secret
        assert parsed[spec.class_path]["identity_secret"] == "${IDENTITY_SECRET}"


def test_rasa_builds_every_connector_from_the_generated_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {
        **SECRETS,
        **REDIS_ENV,
        "TELEGRAM_BOT_NAME": "HarborCityBot",
        "PUBLIC_BASE_URL": "https://x.example",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    for name in ("META_GRAPH_URL", "TWILIO_API_URL", "TELEGRAM_API_URL"):
        monkeypatch.delenv(name, raising=False)
    target = tmp_path / "var" / "credentials.yml"
    path = write_credentials(ROOT / "credentials.yml", target, enabled_channels(env), set_channel_vars(env))
    channels = create_http_input_channels(None, str(path))
    by_name = {channel.name(): channel for channel in channels}
    assert sorted(by_name) == [
        "facebook",
        "instagram",
        "links",
        "rest",
        "socketio",
        "telegram",
        "twilio",
        "whatsapp",
    ]
    assert isinstance(by_name["facebook"], MessengerInput)
    assert isinstance(by_name["instagram"], InstagramInput)
    assert isinstance(by_name["whatsapp"], WhatsAppInput)
    assert isinstance(by_name["twilio"], TwilioSmsInput)
    assert isinstance(by_name["telegram"], TelegramBotInput)
    whatsapp = by_name["whatsapp"]
    assert (whatsapp.app_secret, whatsapp.phone_number_id) == ("s3", "106540352242922")
    assert whatsapp.conversation_id("16505551234") == IdentityKey(
        "identity-secret-of-the-tests"
    ).conversation_id("whatsapp", "16505551234")
    assert whatsapp.common.api_url == "https://graph.facebook.com/v18.0"
    assert (whatsapp.common.redis.port, whatsapp.common.redis.db) == (6390, 2)
    telegram = by_name["telegram"]
    assert (telegram.verify, telegram.secret_token) == ("HarborCityBot", "secret_1")
    assert telegram.webhook_url == "https://x.example/webhooks/telegram/webhook"
    assert telegram.common.api_url == "https://api.telegram.org"
    twilio = by_name["twilio"]
    assert (twilio.common.api_url, twilio.common.public_base_url) == (
        "https://api.twilio.com",
        "https://x.example",
    )
    assert {c.url_prefix() for c in channels} >= {"facebook", "instagram", "whatsapp", "twilio", "telegram"}


def test_an_unset_variable_stops_rasa(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Why the stack writes only enabled channels: Rasa refuses a file with an unset ${VAR}."""
    for name in SECRETS:
        monkeypatch.delenv(name, raising=False)
    path = write_credentials(ROOT / "credentials.yml", tmp_path / "credentials.yml", ["telegram"])
    with pytest.raises(Exception, match="TELEGRAM"):
        create_http_input_channels(None, str(path))


def test_socketio_jwt_secret_makes_rasa_require_a_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOCKETIO_JWT_SECRET", "jwt-secret-1")
    env = {"SOCKETIO_JWT_SECRET": "jwt-secret-1"}
    assert enabled_channels(env) == () and set_channel_vars(env) == {"SOCKETIO_JWT_SECRET"}
    path = write_credentials(
        ROOT / "credentials.yml", tmp_path / "credentials.yml", (), set_channel_vars(env)
    )
    assert "jwt-secret-1" not in path.read_text()
    [_rest, socketio, _links] = create_http_input_channels(None, str(path))
    assert (socketio.name(), socketio.jwt_key, socketio.jwt_algorithm) == (
        "socketio",
        "jwt-secret-1",
        "HS256",
    )
    assert socketio.session_persistence is True  # the rest of the section is kept
