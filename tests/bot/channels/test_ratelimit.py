"""Token buckets in a real Redis: atomic under concurrency, all or nothing, refilled with time."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis
from channel_support import IDENTITY_SECRET

from bot.channels.ratelimit import RateLimiter, client_address, retry_after, trusted_networks
from bot.identity import IdentityKey
from bot.settings import Bucket
from bot.stack import free_port


@pytest.fixture
async def limiter(redis_creds: dict[str, str]) -> AsyncIterator[RateLimiter]:
    client = aioredis.Redis(port=int(redis_creds["redis_port"]), decode_responses=True)
    yield RateLimiter(client, IdentityKey(IDENTITY_SECRET))
    await client.close()


async def test_concurrent_messages_never_take_more_than_the_burst(limiter: RateLimiter) -> None:
    bucket = limiter.conversation("rest-abc", Bucket(per_minute=1, burst=10))
    waits = await asyncio.gather(*(limiter.take([bucket]) for _ in range(50)))
    assert sum(1 for wait in waits if wait == 0) == 10
    assert all(50 <= wait <= 60 for wait in waits if wait)  # one token a minute, none left


async def test_a_refused_message_takes_nothing_from_the_other_buckets(limiter: RateLimiter) -> None:
    conversation = limiter.conversation("socketio-abc", Bucket(per_minute=1, burst=1))
    address = limiter.address("socketio", "203.0.113.5", Bucket(per_minute=1, burst=3))
    assert await limiter.take([conversation, address]) == 0
    assert await limiter.take([conversation, address]) > 0  # the conversation's bucket is empty
    assert await limiter.take([conversation, address]) > 0
    other = limiter.conversation("socketio-def", Bucket(per_minute=1, burst=5))
    assert [await limiter.take([other, address]) == 0 for _ in range(3)] == [True, True, False]


async def test_buckets_refill_with_time(limiter: RateLimiter) -> None:
    bucket = limiter.conversation("rest-refill", Bucket(per_minute=600, burst=2))  # 10 a second
    assert [await limiter.take([bucket]) == 0 for _ in range(3)] == [True, True, False]
    await asyncio.sleep(0.25)
    assert await limiter.take([bucket]) == 0


async def test_an_address_is_never_in_a_key(limiter: RateLimiter) -> None:
    address = limiter.address("rest", "203.0.113.77", Bucket(per_minute=60, burst=5))
    assert "203.0.113.77" not in address.key
    assert await limiter.take([address]) == 0
    keys = [key async for key in limiter.client.scan_iter("civic:rate:*")]
    assert keys == [address.key] and all("203.0.113" not in key for key in keys)
    assert 0 < await limiter.client.ttl(address.key) <= 6  # gone once it would be full again


async def test_an_unlimited_bucket_touches_nothing(limiter: RateLimiter) -> None:
    bucket = limiter.conversation("rest-free", Bucket(per_minute=0, burst=1))
    assert [await limiter.take([bucket]) for _ in range(5)] == [0.0] * 5
    assert [key async for key in limiter.client.scan_iter("civic:rate:*")] == []


async def test_redis_down_lets_messages_through() -> None:
    client = aioredis.Redis(port=free_port(), socket_connect_timeout=0.5)
    limiter = RateLimiter(client, IdentityKey(IDENTITY_SECRET))
    assert await limiter.take([limiter.conversation("rest-x", Bucket(per_minute=1, burst=1))]) == 0
    await client.close()


def test_retry_after_is_whole_seconds_of_at_least_one() -> None:
    assert [retry_after(w) for w in (0.001, 0.999, 1.0, 1.2, 59.5)] == [1, 1, 1, 2, 60]


def test_the_client_address_comes_from_a_trusted_proxy_only() -> None:
    proxies = trusted_networks(["10.0.0.0/8", "192.0.2.1", "not-an-address"])
    chain = "198.51.100.1, 203.0.113.9, 10.1.2.3"
    assert client_address("203.0.113.50", chain, proxies) == "203.0.113.50"  # not a proxy: the peer
    assert client_address("192.0.2.1", chain, proxies) == "203.0.113.9"  # right-most hop not ours
    assert client_address("192.0.2.1", "10.0.0.1, 10.0.0.2", proxies) == "10.0.0.1"
    assert client_address("192.0.2.1", None, proxies) == "192.0.2.1"
    assert client_address("192.0.2.1", chain, ()) == "192.0.2.1"
