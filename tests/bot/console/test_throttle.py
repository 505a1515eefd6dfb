"""Sign-in throttling over real HTTP on a real Redis: concurrent guesses, when to retry, client addresses."""

from __future__ import annotations

import asyncio

from console_support import MakeConsole, api_sign_in, audit_actions
from redis.asyncio import Redis


async def test_twenty_wrong_passwords_at_once_get_only_five_checks(
    make_console: MakeConsole, redis: Redis
) -> None:
    console = await make_console()  # the defaults: 5 failures per account, 20 per address, 15 minutes
    answers = await asyncio.gather(*(api_sign_in(console, "dana", f"wrong-guess-{i:02}") for i in range(20)))
    # Only five passwords were ever checked (each check that fails is logged); the other fifteen were
    # refused before bcrypt ran, and only the first refusal is logged (no flooding of the capped log).
    assert len(await audit_actions(redis, "sign_in_failed")) == 5
    assert [e["detail"] for e in await audit_actions(redis, "sign_in_refused")] == ["account locked"]
    statuses = [answer.status for answer in answers]
    assert set(statuses) <= {401, 429} and statuses.count(429) >= 15
    for answer in answers:
        if answer.status == 429:
            body = await answer.json()
            assert 840 <= int(answer.headers["Retry-After"]) <= 900
            assert body["retry_after"] == int(answer.headers["Retry-After"])
            assert body["error"] == "Too many sign-in attempts. Try again in 15 minutes."
    # The right password is refused too until the window ends, and says when that is.
    right = await api_sign_in(console, "dana")
    assert right.status == 429 and 840 <= int(right.headers["Retry-After"]) <= 900
    assert [e["detail"] for e in await audit_actions(redis, "lockout")] == ["account"]
    # Another account from the same address is not locked by dana's guesses.
    assert (await api_sign_in(console, "lee")).status == 200


async def test_the_retry_time_given_is_when_sign_in_works_again(make_console: MakeConsole) -> None:
    console = await make_console(login_max_failures=3, login_lockout_seconds=2)
    for _ in range(3):
        await api_sign_in(console, "dana", "not-dana-at-all")
    locked = await api_sign_in(console, "dana")
    assert locked.status == 429
    wait = int(locked.headers["Retry-After"])
    assert 1 <= wait <= 2
    await asyncio.sleep(wait + 0.2)
    assert (await api_sign_in(console, "dana")).status == 200


async def test_failures_from_one_address_lock_it_across_accounts(make_console: MakeConsole) -> None:
    console = await make_console(login_max_failures_per_address=3)
    for name in ("ann", "bob", "cy"):
        assert (await api_sign_in(console, name, "guess-guess-guess")).status in (401, 429)
    assert (await api_sign_in(console, "dana")).status == 429


async def test_successful_sign_ins_do_not_use_up_the_address_limit(make_console: MakeConsole) -> None:
    console = await make_console(login_max_failures_per_address=3)
    await api_sign_in(console, "ann", "guess-guess-guess")
    for _ in range(5):  # an office signing in one after the other
        assert (await api_sign_in(console, "lee")).status == 200
    await api_sign_in(console, "bob", "guess-guess-guess")
    assert (await api_sign_in(console, "dana")).status == 200


async def test_forwarded_for_counts_only_from_a_trusted_proxy(
    make_console: MakeConsole, redis: Redis
) -> None:
    rules = {"login_max_failures_per_address": 2, "login_max_failures": 100}
    direct = await make_console(**rules)
    for i, name in enumerate(("ann", "bob")):
        await api_sign_in(direct, name, "guess-guess-guess", **{"X-Forwarded-For": f"203.0.113.{i}"})
    # Without a trusted proxy the header is ignored: a new forged address does not escape the lock.
    assert (await api_sign_in(direct, "dana", **{"X-Forwarded-For": "203.0.113.99"})).status == 429
    assert {e["address"] for e in await audit_actions(redis)} == {"127.0.0.1"}
    await redis.flushdb()

    proxied = await make_console(trusted_proxies=("127.0.0.0/8",), **rules)
    # The proxy appends the real client; whatever the client forged in front of it is skipped.
    for forged in ("10.0.0.1", "10.0.0.2"):
        chain = {"X-Forwarded-For": f"{forged}, 198.51.100.7"}
        await api_sign_in(proxied, "ann", "guess-guess-guess", **chain)
    blocked = await api_sign_in(proxied, "dana", **{"X-Forwarded-For": "10.0.0.3, 198.51.100.7"})
    assert blocked.status == 429
    # Another office behind the same proxy is not locked out by that client.
    assert (await api_sign_in(proxied, "dana", **{"X-Forwarded-For": "192.0.2.44"})).status == 200
    addresses = [e["address"] for e in await audit_actions(redis, "sign_in_failed")]
    assert addresses == ["198.51.100.7", "198.51.100.7"]
