"""Which messaging channels are switched on, and the credentials.yml that Rasa gets for them.

A channel is on when all of its secrets are set in the environment, off when none are, and a
configuration error when only some are (a half-configured channel would otherwise be silently
missing, or worse, run without a secret). Rasa refuses to start on an unset `${VAR}`, so the
stack writes `var/credentials.yml`: the always-on channels of `credentials.yml` (REST,
socket.io) followed by a section per enabled channel. Every value is a `${VAR}` placeholder,
so secrets never reach the disk (Rasa substitutes them from the environment); an optional
variable that is unset (an API base URL, PUBLIC_BASE_URL, the Telegram bot name) is left out
of the section, and the connector uses its default. The Redis keys are always written: the
stack sets REDIS_HOST, REDIS_PORT, REDIS_DB and REDIS_PASSWORD for Rasa (endpoints.yml needs
them too). So is `identity_secret: ${IDENTITY_SECRET}`, the key of the conversation ids
(`bot/identity.py`): the stack keeps one in var/secrets/, and a connector refuses to start
without it.

Nothing here reads `os.environ`: `ChannelConfig.from_settings` takes the names of the set
variables from `bot.settings`. No Rasa import.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.settings import Settings, SettingsError

REDIS_KEYS = (
    ("redis_host", "REDIS_HOST"),
    ("redis_port", "REDIS_PORT"),
    ("redis_db", "REDIS_DB"),
    ("redis_password", "REDIS_PASSWORD"),
)
IDENTITY_KEYS = (("identity_secret", "IDENTITY_SECRET"),)


class ChannelSetupError(SettingsError):
    """Some but not all of a channel's secrets are set."""


@dataclass(frozen=True)
class ChannelSpec:
    name: str  # the webhook is /webhooks/<name>/webhook
    title: str
    class_path: str  # the section's key in credentials.yml
    secrets: tuple[tuple[str, str], ...]  # (credentials key, env var): all set switches the channel on
    options: tuple[tuple[str, str], ...] = ()  # (credentials key, env var): written only when set

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(var for _, var in self.secrets)

    def section(self, set_vars: Collection[str]) -> str:
        """This channel's credentials.yml section; `set_vars` are the names of the variables that are set."""
        options = tuple((key, var) for key, var in self.options if var in set_vars)
        lines = [f"{self.class_path}:"]
        keys = (*self.secrets, *options, *IDENTITY_KEYS, *REDIS_KEYS)
        lines += [f"  {key}: ${{{var}}}" for key, var in keys]
        return "\n".join(lines) + "\n"


CHANNELS: tuple[ChannelSpec, ...] = (
    ChannelSpec(
        "facebook",
        "Facebook Messenger",
        "bot.channels.facebook.MessengerInput",
        (
            ("verify", "MESSENGER_VERIFY_TOKEN"),
            ("secret", "MESSENGER_APP_SECRET"),
            ("page-access-token", "MESSENGER_PAGE_ACCESS_TOKEN"),
        ),
        (("api_url", "META_GRAPH_URL"),),
    ),
    ChannelSpec(
        "instagram",
        "Instagram messaging",
        "bot.channels.instagram.InstagramInput",
        (
            ("verify_token", "INSTAGRAM_VERIFY_TOKEN"),
            ("app_secret", "INSTAGRAM_APP_SECRET"),
            ("access_token", "INSTAGRAM_ACCESS_TOKEN"),
        ),
        (("api_url", "META_GRAPH_URL"),),
    ),
    ChannelSpec(
        "whatsapp",
        "WhatsApp Cloud API",
        "bot.channels.whatsapp.WhatsAppInput",
        (
            ("verify_token", "WHATSAPP_VERIFY_TOKEN"),
            ("app_secret", "WHATSAPP_APP_SECRET"),
            ("access_token", "WHATSAPP_ACCESS_TOKEN"),
            ("phone_number_id", "WHATSAPP_PHONE_NUMBER_ID"),
        ),
        (("api_url", "META_GRAPH_URL"),),
    ),
    ChannelSpec(
        "twilio",
        "SMS and WhatsApp via Twilio",
        "bot.channels.twilio.TwilioSmsInput",
        (
            ("account_sid", "TWILIO_ACCOUNT_SID"),
            ("auth_token", "TWILIO_AUTH_TOKEN"),
            ("twilio_number", "TWILIO_NUMBER"),
        ),
        (("api_url", "TWILIO_API_URL"), ("public_base_url", "PUBLIC_BASE_URL")),
    ),
    ChannelSpec(
        "telegram",
        "Telegram",
        "bot.channels.telegram.TelegramBotInput",
        (("access_token", "TELEGRAM_TOKEN"), ("secret_token", "TELEGRAM_SECRET_TOKEN")),
        (
            ("verify", "TELEGRAM_BOT_NAME"),
            ("api_url", "TELEGRAM_API_URL"),
            ("public_base_url", "PUBLIC_BASE_URL"),
        ),
    ),
)
BY_NAME = {spec.name: spec for spec in CHANNELS}
# The web chat (socket.io, always on) checks a JWT in the connect packet when this is set.
SOCKETIO_JWT_VAR = "SOCKETIO_JWT_SECRET"
SOCKETIO_SECTION = "bot.channels.socketio.CivicSocketIOInput"  # its key in credentials.yml
CHANNEL_VARS = tuple(
    sorted({var for spec in CHANNELS for _, var in (*spec.secrets, *spec.options)} | {SOCKETIO_JWT_VAR})
)


def _set_names(env: Mapping[str, str] | Collection[str]) -> frozenset[str]:
    """The names that are set: non-blank values of a mapping, or a collection of names as it is."""
    if isinstance(env, Mapping):
        return frozenset(name for name, value in env.items() if str(value).strip())
    return frozenset(env)


def enabled_channels(env: Mapping[str, str] | Collection[str]) -> tuple[str, ...]:
    """Names of the channels whose secrets are all set; ChannelSetupError for a half-configured one."""
    names = _set_names(env)
    enabled = []
    for spec in CHANNELS:
        present = [var for var in spec.required if var in names]
        if len(present) == len(spec.required):
            enabled.append(spec.name)
        elif present:
            missing = ", ".join(var for var in spec.required if var not in present)
            raise ChannelSetupError(
                f"{spec.title} is half configured: {', '.join(present)} set but {missing} not "
                f"(set all of {', '.join(spec.required)} to switch it on, or none)"
            )
    return tuple(enabled)


def set_channel_vars(env: Mapping[str, str] | Collection[str]) -> frozenset[str]:
    """The names (never the values) of the channel variables that are set."""
    return frozenset(CHANNEL_VARS) & _set_names(env)


@dataclass(frozen=True)
class ChannelConfig:
    """The channels switched on and the names of the channel variables set (for credentials.yml)."""

    enabled: tuple[str, ...] = ()
    set_vars: frozenset[str] = frozenset()

    @classmethod
    def from_settings(cls, settings: Settings) -> ChannelConfig:
        names = settings.channels.set_vars
        return cls(enabled_channels(names), set_channel_vars(names))

    def write_credentials(self, base: Path, target: Path) -> Path:
        return write_credentials(base, target, self.enabled, self.set_vars)


def with_socketio_jwt(base: str) -> str:
    """`base` with Rasa's `jwt_key`/`jwt_method` in its socketio section: the web chat then needs a token.

    Rasa's SocketIOInput refuses a connect packet without `{"token": <HS256 JWT signed with the secret>}`.
    """
    parsed = yaml.safe_load(base) or {}
    socketio = parsed.get(SOCKETIO_SECTION) or {}
    socketio.update(jwt_key=f"${{{SOCKETIO_JWT_VAR}}}", jwt_method="HS256")
    parsed[SOCKETIO_SECTION] = socketio
    return yaml.safe_dump(parsed, sort_keys=False)


def credentials_yaml(base: str, channels: Iterable[str], set_vars: Collection[str] = ()) -> str:
    """`base` (the always-on channels) followed by a section for each enabled channel."""
    if SOCKETIO_JWT_VAR in set_vars:
        base = with_socketio_jwt(base)
    sections = [BY_NAME[name].section(set_vars) for name in channels]
    if not sections:
        return base
    header = "\n# Messaging channels switched on by their environment variables (bot/channels/config.py).\n"
    return base.rstrip("\n") + "\n" + header + "\n".join(sections)


def write_credentials(
    base: Path, target: Path, channels: Iterable[str], set_vars: Collection[str] = ()
) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(
        credentials_yaml(base.read_text(encoding="utf-8"), channels, set_vars), encoding="utf-8"
    )
    return target
