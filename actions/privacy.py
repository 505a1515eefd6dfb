"""A citizen erasing their own conversation from the chat ("delete my data"), after one confirmation.

The rules (data/rules/privacy.yml) ask first (`utter_confirm_erase`, Yes/No); "yes" runs this action.
It cannot erase the conversation at once: Rasa saves the tracker, with the whole history it holds,
after the action returns, and publishes the turn's events. So the action

1. resets the conversation in Rasa (`Restarted`): nothing said before counts any more, even in the
   seconds before the erasure finishes, and
2. lists the conversation as pending erasure and finishes it in the background once Rasa's turn is
   over (`bot.privacy.deferred`): tracker, events, inbox, handoff, channel data, caches, everything
   `python -m bot privacy erase` removes, the confirmation included.

The alternative, erasing now and returning events that leave an empty conversation, cannot work:
Rasa appends to the tracker it holds in memory, and `Restarted` only resets its state, not the
stored history. Logs name the conversation by a hash only.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction, Restarted
from rasa_sdk.executor import CollectingDispatcher
from redis.asyncio import Redis
from redis.exceptions import RedisError

from actions import resources as shared
from actions.common import EventList, conversation_ref
from bot.identity import channel_of
from bot.privacy.deferred import finish, finish_due, mark_pending
from bot.privacy.holdings import Subject

log = logging.getLogger(__name__)
_running: set[asyncio.Task[None]] = set()  # the background erasures (a task needs a reference)


async def _finish_in_background(redis_url: str, subject: Subject, ref: str) -> None:
    redis = Redis.from_url(redis_url, decode_responses=True)
    try:
        removed = await finish(redis, subject)
        log.info("conversation %s erased at the citizen's request (%d items)", ref, sum(removed.values()))
        await finish_due(redis)
    except (RedisError, OSError) as exc:
        log.warning("erasure of conversation %s left pending: %s", ref, type(exc).__name__)
    finally:
        await redis.close()


class ActionEraseMyData(Action):
    """Erase the sender's own conversation (the citizen confirmed); reset it in Rasa meanwhile."""

    def name(self) -> str:
        return "action_erase_my_data"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> EventList:
        cid, ref = str(tracker.sender_id), conversation_ref(tracker)
        subject = Subject(cid, channel_of(cid))
        try:
            resources = await shared.current()
            redis_url = resources.config.redis_url
            await mark_pending(resources.redis, cid)
        except (RedisError, OSError) as exc:
            log.warning("erasure of conversation %s not possible: %s", ref, type(exc).__name__)
            dispatcher.utter_message(response="utter_erase_failed")
            return []
        task = asyncio.get_running_loop().create_task(_finish_in_background(redis_url, subject, ref))
        _running.add(task)
        task.add_done_callback(_running.discard)
        dispatcher.utter_message(response="utter_erase_done")
        return [Restarted(), FollowupAction("action_listen")]
