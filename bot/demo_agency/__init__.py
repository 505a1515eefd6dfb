"""Embedded demo agency API: Harbor City's live lookups for development and tests.

`python -m bot.demo_agency` runs it; `create_app(data_dir, config)` builds it.
"""

from bot.demo_agency.app import DATA_DIR, create_app
from bot.demo_agency.config import DemoConfig

__all__ = ["DATA_DIR", "DemoConfig", "create_app"]
