"""The two calls of Rasa's HTTP API that a model swap needs, authenticated with ``RASA_TOKEN``."""

from __future__ import annotations

from pathlib import Path

import aiohttp

STATUS_TIMEOUT = aiohttp.ClientTimeout(total=10)
# Loading a model (spaCy pipeline, sentence encoder, selector) takes a minute on a busy 2-core machine.
LOAD_TIMEOUT = aiohttp.ClientTimeout(total=600)


class RasaUnavailable(RuntimeError):
    """Rasa did not answer, or refused; the message says what to check."""


async def running_model(base_url: str, token: str) -> str:
    """The file name of the model the running Rasa serves (``GET /status``)."""
    async with aiohttp.ClientSession(timeout=STATUS_TIMEOUT) as session:
        try:
            async with session.get(f"{base_url}/status", params={"token": token}) as response:
                if response.status != 200:
                    raise RasaUnavailable(f"GET /status answered {response.status}: is RASA_TOKEN right?")
                body = await response.json()
        except aiohttp.ClientError as exc:
            raise RasaUnavailable(f"Rasa does not answer at {base_url}: is it running?") from exc
    return str(body.get("model_file") or "")


async def load_model(base_url: str, token: str, model_file: Path) -> None:
    """``PUT /model``: Rasa loads the file and swaps it in; trackers stay in the tracker store.

    ``model_file`` must be absolute (Rasa resolves a relative path against its own directory).
    """
    async with aiohttp.ClientSession(timeout=LOAD_TIMEOUT) as session:
        try:
            async with session.put(
                f"{base_url}/model", params={"token": token}, json={"model_file": str(model_file)}
            ) as response:
                if response.status != 204:
                    detail = (await response.text())[:300]
                    raise RasaUnavailable(f"PUT /model answered {response.status}: {detail}")
        except aiohttp.ClientError as exc:
            raise RasaUnavailable(f"Rasa did not finish loading {model_file.name}: {exc}") from exc
