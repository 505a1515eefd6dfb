"""Send rates per platform, shared by every broadcaster process: Redis token buckets.

The bucket script is the chat channels' (`bot.channels.ratelimit.TAKE`: atomic, on Redis's clock),
one bucket per platform (`civic:bc:v1:rate:<platform>`): Twilio, Telegram, WhatsApp, and Meta for
Messenger and Instagram together. A bucket holds one second's worth of messages (at least one) and
refills at `<PLATFORM>_RATE_PER_SEC`; 0 is no limit of ours. Unlike the chat's limits this one
never fails open: a worker that cannot reach Redis cannot claim a recipient either, so it waits.
"""

from __future__ import annotations

import asyncio
import math

import redis.asyncio as aioredis

from bot.channels.ratelimit import TAKE
from bot.settings import BroadcastSettings

PREFIX = "civic:bc:v1:rate:"


def platform_of(channel: str) -> str:
    """Messenger and Instagram share Meta's per-Page budget."""
    return "meta" if channel in ("facebook", "instagram") else channel


def rate_of(settings: BroadcastSettings, channel: str) -> float:
    return {
        "twilio": settings.twilio_rate_per_sec,
        "telegram": settings.telegram_rate_per_sec,
        "whatsapp": settings.whatsapp_rate_per_sec,
        "meta": settings.meta_rate_per_sec,
    }.get(platform_of(channel), 0.0)


class SendBuckets:
    """`wait(channel)` returns once a send on that channel's platform may go."""

    def __init__(self, redis: aioredis.Redis, settings: BroadcastSettings) -> None:
        self.redis = redis
        self.settings = settings
        self._take = redis.register_script(TAKE)

    async def try_take(self, channel: str) -> float:
        """0 when a token was taken, else the seconds until one would be there."""
        rate = rate_of(self.settings, channel)
        if rate <= 0:
            return 0.0
        burst = max(1, math.ceil(rate))
        allowed, wait = await self._take(keys=[PREFIX + platform_of(channel)], args=[rate, burst])
        return 0.0 if int(allowed) == 1 else max(float(wait), 0.001)

    async def wait(self, channel: str) -> None:
        delay = await self.try_take(channel)
        while delay > 0:
            await asyncio.sleep(delay)
            delay = await self.try_take(channel)
