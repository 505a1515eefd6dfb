"""rasa_sdk 3.6 plugins for Civic Assistant's action server.

rasa_sdk 3.6.2 looks for a top-level package with exactly this name when the action
server starts (`rasa_sdk.plugin._discover_plugins`) and calls `init_hooks(manager)`.
It is importable because the action server runs from the repository root
(`python -m bot.serve.actions`, as `make run` and the Dockerfile do; it calls the hook itself).
"""

from __future__ import annotations

import pluggy


def init_hooks(manager: pluggy.PluginManager) -> None:
    """Register the modules that implement `attach_sanic_app_extensions`."""
    from actions import resources

    manager.register(resources)
