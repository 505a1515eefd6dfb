"""What the REST and web chat (socket.io) channels are built from: identity, Redis, limits, notices.

Options come from the environment through `bot.settings` (IDENTITY_SECRET, Redis, the limits in
`ChatLimitSettings`, TRUSTED_PROXIES); a credentials.yml section may name `identity_secret` and the
Redis keys (`redis_host`, `redis_port`, `redis_db`, `redis_password`) instead, as the other
channels' sections do.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from bot.channels.base import ChannelConfigError, Credentials
from bot.channels.notices import ChannelNotices
from bot.channels.offered import OfferedPayloads
from bot.channels.ratelimit import Network, RateLimiter, trusted_networks
from bot.channels.store import ChannelStore
from bot.identity import IdentityKey
from bot.settings import ChatLimitSettings, RedisAddress, Settings, SettingsError


@dataclass(frozen=True)
class WebChannelOptions:
    identity: IdentityKey
    redis: RedisAddress
    limits: ChatLimitSettings
    proxies: tuple[Network, ...]
    notices: ChannelNotices

    @classmethod
    def from_credentials(cls, channel: str, credentials: dict[str, Any] | None) -> WebChannelOptions:
        settings = Settings.from_env()
        creds = Credentials(channel, credentials)
        redis = creds.redis(default=settings.redis.address)
        try:
            identity = IdentityKey(creds.text("identity_secret") or settings.security.identity_secret)
        except SettingsError as exc:
            raise ChannelConfigError(f"{channel}: {exc}") from None
        return cls(
            identity=identity,
            redis=redis,
            limits=settings.chat_limits,
            proxies=trusted_networks(settings.security.trusted_proxies),
            notices=ChannelNotices.load(),
        )


class WebChannel:
    """What the REST and socket.io inputs hold (mixin, first in the bases): options, store, limiter."""

    identity: IdentityKey
    limits: ChatLimitSettings
    proxies: tuple[Network, ...]
    notices: ChannelNotices
    store: ChannelStore

    def _adopt(self, options: WebChannelOptions, channel: str) -> None:
        self.identity = options.identity
        self.limits = options.limits
        self.proxies = options.proxies
        self.notices = options.notices
        self.store = ChannelStore(options.redis, channel)

    @property
    def offered(self) -> OfferedPayloads:
        return OfferedPayloads(self.store.client)

    @functools.cached_property
    def limiter(self) -> RateLimiter:
        return RateLimiter(self.store.client, self.identity)
