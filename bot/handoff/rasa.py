"""Client for Rasa's HTTP API: the only way the console speaks in a conversation.

Agent messages are appended as `bot` events with side effects executed on the citizen's latest
input channel, so the channel delivers them and the tracker keeps the whole transcript.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import quote

import aiohttp

HANDOFF_METADATA = "handoff"


class RasaUnavailable(RuntimeError):
    """Rasa did not accept the call; the message names the step and the HTTP status, never the text."""


class RasaClient:
    def __init__(self, session: aiohttp.ClientSession, base_url: str, token: str, timeout: float = 10.0):
        self._session = session
        self._base = base_url.rstrip("/")
        self._token = token
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    def _url(self, conversation_id: str, tail: str) -> str:
        return f"{self._base}/conversations/{quote(conversation_id, safe='')}/{tail}"

    async def _post(self, url: str, params: dict[str, str], body: Any, step: str) -> Any:
        params = {**params, "token": self._token}
        try:
            async with self._session.post(url, params=params, json=body, timeout=self._timeout) as resp:
                if resp.status != 200:
                    raise RasaUnavailable(f"{step}: Rasa answered HTTP {resp.status}")
                return await resp.json()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise RasaUnavailable(f"{step}: {type(exc).__name__}") from exc

    async def say(self, conversation_id: str, text: str, *, role: str, agent: str = "") -> str:
        """Deliver `text` to the citizen as a `bot` event; returns the id kept in its metadata."""
        message_id = uuid.uuid4().hex
        event = {
            "event": "bot",
            "text": text,
            "metadata": {HANDOFF_METADATA: {"id": message_id, "role": role, "agent": agent}},
        }
        params = {"output_channel": "latest", "execute_side_effects": "true"}
        await self._post(self._url(conversation_id, "tracker/events"), params, event, "deliver message")
        return message_id

    async def resume(self, conversation_id: str) -> None:
        """Un-pause the conversation so the bot answers again."""
        # `action_listen` after `resume`: the paused turn never ended with one, and the
        # EXTERNAL_handoff_* rules (like every rule) start from `action_listen`.
        params = {"output_channel": "latest", "execute_side_effects": "true"}
        events = [{"event": "resume"}, {"event": "action", "name": "action_listen"}]
        await self._post(self._url(conversation_id, "tracker/events"), params, events, "resume")

    async def trigger(self, conversation_id: str, intent: str) -> None:
        """Let the bot speak first (e.g. ask for the rating) on the citizen's channel."""
        body = {"name": intent, "entities": {}}
        await self._post(
            self._url(conversation_id, "trigger_intent"), {"output_channel": "latest"}, body, intent
        )

    async def tracker(self, conversation_id: str) -> dict[str, Any]:
        url = self._url(conversation_id, "tracker")
        params = {"token": self._token, "include_events": "ALL"}
        async with self._session.get(url, params=params, timeout=self._timeout) as resp:
            if resp.status != 200:
                raise RasaUnavailable(f"tracker: Rasa answered HTTP {resp.status}")
            return dict(await resp.json())
