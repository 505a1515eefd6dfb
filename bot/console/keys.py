"""Typed keys for what the console shell keeps on its aiohttp application.

Set by `bot.console.app.create_app` (REDIS and AUDIT by its cleanup context, TEMPLATES and NAV by
`bot.console.layout.setup_layout`) and read by the shell and by the features it mounts.
Each feature keeps its own keys (`bot.handoff.keys`, `bot.inbox.web`).
"""

from __future__ import annotations

from dataclasses import dataclass

import jinja2
from aiohttp import web
from redis.asyncio import Redis

from bot.audit import AuditLog
from bot.console.accounts import Accounts
from bot.console.config import ConsoleConfig


@dataclass(frozen=True)
class NavItem:
    """One header link; `role` None means every signed-in account sees it."""

    url: str
    label: str
    role: str | None = None


CONFIG = web.AppKey("console_config", ConsoleConfig)
"""Redis URL, accounts file, port and security rules of this console (frozen; from `Settings`)."""

REDIS = web.AppKey("console_redis", Redis)
"""The shared `redis.asyncio.Redis` client (decode_responses=True); opened and closed by a cleanup context."""

AUDIT = web.AppKey("console_audit", AuditLog)
"""The audit log (`civic:audit`) on the shared Redis client; features write via `bot.console.audit.record`."""

ACCOUNTS = web.AppKey("console_accounts", Accounts)
"""Agent accounts from HANDOFF_AGENTS_FILE, re-read when the file changes: password/token checks, roles."""

TEMPLATES = web.AppKey("console_templates", jinja2.Environment)
"""The console's Jinja2 environment (autoescape on); `layout.add_template_dir` adds search paths."""

NAV = web.AppKey("console_nav", list[NavItem])
"""Header links, in order; `layout.add_nav` appends (each feature registers its own)."""
