"""The intake delivery whose turn is running: set by the webhook channels, marked by the tracker store.

A module of its own so that a process that only sends (the broadcaster imports the channels'
senders) does not import the tracker store, and with it Rasa's core and TensorFlow.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass


@dataclass
class DeliveryMark:
    """The intake delivery whose turn is being run: its de-duplication key ("" for none), and
    whether a save has marked it processed."""

    key: str
    marked: bool = False


# Set by the webhook channels around a turn (bot/channels/base.py): the save that stores the turn's
# message also marks the delivery processed, so a process killed right after the save never runs
# it twice, and the channel need not mark it again.
PROCESSED_MARK: ContextVar[DeliveryMark | None] = ContextVar("intake_processed_mark", default=None)
