"""Typed keys for everything the demo agency keeps on its aiohttp application."""

from __future__ import annotations

from aiohttp import web

from bot.demo_agency.config import DemoConfig
from bot.demo_agency.store import DataFiles, State

CONFIG = web.AppKey("config", DemoConfig)
DATA = web.AppKey("data", DataFiles)
STATE = web.AppKey("state", State)
