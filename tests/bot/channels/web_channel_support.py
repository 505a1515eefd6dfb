"""The REST and web chat channels mounted as `rasa run` mounts them, with an agent standing in for Rasa.

`served(channel, bot)` registers the channel's blueprint on a Sanic app with Rasa's own `register()`
(under `/webhooks/`; socket.io attaches itself at /socket.io), serves it on a loopback port and
yields its base URL and the `RecordingAgent` of `channel_support` (which records every UserMessage
and answers through the message's output channel, as Rasa's processor does).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from channel_support import Bot, RecordingAgent, echo, sanic_serving
from rasa.core.channels.channel import InputChannel


@dataclass
class Served:
    base_url: str
    agent: RecordingAgent


@asynccontextmanager
async def served(channel: InputChannel, bot: Bot = echo) -> AsyncIterator[Served]:
    async with sanic_serving(channel, bot) as (base_url, agent):
        yield Served(base_url, agent)
