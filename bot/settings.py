"""The project's one reader of the environment: a frozen `Settings` tree, read once per process.

`Settings.from_env()` parses every variable (docs/configuration.md lists them) with one parser
and one error style: a bad value raises `SettingsError` naming the variable and the value. Each
feature builds its own config from the tree (`AgencyConfig.from_settings`,
`HandoffConfig.from_settings`, ...); this module imports no feature package. Values here are
what the environment says, with defaults; secrets have no defaults (the stack generates what a
local run needs).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, unquote, urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

LOCALHOST = "127.0.0.1"
ALERTS_FORMATS = ("geojson", "cap-atom")
LOG_LEVELS = ("debug", "info", "warning", "error", "critical")
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


class SettingsError(ValueError):
    """A variable holds a value that cannot be used; the message names the variable and the value."""


def _bad(name: str, what: str, raw: str) -> SettingsError:
    return SettingsError(f"{name} must be {what}, got {raw!r}")


@dataclass(frozen=True)
class Env:
    """The parser every setting goes through: text, numbers, durations, flags, paths, origins."""

    values: Mapping[str, str]

    def text(self, name: str, default: str = "") -> str:
        return self.values.get(name, "").strip() or default

    def number(
        self,
        name: str,
        default: float,
        *,
        minimum: float = 0.0,
        above: bool = False,
        maximum: float | None = None,
    ) -> float:
        """A number >= `minimum` (> `minimum` when `above`), <= `maximum`; unset or blank gives `default`."""
        raw = self.text(name)
        if not raw:
            return default
        try:
            value = float(raw)
        except ValueError:
            raise _bad(name, "a number", raw) from None
        if value < minimum or (above and value == minimum):
            raise _bad(name, f"{'more than' if above else 'at least'} {minimum:g}", raw)
        if maximum is not None and value > maximum:
            raise _bad(name, f"at most {maximum:g}", raw)
        return value

    def whole(self, name: str, default: int, *, minimum: int = 0, maximum: int | None = None) -> int:
        """A whole number in [minimum, maximum]; unset or blank gives `default`."""
        raw = self.text(name)
        if not raw:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise _bad(name, "a whole number", raw) from None
        if value < minimum or (maximum is not None and value > maximum):
            bound = f"from {minimum} to {maximum}" if maximum is not None else f"{minimum} or more"
            raise _bad(name, f"a whole number {bound}", raw)
        return value

    def port(self, name: str, default: int) -> int:
        return self.whole(name, default, minimum=1, maximum=65535)

    def duration(self, name: str, default: float) -> float:
        """A length of time in the unit the variable's name gives (…_SECONDS, …_MINUTES, …_DAYS): > 0."""
        return self.number(name, default, above=True)

    def flag(self, name: str, default: bool) -> bool:
        raw = self.text(name).lower()
        if not raw:
            return default
        if raw in _TRUE or raw in _FALSE:
            return raw in _TRUE
        raise _bad(name, "true or false", raw)

    def pairs(self, name: str) -> dict[str, str]:
        """`key=value` pairs separated by commas ("es=es_MX, vi=vi"); unset or blank gives {}."""
        found: dict[str, str] = {}
        for part in filter(None, (p.strip() for p in self.text(name).split(","))):
            key, sep, value = (s.strip() for s in part.partition("="))
            if not sep or not key or not value or key in found:
                raise _bad(name, "key=value pairs separated by commas, each key once", self.text(name))
            found[key] = value
        return found

    def path(self, name: str, default: Path) -> Path:
        raw = self.text(name)
        return Path(raw) if raw else default

    def choice(self, name: str, choices: tuple[str, ...], default: str) -> str:
        raw = self.text(name, default).lower()
        if raw not in choices:
            raise _bad(name, f"one of {', '.join(choices)}", raw)
        return raw

    def origin(self, name: str) -> str:
        """An http(s) origin without a trailing slash, or ""; a typo would leave a page silently dead."""
        raw = self.text(name).rstrip("/")
        parsed = urlparse(raw)
        if raw and (parsed.scheme not in ("http", "https") or not parsed.netloc):
            raise _bad(name, "an http:// or https:// URL", raw)
        return raw

    def zone(self, name: str, default: str) -> str:
        raw = self.text(name, default)
        try:
            ZoneInfo(raw)
        except (ZoneInfoNotFoundError, ValueError):
            raise _bad(name, "an IANA time zone such as America/New_York", raw) from None
        return raw


@dataclass(frozen=True)
class RedisAddress:
    """Where Redis is: the one shape every process uses (a URL, or split for Rasa's endpoints.yml)."""

    host: str = LOCALHOST
    port: int = 6379
    db: int = 0
    password: str = field(default="", repr=False)

    @classmethod
    def from_url(cls, url: str, name: str = "REDIS_URL") -> RedisAddress:
        parsed = urlparse(url)
        if parsed.scheme != "redis" or not parsed.hostname:
            raise _bad(name, "a redis://[:password@]host[:port][/db] URL", url)
        db = parsed.path.lstrip("/")
        try:
            port = parsed.port or 6379
        except ValueError:
            raise _bad(name, "a URL with a valid port", url) from None
        if db and not db.isdigit():
            raise _bad(name, "a URL whose path is a database number", url)
        return cls(parsed.hostname, port, int(db or 0), unquote(parsed.password or ""))

    @property
    def url(self) -> str:
        auth = f":{quote(self.password, safe='')}@" if self.password else ""
        return f"redis://{auth}{self.host}:{self.port}/{self.db}"

    def split_env(self) -> dict[str, str]:
        """REDIS_HOST/PORT/DB/PASSWORD: what endpoints.yml and credentials.yml substitute for Rasa."""
        return {
            "REDIS_HOST": self.host,
            "REDIS_PORT": str(self.port),
            "REDIS_DB": str(self.db),
            "REDIS_PASSWORD": self.password,
        }


@dataclass(frozen=True)
class RedisSettings:
    """REDIS_URL, else REDIS_HOST/REDIS_PORT/REDIS_DB/REDIS_PASSWORD (127.0.0.1:6379/0)."""

    address: RedisAddress = RedisAddress()
    external: bool = False  # REDIS_URL was given: the stack uses it and never starts a server

    @property
    def url(self) -> str:
        return self.address.url

    @classmethod
    def from_env(cls, env: Env) -> RedisSettings:
        url = env.text("REDIS_URL")
        if url:
            return cls(RedisAddress.from_url(url), external=True)
        address = RedisAddress(
            host=env.text("REDIS_HOST", LOCALHOST),
            port=env.port("REDIS_PORT", 6379),
            db=env.whole("REDIS_DB", 0),
            password=env.text("REDIS_PASSWORD"),
        )
        return cls(address)


@dataclass(frozen=True)
class RasaSettings:
    """Rasa's server, its HTTP API token, the action server port, models and conversation expiry."""

    port: int = 5005
    action_port: int = 5055
    token: str = field(default="", repr=False)
    url: str = ""  # where the console reaches Rasa's HTTP API; "" is this machine's Rasa port
    public_url: str = ""  # where a citizen's browser reaches socket.io; "" is this machine's Rasa port
    model_dir: Path = Path("models")
    conversation_expiry_seconds: int = 7 * 24 * 3600
    replicas: int = 1  # `make run` starts this many Rasa servers on ports port, port + 1, ...

    @property
    def ports(self) -> list[int]:
        """Every replica's port: consecutive from RASA_PORT."""
        return [self.port + i for i in range(self.replicas)]

    @property
    def api_url(self) -> str:
        return self.url or f"http://{LOCALHOST}:{self.port}"

    @property
    def browser_url(self) -> str:
        """The Rasa origin the web chat page connects to (RASA_PUBLIC_URL, else 127.0.0.1:RASA_PORT)."""
        return self.public_url or f"http://{LOCALHOST}:{self.port}"

    @classmethod
    def from_env(cls, env: Env) -> RasaSettings:
        return cls(
            port=env.port("RASA_PORT", 5005),
            action_port=env.port("ACTION_PORT", 5055),
            token=env.text("RASA_TOKEN"),
            url=env.origin("RASA_URL"),
            public_url=env.origin("RASA_PUBLIC_URL"),
            model_dir=env.path("MODEL_DIR", Path("models")),
            conversation_expiry_seconds=env.whole("CONVERSATION_EXPIRY_SECONDS", 7 * 24 * 3600),
            replicas=env.whole("RASA_REPLICAS", 1, minimum=1, maximum=16),
        )


@dataclass(frozen=True)
class ModelServerSettings:
    """The model server every Rasa replica pulls its model from (`python -m bot.serve.models`).

    `url` is where Rasa asks for the current model (MODEL_SERVER_URL; "" is this machine's port);
    `token` guards it, since a model file holds the agency's whole training data.
    """

    port: int = 5057
    token: str = field(default="", repr=False)
    url: str = ""

    @property
    def model_url(self) -> str:
        return self.url or f"http://{LOCALHOST}:{self.port}/models/current"

    @classmethod
    def from_env(cls, env: Env) -> ModelServerSettings:
        return cls(
            port=env.port("MODEL_SERVER_PORT", 5057),
            token=env.text("MODEL_SERVER_TOKEN"),
            url=env.text("MODEL_SERVER_URL"),
        )


@dataclass(frozen=True)
class DemoAgencySettings:
    """The embedded demo agency API (`python -m bot.demo_agency`)."""

    port: int = 8000
    api_key: str = field(default="", repr=False)  # guards Open311 POST; generated per run when unset
    admin_token: str = field(default="", repr=False)  # guards /admin; generated per run when unset

    @property
    def url(self) -> str:
        return f"http://{LOCALHOST}:{self.port}"

    @classmethod
    def from_env(cls, env: Env) -> DemoAgencySettings:
        return cls(
            port=env.port("DEMO_AGENCY_PORT", 8000),
            api_key=env.text("DEMO_AGENCY_API_KEY"),
            admin_token=env.text("DEMO_AGENCY_ADMIN_TOKEN"),
        )


@dataclass(frozen=True)
class AgencySettings:
    """The agency's live-lookup APIs; an empty URL means the demo agency (`AgencyConfig` fills it in)."""

    open311_base_url: str = ""
    open311_api_key: str = field(default="", repr=False)
    open311_jurisdiction_id: str = ""
    alerts_url: str = ""
    alerts_format: str = "geojson"
    facilities_url: str = ""
    collection_url: str = ""
    service_status_url: str = ""
    timezone: str = "America/New_York"
    timeout_seconds: float = 3.0

    @classmethod
    def from_env(cls, env: Env) -> AgencySettings:
        return cls(
            open311_base_url=env.text("OPEN311_BASE_URL"),
            open311_api_key=env.text("OPEN311_API_KEY"),
            open311_jurisdiction_id=env.text("OPEN311_JURISDICTION_ID"),
            alerts_url=env.text("ALERTS_URL"),
            alerts_format=env.choice("ALERTS_FORMAT", ALERTS_FORMATS, "geojson"),
            facilities_url=env.text("FACILITIES_URL"),
            collection_url=env.text("COLLECTION_URL"),
            service_status_url=env.text("SERVICE_STATUS_URL"),
            timezone=env.zone("AGENCY_TIMEZONE", "America/New_York"),
            timeout_seconds=env.duration("AGENCY_TIMEOUT_SECONDS", 3.0),
        )


@dataclass(frozen=True)
class HandoffSettings:
    """The agent console's port and accounts, the staffed hours and the inactivity rule."""

    port: int = 8080
    agents_file: Path = Path("var/agents.yml")
    hours: str = ""  # "always": staffed around the clock (demos, tests); else the hours file
    hours_file: Path = Path("data/handoff/hours.yml")
    inactivity_minutes: float = 30.0

    @property
    def always_staffed(self) -> bool:
        return self.hours == "always"

    @classmethod
    def from_env(cls, env: Env) -> HandoffSettings:
        return cls(
            port=env.port("HANDOFF_PORT", 8080),
            agents_file=env.path("HANDOFF_AGENTS_FILE", Path("var/agents.yml")),
            hours=env.text("HANDOFF_HOURS").lower(),
            hours_file=env.path("HANDOFF_HOURS_FILE", Path("data/handoff/hours.yml")),
            inactivity_minutes=env.duration("HANDOFF_INACTIVITY_MINUTES", 30.0),
        )


@dataclass(frozen=True)
class InboxSettings:
    """The review inbox: where content lives, what counts as unsure, how long messages are kept."""

    content_dir: Path = Path("data/content")
    retention_days: float = 30.0
    confidence_threshold: float = 0.6

    @classmethod
    def from_env(cls, env: Env) -> InboxSettings:
        return cls(
            content_dir=env.path("CONTENT_DIR", Path("data/content")),
            retention_days=env.duration("INBOX_RETENTION_DAYS", 30.0),
            confidence_threshold=env.number("INBOX_CONFIDENCE_THRESHOLD", 0.6, maximum=1.0),
        )


@dataclass(frozen=True)
class ChannelSettings:
    """The names (never the values) of the set variables; `bot.channels.config` reads which are its own.

    Rasa substitutes the values into credentials.yml from its own environment, so secrets are
    never copied into this tree.
    """

    set_vars: frozenset[str] = frozenset()

    @classmethod
    def from_env(cls, env: Env) -> ChannelSettings:
        return cls(frozenset(name for name in env.values if env.text(name)))


@dataclass(frozen=True)
class SecuritySettings:
    """Who may speak as whom: the identity key, the REST and action-server tokens, the bind address.

    `identity_secret` keys the HMAC that turns a platform user id (a phone number on SMS) into a
    conversation id and signs the web chat's session ids (`bot/identity.py`); it must stay the same
    across restarts, so `make run` keeps the one it generates in `var/secrets/`. `bind_host` is
    where every service listens: loopback unless an operator says otherwise.
    """

    identity_secret: str = field(default="", repr=False)
    rest_token: str = field(default="", repr=False)
    action_token: str = field(default="", repr=False)
    metrics_token: str = field(default="", repr=False)  # reads every service's /metrics ("": off)
    bind_host: str = LOCALHOST
    trusted_proxies: tuple[str, ...] = ()

    @classmethod
    def from_env(cls, env: Env) -> SecuritySettings:
        proxies = tuple(p.strip() for p in env.text("TRUSTED_PROXIES").split(",") if p.strip())
        return cls(
            identity_secret=env.text("IDENTITY_SECRET"),
            rest_token=env.text("REST_CHANNEL_TOKEN"),
            action_token=env.text("ACTION_SERVER_TOKEN"),
            metrics_token=env.text("METRICS_TOKEN"),
            bind_host=env.text("BIND_HOST", LOCALHOST),
            trusted_proxies=proxies,
        )


@dataclass(frozen=True)
class ConsoleSettings:
    """The console's sign-in throttle, session lifetimes, own origin and audit log (OWASP ASVS L2)."""

    public_url: str = ""  # the origin agents' browsers use; "" = the scheme and Host of each request
    session_idle_minutes: float = 30.0
    session_max_hours: float = 12.0
    login_max_failures: int = 5  # per account, within the lockout window
    login_max_failures_per_address: int = 20  # per client address (an office behind one NAT)
    login_lockout_minutes: float = 15.0
    audit_max_entries: int = 100_000
    audit_retention_days: float = 365.0

    @classmethod
    def from_env(cls, env: Env) -> ConsoleSettings:
        return cls(
            public_url=env.origin("CONSOLE_PUBLIC_URL"),
            session_idle_minutes=env.duration("CONSOLE_SESSION_IDLE_MINUTES", 30.0),
            session_max_hours=env.duration("CONSOLE_SESSION_MAX_HOURS", 12.0),
            login_max_failures=env.whole("CONSOLE_LOGIN_MAX_FAILURES", 5, minimum=1),
            login_max_failures_per_address=env.whole("CONSOLE_LOGIN_MAX_FAILURES_PER_ADDRESS", 20, minimum=1),
            login_lockout_minutes=env.duration("CONSOLE_LOGIN_LOCKOUT_MINUTES", 15.0),
            audit_max_entries=env.whole("AUDIT_MAX_ENTRIES", 100_000, minimum=100),
            audit_retention_days=env.duration("AUDIT_RETENTION_DAYS", 365.0),
        )


@dataclass(frozen=True)
class Bucket:
    """A token bucket: `burst` messages at once, refilled at `per_minute` (0: no limit)."""

    per_minute: float
    burst: int

    @property
    def unlimited(self) -> bool:
        return self.per_minute <= 0

    @classmethod
    def from_env(cls, env: Env, prefix: str, default: Bucket) -> Bucket:
        return cls(
            per_minute=env.number(f"{prefix}_PER_MINUTE", default.per_minute),
            burst=env.whole(f"{prefix}_BURST", default.burst, minimum=1),
        )


@dataclass(frozen=True)
class ChatLimitSettings:
    """How much the web chat (socket.io) and REST channels take: message size and rate limits.

    A citizen types a question now and then, so a conversation gets a small bucket; one address may
    be many citizens (a library's computers, a mobile carrier's NAT), so an address gets a bigger
    one, and a REST client (a server relaying many citizens) a bigger one still.
    """

    max_message_chars: int = 2000
    max_body_bytes: int = 32 * 1024
    conversation: Bucket = Bucket(30.0, 20)
    web_address: Bucket = Bucket(120.0, 60)
    rest_address: Bucket = Bucket(600.0, 200)

    @classmethod
    def from_env(cls, env: Env) -> ChatLimitSettings:
        default = cls()
        return cls(
            max_message_chars=env.whole("CHAT_MAX_MESSAGE_CHARS", default.max_message_chars, minimum=1),
            max_body_bytes=env.whole("REST_MAX_BODY_BYTES", default.max_body_bytes, minimum=1024),
            conversation=Bucket.from_env(env, "RATE_CONVERSATION", default.conversation),
            web_address=Bucket.from_env(env, "RATE_WEB_ADDRESS", default.web_address),
            rest_address=Bucket.from_env(env, "RATE_REST_ADDRESS", default.rest_address),
        )


@dataclass(frozen=True)
class PrivacySettings:
    """How long citizens' data is kept (docs/privacy.md): the event stream, waiting handoffs, tickets,
    and the conversation id on a rating's comment."""

    events_retention_days: float = 30.0
    handoff_wait_expiry_hours: float = 4.0
    ticket_retention_days: float = 90.0
    rating_id_retention_days: float = 30.0

    @classmethod
    def from_env(cls, env: Env) -> PrivacySettings:
        return cls(
            events_retention_days=env.duration("EVENTS_RETENTION_DAYS", 30.0),
            handoff_wait_expiry_hours=env.duration("HANDOFF_WAIT_EXPIRY_HOURS", 4.0),
            ticket_retention_days=env.duration("TICKET_RETENTION_DAYS", 90.0),
            rating_id_retention_days=env.duration("RATING_ID_RETENTION_DAYS", 30.0),
        )


SEVERITIES = ("Minor", "Moderate", "Severe", "Extreme")  # CAP's order; "Unknown" is below all


@dataclass(frozen=True)
class BroadcastSettings:
    """Alert subscriptions and staff broadcasts (docs/broadcasts.md): approvals, the alerts poller,
    the platforms' shared send rates, WhatsApp's template for outside the 24-hour window, and the
    SMS double opt-in code's lifetime. A rate of 0 means no limit of ours (the platform's 429s
    still slow the workers down)."""

    approvals: int = 2  # distinct editors who must agree (the author counts as one)
    alerts_poll_seconds: float = 60.0
    alerts_min_severity: str = "Severe"
    twilio_rate_per_sec: float = 1.0  # a US long code's limit
    telegram_rate_per_sec: float = 25.0  # Telegram: about 30 messages a second across chats
    meta_rate_per_sec: float = 20.0  # Messenger and Instagram (per Page)
    whatsapp_rate_per_sec: float = 20.0
    whatsapp_alert_template: str = ""  # an approved template's name ("": no sends outside the window)
    whatsapp_template_lang: str = "en_US"  # the template's language for English readers
    # Other readers' languages the template is approved in, to WhatsApp's codes ({"es": "es_MX"}):
    # a reader of a language not here gets the English template with the English text.
    whatsapp_template_langs: Mapping[str, str] = field(default_factory=dict)
    workers_per_channel: int = 4  # concurrent sends per channel in each broadcaster process
    port: int = 8095  # the broadcaster's own /health and /metrics
    sms_code_minutes: float = 10.0
    telegram_bot_username: str = ""  # offered to web chat citizens as t.me/<name> ("": not offered)

    @classmethod
    def from_env(cls, env: Env) -> BroadcastSettings:
        return cls(
            approvals=env.whole("BROADCAST_APPROVALS", 2, minimum=1, maximum=5),
            alerts_poll_seconds=env.number("ALERTS_POLL_SECONDS", 60.0),  # 0: no relay
            alerts_min_severity=env.choice(
                "ALERTS_BROADCAST_MIN_SEVERITY", tuple(s.lower() for s in SEVERITIES), "severe"
            ).capitalize(),
            twilio_rate_per_sec=env.number("TWILIO_RATE_PER_SEC", 1.0),
            telegram_rate_per_sec=env.number("TELEGRAM_RATE_PER_SEC", 25.0),
            meta_rate_per_sec=env.number("META_RATE_PER_SEC", 20.0),
            whatsapp_rate_per_sec=env.number("WHATSAPP_RATE_PER_SEC", 20.0),
            whatsapp_alert_template=env.text("WHATSAPP_ALERT_TEMPLATE"),
            whatsapp_template_lang=env.text("WHATSAPP_TEMPLATE_LANG", "en_US"),
            whatsapp_template_langs=env.pairs("WHATSAPP_TEMPLATE_LANGS"),
            workers_per_channel=env.whole("BROADCAST_WORKERS_PER_CHANNEL", 4, minimum=1, maximum=64),
            port=env.port("BROADCASTER_PORT", 8095),
            sms_code_minutes=env.duration("SMS_CODE_MINUTES", 10.0),
            telegram_bot_username=env.text("TELEGRAM_BOT_NAME").lstrip("@"),
        )


@dataclass(frozen=True)
class MeasurementSettings:
    """Feedback on answers, message tests and analytics (docs/analytics.md).

    SMS carries the "Reply Y or N" question only when FEEDBACK_SMS is on: every SMS costs money.
    Daily aggregates are kept ANALYTICS_RETENTION_DAYS (counts only, no personal data). A test's
    outcome needs MIN_EXPOSURES_PER_VARIANT before the results page calls a difference.
    """

    feedback_sms: bool = False
    analytics_retention_days: int = 730
    min_exposures_per_variant: int = 100

    @classmethod
    def from_env(cls, env: Env) -> MeasurementSettings:
        return cls(
            feedback_sms=env.flag("FEEDBACK_SMS", False),
            analytics_retention_days=env.whole("ANALYTICS_RETENTION_DAYS", 730, minimum=1, maximum=3660),
            min_exposures_per_variant=env.whole("MIN_EXPOSURES_PER_VARIANT", 100, minimum=1),
        )


@dataclass(frozen=True)
class StudioSettings:
    """The content studio (docs/content-studio.md).

    A change to a rumor, a crisis (safety) entry or an entry marked ``sensitive`` is published only
    when CONTENT_APPROVALS people agree, its author counting as one (1: a one-person office
    publishes alone). An entry whose ``last_reviewed`` is older than CONTENT_REVIEW_MONTHS is listed
    as stale. CONTENT_TRAINING off: this console queues retrains but another one runs them.
    """

    approvals: int = 2
    review_months: int = 12
    trains: bool = True

    @classmethod
    def from_env(cls, env: Env) -> StudioSettings:
        return cls(
            approvals=env.whole("CONTENT_APPROVALS", 2, minimum=1, maximum=5),
            review_months=env.whole("CONTENT_REVIEW_MONTHS", 12, minimum=1, maximum=120),
            trains=env.flag("CONTENT_TRAINING", True),
        )


@dataclass(frozen=True)
class Settings:
    """Everything the processes of the stack are configured with."""

    redis: RedisSettings = field(default_factory=RedisSettings)
    rasa: RasaSettings = field(default_factory=RasaSettings)
    models: ModelServerSettings = field(default_factory=ModelServerSettings)
    demo: DemoAgencySettings = field(default_factory=DemoAgencySettings)
    agency: AgencySettings = field(default_factory=AgencySettings)
    handoff: HandoffSettings = field(default_factory=HandoffSettings)
    inbox: InboxSettings = field(default_factory=InboxSettings)
    channels: ChannelSettings = field(default_factory=ChannelSettings)
    security: SecuritySettings = field(default_factory=SecuritySettings)
    privacy: PrivacySettings = field(default_factory=PrivacySettings)
    chat_limits: ChatLimitSettings = field(default_factory=ChatLimitSettings)
    console: ConsoleSettings = field(default_factory=ConsoleSettings)
    broadcasts: BroadcastSettings = field(default_factory=BroadcastSettings)
    measurement: MeasurementSettings = field(default_factory=MeasurementSettings)
    studio: StudioSettings = field(default_factory=StudioSettings)
    var_dir: Path = Path("var")
    log_level: str = "INFO"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = Env(dict(os.environ if environ is None else environ))
        return cls(
            redis=RedisSettings.from_env(env),
            rasa=RasaSettings.from_env(env),
            models=ModelServerSettings.from_env(env),
            demo=DemoAgencySettings.from_env(env),
            agency=AgencySettings.from_env(env),
            handoff=HandoffSettings.from_env(env),
            inbox=InboxSettings.from_env(env),
            channels=ChannelSettings.from_env(env),
            security=SecuritySettings.from_env(env),
            privacy=PrivacySettings.from_env(env),
            chat_limits=ChatLimitSettings.from_env(env),
            console=ConsoleSettings.from_env(env),
            broadcasts=BroadcastSettings.from_env(env),
            measurement=MeasurementSettings.from_env(env),
            studio=StudioSettings.from_env(env),
            var_dir=env.path("VAR_DIR", Path("var")),
            log_level=env.choice("LOG_LEVEL", LOG_LEVELS, "info").upper(),
        )


def settings_or_exit(environ: Mapping[str, str] | None = None) -> Settings:
    """The environment's settings for a process's entry point: a bad value exits with status 1 and
    one line naming the variable (no traceback)."""
    try:
        return Settings.from_env(environ)
    except SettingsError as exc:
        raise SystemExit(f"error: {exc}") from None
