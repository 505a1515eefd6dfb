"""The studio's application keys, shared by its API, pages and training jobs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from bot.studio.config import StudioConfig

if TYPE_CHECKING:
    from bot.studio.jobs import TrainJobs
    from bot.studio.service import Studio

CONFIG = web.AppKey("studio_config", StudioConfig)
STUDIO: web.AppKey[Studio] = web.AppKey("studio_service")
JOBS: web.AppKey[TrainJobs] = web.AppKey("studio_jobs")
