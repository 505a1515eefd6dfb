"""Mount the content studio on the console app: its service and training jobs, API and pages.

The service (`bot.studio.service.Studio`) and the training jobs (`bot.studio.jobs.TrainJobs`) are
made in a cleanup context on the console's Redis client, which the shell opens first.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

from aiohttp import web

from bot.console.keys import REDIS
from bot.studio import api, jobs_api, pages
from bot.studio.config import StudioConfig
from bot.studio.jobs import TrainJobs
from bot.studio.keys import CONFIG, JOBS, STUDIO
from bot.studio.service import Studio


def _services(config: StudioConfig) -> Callable[[web.Application], AsyncIterator[None]]:
    async def context(app: web.Application) -> AsyncIterator[None]:
        app[JOBS] = TrainJobs(app[REDIS], config)
        app[STUDIO] = Studio(config, app[REDIS], app[JOBS])
        yield
        await app[JOBS].close()

    return context


def setup(app: web.Application, config: StudioConfig) -> None:
    """The studio's routes, pages and nav link; call after the shell's layout (`bot.console.app`)."""
    app[CONFIG] = config
    app.cleanup_ctx.append(_services(config))
    api.setup_api(app)
    jobs_api.setup_jobs_api(app)
    pages.setup_pages(app)
