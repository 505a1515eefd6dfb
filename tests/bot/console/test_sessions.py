"""Console sessions over real HTTP on a real Redis: idle and absolute expiry (in seconds here), a new id
at every sign-in, sign-out everywhere on a password change or removal, and https-only protections."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import ssl
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient
from console_support import MakeConsole, api_sign_in

import bot.handoff.api
from bot.console.accounts import change_password, remove_account
from bot.console.session import COOKIE


def session_cookie(response: Any) -> str:
    """The Set-Cookie header of the session cookie."""
    return next(h for h in response.headers.getall("Set-Cookie", []) if h.startswith(f"{COOKIE}="))


async def signed_in(client: TestClient) -> bool:
    response = await client.get("/api/queue")
    assert response.status in (200, 401)
    return response.status == 200


async def test_an_idle_session_ends_and_activity_keeps_it(make_console: MakeConsole) -> None:
    console = await make_console(session_idle_seconds=1.5, session_max_seconds=60)
    assert (await api_sign_in(console, "dana")).status == 200
    for _ in range(3):  # 2.4 s in all, never 1.5 s without a request
        await asyncio.sleep(0.8)
        assert await signed_in(console)
    await asyncio.sleep(2.0)
    assert not await signed_in(console)
    page = await console.get("/", allow_redirects=False)
    assert page.status == 302 and page.headers["Location"] == "/login"


async def test_a_session_ends_at_its_absolute_limit_however_active(make_console: MakeConsole) -> None:
    console = await make_console(session_idle_seconds=1.5, session_max_seconds=3.0)
    before = time.monotonic()
    assert (await api_sign_in(console, "dana")).status == 200
    after = time.monotonic()  # the session began between the two (a password hash takes a while)
    seen: list[tuple[float, float, bool]] = []  # each check: sent, answered, still signed in
    while time.monotonic() - before < 4.6:
        sent = time.monotonic()
        ok = await signed_in(console)
        seen.append((sent, time.monotonic(), ok))
        await asyncio.sleep(0.4)
    assert all(ok for _, answered, ok in seen if answered - before < 2.8)  # surely within the limit
    assert not any(ok for sent, _, ok in seen if sent - after > 3.0)  # surely past it
    assert (await api_sign_in(console, "dana")).status == 200  # signing in again starts a new one


async def test_sign_in_issues_a_new_session_id_and_ends_the_old_one(make_console: MakeConsole) -> None:
    console = await make_console()
    planted = "planted-by-someone-else-0123456789"
    console.session.cookie_jar.update_cookies({COOKIE: planted})
    first = await api_sign_in(console, "dana")
    first_id = first.cookies[COOKIE].value
    assert first_id != planted and len(first_id) >= 40
    second = await api_sign_in(console, "dana")
    second_id = second.cookies[COOKIE].value
    assert second_id not in (first_id, planted)
    for old in (planted, first_id):
        async with aiohttp.ClientSession(cookies={COOKIE: old}) as other:
            async with other.get(console.make_url("/api/queue")) as response:
                assert response.status == 401
    assert await signed_in(console)


@pytest.mark.parametrize("change", ["password", "removal"])
async def test_a_password_change_or_removal_signs_the_account_out_everywhere(
    make_console: MakeConsole, accounts: Path, change: str
) -> None:
    here, there = await make_console(), await make_console()  # two consoles on one Redis, two browsers
    lee = await make_console()
    for client in (here, there):
        assert (await api_sign_in(client, "dana")).status == 200
    assert (await api_sign_in(lee, "lee")).status == 200
    if change == "password":
        change_password(accounts, "dana", "a-brand-new-passphrase")
    else:
        remove_account(accounts, "dana")
    assert not await signed_in(here) and not await signed_in(there)
    assert await signed_in(lee)
    if change == "password":
        assert (await api_sign_in(here, "dana")).status == 401
        assert (await api_sign_in(here, "dana", "a-brand-new-passphrase")).status == 200


async def test_an_open_websocket_closes_when_the_session_is_revoked(
    make_console: MakeConsole, accounts: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bot.handoff.api, "ONLINE_HEARTBEAT", 0.2)  # re-checked every 0.2 s, not 30 s
    console = await make_console()
    await api_sign_in(console, "dana")
    origin = str(console.make_url("")).rstrip("/")
    async with console.session.ws_connect(console.make_url("/api/events"), headers={"Origin": origin}) as ws:
        assert (await ws.receive_json(timeout=5))["type"] == "hello"
        change_password(accounts, "dana", "a-brand-new-passphrase")
        closing = await ws.receive(timeout=10)
        assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
        assert ws.close_code == 4401


async def test_behind_a_trusted_proxy_that_says_https_cookies_are_secure_and_hsts_is_sent(
    make_console: MakeConsole,
) -> None:
    console = await make_console(trusted_proxies=("127.0.0.1",))
    https = {"X-Forwarded-Proto": "https"}
    signed = await api_sign_in(console, "dana", **https)
    assert "Secure" in session_cookie(signed)
    assert signed.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    page = await console.get("/login", headers=https)
    assert "Strict-Transport-Security" in page.headers
    plain = await api_sign_in(console, "dana")  # the same proxy forwarding plain http
    assert "Secure" not in session_cookie(plain) and "Strict-Transport-Security" not in plain.headers


async def test_a_forwarded_proto_from_anyone_else_is_ignored(make_console: MakeConsole) -> None:
    console = await make_console()
    signed = await api_sign_in(console, "dana", **{"X-Forwarded-Proto": "https"})
    assert "Secure" not in session_cookie(signed)
    assert "Strict-Transport-Security" not in signed.headers


def self_signed(directory: Path) -> ssl.SSLContext:
    """A server TLS context for 127.0.0.1 with a throwaway self-signed certificate."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .sign(key, hashes.SHA256())
    )
    (directory / "cert.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (directory / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(directory / "cert.pem", directory / "key.pem")
    return context


async def test_served_over_https_directly_cookies_are_secure_and_hsts_is_sent(
    make_console: MakeConsole, tmp_path: Path
) -> None:
    console = await make_console(ssl=self_signed(tmp_path))
    assert console.make_url("").scheme == "https"
    body = {"name": "dana", "password": "dana-secret-pw"}
    signed = await console.post("/api/login", json=body, ssl=False)
    assert signed.status == 200
    assert "Secure" in session_cookie(signed)
    assert "Strict-Transport-Security" in signed.headers
