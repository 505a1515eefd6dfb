"""Client for Rasa's HTTP API (``--enable-api``), authenticated with ``RASA_TOKEN``.

One client for everything our processes ask the running Rasa: the console speaks in conversations
(`say`, `pause`, `resume`, `trigger`, `tracker`), model operations swap the model (`running_model`,
`load_model`), the content studio's "Try it" asks what the model makes of a question (`parse`).
The caller owns the `aiohttp.ClientSession` (one per process, opened and closed with the caller's
lifecycle) and passes it in. Every failure is `RasaUnavailable`; its message names the step and
what went wrong, never a conversation's text.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp

TIMEOUT_SECONDS = 10.0
# Loading a model (spaCy pipeline, sentence encoder, selector) takes a minute on a busy 2-core machine.
LOAD_TIMEOUT_SECONDS = 600.0
_DETAIL = 300  # characters of Rasa's error body kept in a model-load error
_LATEST_CHANNEL = {"output_channel": "latest"}


class RasaUnavailable(RuntimeError):
    """Rasa did not answer, or refused the call; the message says which step and what to check."""


class RasaClient:
    """Rasa's HTTP API at `base_url`; `timeout` (seconds) bounds each call but a model load."""

    def __init__(
        self, session: aiohttp.ClientSession, base_url: str, token: str, timeout: float = TIMEOUT_SECONDS
    ) -> None:
        self._session = session
        self._base = base_url.rstrip("/")
        self._token = token
        self._timeout = timeout

    def _conversation(self, conversation_id: str, tail: str) -> str:
        return f"/conversations/{quote(conversation_id, safe='')}/{tail}"

    async def _call(
        self,
        method: str,
        path: str,
        step: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Any = None,
        expect: int = 200,
        timeout: float | None = None,
        detail: bool = False,
    ) -> Any:
        """The JSON body of a call answered with `expect` (None for 204); else `RasaUnavailable`.

        With `detail`, the error keeps the start of Rasa's answer (never for conversation calls,
        whose answers may echo what a citizen or agent wrote).
        """
        query = {**(params or {}), "token": self._token}
        limit = aiohttp.ClientTimeout(total=self._timeout if timeout is None else timeout)
        try:
            async with self._session.request(
                method, self._base + path, params=query, json=body, timeout=limit
            ) as response:
                if response.status != expect:
                    raise _refused(step, response.status, (await response.text()) if detail else "")
                return None if response.status == 204 else await response.json(content_type=None)
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise RasaUnavailable(
                f"{step}: no answer from Rasa at {self._base} ({type(exc).__name__}): is it running?"
            ) from exc

    # -- conversations ----------------------------------------------------------------------

    async def say(self, conversation_id: str, text: str, metadata: Mapping[str, Any]) -> None:
        """Append a `bot` event with `metadata` and deliver it on the citizen's latest channel."""
        event = {"event": "bot", "text": text, "metadata": dict(metadata)}
        await self._append(conversation_id, event, "deliver message")

    async def pause(self, conversation_id: str, slots: Mapping[str, Any] | None = None) -> None:
        """Set `slots`, end any form in progress and pause: the bot stays quiet until `resume`."""
        events = [
            {"event": "active_loop", "name": None},
            *_slot_events({"requested_slot": None, **(slots or {})}),
            {"event": "pause"},
        ]
        await self._append(conversation_id, events, "pause")

    async def resume(self, conversation_id: str, slots: Mapping[str, Any] | None = None) -> None:
        """Un-pause the conversation (setting `slots`) so the bot answers again."""
        # `action_listen` after `resume`: the paused turn never ended with one, and the
        # EXTERNAL_handoff_* rules (like every rule) start from `action_listen`.
        events = [
            *_slot_events(slots or {}),
            {"event": "resume"},
            {"event": "action", "name": "action_listen"},
        ]
        await self._append(conversation_id, events, "resume")

    async def _append(self, conversation_id: str, events: Any, step: str) -> None:
        params = {**_LATEST_CHANNEL, "execute_side_effects": "true"}
        path = self._conversation(conversation_id, "tracker/events")
        await self._call("POST", path, step, params=params, body=events)

    async def trigger(self, conversation_id: str, intent: str) -> None:
        """Let the bot speak first (e.g. ask for the rating) on the citizen's latest channel."""
        path = self._conversation(conversation_id, "trigger_intent")
        await self._call("POST", path, intent, params=_LATEST_CHANNEL, body={"name": intent, "entities": {}})

    async def tracker(self, conversation_id: str) -> dict[str, Any]:
        """The conversation's tracker with all its events."""
        path = self._conversation(conversation_id, "tracker")
        return dict(await self._call("GET", path, "tracker", params={"include_events": "ALL"}))

    # -- the model --------------------------------------------------------------------------

    async def running_model(self) -> str:
        """The file name of the model the running Rasa serves (``GET /status``)."""
        body = await self._call("GET", "/status", "GET /status")
        return str((body or {}).get("model_file") or "")

    async def parse(self, text: str) -> dict[str, Any]:
        """``POST /model/parse``: the running model's reading of `text` (intent and answer rankings).

        Nothing is added to any conversation; the error never repeats the text.
        """
        body = await self._call("POST", "/model/parse", "POST /model/parse", body={"text": text})
        return dict(body or {})

    async def load_model(self, model_file: Path, timeout: float = LOAD_TIMEOUT_SECONDS) -> None:
        """``PUT /model``: Rasa loads the file and swaps it in; trackers stay in the tracker store.

        `model_file` must be absolute (Rasa resolves a relative path against its own directory).
        """
        body = {"model_file": str(model_file)}
        step = f"PUT /model ({model_file.name})"
        await self._call("PUT", "/model", step, body=body, expect=204, timeout=timeout, detail=True)


def _slot_events(slots: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [{"event": "slot", "name": name, "value": value} for name, value in slots.items()]


def _refused(step: str, status: int, detail: str) -> RasaUnavailable:
    hint = ": is RASA_TOKEN right?" if status in (401, 403) else ""
    tail = f": {detail[:_DETAIL]}" if detail else ""
    return RasaUnavailable(f"{step}: Rasa answered HTTP {status}{hint}{tail}")
