"""A custom action that cannot be run costs the citizen a clear message, never silence.

Rasa's `RemoteAction.run` raises when the action server cannot be reached or fails mid-call; the
processor then logs "Bot will continue, but the actions events are lost" and ends the turn with no
reply at all. `install` wraps it:

- a call that never reached the action server (connection refused: it is restarting after a
  crash) is tried again for up to `RETRY_SECONDS`, so a restart only delays the answer;
- any other failure (the connection reset or dropped mid-call, a 5xx, a timeout) is not tried
  again, because the action may have run (a 311 request filed twice is worse than an apology):
  the citizen hears `utter_action_failed` in their language, and the conversation is kept as it
  was, so sending the message again works.

A form's validation rejecting a slot (`ActionExecutionRejection`) is Rasa's to handle, as before.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

import aiohttp

if TYPE_CHECKING:
    from rasa.core.channels.channel import OutputChannel
    from rasa.core.nlg import NaturalLanguageGenerator
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import Event
    from rasa.shared.core.trackers import DialogueStateTracker

log = logging.getLogger(__name__)

FAILED_RESPONSE = "utter_action_failed"
RETRY_SECONDS = 15.0  # the action server restarting (the supervisor's start on a busy machine)
RETRY_PAUSE_SECONDS = 0.5
_INSTALLED = "_civic_fallback"


def never_connected(error: BaseException) -> bool:
    """Whether the call failed before reaching the action server (safe to make again). Rasa raises
    its own error without `from`, so the cause is the implicit context."""
    cause = error.__cause__ or error.__context__
    return isinstance(cause, aiohttp.ClientConnectorError)


async def failed_reply(
    nlg: NaturalLanguageGenerator, tracker: DialogueStateTracker, output_channel: OutputChannel
) -> list[Event]:
    """The apology as the action's only event (the processor sends it like any bot message)."""
    from rasa.core.actions.action import create_bot_utterance

    message = await nlg.generate(FAILED_RESPONSE, tracker, output_channel.name())
    if message is None:  # a domain without the response: Rasa's silence, but logged
        log.error("the domain has no %s: the citizen was told nothing", FAILED_RESPONSE)
        return []
    return [create_bot_utterance({**message, "utter_action": FAILED_RESPONSE})]


def install() -> None:
    """Wrap `RemoteAction.run` (once per process)."""
    from rasa.core.actions.action import ActionExecutionRejection, RemoteAction

    if getattr(RemoteAction.run, _INSTALLED, False):
        return
    run = RemoteAction.run

    async def run_or_apologise(
        self: RemoteAction,
        output_channel: OutputChannel,
        nlg: NaturalLanguageGenerator,
        tracker: DialogueStateTracker,
        domain: Domain,
    ) -> list[Event]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + RETRY_SECONDS
        while True:
            try:
                return await run(self, output_channel, nlg, tracker, domain)
            except ActionExecutionRejection:
                raise
            except Exception as error:  # Rasa's errors, and its 5-minute timeout, which it lets through
                if never_connected(error) and loop.time() + RETRY_PAUSE_SECONDS < deadline:
                    await asyncio.sleep(RETRY_PAUSE_SECONDS)
                    continue
                log.error("action %s failed, the citizen is asked to send again: %s", self.name(), error)
                return await failed_reply(nlg, tracker, output_channel)

    setattr(run_or_apologise, _INSTALLED, True)
    RemoteAction.run = run_or_apologise
