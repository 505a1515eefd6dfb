"""Shared action-server resources: opened and closed by the rasa_sdk plugin hook, never at import time."""

from __future__ import annotations

import subprocess
import sys

import aiohttp
import pluggy
from lookup_support import ROOT, agency_env
from rasa_sdk.endpoint import create_app
from rasa_sdk.plugin import plugin_manager
from sanic import Sanic

import actions.resources as resources
import rasa_sdk_plugins
from bot.stack import free_port


def test_importing_the_actions_opens_nothing():
    code = (
        "import gc, aiohttp, redis.asyncio\n"
        "from rasa_sdk.executor import ActionExecutor\n"
        "ActionExecutor().register_package('actions')\n"
        "import actions.resources as r\n"
        "assert r._current is None\n"
        "kinds = (aiohttp.ClientSession, redis.asyncio.Redis)\n"
        "assert not [o for o in gc.get_objects() if isinstance(o, kinds)]\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=120)


async def test_without_the_plugin_they_open_on_first_use(demo, redis_url, monkeypatch):
    for name, value in agency_env(demo, redis_url).items():
        monkeypatch.setenv(name, value)
    try:
        first = await resources.current()
        assert first.config.open311_base_url == demo.open311
        assert await resources.current() is first
    finally:
        await resources.close_resources()
    assert first.closed


def test_rasa_sdk_discovers_our_plugin():
    plugin_manager.cache_clear()
    try:
        manager = plugin_manager()
        assert manager.is_registered(resources)
    finally:
        plugin_manager.cache_clear()
    assert rasa_sdk_plugins.init_hooks.__module__ == "rasa_sdk_plugins"


async def test_the_real_action_server_opens_answers_and_closes(demo, redis_url, monkeypatch):
    for name, value in agency_env(demo, redis_url).items():
        monkeypatch.setenv(name, value)
    Sanic.test_mode = True
    app = create_app("actions")
    manager = pluggy.PluginManager("rasa_sdk")
    manager.add_hookspecs(sys.modules["rasa_sdk.plugin"])
    rasa_sdk_plugins.init_hooks(manager)
    manager.hook.attach_sanic_app_extensions(app=app)
    port = free_port()
    server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True)
    await server.startup()
    await server.before_start()
    await server.after_start()
    try:
        opened = resources._current
        assert opened is not None and not opened.closed
        call = {
            "next_action": "action_check_service_status",
            "sender_id": "citizen-1",
            "version": "3.6.2",
            "tracker": {
                "sender_id": "citizen-1", "slots": {}, "latest_message": {"text": "is the catalog down"},
                "events": [], "paused": False, "active_loop": {}, "latest_action_name": "action_listen",
            },
            "domain": {"responses": {}},
        }  # fmt: skip
        async with aiohttp.ClientSession() as session:
            async with session.post(f"http://127.0.0.1:{port}/webhook", json=call) as response:
                body = await response.json()
        assert response.status == 200
        assert [m["response"] for m in body["responses"]] == ["utter_online_service_down"]
        assert resources._current is opened  # one session and one Redis client per process
    finally:
        await server.before_stop()
        await server.close()
        await server.after_stop()
    assert resources._current is None and opened.closed
