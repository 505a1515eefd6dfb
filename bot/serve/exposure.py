"""Where a server listens: BIND_HOST (loopback by default), and a warning when it is wider.

Kept import-light: the console and the demo agency call `warn_if_exposed` before they start.
"""

from __future__ import annotations

import ipaddress
import sys
from typing import TextIO

from bot.settings import LOCALHOST


def _address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and `localhost`: only this machine can connect."""
    address = _address(host)
    return host == "localhost" if address is None else address.is_loopback


def is_wildcard(host: str) -> bool:
    """True for 0.0.0.0 and ::, which listen on every interface."""
    address = _address(host)
    return address is not None and address.is_unspecified


def connect_host(bind_host: str) -> str:
    """The address this machine's clients use for a server listening on `bind_host`."""
    return LOCALHOST if is_wildcard(bind_host) else bind_host


def exposure_warning(host: str, service: str) -> str | None:
    """The warning for `service` listening on `host`, or None when only this machine can reach it."""
    if is_loopback(host):
        return None
    where = "every interface" if is_wildcard(host) else host
    return (
        f"warning: {service} listens on {where} (BIND_HOST={host}): other machines can reach it. "
        "Expose only the public paths, through an HTTPS reverse proxy (docs/deployment.md)."
    )


def warn_if_exposed(host: str, service: str, out: TextIO | None = None) -> None:
    warning = exposure_warning(host, service)
    if warning:
        print(warning, file=out or sys.stderr, flush=True)
