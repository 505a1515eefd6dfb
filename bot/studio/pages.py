"""Placeholder until its owner writes it (see /tmp/b20/CONTRACT.md)."""

from __future__ import annotations

from aiohttp import web


def setup_pages(app: web.Application) -> None:
    """Mount nothing yet."""
