"""Rolling a model out to the running Rasa: a conversation in progress continues across the swap.

Never trains (training takes ~10 minutes): the new model is the newest model file compressed
again under another name (other bytes, so another ETag), so Rasa really pulls and loads a second
file from the model server.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import pytest
from stack_support import ROOT, RestClient, repacked_model, sender_id

from bot.clients.rasa import RasaClient, RasaUnavailable
from bot.model_ops.reload import ReloadPlan, reload
from bot.stack import Stack

FIXTURES = Path(__file__).parent / "fixtures"

pytestmark = pytest.mark.stack
T = TypeVar("T")


def in_thread(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run in a worker thread: once the session's playwright browser runs, this thread has a running loop,
    and `reload` (like the `python -m bot model reload` command) starts its own."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(function, *args, **kwargs).result()


async def running_model(url: str, token: str) -> str:
    """The model Rasa serves, asked on an HTTP session of this call's own."""
    async with aiohttp.ClientSession() as session:
        return await RasaClient(session, url, token).running_model()


def test_a_conversation_in_progress_continues_after_the_model_swap(
    stack: Stack, rest: RestClient, model_path: Path, tmp_path: Path
) -> None:
    url, token = f"http://127.0.0.1:{stack.settings.rasa.port}", stack.settings.rasa.token
    conversation = sender_id("reload")
    # A report half filled in (a citizen cannot send "/nlu_fallback" any more: no button offers it).
    assert "Where is it?" in rest.say(conversation, "report a pothole")

    candidate = repacked_model(model_path, tmp_path / "reload-candidate.tar.gz")
    assert stack.redis is not None
    plan = ReloadPlan(
        rasa_url=url,
        rasa_token=token,
        model_dir=ROOT / stack.settings.rasa.model_dir,
        redis_url=stack.redis.url,
        model=candidate,
        holdout=[FIXTURES / "holdout_small.yml"],
        safety=[FIXTURES / "sensitive_small.yml"],
        out_of_scope=[FIXTURES / "out_of_scope_small.yml"],
        cache_file=tmp_path / "scores.json",
    )
    said: list[str] = []
    outcome = in_thread(reload, plan, say=said.append)

    assert outcome.swapped, outcome.message
    assert outcome.new == outcome.running and outcome.new is not None and outcome.new.examples == 4
    assert (outcome.new.crisis_examples, outcome.new.out_of_scope_examples) == (3, 2)
    assert outcome.reasons == ()
    assert in_thread(asyncio.run, running_model(url, token)) == "reload-candidate.tar.gz"
    # Same conversation, new model: Rasa still knows the report is waiting for its address.
    assert "Tell me a bit about it" in rest.say(conversation, "12 Elm Street")

    again = in_thread(reload, plan, say=said.append)
    assert (
        not again.swapped and again.message == "Rasa already serves reload-candidate.tar.gz; nothing to swap"
    )


def test_a_wrong_token_is_reported_not_swapped(stack: Stack, tmp_path: Path) -> None:
    plan = ReloadPlan(
        rasa_url=f"http://127.0.0.1:{stack.settings.rasa.port}",
        rasa_token="wrong",
        model_dir=ROOT / "models",
        redis_url=stack.redis.url if stack.redis else "",
        model=tmp_path / "unused.tar.gz",
    )
    with pytest.raises(RasaUnavailable, match="is RASA_TOKEN right"):
        in_thread(reload, plan)
