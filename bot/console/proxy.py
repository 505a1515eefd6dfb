"""Who is on the other end, and over what: the client address, https, and the console's own origin.

`X-Forwarded-For` and `X-Forwarded-Proto` are trivially forged, so they count only when the TCP
peer is one of the configured trusted proxies (TRUSTED_PROXIES: addresses or networks). Then the
client is the right-most forwarded address that is not itself a trusted proxy.
"""

from __future__ import annotations

import functools
import ipaddress
from urllib.parse import urlsplit

from aiohttp import web

from bot.console.keys import CONFIG

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@functools.cache
def networks(trusted: tuple[str, ...]) -> tuple[Network, ...]:
    """TRUSTED_PROXIES parsed; ValueError naming the entry that is neither an address nor a network."""
    parsed = []
    for entry in trusted:
        try:
            parsed.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise ValueError(f"TRUSTED_PROXIES: {entry!r} is not an IP address or network") from None
    return tuple(parsed)


def _is_trusted(address: str, trusted: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip().strip("[]"))
    except ValueError:
        return False
    return any(ip in network for network in trusted)


def _trusted(request: web.Request) -> tuple[Network, ...]:
    return networks(request.app[CONFIG].trusted_proxies)


def from_trusted_proxy(request: web.Request) -> bool:
    trusted = _trusted(request)
    return bool(trusted) and _is_trusted(request.remote or "", trusted)


def client_address(request: web.Request) -> str:
    """The TCP peer, or behind a trusted proxy the client it forwarded for."""
    peer = request.remote or "unknown"
    if not from_trusted_proxy(request):
        return peer
    trusted = _trusted(request)
    hops = [hop.strip() for hop in ",".join(request.headers.getall("X-Forwarded-For", [])).split(",")]
    hops = [hop for hop in hops if hop]
    for hop in reversed(hops):
        if not _is_trusted(hop, trusted):
            return hop[:64]
    return hops[0][:64] if hops else peer


def is_https(request: web.Request) -> bool:
    """Reached over https: directly, or through a trusted proxy that says so."""
    if request.secure:
        return True
    if not from_trusted_proxy(request):
        return False
    proto = request.headers.get("X-Forwarded-Proto", "").split(",")[-1].strip().lower()
    return proto == "https"


def own_origin(request: web.Request) -> str:
    """CONSOLE_PUBLIC_URL when set, else the scheme and Host the browser used."""
    public = request.app[CONFIG].public_url
    if public:
        return public.rstrip("/").lower()
    return f"{'https' if is_https(request) else 'http'}://{request.host}".lower()


def _normal(origin: str) -> str:
    """scheme://host[:port] without the scheme's default port, lower-cased."""
    parts = urlsplit(origin.strip().lower())
    default = {"http": 80, "https": 443}.get(parts.scheme)
    try:
        port = parts.port
    except ValueError:
        return ""
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}" + (f":{port}" if port and port != default else "")


def same_origin(request: web.Request) -> bool:
    """Whether the request's ``Origin`` header is the console's own origin."""
    sent = request.headers.get("Origin", "")
    return bool(sent) and sent != "null" and _normal(sent) == _normal(own_origin(request))
