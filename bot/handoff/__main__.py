"""`python -m bot.handoff`: the same as `python -m bot.console` (kept for existing deployments)."""

from __future__ import annotations

import sys

from bot.console.__main__ import main

if __name__ == "__main__":
    sys.exit(main())
