"""The live-events websocket answers only the console's own pages (real aiohttp client, real server)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient
from console_support import MakeConsole, api_sign_in

from bot.console.accounts import add_account


def origin_of(console: TestClient) -> str:
    return str(console.make_url("")).rstrip("/")


async def handshake(console: TestClient, headers: dict[str, str]) -> Any:
    """The hello frame, or the HTTP status the handshake was refused with."""
    try:
        async with console.session.ws_connect(console.make_url("/api/events"), headers=headers) as ws:
            return await ws.receive_json(timeout=5)
    except aiohttp.WSServerHandshakeError as exc:
        return exc.status


async def test_the_consoles_own_page_gets_live_events(make_console: MakeConsole) -> None:
    console = await make_console()
    await api_sign_in(console, "dana")
    assert await handshake(console, {"Origin": origin_of(console)}) == {"type": "hello", "agent": "dana"}


@pytest.mark.parametrize(
    "origin",
    ["https://evil.example", "http://127.0.0.1:1", "http://localhost.evil.example", "null"],
)
async def test_another_origin_is_refused_with_403(make_console: MakeConsole, origin: str) -> None:
    console = await make_console()
    await api_sign_in(console, "dana")
    assert await handshake(console, {"Origin": origin}) == 403


async def test_the_session_cookie_without_an_origin_is_refused(make_console: MakeConsole) -> None:
    console = await make_console()
    await api_sign_in(console, "dana")
    assert await handshake(console, {}) == 403


async def test_an_api_token_client_needs_no_origin_but_may_not_send_a_foreign_one(
    make_console: MakeConsole, accounts: Path
) -> None:
    console = await make_console()
    token = add_account(accounts, "tool", "agent", "tool-secret-pass")
    bearer = {"Authorization": f"Bearer {token}"}
    assert await handshake(console, bearer) == {"type": "hello", "agent": "tool"}
    assert await handshake(console, {**bearer, "Origin": "https://evil.example"}) == 403
    assert await handshake(console, {}) == 401  # no token, no cookie: unauthenticated as before


async def test_behind_a_proxy_the_configured_public_url_is_the_origin(make_console: MakeConsole) -> None:
    console = await make_console(public_url="https://console.harborcity.example")
    await api_sign_in(console, "dana")
    assert (await handshake(console, {"Origin": "https://console.harborcity.example"}))["type"] == "hello"
    assert await handshake(console, {"Origin": origin_of(console)}) == 403
